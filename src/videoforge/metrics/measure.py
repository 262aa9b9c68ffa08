"""Measure one video with chosen scorers and known shots, outside a catalog run.

The same single pass the engine makes (decode once; every frame to the keyframer and each
scorer; audio frames to `process_audio`), for tests, benchmarks and re-scoring with shots
you already have. Returns the per-shot rows and the time spent per stage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from videoforge.io.decode import DecodeStats, decode_frames
from videoforge.io.probe import probe
from videoforge.metrics.base import Scorer, ShotContext, get_scorer
from videoforge.shots.base import Shot


@dataclass
class Measured:
    rows: list[dict]                 # one dict of column values per shot
    keyframes: list[list[dict]]      # per shot
    stats: DecodeStats
    timings: dict = field(default_factory=dict)   # stage -> seconds


def measure_video(path: str, scorers: list[str | Scorer], catalog_root: str, shots: list[Shot] | None = None,
                  keyframes: bool = True, video_id: str = "video", keyframe_params: dict | None = None,
                  scorer_params: dict | None = None) -> Measured:
    """Per-shot metric rows of `path` (one shot spanning the video when `shots` is None)."""
    import videoforge.metrics  # noqa: F401 - registers the scorers

    objs = [s if isinstance(s, Scorer) else get_scorer(s, **(scorer_params or {}).get(s, {})) for s in scorers]
    keyframer = None
    if keyframes:
        from videoforge.metrics.keyframes import KeyframeSelector

        keyframer = KeyframeSelector(**(keyframe_params or {}))
    t: dict[str, float] = {}
    pc = time.perf_counter
    info = probe(path)
    stats = DecodeStats()
    audio = [s for s in objs if type(s).process_audio is not Scorer.process_audio]

    def on_audio(af):
        a = pc()
        for s in audio:
            s.process_audio(af)
        t["audio"] = t.get("audio", 0.0) + pc() - a

    start = pc()
    consumers = 0.0
    for frame in decode_frames(path, stats=stats, on_audio=on_audio if audio else None):
        a = pc()
        if keyframer is not None:
            keyframer.process(frame)
            b = pc()
            t["keyframes"] = t.get("keyframes", 0.0) + b - a
        else:
            b = a
        for s in objs:
            s.process(frame)
            c = pc()
            t[s.name] = t.get(s.name, 0.0) + c - b
            b = c
        consumers += b - a
    t["decode"] = pc() - start - consumers - t.get("audio", 0.0)
    shots = shots if shots is not None else [Shot(0, stats.frames - 1)]
    ctx = ShotContext(info=info, stats=stats, shots=shots, video_id=video_id, catalog_root=catalog_root)
    if keyframer is not None:
        a = pc()
        ctx.keyframes = keyframer.finish(ctx)
        t["keyframes"] = t.get("keyframes", 0.0) + pc() - a
    rows = [dict() for _ in shots]
    for s in objs:
        a = pc()
        for row, v in zip(rows, s.finish(ctx)):
            row.update(v)
        t[s.name] = t.get(s.name, 0.0) + pc() - a
    return Measured(rows=rows, keyframes=ctx.keyframes, stats=stats, timings=t)
