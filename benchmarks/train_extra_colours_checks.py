"""Two training-side checks for the training-only colours (issue 19, session 11).

    python benchmarks/train_extra_colours_checks.py ae AUTOENCODER.pt
        does the autoencoder carry every colour? per colour: PSNR, mean colour error of the shape's
        pixels, and the checker's shape read-back on the reconstructions (6 clips at 32 x 32)
    python benchmarks/train_extra_colours_checks.py seen GENERATOR.pt
        does the generator draw the prompted shape in the training-only colours? one seen triple per
        (extra colour, shape) x 2 seeds, the demo's sampler (20 steps, cfg 4 / 2, mid motion level);
        shape and direction only (the checker's colour vote knows the 4 test colours alone).

Neither touches the held-out triples.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def ae_check(path: str) -> None:
    import cv2
    import torch

    from videoforge.models.autoencoder import psnr
    from videoforge.models.pipeline import autoencoder_from
    from videoforge.synth import shapes

    ck = torch.load(path, map_location="cpu", weights_only=False)
    ae = autoencoder_from(ck.get("autoencoder", ck)).eval()
    allc = {**shapes.COLOURS, **shapes.EXTRA_COLOURS}
    rng = np.random.default_rng(5)
    for name in allc:
        clips = [shapes.ShapeClip(name, s, d, "slow", 0.2, "", int(rng.integers(2**31)), 0.25)
                 for s in shapes.SHAPES for d in ("left", "up")]
        fr = np.stack([np.stack([cv2.resize(f, (32, 32), interpolation=cv2.INTER_AREA)
                                 for f in shapes.render_clip(c, 17, 64)]) for c in clips])
        x = torch.from_numpy(fr).permute(0, 4, 1, 2, 3).float() / 127.5 - 1
        with torch.no_grad():
            rec = ae.decode(ae.encode(x))
        rf = ((rec.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 4, 1).numpy()
        errs, shp = [], 0
        for c, g, r in zip(clips, fr, rf):
            m = np.all(np.abs(g.astype(int) - np.array(allc[name])) < 40, -1)   # the shape's own pixels
            errs.append(np.abs(r[m].astype(float).mean(0) - np.array(allc[name])))
            shp += shapes.read_clip(r).shape == c.shape
        print(f"{name:8s} psnr {psnr(rec, x):.1f} dB  mean |rgb err| {np.mean(errs, 0).round(1)}  "
              f"shape read-back {shp}/{len(clips)}")


def seen_check(path: str) -> None:
    from videoforge.models.pipeline import Pipeline
    from videoforge.synth import shapes
    from videoforge.train import evaluate

    pipe = Pipeline.load(path)
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    combos = shapes.one_seen_extra_triple_each(shapes.held_out_pairs(2, seed=0))
    r = evaluate.prompt_accuracy(pipe, combos, [0, 1], 16, {pipe.scaler.names[0]: (lo + hi) / 2},
                                 steps=20, cfg_text=4.0, cfg_metric=2.0)
    print(json.dumps({"n": r["n"], "shape": r["shape"], "shape_ci": r["ci95"]["shape"],
                      "direction": r["direction"], "confusion": r["confusion_shape"]}))


def main(argv=None) -> int:
    import torch

    torch.set_num_threads(1)
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2 or argv[0] not in ("ae", "seen"):
        print(__doc__, file=sys.stderr)
        return 2
    (ae_check if argv[0] == "ae" else seen_check)(argv[1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
