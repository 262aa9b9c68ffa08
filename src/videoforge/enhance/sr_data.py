"""Clips for super-resolution training and evaluation, made from real pictures and clips.

A clip is T high-resolution frames: a virtual camera panning over a real photograph along
a smooth path in whole high-resolution pixels (so every frame stays as sharp as the
photograph; a whole-pixel step is a quarter-pixel step at low resolution, the sub-pixel
motion a video SR network learns from), or consecutive crops of a real opencv-doc clip.
Low-resolution inputs come from degrade.py: PIL bicubic (the "BI" setting) or the blind
second-order degradations, then OpenCV DIS flow between the low-resolution frames.

Frozen split by source (the held-out figures depend on it): training photographs are
composites.TRAIN_PHOTOS (skimage + 15 opencv-doc pictures) and the training clip is
vtest.avi; held out are composites.HELDOUT_PHOTOS and the clips Megamind.avi and tree.avi
(Megamind_bugy.avi is used by neither side).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import av
import cv2
import numpy as np

from videoforge.enhance import composites, degrade
from videoforge.enhance.sr_model import lr_flows
from videoforge.synth import footage

OPENCV_DATA = composites.OPENCV_DATA
TRAIN_PHOTOS = composites.TRAIN_PHOTOS
HELDOUT_PHOTOS = composites.HELDOUT_PHOTOS
TRAIN_CLIPS = ["vtest.avi"]
HELDOUT_CLIPS = ["Megamind.avi", "tree.avi"]


@lru_cache(maxsize=64)
def load_photo(name: str) -> np.ndarray:
    """RGB uint8 at the file's own resolution (never upscaled: upscaled pictures are soft)."""
    return footage.load_photo(name, min_side=0, path=composites._photo_path(name))


@lru_cache(maxsize=4)
def clip_frames(name: str, max_frames: int = 240) -> np.ndarray:
    """The first max_frames frames of an opencv-doc clip, (T,H,W,3) uint8 RGB."""
    out = []
    with av.open(os.path.join(OPENCV_DATA, name)) as c:
        for f in c.decode(video=0):
            out.append(f.to_ndarray(format="rgb24"))
            if len(out) >= max_frames:
                break
    return np.stack(out)


def camera_clip(img: np.ndarray, rng: np.random.Generator, frames: int, size: int,
                max_speed: float = 4.0, prescale: tuple[float, float] = (0.6, 1.0)) -> np.ndarray:
    """(frames, size, size, 3) crops of img along a smooth random path, whole-pixel positions."""
    s = rng.uniform(*prescale)
    if s < 0.999:
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    h, w = img.shape[:2]
    if h < size or w < size:
        img = cv2.resize(img, (max(w, size), max(h, size)), interpolation=cv2.INTER_CUBIC)
        h, w = img.shape[:2]
    v = rng.uniform(-max_speed, max_speed, 2)
    acc = rng.normal(0, max_speed * 0.1, (frames, 2))
    pos = np.zeros((frames, 2))
    for t in range(1, frames):
        v = v + acc[t]
        pos[t] = pos[t - 1] + v
    pos -= pos.min(0)
    span = pos.max(0)
    room = np.array([w - size, h - size], float)
    if (span > room).any():        # too fast for this picture: shrink the path
        pos *= np.min(np.where(span > 0, room / np.maximum(span, 1e-6), 1.0))
        span = pos.max(0)
    start = rng.uniform(0, 1, 2) * (room - span)
    xy = np.round(start + pos).astype(int)
    return np.stack([img[y:y + size, x:x + size] for x, y in xy])


def real_clip(name: str, rng: np.random.Generator, frames: int, size: int) -> np.ndarray:
    v = clip_frames(name)
    t0 = int(rng.integers(0, len(v) - frames + 1))
    h, w = v.shape[1:3]
    y, x = int(rng.integers(0, h - size + 1)), int(rng.integers(0, w - size + 1))
    return v[t0:t0 + frames, y:y + size, x:x + size]


def augment(hr: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if rng.random() < 0.5:
        hr = hr[:, :, ::-1]
    if rng.random() < 0.5:
        hr = hr.transpose(0, 2, 1, 3)
    if rng.random() < 0.3:
        hr = hr[::-1]
    return np.ascontiguousarray(hr)


@dataclass
class SRClip:
    hr: np.ndarray          # (T,H,W,3) uint8
    lr: np.ndarray          # (T,H/4,W/4,3) uint8
    flow_next: np.ndarray   # (T-1,2,h,w)
    flow_prev: np.ndarray
    blind: bool
    source: str


def make_clip(rng: np.random.Generator, photos: list[str], clips: list[str], frames: int = 5,
              lr_size: int = 32, p_clip: float = 0.25, p_blind: float = 0.5,
              settings: degrade.DegradeSettings = degrade.TRAIN, flows: bool = True) -> SRClip:
    size = lr_size * 4
    if clips and rng.random() < p_clip:
        src = clips[int(rng.integers(len(clips)))]
        hr = real_clip(src, rng, frames, size)
    else:
        src = photos[int(rng.integers(len(photos)))]
        hr = camera_clip(load_photo(src), rng, frames, size)
    hr = augment(hr, rng)
    blind = bool(rng.random() < p_blind)
    lr = degrade.second_order(hr, 4, rng, settings) if blind else np.stack([degrade.bicubic_down(f, 4) for f in hr])
    if flows:
        fn, fp = lr_flows(lr)
    else:
        fn = fp = np.zeros((0,), np.float32)
    return SRClip(hr=hr, lr=lr, flow_next=fn, flow_prev=fp, blind=blind, source=src)


def y_channel(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma in 16..235 as the SR literature's Y-PSNR uses (float64)."""
    x = rgb.astype(np.float64)
    return 16 + (65.481 * x[..., 0] + 128.553 * x[..., 1] + 24.966 * x[..., 2]) / 255


def y_psnr(a: np.ndarray, b: np.ndarray, border: int = 4) -> float:
    ya, yb = y_channel(a), y_channel(b)
    if border:
        ya, yb = ya[..., border:-border, border:-border], yb[..., border:-border, border:-border]
    mse = np.mean((ya - yb) ** 2)
    return float(10 * np.log10(255 ** 2 / max(mse, 1e-10)))
