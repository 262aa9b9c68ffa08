"""Fit the clean/blind model selector (degrade_estimate.DegradationSelector) on TRAIN sources.

    nice -n 5 python -m videoforge.enhance.fit_select --out src/videoforge/enhance/weights/sr_select.json

Clips: camera paths over sr_data.TRAIN_PHOTOS and crops of the training clip (vtest.avi),
4 frames, high-resolution side drawn from 192..448 px; half PIL-bicubic x1/4 (label clean),
half degrade.second_order with the TRAIN ranges (label blind). Reports 5-fold cross-validated
accuracy on this training side; held-out sources and HELDOUT ranges are never read here
(benchmarks/enhance_select_eval.py measures them).
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def make_examples(rng, photos, clips, n: int, settings, frames: int = 4, p_clip: float = 0.25):
    """(features (n,5), labels (n,) 1 = blind, sources) for n clips."""
    from videoforge.enhance import degrade, degrade_estimate, sr_data

    X, y, src = [], [], []
    for i in range(n):
        size = int(rng.choice([192, 256, 320, 448]))
        if clips and rng.random() < p_clip:
            s = clips[int(rng.integers(len(clips)))]
            v = sr_data.clip_frames(s)
            size = min(size, v.shape[1] // 4 * 4, v.shape[2] // 4 * 4)
            hr = sr_data.real_clip(s, rng, frames, size)
        else:
            s = photos[int(rng.integers(len(photos)))]
            img = sr_data.load_photo(s)
            size = min(size, img.shape[0] // 4 * 4, img.shape[1] // 4 * 4)
            hr = sr_data.camera_clip(img, rng, frames, size)
        blind = i % 2 == 1
        lr = degrade.second_order(hr, 4, rng, settings) if blind else np.stack([degrade.bicubic_down(f, 4) for f in hr])
        X.append(degrade_estimate.video_features(lr))
        y.append(int(blind))
        src.append(s)
    return np.array(X), np.array(y), src


def fit(X, y, C: float = 1.0):
    from sklearn.linear_model import LogisticRegression

    from videoforge.enhance.degrade_estimate import DegradationSelector, _logged

    L = _logged(X)
    mean, scale = L.mean(0), L.std(0) + 1e-9
    clf = LogisticRegression(C=C, max_iter=2000).fit((L - mean) / scale, y)
    return DegradationSelector(mean, scale, clf.coef_[0], clf.intercept_[0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--n", type=int, default=400)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    from videoforge.enhance import degrade, sr_data

    rng = np.random.default_rng(a.seed)
    X, y, _ = make_examples(rng, sr_data.TRAIN_PHOTOS, sr_data.TRAIN_CLIPS, a.n, degrade.TRAIN)
    folds = np.arange(len(y)) % 5
    rng.shuffle(folds)
    cv = {}
    for C in (0.1, 1.0, 10.0):
        acc = []
        for k in range(5):
            sel = fit(X[folds != k], y[folds != k], C)
            acc += [int((sel.p_blind(x) > 0.5) == bool(t)) for x, t in zip(X[folds == k], y[folds == k])]
        cv[C] = float(np.mean(acc))
    best_c = max(cv, key=cv.get)
    sel = fit(X, y, best_c)
    sel.meta = {"n": int(len(y)), "cv_accuracy": cv, "C": best_c, "seed": a.seed,
                "data": "TRAIN photos + vtest.avi, half PIL BICUBIC x1/4, half second_order(TRAIN)"}
    with open(a.out, "w") as f:
        json.dump(sel.to_json(), f, indent=1)
    print(json.dumps({"cv_accuracy": cv, "C": best_c, "coef": sel.coef.round(3).tolist()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
