"""`videoforge stages`: the stage registry - every variant, its cost per unit and its quality."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "stages",
        help="list the stage registry: each stage variant's cost and quality, with sources",
        description=(
            "Every stage variant `run` can execute (shot detectors, metric sampling, OCR, ...), its CPU "
            "cost per unit (megapixel decoded, frame, second of video) and its quality figures with the "
            "benchmark each comes from. With --catalog, costs measured on this machine (`videoforge "
            "calibrate`, every `run --plan`) replace the shipped ones."
        ),
    )
    p.add_argument("--catalog", default=None, metavar="DIR", help="catalog whose measured costs to show")
    p.add_argument("--json", action="store_true", help="print the registry as JSON on stdout")
    return p


def main(args) -> int:
    from videoforge.catalog import Catalog
    from videoforge.cli._common import print_json, print_table
    from videoforge.plan.registry import available
    from videoforge.plan.store import load_registry

    catalog = Catalog(args.catalog) if args.catalog else None
    if catalog is not None and not catalog.exists():
        from videoforge.cli import UsageError

        raise UsageError(f"{args.catalog}: no catalog here")
    reg = load_registry(catalog)
    rows = []
    for v in reg.values():
        d = v.to_dict()
        d["available"] = available(v)
        rows.append(d)
    if args.json:
        print_json({"stages": rows})
        return 0
    print_table(["stage", "variant", "unit", "cpu_s/unit", "fixed_s", "usd", "quality", "samples", "cost source"],
                [[r["stage"], r["variant"] + ("" if r["available"] else " (n/a)"), r["unit"], f"{r['cpu_seconds']:.3g}",
                  f"{r['fixed_cpu_seconds']:.3g}", f"{r['usd']:.3g}",
                  " ".join(f"{k}={v:.3g}" for k, v in r["quality"].items()), r["samples"], r["cost_source"]] for r in rows])
    return 0
