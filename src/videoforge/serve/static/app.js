// videoforge web page: a small hash-routed page over the JSON API. No build step.
"use strict";
const view = document.getElementById("view");
const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const num = (v, d = 3) => (v === null || v === undefined) ? "—" : (typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(d)) : esc(v));
const secs = (v) => (v === null || v === undefined) ? "—" : `${v.toFixed(2)} s`;
const base = (p) => String(p || "").split("/").pop();
let pollTimer = null;

async function api(path, opts = {}) {
  const r = await fetch(path, {credentials: "same-origin", headers: {"Content-Type": "application/json"}, ...opts});
  if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.hash); throw new Error("login required"); }
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
  return body;
}

function setActive(name) {
  for (const a of document.querySelectorAll("header nav a")) a.classList.toggle("active", a.id === "nav-" + name);
}

function pager(doc, hrefFor) {
  const prev = doc.offset > 0 ? `<a href="${hrefFor(Math.max(0, doc.offset - doc.limit))}">← previous</a>` : "";
  const next = doc.offset + doc.limit < doc.total ? `<a href="${hrefFor(doc.offset + doc.limit)}">next →</a>` : "";
  const last = Math.min(doc.offset + doc.limit, doc.total);
  return `<div class="pager">${prev}<span class="muted">${doc.total ? doc.offset + 1 : 0}–${last} of ${doc.total}</span>${next}</div>`;
}

function shotCard(s) {
  return `<a class="shot-card" href="#/shot/${esc(s.shot_id)}" data-shot="${esc(s.shot_id)}">
    <img loading="lazy" src="/api/shots/${esc(s.shot_id)}/thumbnail" alt="shot ${esc(s.shot_index)}">
    <div class="meta">#${esc(s.shot_index)} · ${secs(s.start_time)}–${secs(s.end_time)}<br>
    <span class="muted">motion ${num(s.motion, 2)} · sharp ${num(s.sharpness, 0)}</span></div></a>`;
}

async function showVideos(params) {
  setActive("videos");
  const offset = Number(params.get("offset") || 0);
  const [st, doc] = await Promise.all([api("/api/status"), api(`/api/videos?limit=50&offset=${offset}`)]);
  const kinds = Object.entries(st.transitions || {}).map(([k, n]) => `${n} ${esc(k)}`).join(", ") || "none";
  view.innerHTML = `<h1>Videos</h1>
    <p class="muted">${st.videos} videos · ${st.shots} shots (${(st.shot_seconds || 0).toFixed(1)} s) · transitions: ${kinds} · ${st.errors} errors</p>
    <table id="videos"><thead><tr><th>File</th><th>Shots</th><th>Duration</th><th>Size</th><th>FPS</th><th>Codec</th></tr></thead><tbody>
    ${doc.items.map((v) => `<tr><td><a class="video-link" href="#/video/${esc(v.video_id)}">${esc(base(v.path))}</a>
      <div class="muted">${esc(v.path)}</div></td><td class="num">${num(v.num_shots)}</td><td class="num">${secs(v.duration)}</td>
      <td>${esc(v.width)}×${esc(v.height)}</td><td class="num">${num(v.fps, 2)}</td><td>${esc(v.codec)}</td></tr>`).join("")}
    </tbody></table>${pager(doc, (o) => `#/?offset=${o}`)}
    ${doc.total === 0 ? '<p class="muted">The catalog is empty: start a run on the Runs page.</p>' : ""}`;
}

async function showVideo(id) {
  setActive("videos");
  const v = await api(`/api/videos/${encodeURIComponent(id)}`);
  const dur = v.duration || 1;
  const pct = (t) => `${(100 * t / dur).toFixed(3)}%`;
  const bar = v.shots.map((s) => `<span class="s" title="shot ${s.shot_index}" style="left:${pct(s.start_time)};width:${pct(s.end_time - s.start_time)}"></span>`).join("")
    + v.transitions.map((t) => `<span class="t transition ${esc(t.kind)}" title="${esc(t.kind)}" style="left:${pct(t.start_time || 0)};width:max(3px, ${pct((t.end_time || 0) - (t.start_time || 0))})"></span>`).join("");
  // Interleave shots with the transition that leads into each one.
  const byEnd = new Map();
  for (const t of v.transitions) byEnd.set(t.end_frame, t);
  const cards = v.shots.map((s) => {
    const t = byEnd.get(s.start_frame - 1) || byEnd.get(s.start_frame);
    const mark = t && s.shot_index > 0 ? `<span class="transition ${esc(t.kind)}" data-kind="${esc(t.kind)}">${esc(t.kind)}</span>` : "";
    return mark + shotCard(s);
  }).join("");
  view.innerHTML = `<h1>${esc(base(v.path))}</h1>
    <p class="muted">${esc(v.path)} · ${secs(v.duration)} · ${esc(v.width)}×${esc(v.height)} @ ${num(v.fps, 2)} fps · ${v.shots.length} shots · ${v.transitions.length} transitions</p>
    <div class="bar" id="timeline-bar">${bar}</div>
    <div class="timeline" id="timeline">${cards}</div>`;
}

async function showShot(id) {
  setActive("videos");
  const s = await api(`/api/shots/${encodeURIComponent(id)}`);
  const skip = new Set(["video", "keyframes", "transitions", "prev_shot_id", "next_shot_id", "caption", "ocr_text"]);
  const rows = Object.entries(s).filter(([k, v]) => !skip.has(k) && typeof v !== "object").map(([k, v]) => `<dt>${esc(k)}</dt><dd>${num(v)}</dd>`).join("");
  const trans = s.transitions.map((t) => `<li><span class="transition ${esc(t.kind)}">${esc(t.kind)}</span> ${t.side === "in" ? "into" : "out of"} this shot, frames ${t.start_frame}–${t.end_frame}</li>`).join("") || "<li class=muted>none (video edge)</li>";
  view.innerHTML = `<h1>Shot #${esc(s.shot_index)} of <a href="#/video/${esc(s.video_id)}">${esc(base(s.video.path))}</a></h1>
    <div class="shot-page"><div>
      <video id="clip" controls muted playsinline preload="auto" src="/api/shots/${esc(s.shot_id)}/clip"></video>
      <p class="muted">Source time ${secs(s.start_time)} – ${secs(s.end_time)} (frames ${s.start_frame}–${s.end_frame}); the clip is exactly this shot.</p>
      <p>${s.prev_shot_id ? `<a href="#/shot/${esc(s.prev_shot_id)}">← previous shot</a>` : ""} ${s.next_shot_id ? `<a href="#/shot/${esc(s.next_shot_id)}">next shot →</a>` : ""}</p>
      <h2>Caption</h2><p>${s.caption ? esc(s.caption) : '<span class="muted">no caption yet</span>'}</p>
      ${s.ocr_text ? `<h2>On-screen text</h2><p>${esc(s.ocr_text)}</p>` : ""}
      <h2>Transitions</h2><ul>${trans}</ul>
    </div><div><h2>Metrics</h2><dl class="metrics">${rows}</dl></div></div>`;
  const video = document.getElementById("clip");
  video.play().catch(() => {});  // autoplay may be refused; the controls still work
}

async function showShots(params) {
  setActive("shots");
  const ranges = (await api("/api/metrics")).filter((m) => m.count > 0 && m.min !== null && m.max - m.min > 1e-9 * Math.max(1, Math.abs(m.max)));
  const filters = new URLSearchParams();
  for (const [k, v] of params) if (k.startsWith("min_") || k.startsWith("max_") || k === "order") filters.set(k, v);
  const offset = Number(params.get("offset") || 0);
  const doc = await api(`/api/shots?limit=48&offset=${offset}&${filters}`);
  const slider = (m) => {
    const lo = params.get("min_" + m.name) ?? m.min, hi = params.get("max_" + m.name) ?? m.max;
    return `<div><label>${esc(m.name)}: <output id="o-${esc(m.name)}">${num(Number(lo), 2)} – ${num(Number(hi), 2)}</output></label>
      <input type="range" data-bound="min" data-metric="${esc(m.name)}" min="${m.min}" max="${m.max}" step="any" value="${lo}" aria-label="minimum ${esc(m.name)}">
      <input type="range" data-bound="max" data-metric="${esc(m.name)}" min="${m.min}" max="${m.max}" step="any" value="${hi}" aria-label="maximum ${esc(m.name)}"></div>`;
  };
  view.innerHTML = `<h1>Shots</h1><form class="filters" id="filters" novalidate>${ranges.map(slider).join("")}
    <div><button type="submit">Apply filters</button> <a href="#/shots">reset</a></div></form>
    ${pager(doc, (o) => `#/shots?${filters}&offset=${o}`)}<div class="timeline">${doc.items.map(shotCard).join("")}</div>`;
  const form = document.getElementById("filters");
  form.addEventListener("input", (e) => {
    const name = e.target.dataset.metric; if (!name) return;
    e.target.dataset.moved = "1";
    const lo = form.querySelector(`[data-metric="${name}"][data-bound=min]`).value, hi = form.querySelector(`[data-metric="${name}"][data-bound=max]`).value;
    document.getElementById("o-" + name).textContent = `${num(Number(lo), 2)} – ${num(Number(hi), 2)}`;
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const inp of form.querySelectorAll("input[type=range]")) {
      // Only sliders the user moved (or that came filtered in the URL) filter: an untouched
      // slider at its edge must not drop the extreme shot through rounding.
      const key = `${inp.dataset.bound}_${inp.dataset.metric}`;
      if (inp.dataset.moved || params.has(key)) q.set(key, inp.value);
    }
    location.hash = "#/shots?" + q;
  });
}

async function showSearch(params) {
  setActive("");
  const q = params.get("q") || "";
  document.getElementById("search-box").value = q;
  const hits = await api(`/api/search?q=${encodeURIComponent(q)}&k=24`);
  view.innerHTML = `<h1>Search: ${esc(q)}</h1>` + (hits.length ? `<table><thead><tr><th>Shot</th><th>Video</th><th>Time</th><th>Score</th><th>Matched</th></tr></thead><tbody>
    ${hits.map((h) => `<tr><td><a href="#/shot/${esc(h.shot_id)}"><img src="/api/shots/${esc(h.shot_id)}/thumbnail" height="48" alt=""></a></td>
      <td>${esc(base(h.video))}</td><td>${secs(h.start_time)}–${secs(h.end_time)}</td><td class="num">${num(h.score)}</td><td>${esc((h.branches || []).join?.(", ") ?? h.branches)}</td></tr>`).join("")}
    </tbody></table>` : `<p class="muted">No results${q ? "" : " (type a query)"}. Search needs an index: <code>videoforge index CATALOG</code>.</p>`);
}

function runRow(r) {
  const pct = r.total ? Math.round(100 * r.done / r.total) : 0;
  return `<tr><td><a href="#/run/${esc(r.run_id)}">${esc(r.run_id)}</a></td><td>${esc(r.status)}</td>
    <td><div class="progress"><div style="width:${pct}%"></div></div> ${r.done}/${r.total ?? "?"}</td><td>${esc(r.paths.map(base).join(", "))}</td></tr>`;
}

async function showRuns() {
  setActive("runs");
  const [runs, st] = await Promise.all([api("/api/runs"), api("/api/status")]);
  view.innerHTML = `<h1>Runs</h1>
    ${st.runs_allowed ? `<form id="run-form"><label>Paths under the media root (one per line)<br><textarea id="run-paths" rows="3" cols="60"></textarea></label><br>
      <label><input type="checkbox" id="run-force"> re-analyse videos already in the catalog</label><br><button type="submit">Start run</button> <span id="run-msg" class="error"></span></form>`
      : '<p class="muted">This server was started without --media-root, so it cannot start runs.</p>'}
    <h2>This server's runs</h2><table><thead><tr><th>Run</th><th>Status</th><th>Progress</th><th>Inputs</th></tr></thead><tbody>${runs.map(runRow).join("")}</tbody></table>`;
  const form = document.getElementById("run-form");
  if (form) form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const paths = document.getElementById("run-paths").value.split("\n").map((s) => s.trim()).filter(Boolean);
    try {
      const r = await api("/api/runs", {method: "POST", body: JSON.stringify({paths, force: document.getElementById("run-force").checked})});
      location.hash = "#/run/" + r.run_id;
    } catch (err) { document.getElementById("run-msg").textContent = err.message; }
  });
}

async function showRun(id) {
  setActive("runs");
  const r = await api(`/api/runs/${encodeURIComponent(id)}`);
  const pct = r.total ? Math.round(100 * r.done / r.total) : 0;
  const evs = r.events.filter((e) => e.path).slice(-30).reverse().map((e) => `<li>${e.event === "video_error" ? '<span class="error">failed</span>' : "done"} ${esc(base(e.path))} ${e.message ? `— ${esc(e.message)}` : ""}</li>`).join("");
  view.innerHTML = `<h1>Run ${esc(r.run_id)}</h1>
    <p>Status: <b id="run-status">${esc(r.status)}</b>${r.cancel_requested && r.active ? " (cancelling after the videos in flight)" : ""}</p>
    <div><div class="progress" id="run-bar"><div style="width:${pct}%"></div></div> <span id="run-progress">${r.done}/${r.total ?? "?"}</span></div>
    ${r.active ? '<button class="danger" id="cancel-run">Cancel run</button>' : ""}
    ${r.summary ? `<p class="muted">analysed ${r.summary.analyzed}, skipped ${r.summary.skipped}, failed ${r.summary.failed}, ${r.summary.shots} shots in ${r.summary.seconds.toFixed(1)} s</p>` : ""}
    ${r.message ? `<p class="error">${esc(r.message)}</p>` : ""}<ul>${evs}</ul>`;
  const btn = document.getElementById("cancel-run");
  if (btn) btn.addEventListener("click", async () => { await api(`/api/runs/${encodeURIComponent(id)}/cancel`, {method: "POST"}); route(); });
  if (r.active) pollTimer = setTimeout(route, 1000);
}

async function showErrors(params) {
  setActive("errors");
  const offset = Number(params.get("offset") || 0);
  const [doc, st] = await Promise.all([api(`/api/errors?limit=50&offset=${offset}`), api("/api/status")]);
  view.innerHTML = `<h1>Errors</h1>
    ${doc.total && st.runs_allowed ? '<button id="retry">Retry all</button> <span id="retry-msg" class="error"></span>' : ""}
    <table id="errors"><thead><tr><th>File</th><th>Stage</th><th>Message</th><th>When</th></tr></thead><tbody>
    ${doc.items.map((e) => `<tr><td>${esc(e.path)}</td><td>${esc(e.stage)}</td><td>${esc(e.message)}</td><td>${esc(e.logged_at)}</td></tr>`).join("")}
    </tbody></table>${pager(doc, (o) => `#/errors?offset=${o}`)}${doc.total ? "" : '<p class="muted">No errors.</p>'}`;
  const btn = document.getElementById("retry");
  if (btn) btn.addEventListener("click", async () => {
    try { const r = await api("/api/errors/retry", {method: "POST"}); location.hash = "#/run/" + r.run_id; }
    catch (err) { document.getElementById("retry-msg").textContent = err.message; }
  });
}

async function route() {
  clearTimeout(pollTimer);
  const [path, query] = (location.hash.slice(1) || "/").split("?");
  const params = new URLSearchParams(query || "");
  const parts = path.split("/").filter(Boolean);
  try {
    if (parts[0] === "video" && parts[1]) await showVideo(parts[1]);
    else if (parts[0] === "shot" && parts[1]) await showShot(parts[1]);
    else if (parts[0] === "shots") await showShots(params);
    else if (parts[0] === "search") await showSearch(params);
    else if (parts[0] === "runs") await showRuns();
    else if (parts[0] === "run" && parts[1]) await showRun(parts[1]);
    else if (parts[0] === "errors") await showErrors(params);
    else await showVideos(params);
  } catch (err) {
    view.innerHTML = `<p class="error">${esc(err.message)}</p>`;
  }
}

document.getElementById("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  location.hash = "#/search?q=" + encodeURIComponent(document.getElementById("search-box").value);
});
window.addEventListener("hashchange", route);
route();
