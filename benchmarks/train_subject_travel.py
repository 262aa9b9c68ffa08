"""Add the `subject_travel` motion key to a demo training manifest and check it against the truth.

    python benchmarks/train_subject_travel.py MANIFEST OUT_MANIFEST [--demo-videos DIR --per-combo 13]

Writes OUT_MANIFEST = MANIFEST plus a `subject_travel` column (train/subject_travel.py, measured on
each clip at 17 x 32 x 32, the demo's training size). With --demo-videos (the demo's rendered
videos folder, whose clips synth/shapes.py regenerates from the demo's seed), prints the Spearman
correlation of `subject_travel` and of the engine's `motion_peak` with the true travel, and per shape
the slope of each against the true travel (one slope for every shape = a shape-independent scale).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys

import numpy as np


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("manifest")
    p.add_argument("out")
    p.add_argument("--demo-videos", default=None)
    p.add_argument("--per-combo", type=int, default=13)
    a = p.parse_args(argv)
    from videoforge.train.data import decode_rgb
    from videoforge.train.subject_travel import add_column

    with open(a.manifest, newline="") as f:
        rows = list(csv.DictReader(f))
    for e in add_column(rows, lambda r: decode_rgb(r["path"], 17, 32, 32)):
        print("error:", e, file=sys.stderr)
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"{a.out}: {len(rows)} rows")
    if a.demo_videos:
        from scipy.stats import spearmanr

        from videoforge.synth import shapes

        pairs = shapes.held_out_pairs(2, seed=0)
        train, held = shapes.split_combos(pairs)
        clips = shapes.sample_clips(a.per_combo, exclude=held, seed=0, include=train, radius=0.25)
        by_src = {r["source_path"]: r for r in rows}
        st, mp, tr, sp = [], [], [], []
        for c, v in zip(clips, sorted(os.listdir(a.demo_videos))):
            r = by_src.get(os.path.join(a.demo_videos, v))
            if r is None or r["subject_travel"] == "":
                continue
            assert c.colour in v and c.shape in v, (c, v)
            st.append(float(r["subject_travel"]))
            mp.append(float(r["motion_peak"]))
            tr.append(c.travel)
            sp.append(c.shape)
        st, mp, tr, sp = map(np.array, (st, mp, tr, sp))
        for name, x in (("subject_travel", st), ("motion_peak", mp)):
            slopes = {s: round(float(np.polyfit(tr[sp == s], x[sp == s], 1)[0]), 2) for s in shapes.SHAPES}
            print(f"{name}: Spearman vs true travel {spearmanr(x, tr).statistic:.3f} (n = {len(tr)}); "
                  f"slope per shape {slopes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
