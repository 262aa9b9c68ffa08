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
            "'start_frame'/'end_frame' (inclusive; without them all shots of that video). 0/1 labels fit a "
            "classifier, 1-5 scores a regressor, so the score ranks shots either way."
        ),
    )
    p.add_argument("labels", metavar="LABELS.csv", help="labelled shots")
    p.add_argument("--catalog", required=True, metavar="CATALOG", help="catalog holding the labelled shots")
    p.add_argument("--out", required=True, metavar="MODEL", help="where to write the model file (.joblib)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the fit")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return p


def main(args) -> int:
    import sys

    import numpy as np

    from videoforge.catalog import Catalog
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.curate.features import FEATURE_COLUMNS, load_features
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
    ids, x, _ = load_features(catalog, FEATURE_COLUMNS)
    pos = {s: i for i, s in enumerate(ids)}
    rows = [pos[s] for s in lab.shot_ids]
    try:
        model = fit_model(x[rows], np.asarray(lab.labels), FEATURE_COLUMNS, seed=args.seed,
                          meta={"name": args.out, "labels": args.labels})
    except ValueError as e:
        raise UsageError(f"{args.labels}: {e}") from None
    model.save(args.out)
    summary = {"model": args.out, "kind": model.kind, "labelled_shots": len(rows),
               "unmatched_rows": len(lab.unmatched), "features": len(FEATURE_COLUMNS)}
    if args.json:
        print_json(summary)
    else:
        print_table(list(summary), [list(summary.values())])
    return 0
