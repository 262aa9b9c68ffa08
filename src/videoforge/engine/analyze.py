"""Analyse one video: probe, one decode pass feeding shots + keyframes + metrics, assemble rows.

Pure work with no catalog writes, so it runs in any worker process (local pool or Ray);
the run's single writer commits the returned rows.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from videoforge.engine.config import ANALYSIS_VERSION, AnalysisConfig
from videoforge.io.decode import DecodeStats, decode_frames
from videoforge.io.errors import VideoError
from videoforge.io.fingerprint import fingerprint, shot_id_for, video_id_for
from videoforge.io.probe import probe


@dataclass
class VideoResult:
    video: dict
    shots: list[dict]
    transitions: list[dict]
    keyframes: list[dict]
    timings: dict = field(default_factory=dict)   # stage -> seconds (for the per-stage breakdown)


class _Timed:
    """Accumulates wall time per stage name around calls in the hot loop."""

    def __init__(self):
        self.t: dict[str, float] = {}

    def add(self, name: str, dt: float) -> None:
        self.t[name] = self.t.get(name, 0.0) + dt


def _build_components(config: AnalysisConfig, keyframe_extra: dict | None = None, with_keyframes: bool = True):
    import videoforge.metrics  # noqa: F401 - registers the scorers
    from videoforge.metrics.base import get_scorer, scorer_names
    from videoforge.metrics.keyframes import KeyframeSelector
    from videoforge.shots.base import get_detector

    detector = get_detector(config.detector, **config.detector_params)
    names = config.scorers if config.scorers is not None else scorer_names()
    if not config.ocr:
        names = [n for n in names if n != "text"]
    scorers = [get_scorer(n, **config.scorer_params.get(n, {})) for n in names]
    keyframer = KeyframeSelector(**config.keyframe_params, **(keyframe_extra or {})) if with_keyframes else None
    return detector, scorers, keyframer


def analyze_video(path: str, catalog_root: str, config: AnalysisConfig | None = None, fp: str | None = None) -> VideoResult:
    """All rows for one video. Keyframe JPEGs are written under `catalog_root/keyframes/<video_id>/`.

    Raises VideoError (naming the file and the problem) for input that cannot be analysed.
    """
    from videoforge.metrics.base import ShotContext

    config = config or AnalysisConfig()
    path = os.path.abspath(path)
    timer = _Timed()
    t0 = time.perf_counter()
    info = probe(path)
    fp = fp or fingerprint(path)
    video_id = video_id_for(fp)
    timer.add("probe", time.perf_counter() - t0)

    detector, scorers, keyframer = _build_components(config)
    done = None
    if config.segment_workers > 1 and config.frames == "all":
        from videoforge.engine.segments import analyze_in_segments

        done = analyze_in_segments(path, config, detector, scorers, keyframer, config.segment_workers)
        if done is None:   # not splittable: one pass with fresh components
            detector, scorers, keyframer = _build_components(config)
    if done is not None:
        stats, shots, transitions = done.stats, done.shots, done.transitions
        for k, v in done.timings.items():
            timer.add(k, v)
    else:
        stats, shots, transitions = _one_pass(path, config, detector, scorers, keyframer, timer)
    if not shots:
        raise VideoError(path, "no shots found (no decodable frames outside transitions)", stage="shots")
    pc = time.perf_counter

    ctx = ShotContext(info=info, stats=stats, shots=shots, video_id=video_id, catalog_root=catalog_root,
                      workers=config.segment_workers if done is not None else 1)
    a = pc()
    ctx.keyframes = keyframer.finish(ctx)
    timer.add("keyframes", pc() - a)
    per_shot: list[dict] = [dict() for _ in shots]
    for s in scorers:
        a = pc()
        values = s.finish(ctx)
        timer.add(s.name, pc() - a)
        for row, v in zip(per_shot, values):
            row.update(v)

    fps = stats.average_fps
    video = {
        "video_id": video_id,
        "path": path,
        "fingerprint": fp,
        "size_bytes": info.size_bytes,
        "duration": stats.duration,
        "fps": fps,
        "vfr": stats.vfr,
        "frames": stats.frames,
        "frames_expected": info.frames,            # what the container claims; > frames = frames lost
        "decode_errors": stats.corrupt_packets,    # packets that did not decode
        "width": info.width,
        "height": info.height,
        "rotation": info.rotation,
        "codec": info.codec,
        "pix_fmt": info.pix_fmt,
        "bit_depth": info.bit_depth,
        "has_audio": info.has_audio,
        "audio_codec": info.audio_codec,
        "audio_sample_rate": info.audio_sample_rate,
        "audio_channels": info.audio_channels,
        "num_shots": len(shots),
        "analysis_version": config.signature(),
        "analysis_params": config.to_json(),
    }
    shot_rows, kf_rows = [], []
    for i, (shot, metrics) in enumerate(zip(shots, per_shot)):
        sid = shot_id_for(video_id, shot.start_frame)
        start_time = stats.pts[shot.start_frame]
        end_time = stats.end_time(shot.end_frame)
        row = {
            "shot_id": sid,
            "video_id": video_id,
            "shot_index": i,
            "start_frame": shot.start_frame,
            "end_frame": shot.end_frame,
            "start_time": start_time,
            "end_time": end_time,
            "num_frames": shot.num_frames,
            "duration": end_time - start_time,
            "width": info.width,
            "height": info.height,
            "fps": fps,
        }
        row.update(metrics)
        shot_rows.append(row)
        for kf in (ctx.keyframes[i] if i < len(ctx.keyframes) else []):
            kf_rows.append({"shot_id": sid, "video_id": video_id, **kf})
    trans_rows = [
        {
            "video_id": video_id,
            "kind": t.kind,
            "start_frame": t.start_frame,
            "end_frame": t.end_frame,
            "start_time": stats.pts[t.start_frame] if t.start_frame < len(stats.pts) else None,
            "end_time": stats.end_time(t.end_frame) if t.end_frame < len(stats.pts) else None,
            "confidence": t.confidence,
        }
        for t in transitions
    ]
    return VideoResult(video=video, shots=shot_rows, transitions=trans_rows, keyframes=kf_rows, timings=timer.t)


def _one_pass(path: str, config: AnalysisConfig, detector, scorers: list, keyframer, timer: _Timed):
    """Decode the whole video once through every component; (stats, shots, transitions)."""
    stats = DecodeStats()
    audio_scorers = [s for s in scorers if type(s).process_audio is not _base_process_audio()]

    pc = time.perf_counter
    t_decode_start = pc()
    spent_in_consumers = 0.0

    def on_audio(af):
        nonlocal spent_in_consumers
        a = pc()
        for s in audio_scorers:
            s.process_audio(af)
        dt = pc() - a
        timer.add("audio", dt)   # the audio scorer's name: its per-frame cost lands with its finish
        spent_in_consumers += dt
    prefetch = {} if config.decode_prefetch is None else {"prefetch": config.decode_prefetch}
    if config.frames != "all":   # decode only some frames (io/sparse.py); shots mapped back to frames
        from videoforge.engine.sparse import SparseShots
        from videoforge.io.sparse import sparse_frames

        detector = SparseShots(detector, config.frames)
        frames = sparse_frames(path, config.frames, width=config.analysis_width, stats=stats,
                               on_audio=on_audio if audio_scorers else None, threads=config.decode_threads)
    else:
        frames = decode_frames(path, width=config.analysis_width, stats=stats,
                               on_audio=on_audio if audio_scorers else None, threads=config.decode_threads, **prefetch)
    for frame in frames:
        a = pc()
        detector.process(frame)
        b = pc()
        timer.add("shots", b - a)
        keyframer.process(frame)
        c = pc()
        timer.add("keyframes", c - b)
        b = c
        for s in scorers:
            s.process(frame)
            c = pc()
            timer.add(s.name, c - b)
            b = c
        spent_in_consumers += b - a
    timer.add("decode", pc() - t_decode_start - spent_in_consumers)

    a = pc()
    shots, transitions = detector.finish(stats)
    timer.add("shots", pc() - a)
    return stats, shots, transitions


def _base_process_audio():
    from videoforge.metrics.base import Scorer

    return Scorer.process_audio


__all__ = ["ANALYSIS_VERSION", "AnalysisConfig", "VideoResult", "analyze_video"]
