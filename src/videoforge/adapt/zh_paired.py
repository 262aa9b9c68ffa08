"""Paired generation for the Chinese prompt adapter: does a Chinese prompt make what its English
counterpart makes? One clip per language from the same seed and sampling noise, read by the
demo's checker (colour, shape, direction), compared pair by pair.

Used by benchmarks/zh_eval.py (frozen sets) and benchmarks/text_adapter_eval.py (held-out
compositions): one loop, so both report the same figures the same way.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np

from videoforge.adapt import zh_prompts
from videoforge.synth import shapes

ATTRIBUTES = ("colour", "shape", "direction")


def mid_metrics(pipe) -> dict:
    """The middle of the first conditioning metric's range (the demo's motion level), or none."""
    if not pipe.scaler.names:
        return {}
    return {pipe.scaler.names[0]: float(np.mean([pipe.scaler.lo[0], pipe.scaler.hi[0]]))}


def summarise(jobs: list[tuple], read: dict[str, list]) -> dict:
    """Per attribute: accuracy in each language with 95 % bootstrap intervals, the paired
    difference zh - en with its interval over pairs, the share of pairs read the same, and the
    difference on held-out-composition pairs where there are any. `jobs`: (combo, fast, zh, held)."""
    from videoforge.train.evaluate import bootstrap_ci, paired_ci

    done = jobs[: len(read["zh"])]
    held = np.array([bool(j[3]) for j in done])
    out = {}
    for k, name in enumerate(ATTRIBUTES):
        hits = {lang: np.array([getattr(r, name) == j[0][k] for j, r in zip(done, read[lang])]) for lang in ("en", "zh")}
        a = {"en": float(hits["en"].mean()), "zh": float(hits["zh"].mean()),
             "en_ci95": bootstrap_ci(hits["en"]), "zh_ci95": bootstrap_ci(hits["zh"]),
             "zh_minus_en": float(hits["zh"].mean() - hits["en"].mean()),
             "zh_minus_en_ci95": paired_ci(hits["zh"], hits["en"]),
             "agree": float(np.mean([getattr(e, name) == getattr(z, name) for e, z in zip(read["en"], read["zh"])]))}
        if held.any():
            a["held_out_compositions_zh_minus_en"] = float(hits["zh"][held].mean() - hits["en"][held].mean())
            a["held_out_compositions_ci95"] = paired_ci(hits["zh"][held], hits["en"][held])
        out[name] = a
    return out


def paired_generation(pipe, jobs: list[tuple], frames: int = 16, batch: int = 24, seed_base: int = 5000,
                      metrics: dict | None = None, steps: int | None = None,
                      on_batch: Callable[[dict], None] | None = None, log: Callable[[str], None] | None = print) -> dict:
    """Generate each job's English and Chinese prompt with the same seed (`seed_base` + the batch's
    first index) and compare the checker's readings. `pipe` must carry the text adapter
    (`apply_text_adapter`). `jobs`: (combo, fast, chinese prompt, held-out composition).
    `on_batch(result so far)` runs after every batch (a run stopped early keeps its figures).
    Returns {"pairs", "held_out_composition_pairs", "seconds", "attributes", "jobs"}."""
    metrics = mid_metrics(pipe) if metrics is None else metrics
    t0 = time.perf_counter()
    read: dict[str, list] = {"en": [], "zh": []}
    result: dict = {}
    for i in range(0, len(jobs), batch):
        part = jobs[i:i + batch]
        for lang in ("en", "zh"):
            prompts = [zh_prompts.english(c, f) if lang == "en" else p for c, f, p, _ in part]
            clips = pipe.generate(prompts, metrics=metrics, frames=frames, seed=seed_base + i, steps=steps)
            read[lang] += [shapes.read_clip(v) for v in clips]
        done = jobs[: len(read["zh"])]
        result = {"pairs": len(done), "pairs_planned": len(jobs), "held_out_composition_pairs": sum(bool(j[3]) for j in done),
                  "seconds": time.perf_counter() - t0, "attributes": summarise(jobs, read),
                  "jobs": [{"english": zh_prompts.english(c, f), "zh": p, "held_out_composition": bool(h),
                            "read_en": [read["en"][n].colour, read["en"][n].shape, read["en"][n].direction],
                            "read_zh": [read["zh"][n].colour, read["zh"][n].shape, read["zh"][n].direction]}
                           for n, (c, f, p, h) in enumerate(done)]}
        if log:
            log(f"{len(done)}/{len(jobs)} pairs, {result['seconds']:.0f} s")
        if on_batch:
            on_batch(result)
    return result
