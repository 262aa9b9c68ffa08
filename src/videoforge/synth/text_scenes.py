"""Videos of real photographs and real clips with burned-in words whose place and time are known.

Used to measure the on-screen text path (the text gate in `metrics/text.py`, the OCR scheduling
and `search` end to end). Two disjoint splits, so a gate tuned on one is scored on the other:

- `tune`: fonts DejaVu Sans / Sans Mono and OpenCV's Hershey faces; styles plain white title,
  white with a drop shadow, white on a dark box, black on a light card, a translucent band;
  upright, present for the whole shot; photos from scikit-image and opencv-doc (set A); clip
  vtest.avi.
- `heldout`: fonts Liberation Sans / Serif / Sans Narrow, DejaVu Serif, Pillow's built-in
  font; styles outlined title, dark text on a bright picture, text on a busy picture,
  coloured text, lower third, scrolling ticker, small text (14-20 px high), rotated up to
  10 degrees, and words appearing mid-shot; other photos (set B) and clips Megamind.avi and
  tree.avi. Words are disjoint from the tuning words too.

Backgrounds move: a virtual camera pans/zooms over a photograph (`footage.CameraShot`) or
real clip frames play. Fonts missing on a machine fall back to Pillow's built-in scalable
font (always present), so the generator runs on a clean clone; which fonts were used is
recorded per shot.
"""

from __future__ import annotations

import functools
import os
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np

from videoforge.synth.footage import CameraShot, ClipShot, load_photo

OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"
_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation")

SPLITS = {
    "tune": {
        "fonts": ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSansMono-Bold.ttf",
                  "hershey:simplex", "hershey:duplex", "hershey:triplex"],
        "styles": ["title", "shadow", "box", "card", "band"],
        "photos": ["skimage:astronaut.png", "skimage:coffee.png", "skimage:chelsea.png", "skimage:rocket.jpg",
                   "skimage:camera.png", "opencv:baboon.jpg", "opencv:fruits.jpg", "opencv:building.jpg",
                   "opencv:home.jpg", "opencv:starry_night.jpg", "opencv:messi5.jpg"],
        "clips": ["vtest.avi"],
        "words": ["garden", "silver", "morning", "planet", "harbor", "winter", "castle", "forest", "rocket",
                  "meadow", "violin", "summit", "thunder", "pepper", "canyon", "marble", "orchid", "falcon",
                  "lantern", "glacier", "copper", "island", "velvet", "tunnel", "anchor", "prairie", "bridge",
                  "dolphin", "crystal", "timber", "saddle", "nectar", "orbit", "pirate", "quartz", "ribbon",
                  "shelter", "tomato", "vortex", "walnut", "yellow", "zipper", "bakery", "candle", "desert",
                  "engine", "fossil", "goblet", "hammer", "jungle"],
    },
    "heldout": {
        "fonts": ["LiberationSans-Bold.ttf", "LiberationSans-Regular.ttf", "LiberationSerif-Bold.ttf",
                  "LiberationSerif-Regular.ttf", "LiberationSansNarrow-Bold.ttf", "DejaVuSerif-Bold.ttf",
                  "DejaVuSansCondensed-Bold.ttf", "pillow:default"],
        "styles": ["outline", "bright", "busy", "colour", "lower_third", "ticker", "small", "rotated"],
        "photos": ["sklearn:china.jpg", "sklearn:flower.jpg", "skimage:hubble_deep_field.jpg", "skimage:gravel.png",
                   "skimage:immunohistochemistry.png", "opencv:aero1.jpg", "opencv:apple.jpg", "opencv:board.jpg",
                   "opencv:butterfly.jpg", "opencv:graf1.png", "opencv:orange.jpg", "opencv:smarties.png",
                   "opencv:squirrel_cls.jpg", "opencv:HappyFish.jpg", "opencv:basketball1.png", "opencv:stuff.jpg"],
        "clips": ["Megamind.avi", "tree.avi"],
        "words": ["mango", "beacon", "cobalt", "drummer", "ember", "feather", "gazette", "horizon", "igloo",
                  "jasmine", "kettle", "lagoon", "mosaic", "nimbus", "oyster", "paddle", "quiver", "raven",
                  "sparrow", "tango", "umbrella", "valley", "wizard", "yonder", "zephyr", "almond", "blossom",
                  "cricket", "dune", "eclipse", "fjord", "granite", "hazel", "ivory", "jigsaw", "kayak",
                  "lemon", "monsoon", "nutmeg", "olive", "parrot", "quilt", "rhubarb", "sunset", "trumpet",
                  "uplift", "vintage", "willow", "yogurt", "zenith", "atlas", "banjo", "cactus", "dragon",
                  "estuary", "fiesta", "gondola", "harvest", "inkwell", "juniper", "koala", "lobster",
                  "magnet", "novel", "opera", "pebble", "rodeo", "safari", "tulip", "voyage", "whistle",
                  "bison", "cinder", "domino", "elbow", "fable", "guitar", "hornet", "iceberg", "jersey"],
    },
}


def pseudo_words(rng: np.random.Generator, n: int, taken: set[str] | None = None) -> list[str]:
    """n distinct pronounceable non-words (2-3 consonant-vowel syllables, 4-9 letters): unique
    search targets that no dictionary (and no other generated set) holds."""
    cons, vows = "bcdfghjklmnprstvwz", "aeiou"
    taken = set(taken or ())
    out: list[str] = []
    while len(out) < n:
        w = "".join(str(rng.choice(list(cons))) + str(rng.choice(list(vows))) + (str(rng.choice(list(cons))) if rng.random() < 0.4 else "")
                    for _ in range(int(rng.integers(2, 4))))
        if 4 <= len(w) <= 9 and w not in taken:
            taken.add(w)
            out.append(w)
    return out


@dataclass
class TextShot:
    """Truth of one shot of a generated video (frames inclusive, times in s; word fields None = no text)."""

    shot_index: int
    start_frame: int
    end_frame: int
    background: str
    word: str | None = None          # as drawn (case varies)
    style: str | None = None
    font: str | None = None
    text_height: int | None = None   # px, height of the word's ink box when upright
    angle: float = 0.0
    text_start: int | None = None    # first frame (video index) showing the word
    text_end: int | None = None      # last frame showing it
    boxes: dict | None = None        # video frame index -> visible ink box (x0, y0, x1, y1) in px
    extra: list = field(default_factory=list)   # a second word of the shot (TextShot), when drawn


# -- pictures ---------------------------------------------------------------------------------------

def _photo_file(name: str) -> str | None:
    from videoforge.synth.footage import photo_path

    src, fname = name.split(":", 1)
    if src == "opencv":
        p = os.path.join(OPENCV_DATA, fname)
        return p if os.path.exists(p) else None
    return photo_path(name)


@functools.lru_cache(maxsize=64)
def load_picture(name: str, min_side: int = 720) -> np.ndarray:
    """RGB uint8 photograph, upscaled so its short side >= min_side (a camera can move over it)."""
    return load_photo(name, min_side, path=_photo_file(name) or "")


def available(split: str) -> dict:
    """The split's photos and clips that exist on this machine."""
    cfg = SPLITS[split]
    return {"photos": [p for p in cfg["photos"] if _photo_file(p)],
            "clips": [c for c in cfg["clips"] if os.path.exists(os.path.join(OPENCV_DATA, c))]}


@functools.lru_cache(maxsize=4)
def _clip_frames(name: str, max_frames: int = 400, width: int = 640) -> np.ndarray:
    import av

    out = []
    with av.open(os.path.join(OPENCV_DATA, name)) as c:
        for vf in c.decode(video=0):
            h = int(round(vf.height * width / vf.width)) // 2 * 2
            out.append(vf.to_ndarray(format="rgb24", width=width, height=h))
            if len(out) >= max_frames:
                break
    return np.stack(out)


def clip_runs(name: str, max_step: float = 12.0) -> list[tuple[int, int]]:
    """[start, end) runs of a clip with no cut of its own (mean change between frames < max_step levels)."""
    frames = _clip_frames(name)
    small = frames[:, ::8, ::8].astype(np.float32)
    step = np.abs(np.diff(small, axis=0)).mean(axis=(1, 2, 3))
    cuts = [0] + [i + 1 for i in np.flatnonzero(step >= max_step)] + [len(frames)]
    return [(a, b) for a, b in zip(cuts[:-1], cuts[1:]) if b - a >= 12]


def _clip_stretch(name: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Up to n consecutive frames inside one cut-free run of the clip (a shot never spans the
    source's own cuts; a run shorter than n makes a shorter shot)."""
    frames = _clip_frames(name)
    runs = clip_runs(name) or [(0, len(frames))]
    lengths = np.array([b - a for a, b in runs], float)
    a, b = runs[int(rng.choice(len(runs), p=lengths / lengths.sum()))]
    n = min(n, b - a)
    s = int(rng.integers(a, b - n + 1))
    return frames[s: s + n]


# -- words ------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=64)
def _ttf(font: str, size: int):
    from PIL import ImageFont

    if font != "pillow:default":
        for d in _FONT_DIRS:
            p = os.path.join(d, font)
            if os.path.exists(p):
                return ImageFont.truetype(p, size), font
    return ImageFont.load_default(size=size), "pillow:default"


def word_patch(word: str, font: str, height: int, fill, stroke=None, stroke_width: int = 0,
               shadow: bool = False, angle: float = 0.0) -> tuple[np.ndarray, str]:
    """RGBA patch of `word` whose ink is about `height` px high (before rotation), and the font used."""
    from PIL import Image, ImageDraw

    if font.startswith("hershey:"):
        face = {"simplex": cv2.FONT_HERSHEY_SIMPLEX, "duplex": cv2.FONT_HERSHEY_DUPLEX,
                "triplex": cv2.FONT_HERSHEY_TRIPLEX}[font.split(":")[1]]
        scale = height / 22.0   # Hershey capitals are ~22 px high at scale 1
        thick = max(1, int(round(height / 12)))
        (tw, th), base = cv2.getTextSize(word, face, scale, thick)
        pad = 4 + stroke_width + (3 if shadow else 0)
        rgba = np.zeros((th + base + 2 * pad, tw + 2 * pad, 4), np.uint8)
        org = (pad, pad + th)
        if shadow:
            cv2.putText(rgba, word, (org[0] + 3, org[1] + 3), face, scale, (0, 0, 0, 200), thick + 1, cv2.LINE_AA)
        if stroke_width:
            cv2.putText(rgba, word, org, face, scale, (*stroke, 255), thick + 2 * stroke_width, cv2.LINE_AA)
        layer = np.zeros_like(rgba)
        cv2.putText(layer, word, org, face, scale, (*fill, 255), thick, cv2.LINE_AA)
        a = layer[..., 3:].astype(np.float32) / 255
        rgba = (layer * a + rgba * (1 - a)).astype(np.uint8)
        rgba[..., 3] = np.maximum(rgba[..., 3], layer[..., 3])
        used = font
    else:
        # a font size whose ink height matches `height` for this word
        f, used = _ttf(font, 100)
        box = f.getbbox(word)
        size = max(6, int(round(100 * height / max(1, box[3] - box[1]))))
        f, used = _ttf(font, size)
        l, t, r, b = f.getbbox(word, stroke_width=stroke_width)
        pad = 4 + (3 if shadow else 0)
        img = Image.new("RGBA", (r - l + 2 * pad, b - t + 2 * pad), (0, 0, 0, 0))
        d = ImageDraw.Draw(img)
        if shadow:
            d.text((pad - l + 3, pad - t + 3), word, font=f, fill=(0, 0, 0, 200), stroke_width=stroke_width)
        d.text((pad - l, pad - t), word, font=f, fill=(*fill, 255), stroke_width=stroke_width,
               stroke_fill=(*stroke, 255) if stroke_width else None)
        rgba = np.asarray(img).copy()
    if angle:
        h, w = rgba.shape[:2]
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        cos, sin = abs(m[0, 0]), abs(m[0, 1])
        nw, nh = int(h * sin + w * cos) + 2, int(h * cos + w * sin) + 2
        m[0, 2] += nw / 2 - w / 2
        m[1, 2] += nh / 2 - h / 2
        rgba = cv2.warpAffine(rgba, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
    return rgba, used


def _backed(patch: np.ndarray, colour, alpha: int = 255, margin: int = 8) -> np.ndarray:
    """The patch on a rectangle of `colour` (a box, card, band or bar)."""
    h, w = patch.shape[:2]
    out = np.zeros((h + 2 * margin, w + 2 * margin, 4), np.uint8)
    out[..., :3] = colour
    out[..., 3] = alpha
    a = patch[..., 3:].astype(np.float32) / 255
    region = out[margin: margin + h, margin: margin + w]
    region[..., :3] = (patch[..., :3] * a + region[..., :3] * (1 - a)).astype(np.uint8)
    region[..., 3] = np.maximum(region[..., 3], patch[..., 3])
    return out


def composite(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> tuple[int, int, int, int] | None:
    """Alpha-blend `patch` onto `frame` at (x, y) in place; the visible ink box (x0, y0, x1, y1) or None."""
    H, W = frame.shape[:2]
    h, w = patch.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return None
    p = patch[y0 - y: y1 - y, x0 - x: x1 - x]
    a = p[..., 3:].astype(np.float32) / 255
    region = frame[y0:y1, x0:x1]
    region[:] = (p[..., :3] * a + region * (1 - a)).astype(np.uint8)
    ys, xs = np.nonzero(p[..., 3] > 64)
    if not len(xs):
        return None
    return int(x0 + xs.min()), int(y0 + ys.min()), int(x0 + xs.max() + 1), int(y0 + ys.max() + 1)


_COLOURS = [(230, 40, 40), (40, 200, 60), (250, 210, 20), (30, 200, 230), (230, 60, 210), (255, 140, 0), (90, 120, 255)]


def _style_patch(style: str, word: str, font: str, rng: np.random.Generator, W: int, H: int):
    """(RGBA patch, font used, ink height, angle, placement kind) for one style."""
    angle = 0.0
    if style == "title":
        h = int(rng.integers(H // 9, H // 5))
        p, used = word_patch(word, font, h, (255, 255, 255))
        return p, used, h, angle, "centre"
    if style == "shadow":
        h = int(rng.integers(H // 14, H // 7))
        p, used = word_patch(word, font, h, (255, 255, 255), shadow=True)
        return p, used, h, angle, "any"
    if style == "box":
        h = int(rng.integers(H // 18, H // 10))
        p, used = word_patch(word, font, h, (255, 255, 255))
        return _backed(p, (20, 20, 20)), used, h, angle, "bottom"
    if style == "card":
        h = int(rng.integers(H // 16, H // 8))
        p, used = word_patch(word, font, h, (10, 10, 10))
        return _backed(p, (235, 235, 225), margin=12), used, h, angle, "any"
    if style == "band":
        h = int(rng.integers(H // 16, H // 9))
        p, used = word_patch(word, font, h, (255, 255, 255))
        return _backed(p, (0, 0, 0), alpha=140, margin=10), used, h, angle, "bottom"
    # -- held-out styles
    if style == "outline":
        h = int(rng.integers(H // 10, H // 5))
        fill = (255, 255, 255) if rng.random() < 0.5 else tuple(int(c) for c in _COLOURS[rng.integers(len(_COLOURS))])
        p, used = word_patch(word, font, h, fill, stroke=(0, 0, 0), stroke_width=max(2, h // 14))
        return p, used, h, angle, "centre"
    if style == "bright":
        h = int(rng.integers(H // 14, H // 6))
        p, used = word_patch(word, font, h, (20, 20, 40) if rng.random() < 0.7 else (120, 0, 0))
        return p, used, h, angle, "any"
    if style == "busy":
        h = int(rng.integers(H // 14, H // 6))
        p, used = word_patch(word, font, h, (255, 255, 255) if rng.random() < 0.6 else (0, 0, 0))
        return p, used, h, angle, "any"
    if style == "colour":
        h = int(rng.integers(H // 14, H // 6))
        p, used = word_patch(word, font, h, tuple(int(c) for c in _COLOURS[rng.integers(len(_COLOURS))]))
        return p, used, h, angle, "any"
    if style == "lower_third":
        h = int(rng.integers(H // 20, H // 12))
        p, used = word_patch(word, font, h, (255, 255, 255))
        bar = tuple(int(c) for c in _COLOURS[rng.integers(len(_COLOURS))])
        return _backed(p, tuple(int(c * 0.6) for c in bar), margin=int(rng.integers(6, 14))), used, h, angle, "lower_left"
    if style == "ticker":
        h = int(rng.integers(H // 22, H // 14))
        p, used = word_patch(word, font, h, (255, 255, 255))
        return p, used, h, angle, "ticker"
    if style == "small":
        h = int(rng.integers(14, 21))
        fill = (255, 255, 255) if rng.random() < 0.5 else (255, 255, 0)
        p, used = word_patch(word, font, h, fill, shadow=rng.random() < 0.5)
        if rng.random() < 0.5:
            p = _backed(p, (10, 10, 10), alpha=200, margin=4)
        return p, used, h, angle, "any"
    if style == "rotated":
        h = int(rng.integers(H // 14, H // 7))
        angle = float(rng.uniform(3, 10) * rng.choice([-1, 1]))
        p, used = word_patch(word, font, h, (255, 255, 255) if rng.random() < 0.5 else (255, 230, 0),
                             stroke=(0, 0, 0), stroke_width=1 if rng.random() < 0.5 else 0, angle=angle)
        return p, used, h, angle, "any"
    raise ValueError(f"unknown text style {style!r}")


def _brighten(img: np.ndarray) -> np.ndarray:
    """A bright version of a picture (sky, snow, a lit wall): the 'bright background' style."""
    return (255 - (255 - img.astype(np.float32)) * 0.35).astype(np.uint8)


@dataclass
class _Layer:
    """One word to draw over a shot: its patch, where, from which frame to which, how it moves."""

    patch: np.ndarray
    x: int
    y: int
    place: str
    a: int
    b: int
    speed: float
    truth: TextShot

    def rect(self, W: int) -> tuple[int, int, int, int]:
        """The area this word may cover (a ticker: its whole bar)."""
        ph, pw = self.patch.shape[:2]
        if self.place == "ticker":
            return 0, self.y - 4, W, self.y + ph + 4
        return self.x, self.y, self.x + pw, self.y + ph

    def draw(self, img: np.ndarray, k: int, frame_index: int) -> None:
        if not self.a <= k <= self.b:
            return
        ph = self.patch.shape[0]
        if self.place == "ticker":   # a full-width bar, the word scrolling right to left through it
            img[self.y - 4: self.y + ph + 4] = (img[self.y - 4: self.y + ph + 4] * 0.25).astype(np.uint8)
            box = composite(img, self.patch, int(self.x - self.speed * (k - self.a)), self.y)
        else:
            box = composite(img, self.patch, self.x, self.y)
        if box is not None:
            t = self.truth
            t.boxes = t.boxes or {}
            t.boxes[frame_index] = box
            t.text_start = frame_index if t.text_start is None else t.text_start
            t.text_end = frame_index


def _overlaps(r, others, margin: int = 10) -> bool:
    return any(r[0] < o[2] + margin and o[0] < r[2] + margin and r[1] < o[3] + margin and o[1] < r[3] + margin
               for o in others)


def _make_layer(style: str, word: str, cfg: dict, rng: np.random.Generator, W: int, H: int, n: int, fps: float,
                mid_p: float, src, truth: TextShot, case_mix: bool, avoid=()) -> _Layer | None:
    """Draw a word's font, look, place and time from `rng` (this order of draws is part of every
    recorded set's identity: do not reorder). With `avoid`, a place clear of those rectangles is
    searched (a second word of a shot); None when there is none."""
    if case_mix:
        word = [word.upper(), word.capitalize(), word.lower()][int(rng.integers(3))]
    font = str(rng.choice(cfg["fonts"]))
    patch, used, height, angle, place = _style_patch(style, word, font, rng, W, H)
    ph, pw = patch.shape[:2]
    for attempt in range(20 if avoid else 1):
        if place == "centre":
            x, y = (W - pw) // 2 + int(rng.integers(-W // 10, W // 10 + 1)), (H - ph) // 2 + int(rng.integers(-H // 8, H // 8 + 1))
        elif place == "bottom":
            x, y = (W - pw) // 2, int(H * 0.92) - ph
        elif place == "lower_left":
            x, y = int(W * rng.uniform(0.03, 0.1)), int(H * rng.uniform(0.72, 0.82))
        elif place == "ticker":
            x, y = W, H - ph - 6
        else:
            x, y = int(rng.uniform(0.02, 0.98) * max(1, W - pw)), int(rng.uniform(0.05, 0.95) * max(1, H - ph))
        if place != "ticker":
            x = min(max(x, 0), max(0, W - pw))
        y = min(max(y, 0), max(0, H - ph))
        if not avoid:
            break
        r = (0, y - 4, W, y + ph + 4) if place == "ticker" else (x, y, x + pw, y + ph)
        if not _overlaps(r, avoid):
            break
        if style == "ticker":
            return None     # a ticker's bar cannot move
        if attempt >= 7 and place in ("centre", "lower_left", "bottom"):
            place = "any"   # the usual place stays taken: anywhere clear
    else:
        return None
    a, b = 0, n - 1
    if rng.random() < mid_p:
        a = int(n * rng.uniform(0.3, 0.55))
        b = n - 1 if rng.random() < 0.5 else min(n - 1, a + max(int(fps * 1.0), int(n * rng.uniform(0.25, 0.4))))
    if style == "busy":   # a title is drawn to be read: its colour against the picture under it
        first = src.render(a)[y: y + ph, max(0, x): x + pw].astype(np.float32)
        luma = float((first @ np.float32([0.299, 0.587, 0.114])).mean()) if first.size else 128.0
        patch, used = word_patch(word, used, height, (255, 255, 255) if luma < 128 else (0, 0, 0))
        ph, pw = patch.shape[:2]
        x, y = min(max(x, 0), max(0, W - pw)), min(max(y, 0), max(0, H - ph))
    truth.word, truth.style, truth.font, truth.text_height, truth.angle = word, style, used, height, angle
    speed = max(2.0, (W + pw) / max(1, (b - a + 1)) * 0.8) if place == "ticker" else 0.0
    return _Layer(patch, x, y, place, a, b, speed, truth)


# styles a second word of a shot can take: over a brightened picture only dark text or text on its own bar
_SECOND_ON_BRIGHT = ("bright", "lower_third", "ticker")


def make_text_video(path: str, split: str, seed: int, shots: int = 5, size=(640, 360), fps: float = 25.0,
                    shot_seconds=(2.0, 4.0), text_prob: float = 0.7, mid_shot_prob: float | None = None,
                    words: list[str] | None = None, case_mix: bool = True,
                    second_word_prob: float = 0.0) -> list[TextShot]:
    """Write an H.264 video of `shots` hard-cut shots over real pictures/clips; returns per-shot truth.

    A shot carries one word with probability `text_prob`. In the held-out split a share
    (`mid_shot_prob`, default 0.35) of the words appear mid-shot and may leave before the
    cut. `words` (drawn without replacement) defaults to the split's list. A shot with a word
    gets a second word (another style of the split, placed clear of the first, with its own
    time) with probability `second_word_prob`; its truth is in the shot's `extra`. The second
    words draw from their own random stream, so `second_word_prob=0` gives the very videos
    earlier versions made for the same arguments.
    """
    from videoforge.io.encode import write_video

    cfg = SPLITS[split]
    rng = np.random.default_rng(seed)
    rng2 = np.random.default_rng([seed, 2]) if second_word_prob > 0 else None
    W, H = size
    have = available(split)
    pool = list(words if words is not None else cfg["words"])
    rng.shuffle(pool)
    mid_p = (0.35 if split == "heldout" else 0.0) if mid_shot_prob is None else mid_shot_prob
    frames: list[np.ndarray] = []
    truth: list[TextShot] = []
    last_bg = None
    for si in range(shots):
        n = int(round(rng.uniform(*shot_seconds) * fps))
        style = str(rng.choice(cfg["styles"]))
        # consecutive shots from different sources: every cut is a real cut
        clips = [c for c in have["clips"] if c != last_bg]
        use_clip = bool(clips) and rng.random() < 0.3 and style != "bright"
        bg = str(rng.choice(clips if use_clip else [p for p in have["photos"] if p != last_bg]))
        last_bg = bg
        if use_clip:
            seg = _clip_stretch(bg, n, rng)
            n = len(seg)
            src = ClipShot(seg, W, H)
        else:
            pic = load_picture(bg)
            if style == "bright":
                pic = _brighten(pic)
            src = CameraShot(pic, W, H, rng)
        t = TextShot(si, len(frames), len(frames) + n - 1, bg)
        layers: list[_Layer] = []
        if pool and rng.random() < text_prob:
            layers.append(_make_layer(style, pool.pop(), cfg, rng, W, H, n, fps, mid_p, src, t, case_mix))
            if rng2 is not None and pool and rng2.random() < second_word_prob:
                choices = [s for s in (_SECOND_ON_BRIGHT if style == "bright" else cfg["styles"])
                           if s != "bright" or style == "bright"]
                choices = [s for s in choices if s != style or s == "bright"] or choices
                t2 = TextShot(si, t.start_frame, t.end_frame, bg)
                lay = _make_layer(str(rng2.choice(choices)), pool.pop(), cfg, rng2, W, H, n, fps, mid_p, src, t2,
                                  case_mix, avoid=[layers[0].rect(W)])
                if lay is not None:
                    layers.append(lay)
                    t.extra.append(t2)
        for k in range(n):
            img = np.ascontiguousarray(src.render(k))
            for lay in layers:
                lay.draw(img, k, len(frames))
            frames.append(img)
        truth.append(t)
    write_video(path, frames, fps=fps)
    return truth


def truth_json(truth: list[TextShot]) -> list[dict]:
    return [asdict(t) for t in truth]
