"""`videoforge plan`: choose the chain of stage variants that spends a budget best."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "plan",
        help="plan a run: which stage variants on which inputs, its predicted cost and quality",
        description=(
            "Choose, for each input, the chain of stage variants (shot detector, metric sampling, OCR; "
            "then per shot: suitability, a suitability gate, captioner, visual embedder) "
            "that maximises the goal's quality within the budget - exactly, by integer programming - "
            "and print the plan with its predicted CPU time, money and quality. Execute it with "
            "`videoforge run --plan PLAN.json --catalog DIR`. Costs come from the catalog's measured "
            "registry when --catalog is given, otherwise from shipped figures refined by timing the "
            "decode of each input's first seconds. The plan keeps a safety margin below the budget. "
            "A budget too small for all the footage leaves some inputs out (listed; --full-coverage forbids it). "
            "Exit 1 when nothing fits, saying what the budget buys instead."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="video files, folders (searched recursively) or globs")
    p.add_argument("--goal", required=True, choices=["dataset", "search", "catalog"],
                   help="what the run is for: a training set, search, or a browsable catalog")
    p.add_argument("--budget-cpu-hours", type=float, default=None, metavar="H", help="CPU-hours the run may use")
    p.add_argument("--budget-usd", type=float, default=None, metavar="D", help="money the run may spend on paid APIs")
    p.add_argument("--min", action="append", default=[], metavar="QUALITY=VALUE",
                   help="a floor on a predicted quality, e.g. text_recall=0.9 (repeatable)")
    p.add_argument("--margin", type=float, default=None, metavar="FRACTION",
                   help="safety margin kept below the budget: the plan fits budget x (1 - margin). Default: from "
                        "how far executed plans missed their prediction - the 99 %% quantile of actual / predicted "
                        "CPU over the catalog's last 30 runs (2 at least) pooled with the first plans measured "
                        "when the costs were shipped (counted as 20 runs), else over those first plans alone; "
                        "within 0.15-0.5, and ~0.20 at least once a catalog has runs (the plan's `margin_source` says which)")
    p.add_argument("--full-coverage", action="store_true",
                   help="analyse every input: under a tight budget, never leave an input out (coverage/skip)")
    p.add_argument("--catalog", default=None, metavar="DIR", help="use this catalog's measured costs")
    p.add_argument("--no-sample", action="store_true", help="do not time a sample of the inputs' decode")
    p.add_argument("--no-probe", action="store_true",
                   help="do not time a real run on the first 2 s of one input (it runs only while the costs' "
                        "fixed parts - start-up, imports, model loading - are the shipped figures, i.e. without "
                        "a catalog that has runs; it corrects them to this machine)")
    p.add_argument("-o", "--output", default=None, metavar="PLAN.json", help="also write the plan to this file")
    p.add_argument("--json", action="store_true", help="print the plan as JSON on stdout")
    return p


def _mins(items: list[str]) -> dict[str, float]:
    from videoforge.cli import UsageError

    out = {}
    for it in items:
        name, sep, val = it.partition("=")
        try:
            out[name.strip()] = float(val)
        except ValueError:
            raise UsageError(f"--min {it!r}: expected QUALITY=VALUE, e.g. text_recall=0.9") from None
        if not sep or not name.strip():
            raise UsageError(f"--min {it!r}: expected QUALITY=VALUE, e.g. text_recall=0.9")
    return out


def main(args) -> int:
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.plan.api import PlanRequest, make_plan
    from videoforge.plan.planner import Infeasible, PlanError

    for name in ("budget_cpu_hours", "budget_usd"):
        val = getattr(args, name)
        if val is not None and val < 0:
            raise UsageError(f"--{name.replace('_', '-')} must be 0 or more")
    if args.margin is not None and not 0 <= args.margin < 1:
        raise UsageError("--margin must be in [0, 1)")
    req = PlanRequest(inputs=args.inputs, goal=args.goal, budget_cpu_hours=args.budget_cpu_hours,
                      budget_usd=args.budget_usd, mins=_mins(args.min), margin=args.margin, catalog=args.catalog,
                      sample=not args.no_sample, probe=not args.no_probe, full_coverage=args.full_coverage)
    try:
        doc = make_plan(req)
    except PlanError as e:
        raise UsageError(str(e)) from None
    except Infeasible as e:
        if args.json:
            print_json({"error": "infeasible", "message": str(e), **e.info})
        print(f"videoforge plan: infeasible: {e}", file=sys.stderr)
        return 1
    for bad in doc.get("skipped_inputs", []):
        print(f"warning: {bad['error']}", file=sys.stderr)
    if "error" in doc.get("probe", {}):
        print(f"warning: the probe run on a sample failed, shipped fixed costs used: {doc['probe']['error']}",
              file=sys.stderr)
    if args.output:
        import json

        with open(args.output, "w") as f:
            json.dump(doc, f, indent=1)
    if args.json:
        print_json(doc)
        return 0
    print_table(["stage", "variant", "inputs"], [[s["stage"], s["variant"], len(s["applies_to"])] for s in doc["stages"]])
    pr = doc["predicted"]
    print(f"predicted: {pr['cpu_seconds']:.1f} CPU-s, ${pr['usd']:.2f}, "
          + ", ".join(f"{k}={v:.3f}" for k, v in pr["quality"].items()))
    if doc.get("not_analysed"):
        print(f"left out by the budget ({len(doc['not_analysed'])}; --full-coverage forbids this): "
              + ", ".join(doc["not_analysed"]))
    if args.output:
        print(f"plan written to {args.output}; run it: videoforge run --plan {args.output} --catalog DIR")
    return 0
