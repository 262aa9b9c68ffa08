"""`videoforge run --plan PLAN.json`: execute a plan and report predicted vs actual cost."""

from __future__ import annotations

import sys


def run_plan(args) -> int:
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.plan.execute import PlanFileError, execute, read_plan

    if args.inputs:
        raise UsageError("--plan names its own inputs; give no INPUT with it")
    if args.detector != "videoforge" or args.no_ocr or args.force or args.engine != "local" or args.address:
        raise UsageError("--plan decides the detector, OCR and engine; leave out --detector/--no-ocr/--force/--engine")
    try:
        doc = read_plan(args.plan)
        out = execute(doc, args.catalog, progress=not args.quiet)
    except PlanFileError as e:
        print(f"videoforge run: error: {e}", file=sys.stderr)
        return 2
    failed = sum(g["failed"] for g in out["run"])
    total = sum(g["total"] for g in out["run"])
    for g in out["run"]:
        for e in g["errors"]:
            print(f"  failed [{e['stage']}] {e['message']}", file=sys.stderr)
    if args.json:
        print_json(out)
    else:
        pr, ac = out["predicted"], out["actual"]
        print_table(["", "cpu_seconds", "usd", "wall_seconds"],
                    [["predicted", round(pr["cpu_seconds"], 2), round(pr["usd"], 4), ""],
                     ["actual", round(ac["cpu_seconds"], 2), round(ac["usd"], 4), round(ac["wall_seconds"], 2)]])
        print(f"catalog: {out['catalog']}  (plan run {out['run_id']})")
    if total and failed == total:
        print(f"all {total} input(s) failed; nothing was analysed", file=sys.stderr)
        return 1
    return 0
