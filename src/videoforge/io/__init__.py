"""Video I/O through PyAV: probe, fingerprint, the single decode pass, clip writing."""

from videoforge.io.errors import VideoError
from videoforge.io.probe import VideoInfo, probe

__all__ = ["VideoError", "VideoInfo", "probe"]
