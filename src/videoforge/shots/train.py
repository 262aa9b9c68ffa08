"""Retrain the shipped transition classifier in one command:

    python -m videoforge.shots.train --out src/videoforge/shots/models/css.npz

Generates labelled videos from TRAIN footage and train generator settings
(`synth.transitions.train_settings_v2`, the default `--preset v2`: small frames, shorter
shots/transitions, train seeds, plus per-video production looks, fast-cut videos and cuts
between two framings of one picture; `--preset v1` is the preset of the model before issue 19),
decodes them through the same path as `videoforge shots`, fits scikit-learn's
HistGradientBoostingClassifier on windowed frame-change features and writes the flattened
trees. Held-out evaluation: `benchmarks/shots_heldout2.py` (a second, independently written
generator) and `benchmarks/shots_real.py` (hand-annotated real footage); `benchmarks/shots_benchmark.py`
uses this generator's code with other footage and settings.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from multiprocessing import Pool

import numpy as np

from videoforge.shots.base import TRANSITION_KINDS

CLASSES = ("none",) + TRANSITION_KINDS  # label 0 none, 1 cut, 2 dissolve, 3 fade, 4 wipe


def frame_labels(truth: dict, n: int) -> np.ndarray:
    """Per-frame class ids from a truth JSON (cut: its first new frame; gradual: every frame)."""
    y = np.zeros(n, np.int64)
    for t in truth["transitions"]:
        y[t["start_frame"] : t["end_frame"] + 1] = CLASSES.index(t["kind"])
    return y


def video_features(path: str) -> np.ndarray:
    """Windowed feature rows of a video and its candidate mask, exactly as the detector computes them."""
    from videoforge.io.decode import decode_frames
    from videoforge.shots.features import SignatureBuffer, features, windowed

    from videoforge.shots.features import candidates

    buf = SignatureBuffer()
    for fr in decode_frames(path):
        buf.add(fr.small)
    f = features(buf)
    return windowed(f), candidates(f)


def _make(args):
    out_dir, seed, preset = args
    from videoforge.synth.transitions import generate, train_settings, train_settings_v2

    rng = np.random.default_rng(seed)
    st = (train_settings_v2 if preset == "v2" else train_settings)(rng)
    st.height = st.width * 9 // 16 // 2 * 2
    path = os.path.join(out_dir, f"train_{seed:05d}.mp4")
    if not os.path.exists(path):
        generate(path, seed, st)
    x, cand = video_features(path)
    with open(os.path.splitext(path)[0] + ".json") as f:
        y = frame_labels(json.load(f), len(x))
    missed = int(((y > 0) & ~cand).sum())
    # train where the detector will ask: candidate frames only (the rest are 'none' by rule);
    # of the plain in-shot frames far (> 20 frames) from any transition or distractor, keep one
    # in three: they are easy, and the fit's cost grows with rows
    near = np.zeros(len(y), bool)
    with open(os.path.splitext(path)[0] + ".json") as f:
        truth = json.load(f)
    for ev in truth["transitions"] + truth["distractors"]:
        near[max(0, ev["start_frame"] - 20) : ev["end_frame"] + 21] = True
    keep = cand & (near | (y > 0) | (np.arange(len(y)) % 3 == 0))
    return x[keep], y[keep], missed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="model file to write (.npz)")
    ap.add_argument("--videos", type=int, default=96, help="training videos to generate")
    ap.add_argument("--seed", type=int, default=100000, help="first training seed (held-out sets use < 100000)")
    ap.add_argument("--data", default=None, help="keep generated videos here (default: a temp dir)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--preset", choices=["v1", "v2"], default="v2", help="training generator preset (see above)")
    a = ap.parse_args(argv)

    from sklearn.ensemble import HistGradientBoostingClassifier

    from videoforge.shots.features import FEATURE_NAMES, WINDOW_OFFSETS
    from videoforge.shots.forest import export_hgb

    t0 = time.time()
    data = a.data or tempfile.mkdtemp(prefix="vf-shots-train-")
    os.makedirs(data, exist_ok=True)
    jobs = [(data, a.seed + i, a.preset) for i in range(a.videos)]
    with Pool(a.workers) as pool:
        parts = pool.map(_make, jobs)
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    print(f"transition frames outside the candidate gate: {sum(p[2] for p in parts)}")
    print(f"{len(parts)} videos, {len(x)} candidate frames, class counts {np.bincount(y, minlength=len(CLASSES)).tolist()} "
          f"({time.time() - t0:.0f} s)")
    # last videos as a validation split of the *training* footage (not the held-out report)
    n_val = max(1, len(parts) // 8)
    n_tr = sum(len(p[1]) for p in parts[:-n_val])
    counts = np.bincount(y[:n_tr], minlength=len(CLASSES)).astype(float)
    w = (counts.sum() / (len(CLASSES) * np.maximum(counts, 1))) ** 0.5  # soften the class imbalance
    clf = HistGradientBoostingClassifier(max_iter=a.iters, learning_rate=0.15, max_leaf_nodes=15, max_depth=6,
                                         l2_regularization=1.0, early_stopping=False, random_state=0)
    clf.fit(x[:n_tr], y[:n_tr], sample_weight=w[y[:n_tr]])
    acc = float((clf.predict(x[n_tr:]) == y[n_tr:]).mean())
    print(f"frame accuracy on validation videos of the training footage: {acc:.4f} ({time.time() - t0:.0f} s)")
    names = [f"{f}@{o}" for o in WINDOW_OFFSETS for f in FEATURE_NAMES]
    arrays = export_hgb(clf, names)
    arrays["class_names"] = np.asarray(CLASSES)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    np.savez_compressed(a.out, **arrays)
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
