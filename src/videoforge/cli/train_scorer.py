"""`videoforge train-scorer`: fit the suitability model on your own labelled shots."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train-scorer",
        help="fit a suitability model on your own labels (CSV) for `videoforge score --model`",
        description=(
            "Fit the training-suitability model on labelled shots of an analysed catalog. LABELS.csv has a "
            "'label' column (0/1, or a 1-5 score where 5 = best) and either 'shot_id', or 'path' with optional "
            "'start_frame'/'end_frame' (inclusive; without them all shots of that video). The model is a "
            "gradient-boosted classifier over the metric columns, keyframe picture measures and quality measures of "
            "decoded frames (blur, blocking, exposure, held or reversed frames); its score is "
            "P(suitable), so it ranks shots. 1-5 scores count as suitable from --suitable-from up."
        ),
    )
    p.add_argument("labels", metavar="LABELS.csv", help="labelled shots")
    p.add_argument("--catalog", required=True, metavar="CATALOG", help="catalog holding the labelled shots")
    p.add_argument("--out", required=True, metavar="MODEL", help="where to write the model file (NumPy arrays + JSON header, no pickle; e.g. model.npz)")
    p.add_argument("--suitable-from", type=float, default=4, metavar="SCORE",
                   help="with 1-5 labels: the lowest score that counts as suitable (default 4)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the fit")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return p


def main(args) -> int:
    import os
    import sys

    import numpy as np

    from videoforge.catalog import Catalog
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.curate.features import load_features, model_features
    from videoforge.curate.labels import LabelError, read_labels
    from videoforge.curate.suitability import fit_model

    catalog = Catalog(args.catalog)
    try:
        lab = read_labels(args.labels, catalog)
    except LabelError as e:
        raise UsageError(str(e)) from None
    for u in lab.unmatched[:20]:
        print(f"warning: {u}", file=sys.stderr)
    if len(lab.unmatched) > 20:
        print(f"warning: ... and {len(lab.unmatched) - 20} more unmatched rows", file=sys.stderr)
    names = model_features()
    ids, x, _ = load_features(catalog, names)
    pos = {s: i for i, s in enumerate(ids)}
    rows = [pos[s] for s in lab.shot_ids]
    try:
        model = fit_model(x[rows], np.asarray(lab.labels), names, seed=args.seed,
                          meta={"name": os.path.basename(args.out), "labels": os.path.basename(args.labels)},
                          suitable_from=args.suitable_from)
    except ValueError as e:
        raise UsageError(f"{args.labels}: {e}") from None
    model.save(args.out)
    summary = {"model": args.out, "kind": model.kind, "labelled_shots": len(rows),
               "unmatched_rows": len(lab.unmatched), "suitable": model.meta["n_suitable"], "features": len(model.used or names)}
    if args.json:
        print_json(summary)
    else:
        print_table(list(summary), [list(summary.values())])
    return 0
