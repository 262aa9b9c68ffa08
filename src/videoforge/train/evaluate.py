"""Measure a shapes-demo generator with the automatic checker (synth/shapes.py `read_clip`).

- prompt accuracy: colour and direction read back from generated clips, on held-out
  (colour, shape, direction) combinations and, for reference, on seen ones;
- motion control: the same prompts at 5 motion levels; Spearman correlation between the
  level and the measured travel of the blob;
- the checker's own accuracy on ground-truth clips, so its errors are not blamed on the model.
"""

from __future__ import annotations

import numpy as np

from videoforge.synth import shapes


def prompt_accuracy(pipe, combos, seeds, frames: int, metrics: dict | None, batch: int = 32, **kw) -> dict:
    """Fraction of generated clips whose colour and direction match the prompt (and per attribute)."""
    jobs = [(c, s) for c in combos for s in seeds]
    readings = []
    for i in range(0, len(jobs), batch):
        part = jobs[i:i + batch]
        prompts = [shapes.caption_for(c[0], c[1], c[2], False) for c, _ in part]
        # one seed per batch keeps the call simple; the noise differs per row anyway
        clips = pipe.generate(prompts, metrics=metrics, frames=frames, seed=part[0][1] * 1000 + i, **kw)
        readings += [shapes.read_clip(v) for v in clips]
    colour = [r.colour == c[0] for (c, _), r in zip(jobs, readings)]
    direction = [r.direction == c[2] for (c, _), r in zip(jobs, readings)]
    shape = [r.shape == c[1] for (c, _), r in zip(jobs, readings)]
    both = [a and b for a, b in zip(colour, direction)]
    return {"n": len(jobs), "colour_and_direction": float(np.mean(both)), "colour": float(np.mean(colour)),
            "direction": float(np.mean(direction)), "shape": float(np.mean(shape)),
            "found": float(np.mean([r.colour is not None for r in readings]))}


def motion_control(pipe, prompts, levels, seeds, frames: int, metric: str = "motion", **kw) -> dict:
    """Measured travel (fraction of the side over the clip) per level of the motion `metric`;
    Spearman of level vs travel."""
    from scipy.stats import spearmanr

    per_level, pairs = [], []
    for lv in levels:
        travels = []
        for s in seeds:
            clips = pipe.generate(list(prompts), metrics={metric: lv}, frames=frames, seed=s, **kw)
            for v in clips:
                r = shapes.read_clip(v)
                if r.direction is not None:
                    travels.append(r.travel)
                    pairs.append((lv, r.travel))
        per_level.append(float(np.median(travels)) if travels else float("nan"))
    rho_levels = spearmanr(levels, per_level).statistic if np.all(np.isfinite(per_level)) else float("nan")
    rho_all = spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).statistic if len(pairs) > 2 else float("nan")
    return {"metric": metric, "levels": [float(x) for x in levels], "median_travel": per_level,
            "spearman_levels": float(rho_levels), "spearman_all_samples": float(rho_all), "n": len(pairs)}


def checker_accuracy(clips: list[shapes.ShapeClip], frames_list: list[np.ndarray]) -> dict:
    """The checker on ground-truth frames: how often it reads colour+direction and shape right."""
    rs = [shapes.read_clip(f) for f in frames_list]
    cd = [r.colour == c.colour and r.direction == c.direction for c, r in zip(clips, rs)]
    sh = [r.shape == c.shape for c, r in zip(clips, rs)]
    return {"n": len(clips), "colour_and_direction": float(np.mean(cd)), "shape": float(np.mean(sh))}
