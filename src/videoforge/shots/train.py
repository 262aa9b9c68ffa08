"""Retrain the shipped transition classifier in one command:

    python -m videoforge.shots.train --out src/videoforge/shots/models/css.npz

Generates labelled videos from TRAIN footage and train generator settings
(`synth.transitions.train_settings_v3`, the default `--preset v3`, the shipped model's: small
frames, shorter shots/transitions, train seeds, per-video production looks, fast-cut videos,
cuts between two framings of one picture, fades through held solid colours; `--preset v2`
lacks the held fades, `--preset v1` is the preset of the model before issue 19), decodes them
through the same path as `videoforge shots`, fits scikit-learn's HistGradientBoostingClassifier
on windowed frame-change features, continues the fit with `--real-iters` rounds that add the
rows of the real set's TRAIN side at `--real-weight` (`split` in benchmarks/data/real_cuts.json:
real cuts, real dancing, whip pans and zooms as 'none'; never a TEST frame) and writes the
flattened trees.
Model selection: `benchmarks/shots_select.py` (cross-validation on the training side only). Held-out evaluation: `benchmarks/shots_heldout2.py` (a second, independently written
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
# The real TRAIN rows enter as REAL_ITERS further boosting rounds on synthetic + real rows after
# the synthetic-only fit, each real row weighing REAL_WEIGHT synthetic ones; chosen by
# cross-validation on the training side (benchmarks/shots_select.py --weights 0,4: out-of-fold
# real TRAIN cut F1 0.949 -> 0.994; docs/benchmarks/shots.md)
REAL_WEIGHT = 4.0
REAL_ITERS = 30
# the continuation sees every SYNTH_EVERY-th synthetic training row beside all real rows: enough
# to keep the synthetic transitions, at a third of the cost (the machine is shared)
SYNTH_EVERY = 3


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
    from videoforge.synth.transitions import generate, train_settings, train_settings_v2, train_settings_v3

    rows = os.path.join(out_dir, f"rows_{preset}_{seed:05d}.npz")
    if os.path.exists(rows):   # cached by an earlier run with the same --data (features are deterministic)
        z = np.load(rows)
        return z["x"], z["y"], int(z["missed"])
    rng = np.random.default_rng(seed)
    st = {"v1": train_settings, "v2": train_settings_v2, "v3": train_settings_v3}[preset](rng)
    st.height = st.width * 9 // 16 // 2 * 2
    path = os.path.join(out_dir, f"train_{preset}_{seed:05d}.mp4")
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
    np.savez(rows, x=x[keep], y=y[keep], missed=missed)
    return x[keep], y[keep], missed


def real_rows(side: str = "train", cache: str | None = None) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Feature rows and labels from the TRAIN side of the real set's frozen split
    (`benchmarks/data/real_cuts.json`, `split`): real cuts, and real in-shot motion (dancing, whip
    pans, zooms, a corrupted frame) as 'none'. Per part: candidate rows of its frame range only,
    stopping CONTEXT_AFTER frames before a range that ends inside a file, so no frame of the TEST
    side enters a row; ignore spans are left out. Keys: "<id>:<first frame>"; values (rows, labels,
    frame index of each row)."""
    from videoforge.shots import evaluate as E
    from videoforge.shots.features import CONTEXT_AFTER

    out = {}
    for entry, lo, hi in E.split_parts(E.load_real_set(), side):
        key = f"{entry['id']}:{lo}"
        path = E.resolve(entry["locator"])
        if path is None:
            raise FileNotFoundError(f"{entry['locator']}: real training clip not installed")
        cf = os.path.join(cache, f"real_{entry['id']}.npz") if cache else None
        if cf and os.path.exists(cf):
            z = np.load(cf)
            x, cand = z["x"], z["cand"]
        else:
            x, cand = video_features(path)
            if cf:
                np.savez(cf, x=x, cand=cand)
        n = len(x)
        y = np.zeros(n, np.int64)
        for t in E.truth_transitions(entry):
            y[t["start_frame"] : t["end_frame"] + 1] = CLASSES.index(t["kind"])
        keep = cand.copy()
        keep[:lo] = False
        keep[hi - (CONTEXT_AFTER if hi < n else 0):] = False
        for a, b in entry.get("ignore", []):
            keep[a : b + 1] = False
        out[key] = (x[keep], y[keep], np.flatnonzero(keep))
    return out


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, iters: int = 100, init=None):
    """The boosted trees, class imbalance softened (square root of inverse frequency). With `init`
    (a fitted model), `iters` further boosting rounds on these rows continue it (a copy)."""
    import copy

    from sklearn.ensemble import HistGradientBoostingClassifier

    counts = np.bincount(y, minlength=len(CLASSES)).astype(float)
    w = (counts.sum() / (len(CLASSES) * np.maximum(counts, 1))) ** 0.5
    if init is not None:
        clf = copy.deepcopy(init)
        clf.set_params(max_iter=init.n_iter_ + iters, warm_start=True)
    else:
        clf = HistGradientBoostingClassifier(max_iter=iters, learning_rate=0.15, max_leaf_nodes=15, max_depth=6,
                                             l2_regularization=1.0, early_stopping=False, random_state=0)
    clf.fit(x, y, sample_weight=w[y] * weight)
    return clf


def base_model(data: str, x: np.ndarray, y: np.ndarray, iters: int, tag: str):
    """The fit on synthetic rows alone, cached in `data` (the same rows give the same trees)."""
    import pickle

    path = os.path.join(data, f"base_{tag}_{len(y)}_{iters}.pkl")
    if os.path.exists(path):
        with open(path, "rb") as f:
            return pickle.load(f)
    clf = fit(x, y, np.ones(len(y)), iters)
    with open(path, "wb") as f:
        pickle.dump(clf, f)
    return clf


def save(clf, out: str) -> None:
    from videoforge.shots.features import FEATURE_NAMES, WINDOW_OFFSETS
    from videoforge.shots.forest import export_hgb

    names = [f"{f}@{o}" for o in WINDOW_OFFSETS for f in FEATURE_NAMES]
    arrays = export_hgb(clf, names)
    arrays["class_names"] = np.asarray(CLASSES)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    np.savez_compressed(out, **arrays)


def synthetic_parts(data: str, seed: int, videos: int, preset: str, workers: int) -> list:
    jobs = [(data, seed + i, preset) for i in range(videos)]
    with Pool(workers) as pool:
        return pool.map(_make, jobs)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="model file to write (.npz)")
    ap.add_argument("--videos", type=int, default=96, help="training videos to generate")
    ap.add_argument("--seed", type=int, default=100000, help="first training seed (held-out sets use < 100000)")
    ap.add_argument("--data", default=None, help="keep generated videos and their feature rows here (default: a temp dir)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--preset", choices=["v1", "v2", "v3"], default="v3", help="training generator preset (see above)")
    ap.add_argument("--real-weight", type=float, default=REAL_WEIGHT,
                    help="weight of the rows from the TRAIN side of the real set (0: none, the synthetic fit alone)")
    ap.add_argument("--real-iters", type=int, default=REAL_ITERS,
                    help="boosting rounds on synthetic + real TRAIN rows after the synthetic fit")
    a = ap.parse_args(argv)
    real_w = a.real_weight

    t0 = time.time()
    data = a.data or tempfile.mkdtemp(prefix="vf-shots-train-")
    os.makedirs(data, exist_ok=True)
    parts = synthetic_parts(data, a.seed, a.videos, a.preset, a.workers)
    print(f"transition frames outside the candidate gate: {sum(p[2] for p in parts)}")
    # last videos as a validation split of the *training* footage (not the held-out report)
    n_val = max(1, len(parts) // 8)
    xs = [p[0] for p in parts[:-n_val]]
    ys = [p[1] for p in parts[:-n_val]]
    print(f"{len(parts)} videos, {sum(len(v) for v in ys)} synthetic training rows, class counts "
          f"{np.bincount(np.concatenate(ys), minlength=len(CLASSES)).tolist()} ({time.time() - t0:.0f} s)")
    clf = base_model(data, np.concatenate(xs), np.concatenate(ys), a.iters, a.preset)
    if real_w > 0:
        xs = [np.concatenate(xs)[::SYNTH_EVERY]]
        ys = [np.concatenate(ys)[::SYNTH_EVERY]]
        ws = [np.ones(len(ys[0]))]
        for key, (x, y, _) in real_rows("train", data).items():
            print(f"real TRAIN rows {key}: {len(y)} (cuts {int((y == 1).sum())}), weight {real_w:g}")
            xs.append(x)
            ys.append(y)
            ws.append(np.full(len(y), real_w))
        clf = fit(np.concatenate(xs), np.concatenate(ys), np.concatenate(ws), a.real_iters, init=clf)
    xv = np.concatenate([p[0] for p in parts[-n_val:]])
    yv = np.concatenate([p[1] for p in parts[-n_val:]])
    acc = float((clf.predict(xv) == yv).mean())
    print(f"frame accuracy on validation videos of the training footage: {acc:.4f} ({time.time() - t0:.0f} s)")
    save(clf, a.out)
    print(f"wrote {a.out} ({os.path.getsize(a.out) / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
