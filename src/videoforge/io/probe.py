"""Probe a file's streams without decoding it: what the catalog's `videos` row holds."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from fractions import Fraction

import av

from videoforge.io.errors import VideoError


@dataclass
class VideoInfo:
    path: str
    duration: float          # seconds (container or stream; refined by decode)
    fps: float               # the stream's frame rate (average_rate, else guessed_rate), never a timestamp average
    frames: int              # frames the header claims (may differ: tree.avi claims 444, 68 decode); decode overwrites with frames decoded
    width: int               # displayed width (after rotation)
    height: int              # displayed height (after rotation)
    rotation: int            # display rotation, degrees counter-clockwise (FFmpeg display matrix)
    codec: str
    pix_fmt: str
    bit_depth: int
    vfr: bool = False        # variable frame rate (set from decoded PTS spacing)
    has_audio: bool = False
    audio_codec: str | None = None
    audio_sample_rate: int | None = None
    audio_channels: int | None = None
    size_bytes: int = 0
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def _bit_depth(pix_fmt: str) -> int:
    for depth in (16, 14, 12, 10, 9):
        if f"p{depth}" in pix_fmt:
            return depth
    return 8


def _first_frame_rotation(container, vs) -> int:
    """Rotation (degrees counter-clockwise, FFmpeg's display matrix) read off the first decoded frame."""
    for frame in container.decode(vs):
        return int(round(getattr(frame, "rotation", 0) or 0)) % 360
    return 0


def probe(path: str | os.PathLike) -> VideoInfo:
    """Read container/stream headers. Raises VideoError naming the file and what is wrong."""
    path = str(path)
    if not os.path.exists(path):
        raise VideoError(path, "file does not exist", stage="probe")
    size = os.path.getsize(path)
    if size == 0:
        raise VideoError(path, "file is empty (0 bytes)", stage="probe")
    try:
        container = av.open(path)
    except av.error.InvalidDataError as e:
        raise VideoError(path, f"not a video container FFmpeg can read ({e})", stage="probe") from e
    except Exception as e:  # noqa: BLE001 - FFmpeg reports many error kinds
        raise VideoError(path, f"cannot open ({type(e).__name__}: {e})", stage="probe") from e
    with container:
        if not container.streams.video:
            kind = "audio-only file" if container.streams.audio else "no streams"
            raise VideoError(path, f"no video stream ({kind})", stage="probe")
        vs = container.streams.video[0]
        cc = vs.codec_context
        width, height = int(cc.width or 0), int(cc.height or 0)
        if width <= 0 or height <= 0:
            raise VideoError(path, "video stream has no frame size (corrupt header?)", stage="probe")
        tb = vs.time_base or Fraction(1, 1)
        duration = 0.0
        if vs.duration is not None and vs.duration > 0:
            duration = float(vs.duration * tb)
        elif container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        fps = float(rate) if rate else 0.0
        frames = int(vs.frames or 0)
        if frames == 0 and duration > 0 and fps > 0:
            frames = int(round(duration * fps))
        try:
            rotation = _first_frame_rotation(container, vs)
        except Exception as e:  # noqa: BLE001
            raise VideoError(path, f"first video frame does not decode ({type(e).__name__}: {e})", stage="probe") from e
        if rotation in (90, 270):
            width, height = height, width
        pix_fmt = cc.pix_fmt or (cc.format.name if cc.format else "unknown")
        info = VideoInfo(
            path=path,
            duration=duration,
            fps=fps,
            frames=frames,
            width=width,
            height=height,
            rotation=rotation,
            codec=cc.name or "unknown",
            pix_fmt=pix_fmt or "unknown",
            bit_depth=_bit_depth(pix_fmt or ""),
            size_bytes=size,
        )
        if container.streams.audio:
            a = container.streams.audio[0]
            info.has_audio = True
            info.audio_codec = a.codec_context.name
            info.audio_sample_rate = int(a.codec_context.sample_rate or 0) or None
            info.audio_channels = int(a.codec_context.channels or 0) or None
        return info
