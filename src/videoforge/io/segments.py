"""Split a video at clean keyframes so that segments can be decoded in parallel.

A segment decoded on its own must give exactly the frames a one-pass decode gives, so a
split point must be a keyframe from which decoding needs nothing earlier:
- H.264: an IDR picture (NAL type 5). Open-GOP I pictures (recovery points) are refused:
  the B pictures after them in decode order may reference the previous GOP.
- HEVC: an IDR picture (NAL types 19, 20); CRA pictures (open GOP) are refused.
- VP8, VP9, AV1: key frames reset every reference.
- Intra-only codecs (MJPEG, ProRes, ...): every frame.
Anything else is not split, and neither is a file whose container does not store presentation
timestamps (AVI, raw elementary streams): there a frame's PTS is guessed by the demuxer and
may be missing, repeated or attached to the wrong frame (packed B-frames), so a PTS cannot
name a split point. The decoder checks again when it starts a segment
(decode.SegmentError), and callers fall back to one pass.
"""

from __future__ import annotations

import os
from typing import NamedTuple

import av

from videoforge.io.decode import SegmentError

# Shorter segments cost more to start (a forked process, a fresh decoder) than they save.
MIN_SEGMENT_FRAMES = 300

# Containers that store each packet's presentation timestamp (FFmpeg demuxer names).
TIMESTAMPED_CONTAINERS = {"mov", "mp4", "matroska", "webm", "mpegts", "flv", "ivf", "nut"}


def has_stored_pts(container) -> bool:
    """True when `container`'s format keeps presentation timestamps (not AVI, not a raw stream)."""
    return bool(TIMESTAMPED_CONTAINERS.intersection((container.format.name or "").split(",")))


_KEYFRAME_RESETS = {"vp8", "vp9", "av1", "mjpeg", "prores", "dnxhd", "ffv1", "png", "qtrle", "rawvideo"}


def _nal_units(data: bytes, length_size: int | None):
    """Yield the first byte of each NAL unit: length-prefixed (MP4/MKV) or Annex B start codes."""
    if length_size:
        i = 0
        while i + length_size < len(data):
            n = int.from_bytes(data[i:i + length_size], "big")
            if n <= 0:
                return
            yield data[i + length_size]
            i += length_size + n
        return
    i = data.find(b"\x00\x00\x01")
    while 0 <= i < len(data) - 3:
        yield data[i + 3]
        i = data.find(b"\x00\x00\x01", i + 3)


def is_clean_keyframe(packet: av.Packet, codec: str, extradata: bytes | None) -> bool:
    """True when decoding can start at `packet` and give exactly the one-pass frames."""
    if not packet.is_keyframe:
        return False
    if codec in _KEYFRAME_RESETS:
        return True
    data = bytes(packet)
    if codec == "h264":
        size = (extradata[4] & 3) + 1 if extradata and extradata[0] == 1 and len(extradata) > 4 else None
        return any(b & 0x1F == 5 for b in _nal_units(data, size))
    if codec == "hevc":
        size = (extradata[21] & 3) + 1 if extradata and extradata[0] == 1 and len(extradata) > 22 else None
        return any((b >> 1) & 0x3F in (19, 20) for b in _nal_units(data, size))
    return False


class Segment(NamedTuple):
    start_pts: int | None     # None: from the first frame
    stop_pts: int | None      # None: to the last frame
    frames: float             # approximate, from the time span and the average frame rate
    nbytes: int | None        # compressed size (file positions of the split packets); None if unknown


def split_points(path: str, parts: int, min_frames: int | None = None) -> list[int]:
    """PTS (stream ticks) of up to `parts - 1` clean keyframes that cut the video into roughly
    equal segments of at least `min_frames` frames; [] when it cannot or need not be split."""
    return [seg.start_pts for seg in plan_segments(path, parts, min_frames)[1:]]


def plan_segments(path: str, parts: int, min_frames: int | None = None) -> list[Segment]:
    """Segments covering the video, split at clean keyframes near equal time steps. One
    segment (None, None, 0, None) when the video cannot or need not be split."""
    min_frames = MIN_SEGMENT_FRAMES if min_frames is None else min_frames
    whole = [Segment(None, None, 0.0, None)]
    if parts < 2:
        return whole
    try:
        with av.open(path) as c:
            if not c.streams.video or not has_stored_pts(c):
                return whole
            vs = c.streams.video[0]
            ctx = vs.codec_context
            codec, extradata = ctx.name, ctx.extradata
            if vs.time_base is None:
                return whole
            tb = float(vs.time_base)
            if vs.duration:
                duration = vs.duration * tb
            elif c.duration:
                duration = c.duration / av.time_base
            else:
                return whole
            rate = float(vs.average_rate or vs.guessed_rate or 0)
            start = (vs.start_time or 0) * tb
            if rate <= 0 or duration * rate < 2 * min_frames:
                return whole
            parts = min(parts, int(duration * rate // min_frames))
            points: list[int] = []
            where: dict[int, int | None] = {}   # split PTS -> byte position of its packet
            for k in range(1, parts):
                target = int((start + duration * k / parts) / tb)
                c.seek(target, stream=vs, backward=True)
                for packet in c.demux(vs):
                    if packet.pts is None or not packet.size:
                        continue
                    if is_clean_keyframe(packet, codec, extradata) and (not points or packet.pts > points[-1]):
                        points.append(int(packet.pts))
                        where[int(packet.pts)] = packet.pos if packet.pos is not None and packet.pos >= 0 else None
                    break
        size = os.path.getsize(path)
    except (av.error.FFmpegError, SegmentError, OSError):
        return whole
    frames_per_tick = tb * rate
    edges = [start / tb]
    keep: list[int] = []
    end = (start + duration) / tb
    for p in points:
        if (p - edges[-1]) * frames_per_tick >= min_frames and (end - p) * frames_per_tick >= min_frames:
            keep.append(p)
            edges.append(p)
    edges.append(end)
    bounds = [None, *keep, None]
    # compressed bytes per segment: decoding time grows with them as much as with frames
    pos = [0, *(where[p] for p in keep), size]
    known = all(q is not None for q in pos) and all(b > a for a, b in zip(pos, pos[1:]))
    return [Segment(bounds[i], bounds[i + 1], (edges[i + 1] - edges[i]) * frames_per_tick,
                    pos[i + 1] - pos[i] if known else None) for i in range(len(keep) + 1)]
