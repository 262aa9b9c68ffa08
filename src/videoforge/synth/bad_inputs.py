"""Awkward and broken input files, made on the spot: what a real crawl throws at the engine.

Each maker writes one file and returns its path. The engine must either analyse it
correctly or record an `errors` row naming the file and the problem; `make_bad_inputs`
writes them all into one folder (tests and `python -m videoforge.synth.bad_inputs DIR`).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import av
import numpy as np

from videoforge.io.encode import write_video


def moving_frames(n: int, w: int, h: int, seed: int = 0) -> list[np.ndarray]:
    """`n` RGB frames (h, w, 3) of a smooth random texture drifting right 2 px per frame."""
    import cv2

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h // 8 + 2, (w + 2 * n) // 8 + 2, 3), dtype=np.uint8)
    big = cv2.resize(base, (base.shape[1] * 8, base.shape[0] * 8), interpolation=cv2.INTER_CUBIC)
    return [np.ascontiguousarray(big[:h, 2 * i: 2 * i + w]) for i in range(n)]


# file name -> (frames, width, height, seed) of the texture a valid case encodes: tests compare
# what the engine measures with what was encoded (e.g. brightness of a 10-bit file).
FRAME_SPECS: dict[str, tuple[int, int, int, int]] = {
    "one_frame.mp4": (1, 96, 64, 4),
    "odd_641x359.mp4": (10, 641, 359, 5),
    "rotated_phone.mp4": (25, 128, 72, 6),      # stored size; displayed 72x128
    "ten_bit.mp4": (25, 96, 64, 7),
    "vfr.mp4": (40, 96, 64, 8),
    "good.mp4": (50, 96, 64, 10),
    "mid_gop_start.mp4": (60, 96, 64, 12),
}


def source_frames(name: str) -> list[np.ndarray]:
    """The RGB frames (as stored, before any display rotation) that the case `name` encodes."""
    n, w, h, seed = FRAME_SPECS[name]
    return moving_frames(n, w, h, seed=seed)


def zero_byte(path: str) -> str:
    """An empty file with a video extension."""
    open(path, "wb").close()
    return path


def truncated_mp4(path: str) -> str:
    """A real MP4 cut at 40 % of its bytes; its index (moov, written last) is lost with the tail."""
    write_video(path, moving_frames(50, 96, 64, seed=1), fps=25)
    _truncate(path, 0.4)
    return path


def truncated_faststart_mp4(path: str) -> str:
    """A 'faststart' MP4 (index first, as web videos are) cut at 60 %: an interrupted download.

    The index still lists every frame but the tail's bytes are gone, so only a prefix decodes.
    """
    tmp = path + ".full.mp4"
    write_video(tmp, moving_frames(50, 96, 64, seed=11), fps=25, gop=10)
    with av.open(tmp) as src, av.open(path, "w", options={"movflags": "faststart"}) as out:
        ovs = out.add_stream_from_template(src.streams.video[0])
        for pkt in src.demux(src.streams.video[0]):
            if pkt.size:
                pkt.stream = ovs
                out.mux(pkt)
    os.remove(tmp)
    _truncate(path, 0.6)
    return path


def mid_gop_start(path: str) -> str:
    """An MP4 whose stream starts 7 frames into a GOP (a careless packet-level cut): the
    first packets reference a keyframe that is not there, so decoding starts at the next one."""
    tmp = path + ".full.mp4"
    write_video(tmp, source_frames("mid_gop_start.mp4"), fps=25, gop=20)
    with av.open(tmp) as src, av.open(path, "w") as out:
        vs = src.streams.video[0]
        ovs = out.add_stream_from_template(vs)
        step = int(round(1 / (25 * vs.time_base)))
        for pkt in src.demux(vs):
            if pkt.size and pkt.dts is not None and pkt.dts >= 7 * step:
                pkt.stream = ovs
                out.mux(pkt)
    os.remove(tmp)
    return path


def _truncate(path: str, keep: float) -> None:
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: int(len(data) * keep)])


def corrupt_avi(path: str) -> str:
    """MPEG-4 Part 2 in AVI with random bytes over the middle fifth of its frame data (`movi`).

    The headers and the index (`idx1`) stay intact, as in a file damaged on disk or in
    transfer: the demuxer finds every packet, some packets hold garbage.
    """
    write_video(path, moving_frames(60, 96, 64, seed=2), fps=25, codec="mpeg4", crf=None, gop=10)
    with open(path, "r+b") as f:
        data = f.read()
        movi, idx1 = data.find(b"movi"), data.rfind(b"idx1")
        if movi < 0 or idx1 < movi:
            movi, idx1 = len(data) // 3, 2 * len(data) // 3
        start, n = movi + 2 * (idx1 - movi) // 5, (idx1 - movi) // 5
        f.seek(start)
        f.write(np.random.default_rng(3).integers(0, 256, n, dtype=np.uint8).tobytes())
    return path


def text_as_mp4(path: str) -> str:
    """A text file named .mp4."""
    with open(path, "w") as f:
        f.write("This is not a video. It is a text file with an .mp4 name.\n" * 20)
    return path


def audio_only(path: str, seconds: float = 1.0, rate: int = 16000) -> str:
    """An MP4 holding one AAC audio stream (a 440 Hz tone) and no video."""
    with av.open(path, "w") as out:
        a = out.add_stream("aac", rate=rate)
        a.layout = "mono"
        t = np.arange(int(seconds * rate)) / rate
        pcm = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for i in range(0, len(pcm), 1024):
            af = av.AudioFrame.from_ndarray(pcm[None, i: i + 1024], format="fltp", layout="mono")
            af.sample_rate, af.pts = rate, i
            for p in a.encode(af):
                out.mux(p)
        for p in a.encode():
            out.mux(p)
    return path


def one_frame(path: str) -> str:
    """An H.264 MP4 with exactly one frame (96x64)."""
    return write_video(path, source_frames("one_frame.mp4"), fps=25)


def odd_size(path: str) -> str:
    """641x359 frames: 4:2:0 needs even sizes, so libx264 stores them as yuv444p at that exact size."""
    return write_video(path, source_frames("odd_641x359.mp4"), fps=25, pix_fmt="yuv444p")


def rotated_phone(path: str, rotation: int = 90) -> str:
    """A phone-style video stored 128x72 with a display matrix turning it to 72x128 (portrait)."""
    return write_video(path, source_frames("rotated_phone.mp4"), fps=30, rotation=rotation)


def ten_bit(path: str) -> str:
    """H.264 High 10 (yuv420p10le), 96x64."""
    return write_video(path, source_frames("ten_bit.mp4"), fps=25, pix_fmt="yuv420p10le")


def vfr(path: str) -> str:
    """Variable frame rate: frame steps alternate between 1/30 s and 1/15 s in runs."""
    n = FRAME_SPECS["vfr.mp4"][0]
    steps = [(1 / 30 if (i // 5) % 2 == 0 else 1 / 15) for i in range(n)]
    pts = np.concatenate([[0.0], np.cumsum(steps)[:-1]]).tolist()
    return write_video(path, source_frames("vfr.mp4"), fps=30, pts_seconds=pts)


def uhd_4k(path: str, n: int = 40, w: int = 3840, h: int = 2160) -> str:
    """3840x2160 H.264 (libx264 ultrafast), `n` frames of a gradient with a moving block.

    Built straight in yuv420p planes so making it stays quick; holding all its frames as RGB
    would take n * 25 MB, which is what a memory-bounded analysis must not do.
    """
    y = np.tile(np.linspace(16, 235, w, dtype=np.uint8), (h, 1))
    u = np.full((h // 2, w // 2), 100, np.uint8)
    v = np.full((h // 2, w // 2), 150, np.uint8)
    with av.open(path, "w") as out:
        vs = out.add_stream("libx264", rate=25)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "30"}
        for i in range(n):
            yi = y.copy()
            x0 = (100 + 60 * i) % (w - 400)
            yi[600:1000, x0: x0 + 400] = 235 - (i * 5) % 200
            frame = av.VideoFrame.from_ndarray(np.concatenate([yi, u.reshape(h // 4, w), v.reshape(h // 4, w)]),
                                               format="yuv420p")
            frame.pts = i
            for p in vs.encode(frame):
                out.mux(p)
        for p in vs.encode():
            out.mux(p)
    return path


def good(path: str, n: int | None = None) -> str:
    """An ordinary 96x64 25 fps H.264 video with a 440 Hz tone."""
    frames = source_frames("good.mp4") if n is None else moving_frames(n, 96, 64, seed=10)
    return write_video(path, frames, fps=25, audio_tone_hz=440)


# file name -> maker. Names carry the case so an error row's path says which case it was.
BAD_INPUTS: dict[str, Callable[[str], str]] = {
    "zero_byte.mp4": zero_byte,
    "truncated.mp4": truncated_mp4,
    "truncated_faststart.mp4": truncated_faststart_mp4,
    "mid_gop_start.mp4": mid_gop_start,
    "corrupt.avi": corrupt_avi,
    "text_file.mp4": text_as_mp4,
    "audio_only.mp4": audio_only,
    "one_frame.mp4": one_frame,
    "odd_641x359.mp4": odd_size,
    "rotated_phone.mp4": rotated_phone,
    "ten_bit.mp4": ten_bit,
    "vfr.mp4": vfr,
    "uhd_4k.mp4": uhd_4k,
}


def make_bad_inputs(folder: str | os.PathLike, include_good: bool = True) -> dict[str, str]:
    """Write every bad case (plus `good.mp4`) into `folder`; returns file name -> path."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    made = {}
    makers = dict(BAD_INPUTS)
    if include_good:
        makers["good.mp4"] = good
    for name, maker in makers.items():
        made[name] = maker(os.path.join(folder, name))
    return made


if __name__ == "__main__":
    import sys

    out = sys.argv[1] if len(sys.argv) > 1 else "bad-inputs"
    for name, p in make_bad_inputs(out).items():
        print(f"{name:22s} {os.path.getsize(p):>10d} bytes  {p}")
