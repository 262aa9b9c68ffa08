"""`videoforge calibrate`: re-measure every stage variant's cost on a sample of the catalog's videos."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "calibrate",
        help="measure each stage variant's CPU cost on a sample of the catalog's own footage",
        description=(
            "Analyse a sample of the catalog's videos once per stage variant (into a scratch catalog: "
            "your rows are not touched), measure the CPU each costs per unit, and fold the figures into "
            "the catalog's `stages` table, which `videoforge plan --catalog` then uses."
        ),
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder (made by `videoforge run`)")
    p.add_argument("--sample", type=int, default=3, metavar="N", help="videos to measure on (default 3)")
    p.add_argument("--skip", action="append", default=[], metavar="STAGE/VARIANT",
                   help="a variant not to measure, e.g. shots/transnetv2 (keeps its current figure; repeatable)")
    p.add_argument("--json", action="store_true", help="print the measurements as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def main(args) -> int:
    from videoforge.catalog import Catalog
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.plan.calibrate import calibrate

    if args.sample < 1:
        raise UsageError("--sample must be at least 1")
    from videoforge.plan.registry import shipped_registry

    unknown = [k for k in args.skip if k not in shipped_registry()]
    if unknown:
        raise UsageError(f"--skip {unknown[0]!r}: no such stage variant (see `videoforge stages`)")
    if not Catalog(args.catalog).exists():
        raise UsageError(f"{args.catalog}: no catalog here (run `videoforge run INPUT --catalog {args.catalog}` first)")
    try:
        report = calibrate(args.catalog, args.sample, progress=not args.quiet, skip=tuple(args.skip))
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.json:
        print_json(report)
        return 0
    print_table(["variant", "unit", "cpu_s/unit", "fixed_s", "samples"],
                [[k, r["unit"], f"{r['cpu_seconds']:.4g}", f"{r['fixed_cpu_seconds']:.3g}", r["samples"]]
                 for k, r in report["registry"].items()])
    print(f"calibrated on {len(report['sample'])} video(s); saved to {args.catalog}")
    return 0
