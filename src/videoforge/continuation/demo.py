"""`make demo-continue`: the shapes demo's generator taught to continue videos (CPU).

Needs the demo generator (`make demo-train`'s OUT/train/stdit/stdit.pt, trained first when
missing), then trains the context-conditioned continuation model on bouncing-shape videos with
context-noise augmentation (continuation/train.py). With --compare it also trains the same
model without the augmentation and runs benchmarks/continue_eval.py on both. The
continuation checkpoint's path is the last word of the last line.

    python -m videoforge.continuation.demo --out demo-out/continue --base demo-out/train/stdit/stdit.pt
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m videoforge.continuation.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--base", default=None, help="generator checkpoint (default: OUT/../train/stdit/stdit.pt)")
    p.add_argument("--steps", type=int, default=1200)   # session 8's measured models (docs/benchmarks/codec.md)
    p.add_argument("--videos", type=int, default=48)
    p.add_argument("--minutes", type=float, default=None,
                   help="wall-clock cap per trained model on a busy machine (stops early, schedule completed)")
    p.add_argument("--compare", action="store_true", help="also train without context noise and evaluate both")
    p.add_argument("--concat", type=int, default=2, choices=(0, 1, 2),
                   help="channel-concatenated context: 1 the last context frame, 2 also an anchor (default 2)")
    p.add_argument("--no-context-timestep", action="store_true",
                   help="context tokens share the denoised frames' timestep (the session-6 model)")
    a = p.parse_args(argv)
    import torch

    from videoforge.continuation.train import log, train_continuation

    torch.set_num_threads(1)   # a small model: on a shared machine more threads only wait on each other

    out = os.path.abspath(a.out)
    base = a.base or os.path.join(os.path.dirname(out), "train", "stdit", "stdit.pt")
    if not os.path.exists(base):
        log(f"{base} missing: training the demo generator first (make demo-train)")
        subprocess.run([sys.executable, "-m", "videoforge.train.demo", "--out", os.path.dirname(os.path.dirname(base))],
                       check=True)
    # the measured models' settings (sessions 7-8: docs/benchmarks/codec.md); shapes of radius 1/4,
    # the demo generator's own since its run 7 (continuation/data.py CONTINUE_RADIUS)
    kw = dict(steps=a.steps, videos=a.videos, video_frames=49, batch=8, lr=5e-4, concat=a.concat,
              context_timestep=not a.no_context_timestep, minutes=a.minutes)
    path = train_continuation(base, out, context_noise_max=0.3, **kw)
    if a.compare:
        plain = train_continuation(base, out, context_noise_max=0.0, **kw)
        bench = os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks", "continue_eval.py")
        if os.path.exists(bench):
            subprocess.run([sys.executable, bench, path, plain, "--json", os.path.join(out, "eval.json")], check=True)
    print(f"continuation checkpoint: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
