"""The text gate as a detector: recall of frames that hold text, and what it costs.

    .venv/bin/python benchmarks/text_gate.py --split tune --videos 24 --seed 100 --out /tmp/vf-gate-tune
    .venv/bin/python benchmarks/text_gate.py --split heldout --videos 30 --seed 9100 --out /tmp/vf-gate-heldout
    .venv/bin/python benchmarks/text_gate.py pipeline --split heldout --videos 12 --seed 9100 --out /tmp/vf-gate-heldout

Data: H.264 videos of real photographs / real clips with burned-in words
(`videoforge.synth.text_scenes`; the `tune` and `heldout` splits share no font, style,
photo, clip or word). Every `--step`-th decoded frame is a sample. Truth: a frame *holds
text* when rapidocr (the engine's PP-OCR instance) on the whole decoded frame reads the
planted word (case and spaces ignored) - frames where even the OCR cannot read the word do
not count either way. The gate sees exactly what the engine's pass gives it (the decoded
frame, through `metrics.text.gate_frame`).

Printed: recall = positives the gate passes *and* whose OCR crop covers the word's box,
with a 95 % bootstrap interval resampled by shot (frames of a shot are not independent);
the share of text-free frames that pass (false alarms); frames passed per minute of video
at the engine's sampling rate; gate ms per sampled frame for the old gate (keyframe-era
`text_regions` at 160 px) and the new one, timed interleaved in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time

import numpy as np


def norm(s: str) -> str:
    return re.sub(r"[^0-9a-z]", "", (s or "").lower())


def build_set(out: str, split: str, videos: int, seed: int, shots: int = 6) -> list[dict]:
    """Generate (or reuse) the videos; returns [{'path', 'truth': [shot dicts]}]."""
    from videoforge.synth.text_scenes import make_text_video, truth_json

    os.makedirs(out, exist_ok=True)
    items = []
    for v in range(videos):
        path = os.path.join(out, f"{split}-{seed + v}.mp4")
        tpath = path + ".json"
        if not (os.path.exists(path) and os.path.exists(tpath)):
            truth = truth_json(make_text_video(path, split, seed + v, shots=shots))
            with open(tpath, "w") as f:
                json.dump(truth, f)
        with open(tpath) as f:
            items.append({"path": path, "truth": json.load(f)})
    return items


def _shot_of(truth: list[dict], index: int) -> dict:
    return next(t for t in truth if t["start_frame"] <= index <= t["end_frame"])


def ground_truth(items: list[dict], step: int, out: str) -> list[dict]:
    """Per sampled frame: video, frame, shot, word shown (or None), its box, and whether the OCR reads it."""
    from videoforge.io.decode import decode_frames
    from videoforge.metrics.text import ocr_image

    cache = os.path.join(out, f"gt-step{step}.json")
    done = {}
    if os.path.exists(cache):
        with open(cache) as f:
            done = {(r["video"], r["frame"]): r for r in json.load(f)}
    rows = []
    for it in items:
        name = os.path.basename(it["path"])
        if all((name, i) in done for i in range(0, it["truth"][-1]["end_frame"] + 1, step)):
            rows += [done[(name, i)] for i in range(0, it["truth"][-1]["end_frame"] + 1, step)]
            continue
        for fr in decode_frames(it["path"]):
            if fr.index % step:
                continue
            t = _shot_of(it["truth"], fr.index)
            box = (t.get("boxes") or {}).get(str(fr.index))
            word = t["word"] if box else None
            _, lines = ocr_image(fr.bgr(), crop=None)
            read = " ".join(lines)
            rows.append({"video": name, "frame": fr.index, "shot": t["shot_index"], "word": word, "box": box,
                         "style": t["style"] if word else None, "height": t["text_height"] if word else None,
                         "ocr": read, "holds_text": bool(word) and norm(word) in norm(read)})
    with open(cache, "w") as f:
        json.dump(rows, f)
    return rows


def _covers(crops, box) -> bool:
    """A crop holds at least 90 % of the word's box."""
    if box is None:
        return False
    x0, y0, x1, y1 = box
    area = max(1, (x1 - x0) * (y1 - y0))
    for c in crops:
        ix = max(0, min(x1, c[2]) - max(x0, c[0]))
        iy = max(0, min(y1, c[3]) - max(y0, c[1]))
        if ix * iy >= 0.9 * area:
            return True
    return False


def run_gates(items: list[dict], gt: list[dict], step: int) -> dict:
    """Decode once; on each sampled frame time and apply the old and the new gate."""
    import cv2

    from videoforge.io.decode import decode_frames
    from videoforge.metrics import text as T

    by_key = {(r["video"], r["frame"]): r for r in gt}
    res = {"old": {}, "new": {}}
    ms = {"old": 0.0, "new": 0.0}
    n = 0
    for it in items:
        name = os.path.basename(it["path"])
        for fr in decode_frames(it["path"]):
            if fr.index % step or (name, fr.index) not in by_key:
                continue
            n += 1
            order = ("old", "new") if n % 2 else ("new", "old")   # interleaved: load hits both alike
            for which in order:
                a = time.perf_counter()
                if which == "old":
                    img = fr.bgr(384)   # what the old gate saw: the 384-px keyframe (JPEG aside)
                    score, boxes = T.text_regions(img)
                    ok = score >= 0.006
                    s = fr.small.shape[1]
                    sx = 640 / img.shape[1] if img.shape[1] else 1
                    crops = [tuple(int(v * sx) for v in (c[0], c[1], c[2], c[3]))
                             for c in [T.text_crop(img.shape, boxes)]] if ok and boxes else []
                    del s
                else:
                    g = T.gate_frame(fr)
                    ok = g.passed
                    crops = [g.crop] if ok and g.crop else []
                ms[which] += time.perf_counter() - a
                res[which][(name, fr.index)] = (ok, crops)
    del cv2
    return {"res": res, "ms": {k: 1000 * v / max(1, n) for k, v in ms.items()}, "n": n}


def bootstrap(values: dict, reps: int = 2000, seed: int = 0) -> tuple[float, float, float, int]:
    """Mean over frames with a 95 % interval resampled by cluster (shot). values: cluster -> [0/1...]."""
    rng = np.random.default_rng(seed)
    keys = list(values)
    sums = np.array([sum(values[k]) for k in keys], float)
    cnts = np.array([len(values[k]) for k in keys], float)
    est = sums.sum() / max(1, cnts.sum())
    bs = []
    for _ in range(reps):
        idx = rng.integers(0, len(keys), len(keys))
        bs.append(sums[idx].sum() / max(1, cnts[idx].sum()))
    lo, hi = np.percentile(bs, [2.5, 97.5])
    return est, float(lo), float(hi), int(cnts.sum())


def report(items, gt, out, step, fps: float = 25.0, sample_hz: float = 2.0) -> dict:
    r = run_gates(items, gt, step)
    rep = {"gate_ms_per_sampled_frame": r["ms"], "frames": r["n"]}
    minutes = sum((it["truth"][-1]["end_frame"] + 1) for it in items) / fps / 60
    for which in ("old", "new"):
        pos, neg, style_hits = {}, {}, {}
        for row in gt:
            key = (row["video"], row["frame"])
            ok, crops = r["res"][which][key]
            cl = (row["video"], row["shot"])
            if row["holds_text"]:
                hit = int(ok and _covers(crops, row["box"]))
                pos.setdefault(cl, []).append(hit)
                style_hits.setdefault(row["style"], []).append(hit)
            elif row["word"] is None:
                neg.setdefault(cl, []).append(int(ok))
        rec = bootstrap(pos)
        fa = bootstrap(neg)
        passed = sum(1 for row in gt if r["res"][which][(row["video"], row["frame"])][0])
        rep[which] = {"recall": rec, "false_alarm": fa,
                      "passed_per_min_at_sampling": passed / len(gt) * sample_hz * 60,
                      "recall_by_style": {k: (round(float(np.mean(v)), 3), len(v)) for k, v in sorted(style_hits.items())},
                      "sampled_frames_per_min": len(gt) / minutes}
    return rep


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("tune", "heldout"), required=True)
    ap.add_argument("--videos", type=int, default=24)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--step", type=int, default=8, help="sample every STEP-th frame")
    ap.add_argument("--out", required=True)
    ap.add_argument("--misses", action="store_true", help="list the positives the new gate missed")
    a = ap.parse_args(argv)
    items = build_set(a.out, a.split, a.videos, a.seed)
    gt = ground_truth(items, a.step, a.out)
    n_pos = sum(r["holds_text"] for r in gt)
    shown = sum(r["word"] is not None for r in gt)
    print(f"{a.split}: {len(items)} videos, {len(gt)} sampled frames, word shown on {shown}, "
          f"OCR reads it on {n_pos} (the positives), text-free {sum(r['word'] is None for r in gt)}", file=sys.stderr)
    rep = report(items, gt, a.out, a.step)
    for which in ("old", "new"):
        e, lo, hi, n = rep[which]["recall"]
        f, flo, fhi, fn = rep[which]["false_alarm"]
        print(f"{which:>3} gate: recall {e:.3f} [{lo:.3f}, {hi:.3f}] n={n} | false alarms on text-free frames "
              f"{f:.3f} [{flo:.3f}, {fhi:.3f}] n={fn} | {rep['gate_ms_per_sampled_frame'][which]:.2f} ms/sampled frame")
        print(f"    by style: {rep[which]['recall_by_style']}")
    if a.misses:
        from videoforge.metrics import text as T  # noqa: F401
        r = run_gates(items, [g for g in gt if g["holds_text"]], a.step)
        for g in gt:
            if g["holds_text"]:
                ok, crops = r["res"]["new"][(g["video"], g["frame"])]
                if not (ok and _covers(crops, g["box"])):
                    print("miss", g["video"], g["frame"], g["style"], g["height"], g["word"], ok, crops, g["box"])
    with open(os.path.join(a.out, "report.json"), "w") as f:
        json.dump(rep, f, indent=1, default=str)
    return 0




def _old_scorer_class(rev: str):
    """TextScorer as it was at `rev` (keyframe gate), loaded from git for a same-run comparison."""
    import importlib.util
    import subprocess
    import tempfile

    src = subprocess.run(["git", "show", f"{rev}:src/videoforge/metrics/text.py"], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.abspath(__file__))).stdout
    path = os.path.join(tempfile.mkdtemp(prefix="vf-oldtext-"), "old_text.py")
    with open(path, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location("old_text", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod   # dataclasses look their module up there
    spec.loader.exec_module(mod)
    return mod.TextScorer


def pipeline(items: list[dict], out: str, rev: str, fps: float = 25.0) -> dict:
    """Old vs new scorer through the engine's pass on the true shots, interleaved per video:
    OCR calls per minute of video, text-stage ms per frame, and texted shots whose word reached ocr_text."""
    from videoforge.metrics.measure import measure_video
    from videoforge.metrics.text import TextScorer
    from videoforge.shots.base import Shot

    Old = _old_scorer_class(rev)
    # OCR input pixels, counted the same way for both scorers: wrap each module's `ocr_image`
    import importlib

    counted = {"px": 0}
    for mod in (sys.modules[Old.__module__], importlib.import_module("videoforge.metrics.text")):
        def counting(img, *args, _f=mod.ocr_image, **kw):
            crop = kw.get("crop", args[2] if len(args) > 2 else None)
            counted["px"] += (crop[2] - crop[0]) * (crop[3] - crop[1]) if crop else img.shape[0] * img.shape[1]
            return _f(img, *args, **kw)
        mod.ocr_image = counting
    agg = {k: {"calls": 0, "text_s": 0.0, "frames": 0, "found": 0, "texted": 0, "null": 0, "cpu": 0.0,
               "seconds": 0.0, "event_calls": 0, "ocr_pixels": 0, "words": 0, "words_found": 0, "missed": []}
           for k in ("old", "new")}
    for n, it in enumerate(items):
        shots = [Shot(t["start_frame"], t["end_frame"]) for t in it["truth"]]
        for which in (("old", "new") if n % 2 else ("new", "old")):
            sc = Old() if which == "old" else TextScorer()
            c0 = time.process_time()
            px0 = counted["px"]
            m = measure_video(it["path"], [sc], os.path.join(out, f"cat-{which}"), shots=shots, video_id=f"v{n}")
            a = agg[which]
            a["cpu"] += time.process_time() - c0   # the whole pass (decode, keyframes, text), all threads
            a["calls"] += sc.calls
            a["text_s"] += m.timings.get("text", 0.0)
            a["frames"] += m.stats.frames
            a["seconds"] += m.stats.frames / (getattr(m.stats, "average_fps", None) or fps)
            a["event_calls"] += getattr(sc, "event_calls", 0)
            a["ocr_pixels"] += counted["px"] - px0
            for t, row in zip(it["truth"], m.rows):
                if t["word"] and t["text_start"] is not None:
                    a["texted"] += 1
                    a["null"] += row["ocr_text"] is None
                    a["found"] += norm(t["word"]) in norm(row["ocr_text"] or "")
                for w in [t, *t.get("extra", [])]:   # every planted word (second words of a shot too)
                    if w["word"] and w["text_start"] is not None:
                        a["words"] += 1
                        hit = norm(w["word"]) in norm(row["ocr_text"] or "")
                        a["words_found"] += hit
                        if not hit:
                            a["missed"].append((os.path.basename(it["path"]), w["word"], w["style"]))
    rep = {}
    for k, a in agg.items():
        minutes = a["seconds"] / 60
        rep[k] = {"ocr_calls_per_min": a["calls"] / minutes, "event_calls_per_min": a["event_calls"] / minutes,
                  "ocr_megapixels_per_min": a["ocr_pixels"] / 1e6 / minutes,
                  "words": a["words"], "word_in_its_shot_ocr_text": a["words_found"] / max(1, a["words"]),
                  "missed_words": a["missed"], "text_ms_per_frame": 1000 * a["text_s"] / a["frames"],
                  "pass_cpu_ms_per_frame": 1000 * a["cpu"] / a["frames"],
                  "texted_shots": a["texted"], "word_in_ocr_text": a["found"] / max(1, a["texted"]),
                  "texted_shots_null": a["null"], "minutes": minutes}
    return rep


def pipeline_main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="old vs new text scorer through the pass (cost and shot-level reads)")
    ap.add_argument("--split", choices=("tune", "heldout"), required=True)
    ap.add_argument("--videos", type=int, default=12)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rev", default="51765fb", help="git revision of the old scorer")
    ap.add_argument("--from-dir", help="use the videos (+ .json truth) of this folder, e.g. an end-to-end set's "
                    "OUT/videos, instead of generating --videos")
    a = ap.parse_args(argv)
    if a.from_dir:
        import glob

        items = []
        for path in sorted(glob.glob(os.path.join(a.from_dir, "*.mp4")))[: a.videos]:
            with open(path + ".json") as f:
                items.append({"path": path, "truth": json.load(f)})
    else:
        items = build_set(a.out, a.split, a.videos, a.seed)
    from videoforge.metrics.text import ocr_engine

    ocr_engine(1)   # model load outside the figures
    rep = pipeline(items, a.out, a.rev)
    for k in ("old", "new"):
        r = rep[k]
        print(f"{k:>3} scorer: {r['ocr_calls_per_min']:.1f} OCR calls per minute of video, text stage "
              f"{r['text_ms_per_frame']:.3f} ms/frame wall, whole pass {r['pass_cpu_ms_per_frame']:.3f} CPU ms/frame, planted word in ocr_text for {r['word_in_ocr_text']:.3f} of "
              f"{r['texted_shots']} texted shots (NULL: {r['texted_shots_null']}), {r['minutes']:.1f} min of video")
        print(f"    every planted word in its shot's ocr_text: {r['word_in_its_shot_ocr_text']:.3f} of {r['words']}; "
              f"event reads {r['event_calls_per_min']:.1f}/min; OCR input {r['ocr_megapixels_per_min']:.2f} Mpx/min; "
              f"missed {r['missed_words']}")
    with open(os.path.join(a.out, "pipeline.json"), "w") as f:
        json.dump(rep, f, indent=1, default=str)
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "pipeline":
        raise SystemExit(pipeline_main(sys.argv[2:]))
    raise SystemExit(main())
