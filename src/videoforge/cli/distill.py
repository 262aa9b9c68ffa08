"""`videoforge distill TEACHER --steps 4 --out STUDENT`: a few-step, guidance-folded student (issue #21)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "distill", help="distil a generator into a few-step student with the guidance folded in",
        description="Run the teacher checkpoint as `generate` runs it (--teacher-steps Euler steps, classifier-free "
                    "guidance on the text and the metrics: three network evaluations per step) on the prompts and "
                    "metric values of its training manifest, and train a student that samples in --steps steps "
                    "with ONE evaluation each: the guidance scales become an input of the network. The student is "
                    "an ordinary generator checkpoint: `videoforge generate STUDENT PROMPT` samples it in its own "
                    "step count (--cfg-text / --cfg-metric still apply).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  videoforge distill demo-out/train/stdit/stdit.pt --steps 4 --out student.pt\n"
               "  videoforge generate student.pt \"a blue square moves up\" --out x.mp4")
    p.add_argument("teacher", metavar="TEACHER", help="generator checkpoint (.pt) written by training")
    p.add_argument("--out", required=True, metavar="STUDENT", help="student checkpoint to write (.pt)")
    p.add_argument("--steps", type=int, default=4, help="student sampling steps, one evaluation each (default 4)")
    p.add_argument("--manifest", default=None,
                   help="training manifest (CSV, `text` or `caption` + metric columns) whose prompts and metric values "
                        "to distil on (default: train_manifest.csv beside the teacher's folder, as `make demo-train` "
                        "writes it)")
    p.add_argument("--method", choices=("segment", "reflow"), default="segment",
                   help="segment: regress the teacher's trajectory between the student's times (default: better "
                        "shape accuracy, motion Spearman and FD on the demo); reflow: rectified-flow reflow on the "
                        "teacher's (noise, sample) pairs")
    p.add_argument("--pairs", type=int, default=None, help="teacher trajectories to learn from (default 320)")
    p.add_argument("--train-steps", type=int, default=None, help="student optimisation steps (default 300)")
    p.add_argument("--batch-size", type=int, default=None, help="student batch (default 32)")
    p.add_argument("--lr", type=float, default=None, help="student learning rate (default 1e-4)")
    p.add_argument("--teacher-steps", type=int, default=None, help="the teacher's Euler steps (default 25, generate's)")
    p.add_argument("--cfg-text", type=float, default=None, help="the default text guidance scale (default 4)")
    p.add_argument("--cfg-metric", type=float, default=None, help="the default metric guidance scale (default 2)")
    p.add_argument("--rollout-fraction", type=float, default=None,
                   help="share of each batch started from the student's own earlier steps (default 0.25)")
    p.add_argument("--pairs-cache", default=None, metavar="FILE",
                   help="keep the teacher trajectories here and reuse them when teacher and settings match")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    return p


def main(args) -> int:
    import os

    from videoforge.cli import UsageError

    if args.steps < 1:
        raise UsageError("--steps must be >= 1")
    if not os.path.exists(args.teacher):
        raise UsageError(f"{args.teacher}: no such checkpoint")
    if args.manifest and not os.path.exists(args.manifest):
        raise UsageError(f"{args.manifest}: no such manifest")
    import torch

    from videoforge.cli._common import print_json
    from videoforge.distill.train import DistillConfig, distill

    if args.threads:
        torch.set_num_threads(args.threads)
    over = {k: v for k, v in dict(pairs=args.pairs, train_steps=args.train_steps, batch_size=args.batch_size, lr=args.lr,
                                  teacher_steps=args.teacher_steps, cfg_text=args.cfg_text, cfg_metric=args.cfg_metric,
                                  rollout_fraction=args.rollout_fraction).items() if v is not None}
    cfg = DistillConfig(steps=args.steps, method=args.method, seed=args.seed, **over)
    try:
        doc = distill(args.teacher, args.out, args.manifest, cfg, progress=not args.json, pairs_cache=args.pairs_cache)
    except ValueError as e:   # not a generator checkpoint, already a student, no captions: bad input
        raise UsageError(str(e)) from e
    if args.json:
        print_json(doc)
    else:
        print(doc["student"])
    return 0
