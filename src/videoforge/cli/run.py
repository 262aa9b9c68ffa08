"""`videoforge run`: analyse videos into a catalog (resumable, parallel)."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "run",
        help="analyse videos into a catalog: shots, transitions, metrics, keyframes",
        description=(
            "Decode each video once, split it into shots (cuts, dissolves, fades, wipes), measure every "
            "shot and save keyframes, committing each video atomically to the catalog. A rerun skips "
            "videos already analysed with the same settings and retries the ones that failed."
        ),
    )
    p.add_argument("inputs", nargs="*", metavar="INPUT",
                   help="video files, folders (searched recursively) or globs (none with --plan: the plan names them)")
    p.add_argument("--catalog", required=True, metavar="DIR", help="catalog folder (created if missing)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="parallel videos (default: CPU cores)")
    p.add_argument("--force", action="store_true", help="re-analyse videos already in the catalog")
    p.add_argument("--engine", choices=["local", "ray", "inline"], default="local",
                   help="local process pool (default), Ray tasks, or inline (one process, for debugging)")
    p.add_argument("--address", default=None, metavar="ray://HOST:PORT",
                   help="Ray cluster to join with --engine ray (default: start a local Ray)")
    p.add_argument("--detector", default="videoforge", help="shot detector: videoforge (default), pyscenedetect, transnetv2")
    p.add_argument("--no-ocr", action="store_true", help="skip on-screen text recognition (faster)")
    p.add_argument("--lock-wait", type=float, default=None, metavar="SECONDS",
                   help="one run writes a catalog at a time: wait at most this long for another run to finish "
                        "(default: wait until it does; a killed run's lock is taken over at once)")
    p.add_argument("--plan", default=None, metavar="PLAN.json",
                   help="execute a plan made by `videoforge plan` (its inputs and stage variants) and report "
                        "predicted vs actual cost; measured costs feed the catalog's stage registry")
    p.add_argument("--json", action="store_true", help="print the run summary as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def main(args) -> int:
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos

    if args.plan:
        from videoforge.cli.plan_run import run_plan

        return run_plan(args)
    if not args.inputs:
        raise UsageError("give at least one INPUT (or --plan PLAN.json)")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.address and args.engine != "ray":
        raise UsageError("--address only applies with --engine ray")
    from videoforge.shots.base import detector_names

    if args.detector not in detector_names():
        raise UsageError(f"unknown --detector {args.detector!r}; choose one of {', '.join(detector_names())}")
    config = AnalysisConfig(detector=args.detector, ocr=not args.no_ocr)
    if args.lock_wait is not None and args.lock_wait < 0:
        raise UsageError("--lock-wait must be 0 or more seconds")
    summary = run_videos(args.inputs, args.catalog, workers=args.workers, force=args.force, engine=args.engine,
                         address=args.address, config=config, progress=not args.quiet, lock_wait=args.lock_wait)
    for m in summary.missing_inputs:
        print(f"warning: {m}: no such file, folder or glob match", file=sys.stderr)
    if args.json:
        print_json(summary.to_dict())
    else:
        print_table(["videos", "analysed", "skipped", "failed", "shots", "frames", "seconds"],
                    [[summary.total, summary.analyzed, summary.skipped, summary.failed, summary.shots,
                      summary.frames, round(summary.seconds, 1)]])
        for e in summary.errors:
            what = "internal error" if e.get("kind") == "internal" else "failed"
            print(f"  {what} [{e['stage']}] {e['message']}")
        print(f"catalog: {args.catalog}  (query it: videoforge sql {args.catalog} \"SELECT * FROM shots LIMIT 5\")")
    if summary.failed:
        print(f"{summary.failed} video(s) failed; see the errors table", file=sys.stderr)
    if summary.total == 0 and not summary.missing_inputs:
        print("no video files found in the inputs", file=sys.stderr)
    if summary.total == 0 and summary.missing_inputs:
        return 1
    if summary.total and summary.failed == summary.total:
        # nothing was analysed and nothing was already there: the run did not do its job
        print(f"all {summary.total} input(s) failed; nothing was analysed", file=sys.stderr)
        return 1
    return 0
