"""`videoforge matte` as a library call: run the recurrent matting network over a video and
write the alpha matte, optionally an RGBA WebM and a composite over a new background.

The video is read by the data engine's decoder (io.decode_frames: the same errors for bad
inputs as `run`), one frame at a time, so memory does not grow with the video's length.
The network runs on a copy scaled so its long side is `work_side` (default 96: the size it
was trained at, chosen among 96/128/192/256 on training-side composites by
benchmarks/matte_eval.py) and its guided refinement is applied at the
input's full resolution, so the matte follows the full-resolution edges.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from fractions import Fraction

import av
import cv2
import numpy as np

from videoforge.io.errors import VideoError

# Alpha files: lossless where the container allows a grey lossless codec, else near-lossless.
ALPHA_FORMATS = {
    ".mkv": ("ffv1", "gray", {}),                      # lossless
    ".avi": ("ffv1", "gray", {}),                      # lossless
    ".nut": ("ffv1", "gray", {}),                      # lossless
    ".mp4": ("libx264", "yuv444p", {"qp": "0", "preset": "veryfast"}),   # lossless coding; +-1 from YUV range
    ".mov": ("libx264", "yuv444p", {"qp": "0", "preset": "veryfast"}),
    ".webm": ("libvpx-vp9", "yuv444p", {"lossless": "1", "deadline": "realtime", "cpu-used": "8"}),
}
COMPOSITE_FORMATS = {
    ".mp4": ("libx264", {"crf": "16", "preset": "veryfast"}),
    ".mov": ("libx264", {"crf": "16", "preset": "veryfast"}),
    ".mkv": ("libx264", {"crf": "16", "preset": "veryfast"}),
    ".avi": ("libx264", {"crf": "16", "preset": "veryfast"}),
    ".webm": ("libvpx-vp9", {"crf": "20", "b": "0", "deadline": "realtime", "cpu-used": "8"}),
}
IMAGE_EXTS = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff"}
NAMED_COLOURS = {
    "black": (0, 0, 0), "white": (255, 255, 255), "red": (255, 0, 0), "green": (0, 255, 0),
    "blue": (0, 0, 255), "grey": (128, 128, 128), "gray": (128, 128, 128), "yellow": (255, 255, 0),
    "magenta": (255, 0, 255), "cyan": (0, 255, 255),
}


class MatteUsageError(ValueError):
    """An argument that cannot work (unknown extension, unreadable background, bad colour)."""


def _ext(path: str) -> str:
    return os.path.splitext(str(path))[1].lower()


def parse_colour(text: str) -> tuple[int, int, int] | None:
    """'green', '#00ff00', '00ff00' or '0,255,0' -> RGB; None when it is none of those."""
    t = text.strip().lower()
    if t in NAMED_COLOURS:
        return NAMED_COLOURS[t]
    h = t[1:] if t.startswith("#") else t
    if len(h) == 6 and all(c in "0123456789abcdef" for c in h):
        return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
    parts = t.split(",")
    if len(parts) == 3:
        try:
            v = [int(p) for p in parts]
        except ValueError:
            return None
        if all(0 <= x <= 255 for x in v):
            return tuple(v)
    return None


class Background:
    """A new background as frames of the input's size: a colour, a still image, or a video
    (looped when shorter than the input)."""

    def __init__(self, spec: str, width: int, height: int):
        self.w, self.h = width, height
        self.colour = self.image = self.video = None
        self._iter = None
        if os.path.exists(spec):
            if _ext(spec) in IMAGE_EXTS:
                bgr = cv2.imread(spec, cv2.IMREAD_COLOR)
                if bgr is None:
                    raise VideoError(spec, "background image cannot be read", stage="matte")
                self.image = cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (width, height),
                                        interpolation=cv2.INTER_AREA)
            else:
                from videoforge.io.probe import probe

                probe(spec)   # a bad background video fails here, named, before any work
                self.video = spec
            return
        colour = parse_colour(spec)
        if colour is None:
            raise MatteUsageError(f"--background {spec!r}: no such file, and not a colour "
                                  "(a name such as green, #RRGGBB or R,G,B)")
        self.colour = np.array(colour, np.float32)

    def _video_frames(self):
        from videoforge.io.decode import decode_frames

        while True:
            n = 0
            for f in decode_frames(self.video, width=16):
                n += 1
                yield cv2.resize(cv2.cvtColor(f.bgr(), cv2.COLOR_BGR2RGB), (self.w, self.h),
                                 interpolation=cv2.INTER_AREA)
            if n == 0:
                return

    def next(self) -> np.ndarray:
        if self.colour is not None:
            return np.broadcast_to(self.colour, (self.h, self.w, 3))
        if self.image is not None:
            return self.image
        if self._iter is None:
            self._iter = self._video_frames()
        return next(self._iter)


class _Writer:
    """One output stream fed frame by frame (PyAV)."""

    def __init__(self, path: str, codec: str, pix_fmt: str, width: int, height: int, fps: float,
                 options: dict, src_format: str):
        os.makedirs(os.path.dirname(os.path.abspath(path)) or ".", exist_ok=True)
        self.path, self.src_format = path, src_format
        self.out = av.open(path, "w")
        self.stream = self.out.add_stream(codec, rate=Fraction(fps).limit_denominator(1001))
        self.stream.width, self.stream.height, self.stream.pix_fmt = width, height, pix_fmt
        self.stream.options = dict(options)
        self.frames = 0

    def write(self, arr: np.ndarray) -> None:
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(arr), format=self.src_format)
        for p in self.stream.encode(vf):
            self.out.mux(p)
        self.frames += 1

    def close(self) -> None:
        try:
            for p in self.stream.encode():
                self.out.mux(p)
        finally:
            self.out.close()


def alpha_writer(path: str, width: int, height: int, fps: float) -> _Writer:
    ext = _ext(path)
    if ext not in ALPHA_FORMATS:
        raise MatteUsageError(f"--out {path}: alpha container must be one of {sorted(ALPHA_FORMATS)}")
    codec, pix, opts = ALPHA_FORMATS[ext]
    return _Writer(path, codec, pix, width, height, fps, opts, "gray")


def rgba_writer(path: str, width: int, height: int, fps: float) -> _Writer:
    if _ext(path) != ".webm":
        raise MatteUsageError(f"--rgba {path}: must be a .webm file (VP9 with alpha)")
    return _Writer(path, "libvpx-vp9", "yuva420p", width, height, fps,
                   {"crf": "18", "b": "0", "deadline": "realtime", "cpu-used": "8", "auto-alt-ref": "0"}, "rgba")


def composite_writer(path: str, width: int, height: int, fps: float) -> _Writer:
    ext = _ext(path)
    if ext not in COMPOSITE_FORMATS:
        raise MatteUsageError(f"--composite {path}: container must be one of {sorted(COMPOSITE_FORMATS)}")
    codec, opts = COMPOSITE_FORMATS[ext]
    pix = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"   # 4:2:0 needs even sizes
    return _Writer(path, codec, pix, width, height, fps, opts, "rgb24")


def work_size(width: int, height: int, work_side: int) -> tuple[int, int]:
    """The network's input size: long side ~work_side (never upscaled), multiples of 16."""
    s = min(1.0, work_side / max(width, height))
    return max(16, int(round(width * s / 16)) * 16), max(16, int(round(height * s / 16)) * 16)


class Matter:
    """Stateful per-frame matting: step(rgb uint8 (H,W,3)) -> alpha float32 (H,W) in 0..1."""

    def __init__(self, weights_path: str | None = None, work_side: int = 96, threads: int | None = 1):
        import torch

        from videoforge.enhance import weights

        self.torch = torch
        # One thread by default: a 256-px step is too small for intra-op parallelism to pay
        # (two threads measured slower on a busy 2-core machine), and the decoder already
        # runs in its own thread, so one core decodes while the other mattes.
        if threads:
            torch.set_num_threads(threads)
        self.model, self.meta = weights.load(weights_path or weights.DEFAULT_MATTE)
        self.work_side = work_side
        self.state = None

    def reset(self) -> None:
        self.state = None

    def step(self, rgb: np.ndarray) -> np.ndarray:
        torch = self.torch
        h, w = rgb.shape[:2]
        ww, wh = work_size(w, h, self.work_side)
        with torch.inference_mode():
            full = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1)[None].float() / 255
            small = full if (ww, wh) == (w, h) else torch.from_numpy(
                cv2.resize(rgb, (ww, wh), interpolation=cv2.INTER_AREA)).permute(2, 0, 1)[None].float() / 255
            alpha, self.state = self.model(small, self.state, guide=full)
        return alpha[0, 0].numpy()


@dataclass
class MatteResult:
    video: str
    frames: int
    width: int
    height: int
    fps: float
    outputs: dict = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict:
        return {"video": self.video, "frames": self.frames, "width": self.width, "height": self.height,
                "fps": self.fps, "outputs": self.outputs, "seconds": round(self.seconds, 3),
                "frames_per_second": round(self.frames / self.seconds, 2) if self.seconds > 0 else None}


def matte_video(video: str, out: str, rgba: str | None = None, background: str | None = None,
                composite: str | None = None, weights_path: str | None = None, work_side: int = 96,
                progress: bool = False, threads: int | None = 1) -> MatteResult:
    """Matte `video` into `out` (grey, 255 = foreground); see the module docstring.
    Raises VideoError (bad input video/background, named) or MatteUsageError (bad arguments)."""
    from videoforge.io.decode import decode_frames
    from videoforge.io.probe import probe

    if (background is None) != (composite is None):
        raise MatteUsageError("--background and --composite go together")
    for p, kind in ((out, "alpha"), (rgba, "rgba"), (composite, "composite")):
        if p is not None and os.path.abspath(p) == os.path.abspath(video):
            raise MatteUsageError(f"{p}: the {kind} output would overwrite the input")
    if _ext(out) not in ALPHA_FORMATS:   # argument errors before any decoding
        raise MatteUsageError(f"--out {out}: alpha container must be one of {sorted(ALPHA_FORMATS)}")
    if rgba is not None and _ext(rgba) != ".webm":
        raise MatteUsageError(f"--rgba {rgba}: must be a .webm file (VP9 with alpha)")
    if composite is not None and _ext(composite) not in COMPOSITE_FORMATS:
        raise MatteUsageError(f"--composite {composite}: container must be one of {sorted(COMPOSITE_FORMATS)}")
    info = probe(video)
    w, h, fps = info.width, info.height, info.fps if info.fps > 0 else 25.0
    bg = Background(background, w, h) if background is not None else None
    matter = Matter(weights_path, work_side=work_side, threads=threads)
    writers: list[_Writer] = []
    bar = None
    t0 = time.perf_counter()
    n = 0
    try:
        wa = alpha_writer(out, w, h, fps)
        writers.append(wa)
        wr = rgba_writer(rgba, w, h, fps) if rgba else None
        if wr:
            writers.append(wr)
        wc = composite_writer(composite, w, h, fps) if composite else None
        if wc:
            writers.append(wc)
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=info.frames or None, unit="frame", desc=f"matte {os.path.basename(video)}")
        for f in decode_frames(video, width=16):
            rgb = cv2.cvtColor(f.bgr(), cv2.COLOR_BGR2RGB)
            a = matter.step(rgb)
            a8 = (a * 255 + 0.5).astype(np.uint8)
            wa.write(a8)
            if wr:
                wr.write(np.dstack([rgb, a8]))
            if wc:
                # the input colour stands in for the foreground colour (no foreground estimate):
                # at semi-transparent pixels some of the old background shows through
                comp = a[..., None] * rgb + (1 - a[..., None]) * bg.next()
                wc.write(np.clip(comp + 0.5, 0, 255).astype(np.uint8))
            n += 1
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
        for wtr in writers:
            wtr.close()
    outputs = {"alpha": os.path.abspath(out)}
    if rgba:
        outputs["rgba"] = os.path.abspath(rgba)
    if composite:
        outputs["composite"] = os.path.abspath(composite)
    return MatteResult(video=video, frames=n, width=w, height=h, fps=fps, outputs=outputs,
                       seconds=time.perf_counter() - t0)
