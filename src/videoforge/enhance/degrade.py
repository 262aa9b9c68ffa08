"""Degradations that turn high-resolution clips into low-resolution inputs for super-resolution.

`bicubic_down`: the literature's "BI" setting, PIL's antialiased BICUBIC resize.

`second_order`: a Real-ESRGAN-style blind degradation for video. Two stages; each stage
applies four operations in a random order (drawn per stage):
    blur      isotropic or anisotropic Gaussian kernel (random size, sigmas, angle)
    resize    random up/down factor with a random interpolation (area, bilinear, bicubic)
    noise     Gaussian (colour or grey) or Poisson, new noise every frame
    compress  JPEG per frame, or x264 over the whole clip (PyAV, in memory, random CRF)
then a final resize to exactly (h / scale, w / scale). One set of parameters per clip (a
clip comes from one camera and one encoder); only the noise changes from frame to frame.
The held-out settings (HELDOUT) use other ranges than training (TRAIN), so the blind figures
measure degradations the network was not trained on exactly.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from fractions import Fraction

import cv2
import numpy as np
from PIL import Image


def bicubic_down(frame: np.ndarray, scale: int) -> np.ndarray:
    """(H,W,3) uint8 -> (H//scale, W//scale, 3) with PIL's antialiased BICUBIC filter."""
    h, w = frame.shape[:2]
    return np.asarray(Image.fromarray(frame).resize((w // scale, h // scale), Image.BICUBIC))


def bicubic_up(frame: np.ndarray, scale: int) -> np.ndarray:
    """The bicubic baseline: (h,w,3) uint8 -> (h*scale, w*scale, 3), PIL BICUBIC."""
    h, w = frame.shape[:2]
    return np.asarray(Image.fromarray(frame).resize((w * scale, h * scale), Image.BICUBIC))


@dataclass(frozen=True)
class StageRanges:
    blur_sigma: tuple[float, float]
    p_blur: float
    resize: tuple[float, float]          # factor range (down to up)
    noise_sigma: tuple[float, float]     # Gaussian, 0..255 units
    poisson_scale: tuple[float, float]
    p_poisson: float
    p_grey_noise: float
    jpeg_q: tuple[int, int]
    x264_crf: tuple[int, int]
    p_x264: float                        # otherwise JPEG


@dataclass(frozen=True)
class DegradeSettings:
    first: StageRanges
    second: StageRanges
    p_second: float = 1.0


TRAIN = DegradeSettings(
    first=StageRanges(blur_sigma=(0.2, 2.0), p_blur=1.0, resize=(0.4, 1.3), noise_sigma=(0.5, 12.0),
                      poisson_scale=(0.05, 1.5), p_poisson=0.4, p_grey_noise=0.4, jpeg_q=(45, 95),
                      x264_crf=(18, 32), p_x264=0.5),
    second=StageRanges(blur_sigma=(0.2, 1.2), p_blur=0.8, resize=(0.5, 1.2), noise_sigma=(0.5, 8.0),
                       poisson_scale=(0.05, 1.0), p_poisson=0.4, p_grey_noise=0.4, jpeg_q=(50, 95),
                       x264_crf=(18, 30), p_x264=0.5),
)
# Held out: other ranges (a bit wider in some directions, narrower in others) and other seeds.
HELDOUT = DegradeSettings(
    first=StageRanges(blur_sigma=(0.4, 2.4), p_blur=0.9, resize=(0.5, 1.2), noise_sigma=(1.0, 10.0),
                      poisson_scale=(0.1, 1.2), p_poisson=0.3, p_grey_noise=0.5, jpeg_q=(40, 90),
                      x264_crf=(20, 30), p_x264=0.5),
    second=StageRanges(blur_sigma=(0.3, 1.0), p_blur=0.7, resize=(0.6, 1.1), noise_sigma=(1.0, 6.0),
                       poisson_scale=(0.1, 0.8), p_poisson=0.3, p_grey_noise=0.5, jpeg_q=(55, 90),
                       x264_crf=(20, 28), p_x264=0.5),
)


def gaussian_kernel(rng: np.random.Generator, sigma_range: tuple[float, float]) -> np.ndarray:
    """A normalised isotropic (half of the time) or anisotropic rotated Gaussian kernel."""
    sx = rng.uniform(*sigma_range)
    sy = sx if rng.random() < 0.5 else rng.uniform(*sigma_range)
    theta = rng.uniform(0, math.pi)
    size = int(2 * math.ceil(3 * max(sx, sy)) + 1)
    size = max(3, min(size, 21))
    r = size // 2
    y, x = np.mgrid[-r:r + 1, -r:r + 1].astype(np.float64)
    c, s = math.cos(theta), math.sin(theta)
    u, v = c * x + s * y, -s * x + c * y
    k = np.exp(-0.5 * ((u / sx) ** 2 + (v / sy) ** 2))
    return (k / k.sum()).astype(np.float32)


def _even_pad(frames: np.ndarray) -> tuple[np.ndarray, int, int]:
    t, h, w, _ = frames.shape
    ph, pw = h % 2, w % 2
    if ph or pw:
        frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    return frames, h, w


def x264_roundtrip(frames: np.ndarray, crf: int, preset: str = "ultrafast") -> np.ndarray:
    """Encode (T,H,W,3) uint8 RGB with x264 (yuv420p, CRF) in memory and decode it back."""
    padded, h, w = _even_pad(frames)
    buf = io.BytesIO()
    with _open(buf, "w", "matroska") as out:
        st = out.add_stream("libx264", rate=Fraction(25))
        st.width, st.height, st.pix_fmt = padded.shape[2], padded.shape[1], "yuv420p"
        st.options = {"crf": str(crf), "preset": preset}
        import av
        for f in padded:
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    buf.seek(0)
    with _open(buf, "r", "matroska") as inp:
        dec = [fr.to_ndarray(format="rgb24") for fr in inp.decode(video=0)]
    if len(dec) != len(frames):   # never silently change the clip's length
        raise RuntimeError(f"x264 round trip returned {len(dec)} frames for {len(frames)}")
    return np.stack(dec)[:, :h, :w]


def _open(buf, mode, fmt):
    import av

    return av.open(buf, mode, format=fmt)


def jpeg_roundtrip(frame: np.ndarray, quality: int) -> np.ndarray:
    ok, enc = cv2.imencode(".jpg", cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.cvtColor(cv2.imdecode(enc, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


_INTERP = [cv2.INTER_AREA, cv2.INTER_LINEAR, cv2.INTER_CUBIC]


def _stage(x: np.ndarray, r: StageRanges, rng: np.random.Generator, min_side: int) -> np.ndarray:
    """One stage on a float32 clip (T,H,W,3) in 0..255; operations in a random order."""
    ops = ["blur", "resize", "noise", "compress"]
    rng.shuffle(ops)
    for op in ops:
        if op == "blur" and rng.random() < r.p_blur:
            k = gaussian_kernel(rng, r.blur_sigma)
            x = np.stack([cv2.filter2D(f, -1, k, borderType=cv2.BORDER_REFLECT) for f in x])
        elif op == "resize":
            f = rng.uniform(*r.resize)
            t, h, w, _ = x.shape
            nh, nw = max(min_side, int(round(h * f))), max(min_side, int(round(w * f)))
            interp = _INTERP[rng.integers(len(_INTERP))]
            x = np.stack([cv2.resize(fr, (nw, nh), interpolation=interp) for fr in x])
        elif op == "noise":
            if rng.random() < r.p_poisson:
                scale = rng.uniform(*r.poisson_scale)
                grey = rng.random() < r.p_grey_noise
                v = np.clip(x, 0, 255) / 255
                vals = 10 ** 2.5 / scale
                if grey:
                    g = v.mean(-1, keepdims=True)
                    n = rng.poisson(g * vals) / vals - g
                else:
                    n = rng.poisson(v * vals) / vals - v
                x = x + (n * 255).astype(np.float32)
            else:
                sigma = rng.uniform(*r.noise_sigma)
                shape = x.shape[:3] + ((1,) if rng.random() < r.p_grey_noise else (3,))
                x = x + rng.normal(0, sigma, shape).astype(np.float32)
        elif op == "compress":
            u8 = np.clip(x + 0.5, 0, 255).astype(np.uint8)
            if rng.random() < r.p_x264 and len(u8) > 0:
                x = x264_roundtrip(u8, int(rng.integers(r.x264_crf[0], r.x264_crf[1] + 1))).astype(np.float32)
            else:
                q = int(rng.integers(r.jpeg_q[0], r.jpeg_q[1] + 1))
                x = np.stack([jpeg_roundtrip(f, q) for f in u8]).astype(np.float32)
    return x


def second_order(frames: np.ndarray, scale: int, rng: np.random.Generator,
                 settings: DegradeSettings = TRAIN) -> np.ndarray:
    """(T,H,W,3) uint8 HR clip -> (T, H//scale, W//scale, 3) uint8 blindly degraded LR clip."""
    t, h, w, _ = frames.shape
    lh, lw = h // scale, w // scale
    x = frames.astype(np.float32)
    # the first resize works towards the target size: shrink by the scale, then let the
    # stages' random factors move around it (as Real-ESRGAN's resizes do around the output size)
    x = np.stack([cv2.resize(f, (w // 2, h // 2), interpolation=cv2.INTER_AREA) for f in x]) if scale >= 4 else x
    x = _stage(x, settings.first, rng, min_side=max(8, lh // 2))
    if rng.random() < settings.p_second:
        x = _stage(x, settings.second, rng, min_side=max(8, lh // 2))
    interp = _INTERP[rng.integers(len(_INTERP))]
    x = np.stack([cv2.resize(f, (lw, lh), interpolation=interp) for f in x])
    return np.clip(x + 0.5, 0, 255).astype(np.uint8)
