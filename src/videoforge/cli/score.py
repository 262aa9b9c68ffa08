"""`videoforge score`: write the learned training-suitability score to `shots.suitability`."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "score",
        help="write a learned training-suitability score (0-1) to shots.suitability",
        description=(
            "Score every shot of a catalog with one learned training-suitability value in [0, 1] "
            "(1 = train on it), computed from the shot's metric columns by a gradient-boosted model. "
            "Without --model the model shipped with videoforge is used; `videoforge train-scorer` "
            "fits one on your own labels. Filter afterwards, e.g. "
            "`videoforge export CAT --where \"suitability > 0.6\"`."
        ),
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder")
    p.add_argument("--model", default=None, metavar="PATH",
                   help="model file from train-scorer, or `tsa` for the optional TSA network over frames + metrics "
                        "(default: the packaged gradient-boosted model, the one whose figures docs/benchmarks/curate.md reports)")
    p.add_argument("--where", default=None, metavar="SQL", help="score only shots matching this SQL condition on shots")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return p


def main(args) -> int:
    import os

    from videoforge.catalog import Catalog
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.curate.suitability import load_model, score_catalog

    if args.model == "tsa" and not os.path.exists(args.model):
        from videoforge.curate.tsa import TSANotShipped, load_shipped_tsa, score_catalog_tsa

        try:
            tsa = load_shipped_tsa()
        except TSANotShipped as e:
            raise UsageError(str(e)) from None
        summary = score_catalog_tsa(Catalog(args.catalog), tsa, where=args.where)
    else:
        try:
            model = load_model(args.model)
        except FileNotFoundError as e:
            raise UsageError(str(e)) from None
        summary = score_catalog(Catalog(args.catalog), model, where=args.where)
    if args.json:
        print_json(summary)
        return 0
    print_table(["shots", "mean", "p10", "median", "p90"],
                [[summary["shots"], summary["mean"], summary["p10"], summary["median"], summary["p90"]]])
    if summary["missing_features"]:
        print(f"note: these metric columns are empty in this catalog, the score ignores them: "
              f"{', '.join(summary['missing_features'])}")
    return 0
