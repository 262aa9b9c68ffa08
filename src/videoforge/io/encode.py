"""Write frames (and optionally a tone) to a real encoded file through PyAV (encoding is I/O:
the synthetic generators, `generate` and the tests all write through here)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction

import av
import numpy as np


def write_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    fps: float = 25.0,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    crf: int | None = 20,
    gop: int | None = None,
    audio_tone_hz: float | None = None,
    audio_rate: int = 16000,
    rotation: int = 0,
    pts_seconds: list[float] | None = None,
    options: dict[str, str] | None = None,
) -> str:
    """Encode RGB uint8 frames (h, w, 3) to `path`. Returns the path.

    `audio_tone_hz` adds a sine track of the video's length; `rotation` writes a display
    matrix (degrees counter-clockwise); `pts_seconds` gives explicit (e.g. variable) frame times;
    `options` are further encoder options (e.g. {"x264-params": "open-gop=1"}).
    """
    path = str(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    frames = iter(frames)
    first = next(frames)
    h, w = first.shape[:2]
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(path, "w") as out:
        vs = out.add_stream(codec, rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, pix_fmt
        if pts_seconds is not None:
            vs.time_base = Fraction(1, 90000)
            vs.codec_context.time_base = Fraction(1, 90000)
        opts = {}
        if codec in ("libx264", "libx265") and crf is not None:
            opts["crf"] = str(crf)
            opts["preset"] = "veryfast"
        if gop:
            vs.codec_context.gop_size = gop
        vs.options = {**opts, **(options or {})}
        if rotation:
            vs.set_display_rotation(rotation)
        a_stream = None
        if audio_tone_hz:
            a_stream = out.add_stream("aac", rate=audio_rate)
            a_stream.layout = "mono"
        n = 0

        def put(img):
            nonlocal n
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img[:, :, :3]), format="rgb24")
            if pts_seconds is not None:
                vf.pts = int(round(pts_seconds[n] * 90000))
                vf.time_base = Fraction(1, 90000)
            for p in vs.encode(vf):
                out.mux(p)
            n += 1

        put(first)
        for img in frames:
            put(img)
        for p in vs.encode():
            out.mux(p)
        if a_stream is not None:
            total = int(n / float(fps) * audio_rate)
            t = np.arange(total) / audio_rate
            pcm = (0.3 * np.sin(2 * np.pi * audio_tone_hz * t)).astype(np.float32)
            step = 1024
            for i in range(0, total, step):
                chunk = pcm[i : i + step]
                af = av.AudioFrame.from_ndarray(chunk[None, :], format="fltp", layout="mono")
                af.sample_rate = audio_rate
                af.pts = i
                for p in a_stream.encode(af):
                    out.mux(p)
            for p in a_stream.encode():
                out.mux(p)
    return path
