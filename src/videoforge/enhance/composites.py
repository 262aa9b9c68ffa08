"""Synthetic matting clips with known alpha: cut-out objects over moving real backgrounds.

A clip is `frames` RGB pictures I_t = a_t * F_t + (1 - a_t) * B_t with the truth a_t kept.
  foreground  a texture cut from a real photograph with a generated matte: a smooth random
              blob (with hair-thin strands), one of the demo's shapes (synth/shapes.py's circle,
              square, triangle), or text; made soft (feathered), semi-transparent, and
              motion-blurred along its own velocity.
  background  a virtual camera (pan and zoom) over a real photograph, or frames of a real clip
              (opencv-doc), itself panning; some clips carry a same-colour distractor: another
              cut-out of the foreground's own texture painted into the background (alpha 0),
              moving with the camera, so colour alone cannot tell object from background.
Sources are split by picture/clip (TRAIN_* vs HELDOUT_*; frozen: the held-out figures depend
on it) and the held-out set also uses other generator settings (`HELDOUT_SETTINGS`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, replace
from functools import lru_cache

import cv2
import numpy as np

from videoforge.synth import footage
from videoforge.synth.shapes import _mask as demo_shape_mask

OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"
# Frozen split by source. skimage photos follow synth/footage.py's split (its HELDOUT list is
# what other areas hold out too); opencv-doc pictures and clips split here.
TRAIN_PHOTOS = footage.TRAIN_PHOTOS + [
    f"opencv:{n}" for n in ("baboon.jpg", "fruits.jpg", "building.jpg", "home.jpg", "messi5.jpg", "orange.jpg",
                            "apple.jpg", "butterfly.jpg", "starry_night.jpg", "board.jpg", "stuff.jpg",
                            "smarties.png", "HappyFish.jpg", "squirrel_cls.jpg", "box_in_scene.png")]
HELDOUT_PHOTOS = footage.HELDOUT_PHOTOS + [
    f"opencv:{n}" for n in ("aero1.jpg", "leuvenA.jpg", "graf1.png", "rubberwhale1.png", "basketball1.png",
                            "chicky_512.png", "aloeL.jpg", "Blender_Suzanne1.jpg")]
TRAIN_CLIPS = ["vtest.avi", "Megamind.avi"]
HELDOUT_CLIPS = ["tree.avi"]       # Megamind_bugy.avi is Megamind with defects: used by neither side
WORDS = ["FORGE", "video", "matte", "Alpha", "HELLO", "shot", "42", "edge", "Kite", "orbit", "Zebra", "cut"]
HELDOUT_WORDS = ["QUIZ", "jump", "Wave", "Pixel", "7g"]


@dataclass(frozen=True)
class Settings:
    """Generator settings; the held-out set differs in size, speeds, object scale and length."""

    size: int = 128
    frames: int = 8
    obj_scale: tuple[float, float] = (0.3, 0.7)      # object side / frame side
    obj_speed: tuple[float, float] = (0.0, 0.04)     # frame sides per frame
    cam_speed: tuple[float, float] = (0.0, 0.02)
    p_soft: float = 0.35
    p_semi: float = 0.25
    p_motion_blur: float = 0.35
    p_distractor: float = 0.25
    p_clip_bg: float = 0.35
    noise: tuple[float, float] = (0.0, 4.0)


TRAIN_SETTINGS = Settings()
HELDOUT_SETTINGS = Settings(size=256, frames=12, obj_scale=(0.25, 0.6), obj_speed=(0.005, 0.05),
                            cam_speed=(0.002, 0.025), p_soft=0.4, p_semi=0.3, p_motion_blur=0.4,
                            p_distractor=0.3, p_clip_bg=0.4, noise=(1.0, 5.0))


def _photo_path(name: str) -> str | None:
    if name.startswith("opencv:"):
        p = os.path.join(OPENCV_DATA, name.split(":", 1)[1])
        return p if os.path.exists(p) else None
    return footage.photo_path(name)


@lru_cache(maxsize=64)
def load_picture(name: str) -> np.ndarray:
    """RGB uint8 picture, short side >= 320 (never smaller than what a camera crop needs)."""
    return footage.load_photo(name, min_side=320, path=_photo_path(name))


def available(names: list[str]) -> list[str]:
    return [n for n in names if _photo_path(n)]


@lru_cache(maxsize=8)
def load_clip(name: str, max_frames: int = 240, short_side: int = 288) -> np.ndarray:
    """(T, h, w, 3) RGB frames of an opencv-doc clip, scaled so the short side is `short_side`."""
    cap = cv2.VideoCapture(os.path.join(OPENCV_DATA, name))
    out = []
    while len(out) < max_frames:
        ok, bgr = cap.read()
        if not ok:
            break
        s = short_side / min(bgr.shape[:2])
        out.append(cv2.cvtColor(cv2.resize(bgr, None, fx=s, fy=s, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB))
    cap.release()
    if not out:
        raise FileNotFoundError(name)
    return np.stack(out)


# ---------------------------------------------------------------------------------- mattes
def _blob(rng, s: int) -> np.ndarray:
    """A smooth random blob (thresholded low-frequency noise) with a few thin strands."""
    g = max(3, int(rng.integers(3, 6)))
    noise = cv2.resize(rng.normal(0, 1, (g, g)).astype(np.float32), (s, s), interpolation=cv2.INTER_CUBIC)
    yy, xx = (np.mgrid[0:s, 0:s] + 0.5) / s - 0.5
    field = noise * 0.6 - (xx ** 2 + yy ** 2) * 9 + 1.0
    m = (field > 0).astype(np.float32)
    if rng.random() < 0.5:   # strands: hair-thin antialiased curves leaving the body
        img = np.zeros((s * 4, s * 4), np.uint8)
        for _ in range(int(rng.integers(3, 12))):
            a = rng.uniform(0, 2 * math.pi)
            x, y = s * 2 + math.cos(a) * s * 0.6, s * 2 + math.sin(a) * s * 0.6
            pts = []
            for _k in range(6):
                pts.append((x, y))
                a += rng.normal(0, 0.4)
                x += math.cos(a) * s * 0.25
                y += math.sin(a) * s * 0.25
            cv2.polylines(img, [np.array(pts, np.int32)], False, 255, int(rng.integers(2, 6)), cv2.LINE_AA)
        m = np.maximum(m, cv2.resize(img, (s, s), interpolation=cv2.INTER_AREA).astype(np.float32) / 255)
    return m


def _demo_shape(rng, s: int) -> np.ndarray:
    """The demo's shapes (circle, square, triangle), supersampled 4x for antialiased edges."""
    k = ["circle", "square", "triangle"][int(rng.integers(3))]
    big = demo_shape_mask(k, 2 * s, 2 * s, s * 1.8, 4 * s, 4 * s).astype(np.float32)
    return cv2.resize(big, (s, s), interpolation=cv2.INTER_AREA)


def _text(rng, s: int, words: list[str]) -> np.ndarray:
    word = words[int(rng.integers(len(words)))]
    img = np.zeros((s * 2, s * 2), np.uint8)
    font = [cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX][int(rng.integers(3))]
    th = int(rng.integers(4, 12))
    (tw, tht), _ = cv2.getTextSize(word, font, 1.0, th)
    scale = 1.8 * s / max(tw, 1)
    th = max(2, int(th * scale))
    (tw, tht), _ = cv2.getTextSize(word, font, scale, th)
    cv2.putText(img, word, ((2 * s - tw) // 2, (2 * s + tht) // 2), font, scale, 255, th, cv2.LINE_AA)
    return cv2.resize(img, (s, s), interpolation=cv2.INTER_AREA).astype(np.float32) / 255


def make_matte(rng, s: int, settings: Settings, words: list[str]) -> np.ndarray:
    """(s, s) float alpha of one object: hard-edged (antialiased), soft, or semi-transparent."""
    kind = rng.choice(["blob", "blob", "shape", "text"])
    m = _blob(rng, s) if kind == "blob" else _demo_shape(rng, s) if kind == "shape" else _text(rng, s, words)
    if rng.random() < settings.p_soft:   # feathered edge
        sig = rng.uniform(1.0, 0.06 * s)
        m = cv2.GaussianBlur(m, (0, 0), sig)
    if rng.random() < settings.p_semi:   # semi-transparent: a uniform level or a smooth ramp
        if rng.random() < 0.5:
            m = m * rng.uniform(0.3, 0.85)
        else:
            a = rng.uniform(0, 2 * math.pi)
            yy, xx = np.mgrid[0:s, 0:s] / s
            ramp = 0.5 + 0.5 * np.sin(a) * (yy - 0.5) * 2 + 0.5 * np.cos(a) * (xx - 0.5) * 2
            m = m * np.clip(ramp, 0.2, 1.0).astype(np.float32)
    return np.clip(m, 0, 1).astype(np.float32)


# ------------------------------------------------------------------------------ backgrounds
def _camera(rng, picture: np.ndarray, size: int, frames: int, speed: float) -> np.ndarray:
    """A pan + slow zoom crop path over `picture`, (frames, size, size, 3) uint8."""
    ph, pw = picture.shape[:2]
    side0 = rng.uniform(0.45, 0.9) * min(ph, pw)
    zoom = rng.uniform(-0.01, 0.01)
    ang = rng.uniform(0, 2 * math.pi)
    v = speed * side0
    cx, cy = rng.uniform(side0 / 2, pw - side0 / 2), rng.uniform(side0 / 2, ph - side0 / 2)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        side = side0 * (1 + zoom * t)
        x = np.clip(cx + math.cos(ang) * v * t, side / 2, pw - side / 2)
        y = np.clip(cy + math.sin(ang) * v * t, side / 2, ph - side / 2)
        s = size / side
        M = np.array([[s, 0, size / 2 - x * s], [0, s, size / 2 - y * s]], np.float32)
        out[t] = cv2.warpAffine(picture, M, (size, size), flags=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT)
    return out


def _clip_background(rng, clip: np.ndarray, size: int, frames: int, speed: float) -> np.ndarray:
    n, ch, cw = clip.shape[:3]
    step = int(rng.integers(1, 3))
    t0 = int(rng.integers(0, max(1, n - frames * step)))
    side = rng.uniform(0.6, 1.0) * min(ch, cw)
    ang = rng.uniform(0, 2 * math.pi)
    cx, cy = rng.uniform(side / 2, cw - side / 2), rng.uniform(side / 2, ch - side / 2)
    out = np.empty((frames, size, size, 3), np.uint8)
    s = size / side
    for t in range(frames):
        x = np.clip(cx + math.cos(ang) * speed * side * t, side / 2, cw - side / 2)
        y = np.clip(cy + math.sin(ang) * speed * side * t, side / 2, ch - side / 2)
        M = np.array([[s, 0, size / 2 - x * s], [0, s, size / 2 - y * s]], np.float32)
        out[t] = cv2.warpAffine(clip[min(n - 1, t0 + t * step)], M, (size, size), flags=cv2.INTER_AREA,
                                borderMode=cv2.BORDER_REFLECT)
    return out


# -------------------------------------------------------------------------------- compositing
def _motion_kernel(dx: float, dy: float) -> np.ndarray | None:
    length = math.hypot(dx, dy)
    if length < 1.5:
        return None
    k = int(math.ceil(length)) | 1
    ker = np.zeros((k, k), np.float32)
    c = k // 2
    cv2.line(ker, (int(round(c - dx / 2)), int(round(c - dy / 2))), (int(round(c + dx / 2)), int(round(c + dy / 2))),
             1.0, 1, cv2.LINE_AA)
    return ker / ker.sum()


def _texture(rng, picture: np.ndarray, s: int) -> np.ndarray:
    ph, pw = picture.shape[:2]
    side = int(rng.uniform(0.3, 0.9) * min(ph, pw))
    x, y = int(rng.integers(0, pw - side + 1)), int(rng.integers(0, ph - side + 1))
    return cv2.resize(picture[y:y + side, x:x + side], (s, s), interpolation=cv2.INTER_AREA).astype(np.float32)


def _place(sprite: np.ndarray, size: int, cx: float, cy: float, rot: float, scale: float) -> np.ndarray:
    s = sprite.shape[0]
    M = cv2.getRotationMatrix2D((s / 2, s / 2), rot, scale)
    M[0, 2] += cx - s / 2
    M[1, 2] += cy - s / 2
    return cv2.warpAffine(sprite, M, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


@dataclass
class Clip:
    rgb: np.ndarray      # (T, H, W, 3) uint8
    alpha: np.ndarray    # (T, H, W) float32 in [0, 1]
    meta: dict


def make_clip(rng: np.random.Generator, photos: list[str], clips: list[str], settings: Settings,
              words: list[str] = WORDS) -> Clip:
    """One composite clip from the given sources (pass the TRAIN_* or HELDOUT_* lists)."""
    S, T = settings.size, settings.frames
    fg_pic = load_picture(photos[int(rng.integers(len(photos)))])
    cam_speed = rng.uniform(*settings.cam_speed)
    if clips and rng.random() < settings.p_clip_bg:
        bg_src = clips[int(rng.integers(len(clips)))]
        bg = _clip_background(rng, load_clip(bg_src), S, T, cam_speed).astype(np.float32)
    else:
        bg_src = photos[int(rng.integers(len(photos)))]
        bg = _camera(rng, load_picture(bg_src), S, T, cam_speed).astype(np.float32)
    obj = int(S * rng.uniform(*settings.obj_scale))
    sprite_side = obj * 2     # the sprite is drawn at 2x and scaled down when placed (sub-pixel motion)
    matte = make_matte(rng, sprite_side, settings, words)
    tex = _texture(rng, fg_pic, sprite_side)
    pre = np.concatenate([tex * matte[..., None], matte[..., None]], 2)   # premultiplied RGBA
    distractor = rng.random() < settings.p_distractor
    if distractor:   # same texture, another matte, painted into the background; moves with it
        dm = make_matte(rng, sprite_side, replace(settings, p_semi=0.0), words)
        dpre = np.concatenate([tex * dm[..., None], dm[..., None]], 2)
        dx0, dy0 = rng.uniform(0.2, 0.8) * S, rng.uniform(0.2, 0.8) * S
        dscale = rng.uniform(0.3, 0.5)
    speed = rng.uniform(*settings.obj_speed) * S
    ang = rng.uniform(0, 2 * math.pi)
    vx, vy = math.cos(ang) * speed, math.sin(ang) * speed
    x0, y0 = rng.uniform(0.3, 0.7) * S, rng.uniform(0.3, 0.7) * S
    rot0, drot = rng.uniform(-30, 30), rng.uniform(-2, 2)
    sc0, dsc = 0.5, rng.uniform(-0.01, 0.01)
    wobble = rng.uniform(0, 0.01) * S
    blur = rng.random() < settings.p_motion_blur
    blur_gain = rng.uniform(1.0, 3.0)   # exposure: blur length = gain x displacement per frame
    noise = rng.uniform(*settings.noise)
    rgb = np.empty((T, S, S, 3), np.uint8)
    alpha = np.empty((T, S, S), np.float32)
    for t in range(T):
        b = bg[t]
        if distractor:
            d = _place(dpre, S, dx0 - vx * 0, dy0, 0.0, dscale * (1 + 0 * t))
            # the distractor sits still in the picture, i.e. moves with the camera's content
            b = d[..., :3] + (1 - d[..., 3:]) * b
        cx = x0 + vx * t + wobble * math.sin(0.7 * t)
        cy = y0 + vy * t + wobble * math.cos(0.5 * t)
        cx = (cx % (S * 1.2)) - 0.1 * S if not 0 <= cx <= S else cx
        cy = (cy % (S * 1.2)) - 0.1 * S if not 0 <= cy <= S else cy
        p = _place(pre, S, cx, cy, rot0 + drot * t, sc0 * (1 + dsc * t))
        if blur:
            ker = _motion_kernel(vx * blur_gain, vy * blur_gain)
            if ker is not None:
                p = cv2.filter2D(p, -1, ker, borderType=cv2.BORDER_CONSTANT)
        a = np.clip(p[..., 3], 0, 1)
        img = p[..., :3] + (1 - a[..., None]) * b
        if noise > 0:
            img = img + rng.normal(0, noise, img.shape).astype(np.float32)
        rgb[t] = np.clip(img + 0.5, 0, 255).astype(np.uint8)
        alpha[t] = a
    meta = {"fg": fg_pic.shape, "bg_source": bg_src, "distractor": bool(distractor), "motion_blur": bool(blur)}
    return Clip(rgb, alpha, meta)


def train_sources() -> tuple[list[str], list[str]]:
    return available(TRAIN_PHOTOS), [c for c in TRAIN_CLIPS if os.path.exists(os.path.join(OPENCV_DATA, c))]


def heldout_sources() -> tuple[list[str], list[str]]:
    return available(HELDOUT_PHOTOS), [c for c in HELDOUT_CLIPS if os.path.exists(os.path.join(OPENCV_DATA, c))]


def heldout_set(n: int = 40, seed: int = 24_000) -> list[Clip]:
    """The frozen held-out composites: held-out sources, held-out settings, fixed seeds."""
    photos, clips = heldout_sources()
    return [make_clip(np.random.default_rng(seed + i), photos, clips, HELDOUT_SETTINGS, HELDOUT_WORDS)
            for i in range(n)]
