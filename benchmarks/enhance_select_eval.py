"""Accuracy of the clean/blind model selector (enhance/degrade_estimate.py) on held-out data.

    nice -n 5 .venv/bin/python benchmarks/enhance_select_eval.py --out docs/benchmarks/enhance_select.json

Held-out clips (never read by fit_select.py): camera paths over sr_data.HELDOUT_PHOTOS and
crops of the held-out real clips Megamind.avi / tree.avi, 4 frames, high-resolution side
192..448 px (capped by the source); half PIL-bicubic x1/4 (truth: clean), half
degrade.second_order with the HELDOUT ranges (truth: degraded). Accuracy = share of clips the
shipped selector labels right; 95 % bootstrap interval over clips.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def boot(v, n=2000, seed=0):
    v = np.asarray(v, float)
    rng = np.random.default_rng(seed)
    m = v[rng.integers(0, len(v), (n, len(v)))].mean(1)
    return [round(float(v.mean()), 4), round(float(np.percentile(m, 2.5)), 4), round(float(np.percentile(m, 97.5)), 4), len(v)]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="docs/benchmarks/enhance_select.json")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=24_500)
    a = ap.parse_args(argv)
    from videoforge.enhance import degrade, sr_data
    from videoforge.enhance.degrade_estimate import DegradationSelector
    from videoforge.enhance.fit_select import make_examples

    sel = DegradationSelector.load()
    X, y, src = make_examples(np.random.default_rng(a.seed), sr_data.HELDOUT_PHOTOS, sr_data.HELDOUT_CLIPS,
                              a.n, degrade.HELDOUT, p_clip=0.4)
    p = np.array([sel.p_blind(x) for x in X])
    right = (p > sel.threshold) == (y == 1)
    real = np.array([s.endswith(".avi") for s in src])
    out = {"accuracy": boot(right), "clean_labelled_clean": boot(right[y == 0]),
           "degraded_labelled_degraded": boot(right[y == 1]),
           "accuracy_real_clip_crops": boot(right[real]), "accuracy_photo_clips": boot(right[~real]),
           "selector": sel.to_json()}
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    print(json.dumps({k: v for k, v in out.items() if k != "selector"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
