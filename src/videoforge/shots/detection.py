"""Detect shots for a path: one decode pass through a registered detector."""

from __future__ import annotations

import os

from videoforge.io.decode import DecodeStats, decode_frames
from videoforge.io.errors import VideoError
from videoforge.shots.base import Shot, Transition, get_detector


def detect(path: str | os.PathLike, detector: str = "videoforge", with_info: bool = True, **params):
    """Shots and transitions of one video -> (shots, transitions, stats, info).

    `stats` is the DecodeStats of the pass (per-frame PTS in seconds, frames decoded);
    `info` the probe result (VideoInfo), or None when `with_info` is False or probing fails
    but decoding works.
    Raises VideoError naming the file when it cannot be read.
    """
    from videoforge.io.probe import probe

    path = str(path)
    if not os.path.exists(path):
        raise VideoError(path, "no such file", stage="probe")
    info = None
    if with_info:  # the CLI skips it: the decode pass alone gives frames, PTS and fps
        try:
            info = probe(path)
        except VideoError:
            raise
        except Exception:  # noqa: BLE001 - probing is informative only; decoding decides
            info = None
    det = get_detector(detector, **params)
    stats = DecodeStats()
    # The same decode as `videoforge run`, so both commands find the same shots.
    for frame in decode_frames(path, stats=stats):
        det.process(frame)
    shots, transitions = det.finish(stats)
    return shots, transitions, stats, info


def shots_document(path: str, shots: list[Shot], transitions: list[Transition], stats: DecodeStats) -> dict:
    """The `videoforge shots --json` document: inclusive frame ranges, times from PTS (s)."""
    return {
        "video": str(path),
        "fps": stats.average_fps,
        "frames": stats.frames,
        "shots": [
            {"start_frame": s.start_frame, "end_frame": s.end_frame,
             "start_time": stats.pts[s.start_frame], "end_time": stats.end_time(s.end_frame)}
            for s in shots
        ],
        "transitions": [
            {"kind": t.kind, "start_frame": t.start_frame, "end_frame": t.end_frame,
             "confidence": round(float(t.confidence), 4)}
            for t in transitions
        ],
    }
