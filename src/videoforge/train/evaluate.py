"""Measure a shapes-demo generator with the automatic checker (synth/shapes.py `read_clip`).

- prompt accuracy: colour, shape and direction read back from generated clips (each, and
  all three at once: `joint`), with 95 % bootstrap intervals, on held-out combinations (every
  triple that contains a held-out pair) and, for reference, on seen ones;
- motion control: the same prompts at 5 motion levels; Spearman correlation between the
  level and the measured travel of the blob;
- the checker's own accuracy on ground-truth clips, so its errors are not blamed on the model.
"""

from __future__ import annotations

import numpy as np

from videoforge.synth import shapes


def bootstrap_ci(hits, n_boot: int = 2000, seed: int = 0) -> list[float]:
    """95 % percentile-bootstrap interval of the mean of 0/1 `hits`."""
    h = np.asarray(hits, dtype=np.float64)
    if len(h) == 0:
        return [float("nan"), float("nan")]
    means = np.random.default_rng(seed).choice(h, size=(n_boot, len(h)), replace=True).mean(1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def paired_ci(a, b, n_boot: int = 2000, seed: int = 0) -> list[float]:
    """95 % percentile-bootstrap interval of mean(a - b) over pairs (the same prompt and seed
    sampled two ways), resampling the pairs."""
    d = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    idx = np.random.default_rng(seed).integers(0, len(d), (n_boot, len(d)))
    m = d[idx].mean(1)
    return [float(np.percentile(m, 2.5)), float(np.percentile(m, 97.5))]


def _rate(hits) -> dict:
    return {"accuracy": float(np.mean(hits)), "ci95": bootstrap_ci(hits), "n": len(hits)}


_ATTRS = ("colour", "shape", "direction")


def contrast_captions(combo, attr: str) -> list[str]:
    """The caption of `combo` with its `attr` word swapped for each other value of that attribute
    (the contrast prompts of contrast guidance, models/flow.py euler_sample)."""
    k = _ATTRS.index(attr)
    values = {"colour": list(shapes.COLOURS), "shape": list(shapes.SHAPES), "direction": list(shapes.DIRECTIONS)}[attr]
    out = []
    for v in values:
        if v != combo[k]:
            c = list(combo)
            c[k] = v
            out.append(shapes.caption_for(c[0], c[1], c[2], False))
    return out


def _contrast_kw(combos, contrast: str | None, kw: dict) -> dict:
    """generate() keywords for these combos: contrast prompts for `contrast` when its scale is set;
    the partial prompts of composable sampling when kw has compose_weights."""
    out = {}
    if kw.get("compose_weights"):
        out["compose_prompts"] = [compose_captions(c) for c in combos]
    if contrast and kw.get("cfg_contrast"):
        out["contrast_prompts"] = [contrast_captions(c, contrast) for c in combos]
    return out


def compose_captions(combo) -> list[str]:
    """The partial prompts of composable sampling for a (colour, shape, direction) triple: each
    attribute's word alone, as training with caption_one_slot shows them ("red", "circle", "left")."""
    return [combo[0], combo[1], combo[2]]


def prompt_accuracy(pipe, combos, seeds, frames: int, metrics: dict | None, batch: int = 32,
                    pairs: dict | None = None, contrast: str | None = None, **kw) -> dict:
    """Fraction of generated clips whose colour, shape and direction match the prompt: each
    attribute, colour and direction (the first demo's score), and all three (`joint`).

    With `pairs` (a pair hold-out, synth/shapes.py `held_out_pairs`), `by_kind` splits the
    figures by the kind of held-out pair a triple contains. `contrast` ("shape", ...) with
    kw["cfg_contrast"] samples with contrast guidance on that word."""
    jobs = [(c, s) for c in combos for s in seeds]
    readings = []
    for i in range(0, len(jobs), batch):
        part = jobs[i:i + batch]
        prompts = [shapes.caption_for(c[0], c[1], c[2], False) for c, _ in part]
        # one seed per batch keeps the call simple; the noise differs per row anyway
        clips = pipe.generate(prompts, metrics=metrics, frames=frames, seed=part[0][1] * 1000 + i,
                              **_contrast_kw([c for c, _ in part], contrast, kw), **kw)
        readings += [shapes.read_clip(v) for v in clips]
    colour = [r.colour == c[0] for (c, _), r in zip(jobs, readings)]
    direction = [r.direction == c[2] for (c, _), r in zip(jobs, readings)]
    shape = [r.shape == c[1] for (c, _), r in zip(jobs, readings)]
    both = [a and b for a, b in zip(colour, direction)]
    joint = [a and b and c for a, b, c in zip(colour, direction, shape)]
    out = {"n": len(jobs), "colour_and_direction": float(np.mean(both)), "colour": float(np.mean(colour)),
           "direction": float(np.mean(direction)), "shape": float(np.mean(shape)), "joint": float(np.mean(joint)),
           "found": float(np.mean([r.colour is not None for r in readings])),
           # colour read among all 12 rendered colours (training-only ones included): a clip drawn in a
           # training-only hue near the prompted one counts in `colour` but not here
           "colour_strict": float(np.mean([r.colour_any == c[0] for (c, _), r in zip(jobs, readings)])),
           "nearer_training_only_colour": int(sum(r.colour_any in shapes.EXTRA_COLOURS for r in readings)),
           "ci95": {"colour": bootstrap_ci(colour), "shape": bootstrap_ci(shape), "direction": bootstrap_ci(direction),
                    "joint": bootstrap_ci(joint), "colour_and_direction": bootstrap_ci(both)},
           "confusion_shape": _confusion([c[1] for c, _ in jobs], [r.shape for r in readings])}
    if pairs:
        out["by_kind"] = {}
        for kind in shapes.PAIR_KINDS:
            idx = [i for i, (c, _) in enumerate(jobs) if shapes.pairs_of(c)[kind] in pairs.get(kind, ())]
            if idx:
                out["by_kind"][kind] = {a: _rate([v[i] for i in idx]) for a, v in
                                        (("colour", colour), ("shape", shape), ("direction", direction), ("joint", joint))}
    return out


def _confusion(truth, read) -> dict:
    """{"true->read": count} for the shape readings (None when no blob was found)."""
    out: dict = {}
    for t, r in zip(truth, read):
        out[f"{t}->{r}"] = out.get(f"{t}->{r}", 0) + 1
    return dict(sorted(out.items()))


def motion_control(pipe, prompts, levels, seeds, frames: int, metric: str = "motion",
                   contrast_prompts: list | None = None, **kw) -> dict:
    """Measured travel (fraction of the side over the clip) per level of the motion `metric`;
    Spearman of level vs travel. `contrast_prompts` (one list per prompt) with kw["cfg_contrast"]:
    sampled with contrast guidance, as the prompt accuracy was."""
    if contrast_prompts is not None and kw.get("cfg_contrast"):
        kw = {**kw, "contrast_prompts": contrast_prompts}
    if kw.get("compose_weights") and kw.get("compose_prompts") is None:
        raise ValueError("motion_control: compose_weights needs compose_prompts (one list per prompt)")
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
    """The checker on ground-truth frames: how often it reads each attribute right (with 95 % intervals)."""
    rs = [shapes.read_clip(f) for f in frames_list]
    hits = {"colour": [r.colour == c.colour for c, r in zip(clips, rs)],
            "shape": [r.shape == c.shape for c, r in zip(clips, rs)],
            "direction": [r.direction == c.direction for c, r in zip(clips, rs)]}
    cd = [a and b for a, b in zip(hits["colour"], hits["direction"])]
    joint = [a and b for a, b in zip(cd, hits["shape"])]
    return {"n": len(clips), "colour_and_direction": float(np.mean(cd)), "shape": float(np.mean(hits["shape"])),
            "colour": float(np.mean(hits["colour"])), "direction": float(np.mean(hits["direction"])),
            "joint": float(np.mean(joint)), "ci95": {k: bootstrap_ci(v) for k, v in {**hits, "joint": joint}.items()}}
