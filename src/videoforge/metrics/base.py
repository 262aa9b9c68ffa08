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


class Scorer:
    name: str = "base"
    columns: tuple[str, ...] = ()

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
