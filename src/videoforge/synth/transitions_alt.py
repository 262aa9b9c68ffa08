"""A second labelled-transition generator, written apart from `synth/transitions.py` (issue 19).

The shot model is trained on `synth.transitions` videos; its earlier held-out figure came
from the same code with other settings. This module shares none of that code (nor
`synth.footage`): its own footage, camera paths, easing curves, wipe shapes, fade colours,
durations, distractors, frame rates and codecs, so a held-out set made here tests what
transfers.

* Footage the model's training never used: OpenCV's sample photographs (opencv-doc) under a
  rotating/zooming/drifting camera, stretches of OpenCV's sample clips (vtest.avi, the
  Megamind.avi shots), and "plasma" scenes (moving sinusoid colour fields with drifting
  bars) -- none of them in `synth.footage`.
* Transitions (durations 6-60 frames): cut; dissolve with an easing curve; fade to / from /
  through / dipping via black, white or a random colour; wipes shaped diagonal (any angle),
  radial (iris opening or closing about a random centre), clock (an angular sweep) and
  barn door (opening or closing, horizontal or vertical), with soft or hard edges.
* Easing curves: smoothstep, cubic ease-in, quadratic ease-out, sine, logistic, and quintic
  smootherstep (no linear ramp, which is what the training generator uses).
* In-shot distractors (not boundaries): coloured flashes, brightness flicker, a punch-in zoom,
  an occluder passing close to the lens.

Truth conventions are the project's: inclusive frame ranges; a cut is start == end == the
first frame of the new shot; a gradual transition covers every frame that is neither pure
old nor pure new shot (held colour frames of a fade included).

    python -m videoforge.synth.transitions_alt --out DIR --videos 6 --seed 1
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass

import cv2
import numpy as np

OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"
ALT_PHOTOS = ["baboon.jpg", "fruits.jpg", "building.jpg", "messi5.jpg", "starry_night.jpg", "home.jpg",
              "orange.jpg", "butterfly.jpg", "graf1.png", "aero1.jpg", "leuvenA.jpg", "aloeL.jpg",
              "rubberwhale1.png", "squirrel_cls.jpg", "smarties.png", "apple.jpg", "stuff.jpg", "board.jpg",
              "chicky_512.png", "lena.jpg", "HappyFish.jpg", "basketball1.png", "box_in_scene.png"]
# cut-free stretches of OpenCV's sample clips: (file, first frame, last frame), decoded indices
ALT_CLIPS = [("vtest.avi", 0, 794), ("Megamind.avi", 1, 97), ("Megamind.avi", 98, 153),
             ("Megamind.avi", 154, 199), ("Megamind.avi", 200, 269)]

EASINGS = {
    "smoothstep": lambda p: p * p * (3 - 2 * p),
    "cubic_in": lambda p: p ** 3,
    "quad_out": lambda p: 1 - (1 - p) ** 2,
    "sine": lambda p: 0.5 - 0.5 * np.cos(np.pi * p),
    "logistic": lambda p: (1 / (1 + np.exp(-12 * (p - 0.5))) - 1 / (1 + np.exp(6))) / (1 - 2 / (1 + np.exp(6))),
    "smootherstep": lambda p: p ** 3 * (p * (6 * p - 15) + 10),
}
WIPE_SHAPES = ("diagonal", "radial", "clock", "barn_door")
FADE_STYLES = ("through", "dip", "out", "in")


@dataclass
class AltSettings:
    width: int = 512
    height: int = 288
    fps: float = 30.0
    shots: int = 16
    shot_len: tuple[int, int] = (14, 120)
    gradual_len: tuple[int, int] = (6, 60)
    kind_p: tuple[float, float, float, float] = (0.34, 0.22, 0.2, 0.24)   # cut, dissolve, fade, wipe
    distractor_rate: float = 0.5
    codec: str = "libx264"
    crf: int = 24
    motion: bool = True          # False: still pictures, no distractors (tests check the truth exactly)


# -- footage ---------------------------------------------------------------------------------
def _cover(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """Scale (keeping aspect) so the picture covers w x h at least 1.5x, for camera moves."""
    s = 1.5 * max(w / img.shape[1], h / img.shape[0])
    return cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_CUBIC if s > 1 else cv2.INTER_AREA)


class PhotoCamera:
    """A camera that rotates, zooms and drifts over a still photograph."""

    def __init__(self, img: np.ndarray, w: int, h: int, rng: np.random.Generator, motion: bool):
        self.img, self.w, self.h = _cover(img, w, h), w, h
        ih, iw = self.img.shape[:2]
        self.c = np.array([iw / 2, ih / 2]) + rng.uniform(-0.12, 0.12, 2) * [iw, ih]
        m = 1.0 if motion else 0.0
        self.drift = m * rng.uniform(-1.2, 1.2, 2)
        self.spin = m * rng.uniform(-0.15, 0.15)            # degrees per frame
        self.zoom0 = rng.uniform(1.0, 1.25)
        self.zoom_rate = m * rng.uniform(-0.0025, 0.0025)
        self.punch: tuple[int, int] | None = None            # punch-in zoom distractor (start, length)

    def frame(self, t: int) -> np.ndarray:
        z = self.zoom0 * (1 + self.zoom_rate * t)
        if self.punch and self.punch[0] <= t:
            k = min(t - self.punch[0], self.punch[1]) / self.punch[1]
            z *= 1 + 0.35 * k
        cx, cy = self.c + self.drift * t
        m = cv2.getRotationMatrix2D((float(cx), float(cy)), self.spin * t, z)
        m[:, 2] += [self.w / 2 - cx, self.h / 2 - cy]
        return cv2.warpAffine(self.img, m, (self.w, self.h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


class ClipStretch:
    """Consecutive frames of a real sample clip, played from a random point of a cut-free stretch."""

    def __init__(self, frames: list[np.ndarray], w: int, h: int, rng: np.random.Generator, need: int):
        start = int(rng.integers(0, max(1, len(frames) - need)))
        self.frames = frames[start:]
        self.w, self.h = w, h

    def frame(self, t: int) -> np.ndarray:
        f = self.frames[min(t, len(self.frames) - 1)]    # holds the last frame if the stretch runs out
        fh, fw = f.shape[:2]
        s = max(self.w / fw, self.h / fh)
        f = cv2.resize(f, (int(np.ceil(fw * s)), int(np.ceil(fh * s))), interpolation=cv2.INTER_AREA)
        y0, x0 = (f.shape[0] - self.h) // 2, (f.shape[1] - self.w) // 2
        return np.ascontiguousarray(f[y0:y0 + self.h, x0:x0 + self.w])


class Plasma:
    """Moving sinusoid colour fields with a few drifting bars: a procedural scene unlike the
    training generator's (smooth noise + shapes)."""

    def __init__(self, w: int, h: int, rng: np.random.Generator, motion: bool):
        self.w, self.h = w, h
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        self.xs, self.ys = xs / w, ys / h
        self.k = rng.uniform(2, 9, (3, 2)).astype(np.float32)
        self.ph = rng.uniform(0, 2 * np.pi, 3).astype(np.float32)
        self.speed = (rng.uniform(0.03, 0.12, 3) if motion else np.zeros(3)).astype(np.float32)
        self.pal = rng.uniform(30, 225, (3, 3)).astype(np.float32)
        self.bars = [(rng.uniform(0, 1), rng.uniform(0.02, 0.08), rng.uniform(-0.01, 0.01) * motion,
                      rng.uniform(0, 255, 3)) for _ in range(int(rng.integers(1, 5)))]

    def frame(self, t: int) -> np.ndarray:
        out = np.zeros((self.h, self.w, 3), np.float32)
        for i in range(3):
            v = 0.5 + 0.5 * np.sin(self.k[i, 0] * self.xs * 2 * np.pi + self.k[i, 1] * self.ys * 2 * np.pi
                                   + self.ph[i] + self.speed[i] * t)
            out += v[..., None] * self.pal[i] / 1.5
        for x0, bw, vx, col in self.bars:
            x = ((x0 + vx * t) % 1.0) * self.w
            out[:, int(x):int(x + bw * self.w)] = col
        return np.clip(out, 0, 255).astype(np.uint8)


class Footage:
    """Draws shot sources; each source is used at most once per video where the pool allows."""

    def __init__(self, s: AltSettings, rng: np.random.Generator):
        self.s, self.rng = s, rng
        self.photos = [p for p in ALT_PHOTOS if os.path.exists(os.path.join(OPENCV_DATA, p))]
        self.clips = [c for c in ALT_CLIPS if os.path.exists(os.path.join(OPENCV_DATA, c[0]))] if s.motion else []
        self._clip_cache: dict[str, list[np.ndarray]] = {}

    def _clip(self, name: str) -> list[np.ndarray]:
        if name not in self._clip_cache:
            import av

            with av.open(os.path.join(OPENCV_DATA, name)) as c:
                self._clip_cache[name] = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
        return self._clip_cache[name]

    def shot(self, need: int):
        r, s = self.rng, self.s
        u = r.random()
        if self.clips and u < 0.3:
            name, a, b = self.clips[int(r.integers(0, len(self.clips)))]
            return ClipStretch(self._clip(name)[a:b + 1], s.width, s.height, r, need), f"clip:{name}:{a}"
        if self.photos and u < 0.8:
            name = self.photos[int(r.integers(0, len(self.photos)))]
            img = cv2.cvtColor(cv2.imread(os.path.join(OPENCV_DATA, name), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
            return PhotoCamera(img, s.width, s.height, r, s.motion), f"photo:{name}"
        return Plasma(s.width, s.height, r, s.motion), "plasma"


# -- transitions -----------------------------------------------------------------------------
def wipe_field(shape: str, w: int, h: int, rng: np.random.Generator) -> np.ndarray:
    """(h, w) float32 in [0, 1]: the progress value at which each pixel switches to the new shot."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = xs / (w - 1) - 0.5, (ys / (h - 1) - 0.5) * h / w
    if shape == "diagonal":
        a = rng.uniform(0, 2 * np.pi)
        f = x * np.cos(a) + y * np.sin(a)
    elif shape == "radial":
        cx, cy = rng.uniform(-0.3, 0.3), rng.uniform(-0.15, 0.15) * h / w
        f = np.hypot(x - cx, y - cy)
        if rng.random() < 0.5:      # iris closing onto the new shot from the edges
            f = -f
    elif shape == "clock":
        a0 = rng.uniform(0, 2 * np.pi)
        f = np.mod(np.arctan2(y, x) - a0, 2 * np.pi)
        if rng.random() < 0.5:
            f = -f
    elif shape == "barn_door":
        f = np.abs(x) if rng.random() < 0.5 else np.abs(y)
        if rng.random() < 0.5:      # doors closing from both sides instead of opening from the centre
            f = -f
    else:
        raise ValueError(shape)
    f = f - f.min()
    return (f / max(1e-6, float(f.max()))).astype(np.float32)


def wipe_mask(field: np.ndarray, p: float, soft: float) -> np.ndarray:
    """Share of the new shot per pixel at progress p in (0, 1) with edge width `soft`."""
    q = -soft / 2 + p * (1 + soft)
    if soft <= 0:
        return (field < q).astype(np.float32)
    return np.clip((q - field) / soft + 0.5, 0, 1)


def _mix(a: np.ndarray, b: np.ndarray | float, m) -> np.ndarray:
    m = m[..., None] if isinstance(m, np.ndarray) and m.ndim == 2 else m
    return np.clip(a.astype(np.float32) * (1 - m) + np.asarray(b, np.float32) * m + 0.5, 0, 255).astype(np.uint8)


# -- the video ---------------------------------------------------------------------------------
def generate(path: str, seed: int, s: AltSettings | None = None) -> dict:
    """Write a labelled video to `path` and its truth to `path` with .json. Returns the truth."""
    from videoforge.io.encode import write_video

    s = s or AltSettings()
    rng = np.random.default_rng([seed, 2])
    foot = Footage(s, rng)
    kinds = ("cut", "dissolve", "fade", "wipe")
    truth = {"video": os.path.basename(path), "generator": "synth.transitions_alt", "seed": seed, "fps": s.fps,
             "width": s.width, "height": s.height, "codec": s.codec, "transitions": [], "distractors": []}
    frames: list[np.ndarray] = []

    def distract(src, n: int, start_frame: int):
        """Per-shot distractor plan: frame filters keyed by local time (and the punch-in zoom)."""
        out = {}
        if not s.motion:
            return out
        for _ in range(int(rng.poisson(s.distractor_rate))):
            kind = str(rng.choice(["colour_flash", "flicker", "punch_in", "occluder"]))
            if kind == "punch_in" and not isinstance(src, PhotoCamera):
                kind = "flicker"
            length = {"colour_flash": int(rng.integers(1, 3)), "flicker": int(rng.integers(4, 12)),
                      "punch_in": int(rng.integers(6, 11)), "occluder": int(rng.integers(6, 16))}[kind]
            if n < length + 6:
                continue
            t0 = int(rng.integers(3, n - length - 2))
            truth["distractors"].append({"kind": kind, "start_frame": start_frame + t0,
                                         "end_frame": start_frame + t0 + length - 1})
            if kind == "punch_in":
                src.punch = (t0, length)
                continue
            col = rng.uniform(0, 255, 3)
            amp = rng.uniform(0.1, 0.25)
            for k in range(length):
                out[t0 + k] = (kind, k, length, col, amp)
        return out

    def apply(img: np.ndarray, ev) -> np.ndarray:
        if ev is None:
            return img
        kind, k, length, col, amp = ev
        if kind == "colour_flash":
            return _mix(img, col, 0.75 - 0.3 * k)
        if kind == "flicker":
            return np.clip(img.astype(np.float32) * (1 + amp * (1 if k % 2 else -1)), 0, 255).astype(np.uint8)
        # occluder: a dark soft blob crossing the frame close to the lens
        h, w = img.shape[:2]
        cx = (k + 0.5) / length * 1.6 - 0.3
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        m = np.clip(1.2 - np.hypot(xs / w - cx, ys / h - 0.6) / 0.35, 0, 1)
        return _mix(img, col * 0.2, m * 0.95)

    # plan: shots and the transitions between them
    shots = []
    for i in range(s.shots):
        n = int(rng.integers(*s.shot_len))
        kind = str(rng.choice(kinds, p=np.asarray(s.kind_p) / sum(s.kind_p))) if i else None
        dur = int(rng.integers(s.gradual_len[0], s.gradual_len[1] + 1))
        shots.append((n, kind, dur))
    src, name = foot.shot(shots[0][0] + 70)
    t_local = 0                                           # next local time of the current source
    ev = distract(src, shots[0][0], 0)
    for _ in range(shots[0][0]):
        frames.append(apply(src.frame(t_local), ev.get(t_local)))
        t_local += 1
    for i in range(1, s.shots):
        n, kind, dur = shots[i]
        nxt, nname = foot.shot(n + dur + 70)
        while nname == name and nname != "plasma":      # a transition joins two different sources
            nxt, nname = foot.shot(n + dur + 70)
        start = len(frames)
        ease_name = str(rng.choice(list(EASINGS)))
        ease = EASINGS[ease_name]
        rec = {"kind": kind, "start_frame": start, "end_frame": start, "duration": dur, "easing": ease_name}
        tb = 0                                          # next local time of the new source
        if kind == "cut":
            rec.update(easing=None, duration=0)
        elif kind == "dissolve":
            for j in range(dur):
                p = float(ease((j + 1) / (dur + 1)))
                frames.append(_mix(src.frame(t_local + j), nxt.frame(j), p))
            tb = dur
        elif kind == "wipe":
            shape = str(rng.choice(WIPE_SHAPES))
            soft = float(rng.choice([0.0, rng.uniform(0.02, 0.15)]))
            fld = wipe_field(shape, s.width, s.height, rng)
            for j in range(dur):
                p = float(ease((j + 1) / (dur + 1)))
                frames.append(_mix(src.frame(t_local + j), nxt.frame(j), wipe_mask(fld, p, soft)))
            tb = dur
            rec.update(style=shape, edge=round(soft, 3))
        else:   # fade via a colour: black, white or any colour
            style = str(rng.choice(FADE_STYLES))
            c = str(rng.choice(["black", "white", "colour"], p=[0.4, 0.3, 0.3]))
            col = {"black": np.zeros(3), "white": np.full(3, 255.0)}.get(c, rng.uniform(0, 255, 3))
            hold = int(rng.integers(0, 9))
            if style == "dip":            # cross-fade through the colour, no held frames
                half = max(3, dur // 2)
                for j in range(half):
                    frames.append(_mix(src.frame(t_local + j), col, float(ease((j + 1) / (half + 1)))))
                frames.append(_mix(src.frame(t_local + half), col, 1.0))
                rest = max(3, dur - half - 1)
                for j in range(rest):
                    frames.append(_mix(nxt.frame(j), col, 1 - float(ease((j + 1) / (rest + 1)))))
                tb = rest
            else:
                lo = {"through": max(3, dur // 2), "out": dur, "in": 0}[style]
                for j in range(lo):         # the last frame of the ramp is the pure colour
                    frames.append(_mix(src.frame(t_local + j), col, float(ease((j + 1) / lo))))
                for _ in range(hold if style == "through" else min(hold, 3)):
                    frames.append(_mix(frames[-1] if lo else src.frame(t_local), col, 1.0))
                li = {"through": max(3, dur - dur // 2), "out": 0, "in": dur}[style]
                if style == "in":
                    frames.append(_mix(nxt.frame(0), col, 1.0))
                for j in range(li):
                    frames.append(_mix(nxt.frame(j), col, 1 - float(ease((j + 1) / (li + 1)))))
                tb = li
            rec.update(style=f"{style}_{c}", colour=[int(v) for v in col], hold=hold)
        rec["end_frame"] = len(frames) - 1 if kind != "cut" else start
        truth["transitions"].append(rec)
        src, name, t_local = nxt, nname, tb
        ev = distract(src, n, len(frames))
        for k in range(n):
            frames.append(apply(src.frame(t_local), ev.get(k)))
            t_local += 1
    truth["frames"] = len(frames)
    opts = {} if s.codec in ("libx264", "libx265") else {"b": "2500k"}
    write_video(path, frames, fps=s.fps, codec=s.codec, crf=s.crf if s.codec == "libx264" else None, options=opts)
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        json.dump(truth, f, indent=1)
    return truth


def heldout2_settings(seed: int) -> AltSettings:
    """The frozen held-out preset: sizes, rates and codecs vary by seed."""
    r = np.random.default_rng([seed, 7])
    w, h = [(512, 288), (640, 360), (480, 270)][int(r.integers(0, 3))]
    return AltSettings(width=w, height=h, fps=float(r.choice([24.0, 25.0, 30.0])), shots=int(r.integers(18, 24)),
                       codec=str(r.choice(["libx264", "mpeg4"])), crf=int(r.integers(18, 30)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write labelled transition videos from the second generator.")
    ap.add_argument("--out", required=True)
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    for k in range(a.videos):
        seed = a.seed + k
        t = generate(os.path.join(a.out, f"alt_{seed:05d}.mp4"), seed, heldout2_settings(seed))
        print(f"alt_{seed:05d}.mp4 frames={t['frames']} transitions={len(t['transitions'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
