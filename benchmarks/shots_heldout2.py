"""Shot boundaries on the second generator's frozen held-out set (issue 19).

    .venv/bin/python benchmarks/shots_heldout2.py --data /tmp/vf-shots-heldout2 --videos 6
    .venv/bin/python benchmarks/shots_heldout2.py ... --gen1-data /tmp/vf-shots-bench --gen1-videos 6

The set is made by `videoforge.synth.transitions_alt` (independently written: its own
footage -- OpenCV's sample photos and clips, plasma scenes --, easing curves, wipe shapes,
fade colours, durations 6-60 frames, 24/25/30 fps, H.264 or MPEG-4 Part 2), seeds 1..N,
none of it seen in training or model selection. It is evaluated once per released model.
Seeds 1-6 (`--data /tmp/vf-shots-heldout2`) had their errors read during issue 19, so the
unseen figure is seeds 7-12: `--data /tmp/vf-shots-heldout2-fresh --seed 7 --videos 6`.

`--gen1-data` adds, beside it, the figure on the first generator's held-out set
(`benchmarks/shots_benchmark.py`'s data): our own generator -- same transition code, same
footage pool as training, other settings and seeds.

Detectors run as users run them (fresh process per file): `videoforge shots --json`,
PySceneDetect 0.7 (ContentDetector, AdaptiveDetector) through its own API, optionally
TransNetV2 (`--detectors ...,transnetv2`; slow on CPU, predictions cached in --data).
Scoring: `videoforge.shots.evaluate` (+-2 frames, event bootstrap 95 % intervals).
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from shots_real import run_detector  # noqa: E402
from shots_benchmark import ensure_videos  # noqa: E402

from videoforge.shots import evaluate as E  # noqa: E402


def ensure_data(data: str, videos: int, seed0: int) -> list[str]:
    from videoforge.synth.transitions_alt import generate, heldout2_settings

    return ensure_videos(data, videos, seed0, "alt", lambda path, seed: generate(path, seed, heldout2_settings(seed)))


def bucket(t: dict) -> str:
    d = t["end_frame"] - t["start_frame"] + 1
    return "cut" if t["kind"] == "cut" else ("6-15" if d <= 15 else "16-30" if d <= 30 else "31+")


def groups_of(t: dict) -> list[str]:
    """Labels a truth transition is reported under, beside its kind."""
    out = [f"length {bucket(t)}"]
    if t.get("style"):
        st = t["style"]   # second generator: fades "<style>_<colour>"; first generator: fades to black only
        out.append(f"{t['kind']} {st}" if t["kind"] == "wipe" else f"fade {st.split('_')[0]}")
        if t["kind"] == "fade":
            out.append(f"fade colour {st.split('_')[1] if '_' in st else 'black'}")
    if t.get("easing"):
        out.append(f"easing {t['easing']}")
    return out


def score_set(paths: list[str], names: list[str], cache: str | None) -> tuple[dict, dict]:
    ev_all = {n: E.Events() for n in names}
    by_group: dict[str, dict[str, list]] = {n: {} for n in names}
    wall = {n: 0.0 for n in names}
    frames = 0
    for path in paths:
        with open(path[:-4] + ".json") as f:
            truth = json.load(f)
        frames += truth["frames"]
        tt = [{k: t[k] for k in ("kind", "start_frame", "end_frame")} for t in truth["transitions"]]
        for n in names:
            pred, w = run_detector(n, path, cache)
            wall[n] += w
            ev = E.events(tt, pred)
            ev_all[n].extend(ev)
            for t, hit in zip(truth["transitions"], ev.hit):
                for g in groups_of(t):
                    by_group[n].setdefault(g, []).append(hit)
            print(f"{os.path.basename(path)} {n:10s} {len(pred):3d} predicted ({len(tt)} true), FP {ev.fp}, "
                  f"{truth['frames'] / w:.0f} frames/s", file=sys.stderr)
    res = {n: E.with_intervals(ev_all[n]) for n in names}
    for n in names:
        res[n]["fps"] = frames / wall[n] if wall[n] else None
        res[n]["groups"] = {}
        rng = np.random.default_rng(0)
        for g, hits in sorted(by_group[n].items()):
            h = np.asarray(hits, float)
            boots = [h[rng.integers(0, len(h), len(h))].mean() for _ in range(2000)]
            res[n]["groups"][g] = (float(h.mean()), float(np.percentile(boots, 2.5)),
                                   float(np.percentile(boots, 97.5)), len(h))
    return res, {"frames": frames, "videos": len(paths)}


def table(res: dict, names: list[str], label: str) -> None:
    print(f"\n### {label}")
    print("| detector | F1 | precision | recall | cut recall | gradual recall | kind acc. | n truth (cuts/gradual) | FP | frames/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in names:
        m = res[n]
        ka = f"{m['kind_accuracy']:.3f}" if m["kind_accuracy"] is not None else "-"
        fps = f"{m['fps']:.0f}" if m.get("fps") else "-"
        print(f"| {n} | {E.fmt(m, 'f1')} | {E.fmt(m, 'precision')} | {E.fmt(m, 'recall')} | {E.fmt(m, 'cut_recall')} | "
              f"{E.fmt(m, 'gradual_recall')} | {ka} | {m['n_truth']} ({m['n_cuts']}/{m['n_gradual']}) | "
              f"{m['false_positives']} | {fps} |")
    print("\nper-kind recall [95 % CI] (n):")
    for n in names:
        m = res[n]
        parts = [f"{k} {v:.3f} [{m['ci95'][f'recall_{k}'][0]:.2f}, {m['ci95'][f'recall_{k}'][1]:.2f}] "
                 f"({m['per_kind_n'][k]})" for k, v in m["per_kind_recall"].items()]
        print(f"  {n}: " + "; ".join(parts))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/tmp/vf-shots-heldout2")
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--detectors", default="videoforge,content,adaptive")
    ap.add_argument("--gen1-data", default=None, help="first generator's held-out set (shots_benchmark.py data)")
    ap.add_argument("--gen1-videos", type=int, default=6)
    ap.add_argument("--json-out", default=None)
    a = ap.parse_args(argv)
    names = a.detectors.split(",")
    paths = ensure_data(a.data, a.videos, a.seed)
    res, info = score_set(paths, names, a.data)
    print(f"\nsecond generator (synth.transitions_alt), held out: {info['videos']} videos, {info['frames']} frames; "
          f"+-{E.TOL} frames; machine busy (speed indicative only)")
    table(res, names, "held-out set of the second, independently written generator")
    print("\nrecall by group, videoforge first [95 % CI] (n):")
    for n in names:
        print(f"  {n}:")
        for g, (v, lo, hi, k) in res[n]["groups"].items():
            print(f"    {g:28s} {v:.3f} [{lo:.2f}, {hi:.2f}] ({k})")
    out = {"heldout2": res, "heldout2_info": info}
    if a.gen1_data:
        from shots_benchmark import ensure_data as ensure_gen1

        g1 = ensure_gen1(a.gen1_data, a.gen1_videos, 1)
        res1, info1 = score_set(g1, names, a.gen1_data)
        table(res1, names, f"our own generator (same transition code, same footage pool; held-out settings and "
                           f"seeds): {info1['videos']} videos, {info1['frames']} frames")
        out["gen1"], out["gen1_info"] = res1, info1
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
