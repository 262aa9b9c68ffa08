"""`--detector none`: every video is one shot. For inputs that are already cut into clips."""

from __future__ import annotations

from videoforge.io.decode import DecodeStats, Frame
from videoforge.shots.base import Shot, ShotDetector, Transition


class SingleShotDetector(ShotDetector):
    name = "none"

    def process(self, frame: Frame) -> None:
        pass

    def finish(self, stats: DecodeStats) -> tuple[list[Shot], list[Transition]]:
        return ([Shot(0, stats.frames - 1)] if stats.frames else []), []
