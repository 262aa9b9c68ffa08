"""The small detector interface: see every analysis frame once, then decide shots and transitions."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from videoforge.io.decode import DecodeStats, Frame

TRANSITION_KINDS = ("cut", "dissolve", "fade", "wipe")


@dataclass
class Shot:
    start_frame: int  # inclusive
    end_frame: int    # inclusive

    @property
    def num_frames(self) -> int:
        return self.end_frame - self.start_frame + 1


@dataclass
class Transition:
    kind: str          # one of TRANSITION_KINDS
    start_frame: int   # inclusive; a cut has start_frame == end_frame == first frame of the new shot
    end_frame: int     # inclusive
    confidence: float = 1.0


class ShotDetector:
    """Base class. `process` is called for every decoded frame in order; `finish` once after."""

    name: str = "base"

    def process(self, frame: Frame) -> None:
        raise NotImplementedError

    def finish(self, stats: DecodeStats) -> tuple[list[Shot], list[Transition]]:
        raise NotImplementedError


_REGISTRY: dict[str, str] = {
    # name -> "module:Class"; modules are imported only when picked (heavy extras stay lazy)
}


def register_detector(name: str, target: str) -> None:
    _REGISTRY[name] = target


def detector_names() -> list[str]:
    return sorted(_REGISTRY)


def get_detector(name: str, **params) -> ShotDetector:
    if name not in _REGISTRY:
        raise ValueError(f"unknown shot detector {name!r}; choose one of {', '.join(detector_names())}")
    module, cls = _REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)(**params)


def shots_from_transitions(num_frames: int, transitions: list[Transition]) -> list[Shot]:
    """Shots are what lies between transitions: gradual frames belong to no shot, a cut frame
    starts the new shot. Transitions must be sorted and non-overlapping."""
    shots: list[Shot] = []
    start = 0
    for t in sorted(transitions, key=lambda t: t.start_frame):
        if t.kind == "cut":
            end = t.start_frame - 1
            nxt = t.start_frame
        else:
            end = t.start_frame - 1
            nxt = t.end_frame + 1
        if end >= start:
            shots.append(Shot(start, end))
        start = max(start, nxt)
    if start <= num_frames - 1:
        shots.append(Shot(start, num_frames - 1))
    return shots


register_detector("videoforge", "videoforge.shots.css:ColorStructDetector")
register_detector("pyscenedetect", "videoforge.shots.pyscenedetect:PySceneDetectDetector")
register_detector("transnetv2", "videoforge.shots.transnetv2:TransNetV2Detector")
register_detector("none", "videoforge.shots.single:SingleShotDetector")
