// Decision center page: plan (POST /api/plans), optionally run it and follow the job
// (GET /api/runs/{id}), and the executed plans' predicted vs actual cost (GET /api/plans).
// Text only (textContent), no markup from data.
"use strict";
(function () {
  const fmt = (v, d) => (v === null || v === undefined ? "" : Number(v).toFixed(d));
  const $ = (id) => document.getElementById(id);

  async function api(path, opts = {}) {
    const r = await fetch(path, { credentials: "same-origin", headers: { "Content-Type": "application/json" }, ...opts });
    if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname); throw new Error("login required"); }
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.message || body.error || "HTTP " + r.status);
    return body;
  }

  function cells(tr, values) {
    for (const v of values) {
      const td = document.createElement("td");
      td.textContent = v === null || v === undefined ? "" : String(v);
      tr.appendChild(td);
    }
  }

  function loadRuns() {
    const status = $("plans-status");
    const body = document.querySelector("#plans-table tbody");
    return api("/api/plans")
      .then((doc) => {
        const items = doc.items || [];
        body.textContent = "";
        status.textContent = items.length ? items.length + " plan run(s)" : "no plan has been run on this catalog yet";
        for (const p of items) {
          const tr = document.createElement("tr");
          const ratio = p.predicted_cpu_seconds ? p.actual_cpu_seconds / p.predicted_cpu_seconds : null;
          cells(tr, [p.finished_at, p.goal, fmt(p.predicted_cpu_seconds, 2), fmt(p.actual_cpu_seconds, 2),
            fmt(ratio, 3), fmt(p.predicted_usd, 4), fmt(p.actual_usd, 4), fmt(p.actual_wall_seconds, 1), p.run_id]);
          body.appendChild(tr);
        }
      })
      .catch((e) => { status.textContent = "could not load plans: " + e.message; });
  }

  function showPlan(doc) {
    const tb = document.querySelector("#plan-stages tbody");
    tb.textContent = "";
    const per = (doc.predicted && doc.predicted.per_stage_cpu_seconds) || {};
    for (const s of doc.stages || []) {
      const tr = document.createElement("tr");
      const cost = per[s.stage + "/" + s.variant];
      cells(tr, [s.stage, s.variant, (s.applies_to || []).length, cost === undefined ? "" : fmt(cost, 2)]);
      tb.appendChild(tr);
    }
    $("plan-stages").hidden = false;
    const pr = doc.predicted || {};
    const q = pr.quality || {};
    $("plan-predicted").textContent = "predicted: " + fmt(pr.cpu_seconds, 2) + " CPU-s, $" + fmt(pr.usd, 4)
      + ", goal quality " + fmt(q.goal, 3) + ", coverage " + fmt(q.coverage, 2)
      + ((doc.not_analysed || []).length ? " (" + doc.not_analysed.length + " input(s) left out by the budget)" : "");
  }

  async function follow(runId) {
    for (;;) {
      const r = await api("/api/runs/" + encodeURIComponent(runId));
      if (r.status === "finished" || r.status === "failed" || r.status === "cancelled") {
        if (r.summary && r.summary.actual) {
          const a = r.summary.actual, p = r.summary.predicted || {};
          $("plan-actual").textContent = "actual: " + fmt(a.cpu_seconds, 2) + " CPU-s (predicted " + fmt(p.cpu_seconds, 2)
            + ", ratio " + fmt(a.cpu_vs_predicted, 3) + "), $" + fmt(a.usd, 4) + ", " + fmt(a.wall_seconds, 1) + " s wall";
        } else {
          $("plan-actual").textContent = "run " + r.status + (r.message ? ": " + r.message : "");
        }
        $("plan-status").textContent = "plan run " + r.status;
        await loadRuns();
        return;
      }
      await new Promise((res) => setTimeout(res, 500));
    }
  }

  async function submit(execute) {
    const paths = $("plan-paths").value.split(",").map((s) => s.trim()).filter(Boolean);
    const body = { paths, goal: $("plan-goal").value, execute };
    const b = $("plan-budget").value;
    if (b !== "") body.budget_cpu_hours = Number(b);
    $("plan-status").textContent = execute ? "planning and starting…" : "planning…";
    $("plan-actual").textContent = "";
    try {
      const doc = await api("/api/plans", { method: "POST", body: JSON.stringify(body) });
      if (execute) {
        showPlan(doc.plan);
        $("plan-status").textContent = "running plan (job " + doc.run.run_id + ")…";
        await follow(doc.run.run_id);
      } else {
        showPlan(doc);
        $("plan-status").textContent = "planned (not run)";
      }
    } catch (e) {
      $("plan-status").textContent = "plan failed: " + e.message;
    }
  }

  $("plan-form").addEventListener("submit", (ev) => { ev.preventDefault(); submit(false); });
  $("plan-execute").addEventListener("click", () => submit(true));
  loadRuns();
})();
