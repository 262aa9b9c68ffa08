// Executed plans (GET /api/plans): predicted vs actual cost. Text only (textContent), no markup from data.
"use strict";
(function () {
  const fmt = (v, d) => (v === null || v === undefined ? "" : Number(v).toFixed(d));
  const status = document.getElementById("plans-status");
  const body = document.querySelector("#plans-table tbody");
  fetch("/api/plans", { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
    .then((doc) => {
      const items = doc.items || [];
      status.textContent = items.length ? items.length + " plan run(s)" : "no plan has been run on this catalog yet";
      for (const p of items) {
        const tr = document.createElement("tr");
        const ratio = p.predicted_cpu_seconds ? p.actual_cpu_seconds / p.predicted_cpu_seconds : null;
        for (const v of [p.finished_at, p.goal, fmt(p.predicted_cpu_seconds, 2), fmt(p.actual_cpu_seconds, 2),
          fmt(ratio, 3), fmt(p.predicted_usd, 4), fmt(p.actual_usd, 4), fmt(p.actual_wall_seconds, 1), p.run_id]) {
          const td = document.createElement("td");
          td.textContent = v === null || v === undefined ? "" : String(v);
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
    })
    .catch((e) => { status.textContent = "could not load plans: " + e.message; });
})();
