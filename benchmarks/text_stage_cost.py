"""The text stage's CPU per decoded frame, split: gate / rest of the pass side / OCR detector /
OCR recogniser / rest of the reads / bookkeeping after the pass; OCR reads per minute and OCR
input Mpx per minute; planted words found in their shot's ocr_text (videos with a .json truth).

    nice -n 5 .venv/bin/python benchmarks/text_stage_cost.py /tmp/vf-run-bench-plain/long.mp4 \
        /tmp/vfT/F/videos/heldout-900[0-7].mp4 --rev 8d5922c --out /tmp/vfT7/prof_final.json

The working tree's scorer ("new") and, with --rev, `metrics/text.py` as it was at that git
revision ("old") run in one process, interleaved per video (order alternating), each through
`measure_video` on the video's true shots (its .json truth), or, without one, on the shots in
--shots-json (`videoforge shots long.mp4 --json` of run_throughput's `long` input).
One thread, OpenCV on one thread, no keyframes; CPU = process time. --var adds the working
tree's scorer with other keyword arguments (JSON). Session 7 (docs/benchmarks/text.md).
"""
import json, os, sys, time, importlib.util, subprocess, tempfile, argparse
sys.path.insert(0, "/work/main/benchmarks")
import numpy as np
from videoforge.metrics.measure import measure_video
from videoforge.shots.base import Shot
import cv2
cv2.setNumThreads(1)

def load_rev(rev):
    src = subprocess.run(["git", "show", f"{rev}:src/videoforge/metrics/text.py"], capture_output=True, text=True, check=True, cwd="/work/main").stdout
    p = os.path.join(tempfile.mkdtemp(), f"text_{rev}.py"); open(p, "w").write(src)
    spec = importlib.util.spec_from_file_location(f"text_{rev}", p); m = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = m; spec.loader.exec_module(m); return m

ap = argparse.ArgumentParser(); ap.add_argument("videos", nargs="+"); ap.add_argument("--rev", default=None)
ap.add_argument("--out", default="/tmp/vfT7/prof.json"); ap.add_argument("--kw", default="{}"); ap.add_argument("--var", action="append", default=[])
ap.add_argument("--file", default=None, help="a text.py from a file (an experiment), run as 'alt' with its defaults")
ap.add_argument("--shots-json", default="/tmp/vfT7/long_shots.json", help="`videoforge shots VIDEO --json` output for videos without a .json truth")
a = ap.parse_args()
import videoforge.metrics.text as NEW
def load_file(path):
    spec = importlib.util.spec_from_file_location("text_alt", path); m = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = m; spec.loader.exec_module(m); return m

mods = [("new", NEW)] + ([("old", load_rev(a.rev))] if a.rev else []) + [(f"var{i}", NEW) for i in range(len(a.var))]
mods += [("alt", load_file(a.file))] if a.file else []
KW = {"new": json.loads(a.kw), "old": {}, "alt": {}}
KW.update({f"var{i}": json.loads(v) for i, v in enumerate(a.var)})
acc = {}
PT = time.process_time
for mname, M in mods:
    M.ocr_engine(1)
for n, path in enumerate(a.videos):
    if os.path.exists(path + ".json"):
        tr = json.load(open(path + ".json")); shots = [Shot(t["start_frame"], t["end_frame"]) for t in tr]
        if isinstance(tr, dict): pass
    else:
        tr = None
        sj = json.load(open(a.shots_json)); shots = [Shot(s["start_frame"], s["end_frame"]) for s in sj["shots"]]
    order = mods if n % 2 == 0 else mods[::-1]
    seen_mod = set()
    for mname, M in order:
        if id(M) in seen_mod and False: pass
        T = {"gate": 0.0, "process": 0.0, "finish": 0.0, "det": 0.0, "rec": 0.0, "ocr": 0.0, "reads": 0, "px": 0, "found": 0, "pass": 0.0}
        eng = M.ocr_engine(1)
        det0, rec0 = type(eng.text_det).__call__, type(eng.text_rec).__call__
        def det(self, *x, **k):
            t = PT(); r = det0(self, *x, **k); T["det"] += PT() - t; return r
        def rec(self, *x, **k):
            t = PT(); r = rec0(self, *x, **k); T["rec"] += PT() - t; return r
        type(eng.text_det).__call__ = det; type(eng.text_rec).__call__ = rec
        g0, o0 = M.gate_frame, M.ocr_image
        def gate(fr):
            t = PT(); r = g0(fr); T["gate"] += PT() - t; return r
        def ocr(img, *x, **k):
            t = PT(); r = o0(img, *x, **k); T["ocr"] += PT() - t; T["reads"] += 1; T["px"] += img.shape[0] * img.shape[1]; T["found"] += bool(r[1]); return r
        M.gate_frame, M.ocr_image = gate, ocr
        sc = M.TextScorer(**KW[mname])
        p0, f0 = sc.process, sc.finish
        def proc(fr):
            t = PT(); p0(fr); T["process"] += PT() - t
        def fin(ctx):
            t = PT(); r = f0(ctx); T["finish"] += PT() - t; return r
        sc.process, sc.finish = proc, fin
        t0 = PT()
        m = measure_video(path, [sc], f"/tmp/vfT7/cat-{mname}", shots=shots, video_id=f"v{n}", keyframes=False)
        T["pass"] = PT() - t0
        M.gate_frame, M.ocr_image = g0, o0
        type(eng.text_det).__call__, type(eng.text_rec).__call__ = det0, rec0
        T["frames"] = m.stats.frames; T["seconds"] = m.stats.frames / (m.stats.average_fps or 25.0)
        words = found = 0
        if tr is not None:
            for t, row in zip(tr, m.rows):
                for w in [t, *t.get("extra", [])]:
                    if w["word"] and w["text_start"] is not None:
                        words += 1; found += "".join(ch for ch in w["word"].lower() if ch.isalnum()) in "".join(ch for ch in (row["ocr_text"] or "").lower() if ch.isalnum())
        T["words"], T["words_found"] = words, found
        T["sampled"], T["passed"] = sc.sampled, sc.passed
        T["rows"] = [(r["text_area"], r["ocr_text"]) for r in m.rows]
        acc.setdefault(mname, []).append((os.path.basename(path), T))
        f = T["frames"]; mn = T["seconds"] / 60
        print(f"{os.path.basename(path):22s} {mname}: text {1000*(T['process']+T['finish'])/f:.3f} ms/fr = gate {1000*T['gate']/f:.3f} + proc-other {1000*(T['process']-T['gate'])/f:.3f} "
              f"+ det {1000*T['det']/f:.3f} + rec {1000*T['rec']/f:.3f} + ocr-other {1000*(T['ocr']-T['det']-T['rec'])/f:.3f} + fin-other {1000*(T['finish']-T['ocr'])/f:.3f} | "
              f"reads/min {T['reads']/mn:.1f} Mpx/min {T['px']/1e6/mn:.2f} nonempty {T['found']}/{T['reads']} | words {found}/{words} | pass {1000*T['pass']/f:.2f}", flush=True)
for mname, rows in acc.items():
    S = {k: sum(t[k] for _, t in rows) for k in ("gate", "process", "finish", "det", "rec", "ocr", "reads", "px", "frames", "seconds", "words", "words_found", "pass")}
    f = S["frames"]; mn = S["seconds"] / 60
    print(f"TOTAL {mname}: text {1000*(S['process']+S['finish'])/f:.3f} ms/fr (gate {1000*S['gate']/f:.3f}, det {1000*S['det']/f:.3f}, rec {1000*S['rec']/f:.3f}, other {1000*(S['process']+S['finish']-S['gate']-S['det']-S['rec'])/f:.3f}) "
          f"reads/min {S['reads']/mn:.1f} Mpx/min {S['px']/1e6/mn:.2f} words {S['words_found']}/{S['words']} pass {1000*S['pass']/f:.2f} ms/fr")
json.dump(acc, open(a.out, "w"), default=str)
