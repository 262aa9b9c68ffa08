"""Shot boundary detection: hard cuts and gradual transitions (dissolve, fade, wipe)."""

from videoforge.shots.base import Shot, ShotDetector, Transition, get_detector, register_detector

__all__ = ["Shot", "ShotDetector", "Transition", "get_detector", "register_detector"]
