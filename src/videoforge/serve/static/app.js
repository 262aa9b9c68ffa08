// videoforge web page: a small hash-routed page over the JSON API. No build step.
//
// Safety rules (the page runs under a strict Content-Security-Policy, see serve/security.py):
// - All markup is built with the `html` tagged template, which escapes every interpolated
//   value unless it is itself the output of `html` (or `raw`). Nothing from the URL, the
//   API or the catalog can become markup or an attribute break-out.
// - No inline styles or handlers: positions and widths travel in data-left / data-width
//   attributes and are applied through the CSSOM (`el.style.x = ...`), which CSP allows.
// - One parse of the query string: a repeated parameter means its last value everywhere,
//   the same value the server reads (Starlette keeps the last one).
"use strict";
const view = document.getElementById("view");

class Raw { constructor(s) { this.s = s; } toString() { return this.s; } }
const raw = (s) => new Raw(String(s));
const esc = (s) => String(s ?? "").replace(/[&<>"'`=]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "`": "&#96;", "=": "&#61;"}[c]));
const part = (v) => v instanceof Raw ? v.s : Array.isArray(v) ? v.map(part).join("") : esc(v);
const html = (strings, ...vals) => raw(strings.reduce((out, s, i) => out + s + (i < vals.length ? part(vals[i]) : ""), ""));

const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const num = (v, d = 3) => (v === null || v === undefined) ? "—" : (isNum(v) ? (Number.isInteger(v) ? String(v) : v.toFixed(d)) : String(v));
const secs = (v) => isNum(v) ? `${v.toFixed(2)} s` : "—";
const base = (p) => String(p || "").split("/").pop();
const finiteOr = (s, dflt) => { const x = Number(s); return s !== null && s !== "" && Number.isFinite(x) ? x : dflt; };
let pollTimer = null;

function setView(markup) {
  view.innerHTML = markup.s;
  for (const el of view.querySelectorAll("[data-left], [data-width]")) {
    if (el.dataset.left) el.style.left = el.dataset.left;
    if (el.dataset.width) el.style.width = el.dataset.width;
  }
}

function lastWins(query) {
  const params = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(query || "")) params.set(k, v);
  return params;
}

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
  const prev = doc.offset > 0 ? html`<a href="${hrefFor(Math.max(0, doc.offset - doc.limit))}">← previous</a>` : "";
  const next = doc.offset + doc.limit < doc.total ? html`<a href="${hrefFor(doc.offset + doc.limit)}">next →</a>` : "";
  const last = Math.min(doc.offset + doc.limit, doc.total);
  return html`<div class="pager">${prev}<span class="muted">${doc.total ? doc.offset + 1 : 0}–${last} of ${doc.total}</span>${next}</div>`;
}

function shotCard(s) {
  return html`<a class="shot-card" href="#/shot/${encodeURIComponent(s.shot_id)}" data-shot="${s.shot_id}">
    <img loading="lazy" src="/api/shots/${encodeURIComponent(s.shot_id)}/thumbnail" alt="shot ${s.shot_index}">
    <div class="meta">#${s.shot_index} · ${secs(s.start_time)}–${secs(s.end_time)}<br>
    <span class="muted">motion ${num(s.motion, 2)} · sharp ${num(s.sharpness, 0)}</span></div></a>`;
}

async function showVideos(params) {
  setActive("videos");
  const offset = finiteOr(params.get("offset"), 0);
  const [st, doc] = await Promise.all([api("/api/status"), api(`/api/videos?limit=50&offset=${encodeURIComponent(offset)}`)]);
  const kinds = Object.entries(st.transitions || {}).map(([k, n]) => `${n} ${k}`).join(", ") || "none";
  setView(html`<h1>Videos</h1>
    <p class="muted">${num(st.videos)} videos · ${num(st.shots)} shots (${num(st.shot_seconds || 0, 1)} s) · transitions: ${kinds} · ${num(st.errors)} errors</p>
    <table id="videos"><thead><tr><th>File</th><th>Shots</th><th>Duration</th><th>Size</th><th>FPS</th><th>Codec</th></tr></thead><tbody>
    ${doc.items.map((v) => html`<tr><td><a class="video-link" href="#/video/${encodeURIComponent(v.video_id)}">${base(v.path)}</a>
      <div class="muted">${v.path}</div></td><td class="num">${num(v.num_shots)}</td><td class="num">${secs(v.duration)}</td>
      <td>${v.width}×${v.height}</td><td class="num">${num(v.fps, 2)}</td><td>${v.codec}</td></tr>`)}
    </tbody></table>${pager(doc, (o) => `#/?offset=${o}`)}
    ${doc.total === 0 ? html`<p class="muted">The catalog is empty: start a run on the Runs page.</p>` : ""}`);
}

async function showVideo(id) {
  setActive("videos");
  const v = await api(`/api/videos/${encodeURIComponent(id)}`);
  const dur = v.duration || 1;
  const pct = (t) => `${(100 * (Number(t) || 0) / dur).toFixed(3)}%`;
  const bar = [
    ...v.shots.map((s) => html`<span class="s" title="shot ${s.shot_index}" data-left="${pct(s.start_time)}" data-width="${pct(s.end_time - s.start_time)}"></span>`),
    ...v.transitions.map((t) => html`<span class="t transition ${t.kind}" title="${t.kind}" data-left="${pct(t.start_time || 0)}" data-width="max(3px, ${pct((t.end_time || 0) - (t.start_time || 0))})"></span>`),
  ];
  // Interleave shots with the transition that leads into each one.
  const byEnd = new Map();
  for (const t of v.transitions) byEnd.set(t.end_frame, t);
  const cards = v.shots.map((s) => {
    const t = byEnd.get(s.start_frame - 1) || byEnd.get(s.start_frame);
    const mark = t && s.shot_index > 0 ? html`<span class="transition ${t.kind}" data-kind="${t.kind}">${t.kind}</span>` : "";
    return html`${mark}${shotCard(s)}`;
  });
  setView(html`<h1>${base(v.path)}</h1>
    <p class="muted">${v.path} · ${secs(v.duration)} · ${v.width}×${v.height} @ ${num(v.fps, 2)} fps · ${v.shots.length} shots · ${v.transitions.length} transitions</p>
    <div class="bar" id="timeline-bar">${bar}</div>
    <div class="timeline" id="timeline">${cards}</div>`);
}

async function showShot(id) {
  setActive("videos");
  const s = await api(`/api/shots/${encodeURIComponent(id)}`);
  const skip = new Set(["video", "keyframes", "transitions", "prev_shot_id", "next_shot_id", "caption", "ocr_text"]);
  const rows = Object.entries(s).filter(([k, v]) => !skip.has(k) && typeof v !== "object").map(([k, v]) => html`<dt>${k}</dt><dd>${num(v)}</dd>`);
  const trans = s.transitions.length
    ? s.transitions.map((t) => html`<li><span class="transition ${t.kind}">${t.kind}</span> ${t.side === "in" ? "into" : "out of"} this shot, frames ${t.start_frame}–${t.end_frame}</li>`)
    : html`<li class="muted">none (video edge)</li>`;
  const shotLink = (sid, text) => sid ? html`<a href="#/shot/${encodeURIComponent(sid)}">${text}</a>` : "";
  setView(html`<h1>Shot #${s.shot_index} of <a href="#/video/${encodeURIComponent(s.video_id)}">${base(s.video.path)}</a></h1>
    <div class="shot-page"><div>
      <video id="clip" controls muted playsinline preload="auto" src="/api/shots/${encodeURIComponent(s.shot_id)}/clip"></video>
      <p class="muted">Source time ${secs(s.start_time)} – ${secs(s.end_time)} (frames ${s.start_frame}–${s.end_frame}); the clip is exactly this shot.</p>
      <p>${shotLink(s.prev_shot_id, "← previous shot")} ${shotLink(s.next_shot_id, "next shot →")}</p>
      <h2>Caption</h2><p>${s.caption ? s.caption : html`<span class="muted">no caption yet</span>`}</p>
      ${s.ocr_text ? html`<h2>On-screen text</h2><p>${s.ocr_text}</p>` : ""}
      <h2>Transitions</h2><ul>${trans}</ul>
    </div><div><h2>Metrics</h2><dl class="metrics">${rows}</dl></div></div>`);
  const video = document.getElementById("clip");
  video.play().catch(() => {});  // autoplay may be refused; the controls still work
}

async function showShots(params) {
  setActive("shots");
  const ranges = (await api("/api/metrics")).filter((m) => isNum(m.min) && isNum(m.max) && m.count > 0 && m.max - m.min > 1e-9 * Math.max(1, Math.abs(m.max)));
  const filters = new URLSearchParams();
  for (const [k, v] of params) if (k.startsWith("min_") || k.startsWith("max_") || k === "order") filters.set(k, v);
  const offset = finiteOr(params.get("offset"), 0);
  const doc = await api(`/api/shots?limit=48&offset=${encodeURIComponent(offset)}&${filters}`);
  const slider = (m) => {
    // the sliders show the numbers the server filtered on; anything else falls back to the range
    const lo = finiteOr(params.get("min_" + m.name), m.min), hi = finiteOr(params.get("max_" + m.name), m.max);
    return html`<div><label>${m.name}: <output id="o-${m.name}">${num(lo, 2)} – ${num(hi, 2)}</output></label>
      <input type="range" data-bound="min" data-metric="${m.name}" min="${m.min}" max="${m.max}" step="any" value="${lo}" aria-label="minimum ${m.name}">
      <input type="range" data-bound="max" data-metric="${m.name}" min="${m.min}" max="${m.max}" step="any" value="${hi}" aria-label="maximum ${m.name}"></div>`;
  };
  setView(html`<h1>Shots</h1><form class="filters" id="filters" novalidate>${ranges.map(slider)}
    <div><button type="submit">Apply filters</button> <a href="#/shots">reset</a></div></form>
    ${pager(doc, (o) => `#/shots?${filters}&offset=${o}`)}<div class="timeline">${doc.items.map(shotCard)}</div>`);
  const form = document.getElementById("filters");
  const bound = (name, b) => form.querySelector(`[data-metric="${CSS.escape(name)}"][data-bound=${b}]`);
  form.addEventListener("input", (e) => {
    const name = e.target.dataset.metric; if (!name) return;
    e.target.dataset.moved = "1";
    const out = document.getElementById("o-" + name);
    if (out) out.textContent = `${num(Number(bound(name, "min").value), 2)} – ${num(Number(bound(name, "max").value), 2)}`;
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
  const branches = (h) => Array.isArray(h.branches) ? h.branches.join(", ") : h.branches;
  setView(html`<h1>Search: ${q}</h1>${hits.length ? html`<table><thead><tr><th>Shot</th><th>Video</th><th>Time</th><th>Score</th><th>Matched</th></tr></thead><tbody>
    ${hits.map((h) => html`<tr><td><a href="#/shot/${encodeURIComponent(h.shot_id)}"><img src="/api/shots/${encodeURIComponent(h.shot_id)}/thumbnail" height="48" alt=""></a></td>
      <td>${base(h.video)}</td><td>${secs(h.start_time)}–${secs(h.end_time)}</td><td class="num">${num(h.score)}</td><td>${branches(h)}</td></tr>`)}
    </tbody></table>` : html`<p class="muted">No results${q ? "" : " (type a query)"}. Search needs an index: <code>videoforge index CATALOG</code>.</p>`}`);
}

function progressBar(r, id) {
  const pct = isNum(r.total) && r.total ? Math.round(100 * r.done / r.total) : 0;
  return html`<div class="progress"${id ? raw(` id="${id}"`) : ""}><div data-width="${pct}%"></div></div>`;
}

function runRow(r) {
  return html`<tr><td><a href="#/run/${encodeURIComponent(r.run_id)}">${r.run_id}</a></td><td>${r.status}</td>
    <td>${progressBar(r)} ${r.done}/${r.total ?? "?"}</td><td>${(r.paths || []).slice(0, 5).map(base).join(", ")}${(r.paths || []).length > 5 ? ` and ${r.paths.length - 5} more` : ""}</td></tr>`;
}

async function showRuns() {
  setActive("runs");
  const [runs, st] = await Promise.all([api("/api/runs"), api("/api/status")]);
  setView(html`<h1>Runs</h1>
    ${st.runs_allowed ? html`<form id="run-form"><label>Paths under the media root (one per line)<br><textarea id="run-paths" rows="3" cols="60"></textarea></label><br>
      <label><input type="checkbox" id="run-force"> re-analyse videos already in the catalog</label><br><button type="submit">Start run</button> <span id="run-msg" class="error"></span></form>`
      : html`<p class="muted">This server was started without --media-root, so it cannot start runs.</p>`}
    <h2>This server's runs</h2><table><thead><tr><th>Run</th><th>Status</th><th>Progress</th><th>Inputs</th></tr></thead><tbody>${runs.map(runRow)}</tbody></table>`);
  const form = document.getElementById("run-form");
  if (form) form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const paths = document.getElementById("run-paths").value.split("\n").map((s) => s.trim()).filter(Boolean);
    try {
      const r = await api("/api/runs", {method: "POST", body: JSON.stringify({paths, force: document.getElementById("run-force").checked})});
      location.hash = "#/run/" + encodeURIComponent(r.run_id);
    } catch (err) { document.getElementById("run-msg").textContent = err.message; }
  });
}

async function showRun(id) {
  setActive("runs");
  const r = await api(`/api/runs/${encodeURIComponent(id)}`);
  const evs = r.events.filter((e) => e.path).slice(-30).reverse().map((e) => html`<li>${e.event === "video_error" ? html`<span class="error">failed</span>` : "done"} ${base(e.path)} ${e.message ? `— ${e.message}` : ""}</li>`);
  const s = r.summary;
  setView(html`<h1>Run ${r.run_id}</h1>
    <p>Status: <b id="run-status">${r.status}</b>${r.cancel_requested && r.active ? " (cancelling after the videos in flight)" : ""}</p>
    <div>${progressBar(r, "run-bar")} <span id="run-progress">${r.done}/${r.total ?? "?"}</span></div>
    ${r.active ? html`<button class="danger" id="cancel-run">Cancel run</button>` : ""}
    ${s ? html`<p class="muted">analysed ${s.analyzed}, skipped ${s.skipped}, failed ${s.failed}, ${s.shots} shots in ${num(s.seconds, 1)} s</p>` : ""}
    ${r.message ? html`<p class="error">${r.message}</p>` : ""}<ul>${evs}</ul>`);
  const btn = document.getElementById("cancel-run");
  if (btn) btn.addEventListener("click", async () => { await api(`/api/runs/${encodeURIComponent(id)}/cancel`, {method: "POST"}); route(); });
  if (r.active) pollTimer = setTimeout(route, 1000);
}

async function showErrors(params) {
  setActive("errors");
  const offset = finiteOr(params.get("offset"), 0);
  const [doc, st] = await Promise.all([api(`/api/errors?limit=50&offset=${encodeURIComponent(offset)}`), api("/api/status")]);
  setView(html`<h1>Errors</h1>
    ${doc.total && st.runs_allowed ? html`<button id="retry">Retry all</button> <span id="retry-msg" class="error"></span>` : ""}
    <table id="errors"><thead><tr><th>File</th><th>Stage</th><th>Message</th><th>When</th></tr></thead><tbody>
    ${doc.items.map((e) => html`<tr><td>${e.path}</td><td>${e.stage}</td><td>${e.message}</td><td>${e.logged_at}</td></tr>`)}
    </tbody></table>${pager(doc, (o) => `#/errors?offset=${o}`)}${doc.total ? "" : html`<p class="muted">No errors.</p>`}`);
  const btn = document.getElementById("retry");
  if (btn) btn.addEventListener("click", async () => {
    try { const r = await api("/api/errors/retry", {method: "POST"}); location.hash = "#/run/" + encodeURIComponent(r.run_id); }
    catch (err) { document.getElementById("retry-msg").textContent = err.message; }
  });
}

async function route() {
  clearTimeout(pollTimer);
  const hash = location.hash.slice(1) || "/";
  const q = hash.indexOf("?");
  const path = q < 0 ? hash : hash.slice(0, q);
  const params = lastWins(q < 0 ? "" : hash.slice(q + 1));
  const parts = path.split("/").filter(Boolean).map((p) => { try { return decodeURIComponent(p); } catch { return p; } });
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
    setView(html`<p class="error">${err.message}</p>`);
  }
}

document.getElementById("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  location.hash = "#/search?q=" + encodeURIComponent(document.getElementById("search-box").value);
});
window.addEventListener("hashchange", route);
route();
