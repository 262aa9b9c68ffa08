"""The scorer interface and registry.

A scorer sees every analysis frame once (`process`, cheap; sample inside if expensive) and
then, knowing the shots, returns one dict of column values per shot (`finish`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from videoforge.io.decode import DecodeStats, Frame
from videoforge.io.probe import VideoInfo
from videoforge.shots.base import Shot


@dataclass
class ShotContext:
    """What a scorer knows at `finish` time."""

    info: VideoInfo
    stats: DecodeStats
    shots: list[Shot]
    video_id: str
    keyframes: list[list[dict]] = field(default_factory=list)  # per shot: rows with 'frame','pts_time','path'
    catalog_root: str | None = None
    # cores this video's finish may use (the engine sets it when the video has the machine to
    # itself, e.g. after a segmented pass); how fast, never what: results must not depend on it
    workers: int = 1


@dataclass
class Seam:
    """Where two consecutive segments of one video meet (engine/segments.py): the earlier
    segment's last frame and the later one's first, analysis pictures only (no full-resolution
    access), so a join can decide what one pass decides on the later frame."""

    offset: int          # index of the later segment's first frame in the whole video
    before: Frame        # earlier segment's last frame (index offset - 1)
    after: Frame         # later segment's first frame (index offset)
    cache: dict = field(default_factory=dict)   # work shared by scorers (the flow pair)


class Scorer:
    name: str = "base"
    columns: tuple[str, ...] = ()
    # Segment analysis (engine/segments.py): a scorer that can be joined says so and
    # implements segment_state / join_segments so the joined state equals one pass's.
    segmentable: bool = False
    audio_only: bool = False   # fed by the audio frames alone (decoded apart from the video segments)

    def segment_state(self):
        """What `process` left after one segment (picklable; frame indices from 0 in the segment)."""
        raise NotImplementedError

    def join_segments(self, states: list, seams: list[Seam]) -> None:
        """Become the scorer one pass over the whole video would be, from consecutive segments'
        states; `seams[k - 1]` joins segment k - 1 to k."""
        raise NotImplementedError

    def process(self, frame: Frame) -> None:
        raise NotImplementedError

    def process_audio(self, frame) -> None:  # audio frames, same pass; most scorers ignore them
        pass

    def finish(self, ctx: ShotContext) -> list[dict]:
        raise NotImplementedError


_REGISTRY: dict[str, str] = {}


def register_scorer(name: str, target: str) -> None:
    _REGISTRY[name] = target


def scorer_names() -> list[str]:
    return list(_REGISTRY)


def get_scorer(name: str, **params) -> Scorer:
    if name not in _REGISTRY:
        raise ValueError(f"unknown scorer {name!r}; choose from {', '.join(_REGISTRY)}")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)(**params)
