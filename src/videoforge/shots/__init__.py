"""Shot boundary detection: hard cuts and gradual transitions (dissolve, fade, wipe)."""

from videoforge.shots.base import Shot, ShotDetector, Transition, get_detector, register_detector
from videoforge.shots.detection import detect, shots_document

__all__ = ["Shot", "ShotDetector", "Transition", "detect", "get_detector", "register_detector", "shots_document"]
