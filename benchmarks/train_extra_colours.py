"""Colour-diverse training data for the demo generator (issue 19, session 11).

    python benchmarks/train_extra_colours.py --out DIR --base-manifest MANIFEST --merged OUT.csv
        [--colours orange cyan ...] [--per-combo 5] [--seed 11]

Renders clips of training-only colours (synth/shapes.py EXTRA_COLOURS) with every shape and
direction - minus the triples that contain a held-out (shape, direction) pair of the demo's split -
and sends them through the demo's own data path (`train.demo.prepare_data`: synth -> `videoforge run`
-> `videoforge export --format opensora` -> captions joined by `source_path` -> `subject_travel`).
Then writes OUT.csv = the base manifest (the demo's training manifest) + these rows, after checking
that no row of the merge shows a held-out (colour, shape), (shape, direction) or (colour, direction)
pair of the demo's split (`shapes.held_out_pairs(2, seed=0)`): the frozen held-out test is untouched,
and its colours are still only the four of `shapes.COLOURS`.

Why: the demo's held-out shape failures are (colour, shape) pairs; each shape is trained with only
2-3 of the 4 colours, so the model learns the colour word as a predictor of the shape
(docs/notes/train.md, session 8). With many colours each showing every shape, the colour word
carries no shape information and the shape has to come from the shape word.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections import Counter


def caption_triple(caption: str):
    """(colour, shape, direction) of a demo caption, or None when a slot is missing."""
    from videoforge.models.text import words
    from videoforge.synth import shapes

    ws = words(caption)
    colour = next((w for w in ws if w in shapes.COLOURS or w in shapes.EXTRA_COLOURS), None)
    shape = next((w for w in ws if w in shapes.SHAPES), None)
    direction = next((w for w in ws if w in shapes.DIRECTIONS), None)
    return (colour, shape, direction) if colour and shape and direction else None


def leaks(rows: list[dict], pairs: dict) -> list[str]:
    """Captions of `rows` that show a held-out pair (should be none)."""
    from videoforge.synth import shapes

    bad = []
    for r in rows:
        t = caption_triple(r.get("text") or "")
        if t is None or shapes.is_held_out(t, pairs):
            bad.append(r.get("text") or f"<no caption: {r.get('path')}>")
    return bad


def main(argv=None) -> int:
    from videoforge.synth import shapes

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="folder for the extra clips' videos, catalog and export")
    p.add_argument("--base-manifest", required=True, help="the demo's training manifest (with subject_travel)")
    p.add_argument("--merged", required=True, help="the merged training manifest to write")
    p.add_argument("--colours", nargs="+", default=list(shapes.EXTRA_COLOURS),
                   help=f"training-only colours (default all: {' '.join(shapes.EXTRA_COLOURS)})")
    p.add_argument("--per-combo", type=int, default=5, help="clips per (colour, shape, direction), speeds alternating")
    p.add_argument("--seed", type=int, default=11, help="render seed (the demo's own clips use 0)")
    p.add_argument("--radius", type=float, default=0.25, help="shape radius, fraction of the side (the demo's 1/4)")
    a = p.parse_args(argv)

    from videoforge.train.demo import prepare_data

    pairs = shapes.held_out_pairs(2, seed=0)
    extra = shapes.extra_colour_combos(a.colours, pairs)
    print(f"{len(extra)} training-only triples x {a.per_combo} clips", file=sys.stderr)
    manifest, info = prepare_data(os.path.abspath(a.out), a.per_combo, [], a.seed, extra, a.radius)
    print(f"extra data: {info}", file=sys.stderr)
    with open(a.base_manifest, newline="") as f:
        base = list(csv.DictReader(f))
    with open(manifest, newline="") as f:
        added = list(csv.DictReader(f))
    rows = base + added
    bad = leaks(rows, pairs)
    if bad:
        raise SystemExit(f"{len(bad)} rows show a held-out pair or no full caption, e.g. {bad[:3]}")
    cols = list(base[0]) + [c for c in added[0] if c not in base[0]]
    with open(a.merged, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    by_shape = Counter((t[1], t[0]) for t in map(caption_triple, (r["text"] for r in rows)))
    for s in shapes.SHAPES:
        cs = sorted(c for (sh, c) in by_shape if sh == s)
        print(f"{s}: {len(cs)} colours ({', '.join(f'{c} {by_shape[(s, c)]}' for c in cs)})")
    print(f"{a.merged}: {len(base)} base + {len(added)} training-only-colour rows = {len(rows)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
