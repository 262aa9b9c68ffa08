"""Synthetic shots with known truth for the search tests and benchmarks (no downloads; a test
helper, so it lives under tests/ — benchmarks put tests/ on sys.path to share it).

Each video has its own small colour palette, so shots of one video look alike in colour
and a query must be told apart by layout and texture too, not by colour alone. Every
shot is a random scene (gradient, low-frequency noise, shapes) seen through a slowly
panning window, so the frames of a shot differ from its keyframes. Text can be drawn
on chosen shots, large enough for OCR.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np


@dataclass
class ShotTruth:
    video: str
    shot_index: int
    start_frame: int
    end_frame: int      # inclusive
    start_time: float   # s
    end_time: float     # s, exclusive
    text: str | None


def _palette(rng: np.random.Generator, n: int = 4) -> np.ndarray:
    import cv2

    hues = (rng.uniform(0, 180) + rng.uniform(-25, 25, n)) % 180   # one hue family per video
    hsv = np.stack([hues, rng.uniform(60, 255, n), rng.uniform(50, 255, n)], 1).astype(np.uint8)[None]
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)[0].astype(np.float32)


def scene(rng: np.random.Generator, palette: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8 RGB random scene drawn from `palette`."""
    import cv2

    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ang = rng.uniform(0, 2 * np.pi)
    t = (np.cos(ang) * xx / w + np.sin(ang) * yy / h)
    t = (t - t.min()) / max(float(np.ptp(t)), 1e-6)
    a, b = palette[rng.choice(len(palette), 2, replace=False)]
    img = a[None, None] * (1 - t[..., None]) + b[None, None] * t[..., None]
    noise = cv2.resize(rng.normal(0, 1, (max(2, h // 24), max(2, w // 24))).astype(np.float32), (w, h),
                       interpolation=cv2.INTER_CUBIC)
    img += 25 * noise[..., None]
    img = np.clip(img, 0, 255).astype(np.uint8).copy()
    for _ in range(int(rng.integers(4, 10))):
        col = tuple(int(c) for c in np.clip(palette[rng.integers(len(palette))] + rng.normal(0, 30, 3), 0, 255))
        cx, cy = int(rng.uniform(0, w)), int(rng.uniform(0, h))
        r = int(rng.uniform(0.05, 0.25) * min(h, w))
        kind = rng.integers(3)
        if kind == 0:
            cv2.circle(img, (cx, cy), r, col, -1, cv2.LINE_AA)
        elif kind == 1:
            cv2.rectangle(img, (cx - r, cy - r // 2), (cx + r, cy + r // 2), col, -1)
        else:
            cv2.ellipse(img, (cx, cy), (r, max(2, r // 3)), float(rng.uniform(0, 180)), 0, 360, col, -1, cv2.LINE_AA)
    # A stripe texture in one region: gradients, not only colour, must tell shots apart.
    x0, y0 = int(rng.uniform(0, w * 0.6)), int(rng.uniform(0, h * 0.6))
    period = int(rng.integers(4, 12))
    stripes = ((np.arange(w // 3)[None, :] + np.arange(h // 3)[:, None] * rng.integers(0, 2)) // period) % 2
    region = img[y0 : y0 + h // 3, x0 : x0 + w // 3]
    region[stripes[: region.shape[0], : region.shape[1]] == 1] //= 2
    return img


def draw_text(img: np.ndarray, text: str) -> np.ndarray:
    """Large white text on a dark box across the lower middle of an RGB frame (in place)."""
    import cv2

    h, w = img.shape[:2]
    scale = w / 320.0
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.2 * scale, max(1, int(2 * scale)))
    x, y = max(2, (w - tw) // 2), int(h * 0.62)
    cv2.rectangle(img, (x - 6, y - th - 8), (x + tw + 6, y + base + 6), (20, 20, 20), -1)
    cv2.putText(img, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2 * scale, (255, 255, 255), max(1, int(2 * scale)), cv2.LINE_AA)
    return img


def title_card(rng: np.random.Generator, palette: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h, w, 3) uint8 RGB plain gradient background with one soft shape, as behind a title or caption."""
    import cv2

    a, b = palette[rng.choice(len(palette), 2, replace=False)] * 0.6
    t = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    img = np.repeat((a * (1 - t) + b * t), h, axis=0).astype(np.uint8).copy()
    cv2.circle(img, (int(rng.uniform(0, w)), int(rng.uniform(0, h * 0.4))), int(0.15 * min(h, w)),
               tuple(int(c) for c in palette[rng.integers(len(palette))]), -1, cv2.LINE_AA)
    return img


def shot_frames(rng: np.random.Generator, palette: np.ndarray, n: int, h: int, w: int,
                text: str | None = None, card: bool = False) -> list[np.ndarray]:
    """`n` RGB frames of one shot: a window panning slowly over a larger random scene (or a title card)."""
    big = (title_card if card else scene)(rng, palette, int(h * 1.25), int(w * 1.25))
    dx, dy = big.shape[1] - w, big.shape[0] - h
    x0, y0 = rng.uniform(0, dx * 0.3), rng.uniform(0, dy * 0.3)
    vx, vy = rng.uniform(0.3, 0.7) * dx / max(n, 1), rng.uniform(0.0, 0.5) * dy / max(n, 1)
    out = []
    for i in range(n):
        x, y = int(x0 + vx * i), int(y0 + vy * i)
        f = big[y : y + h, x : x + w].copy()
        out.append(draw_text(f, text) if text else f)
    return out


def make_video(path: str | os.PathLike, seed: int, shots: int = 4, frames_per_shot: int = 25,
               size: tuple[int, int] = (160, 96), fps: float = 25.0,
               texts: dict[int, str] | None = None, title_cards: bool = False) -> list[ShotTruth]:
    """Write an H.264 video of `shots` hard-cut shots; returns the truth per shot.

    `title_cards`: shots with text get a plain background (a title card) instead of a busy scene.
    """
    from videoforge.io.encode import write_video

    rng = np.random.default_rng(seed)
    w, h = size
    pal = _palette(rng)
    frames, truth = [], []
    texts = texts or {}
    for s in range(shots):
        start = len(frames)
        frames += shot_frames(rng, pal, frames_per_shot, h, w, texts.get(s), card=title_cards and s in texts)
        truth.append(ShotTruth(str(path), s, start, len(frames) - 1, start / fps, len(frames) / fps, texts.get(s)))
    write_video(path, frames, fps=fps)
    return truth


def degrade(img_bgr: np.ndarray, rng: np.random.Generator, crop: float = 0.9,
            scale: tuple[float, float] = (0.6, 1.6), jpeg_quality: int = 60) -> np.ndarray:
    """A query made from a frame: a `crop` x `crop` window at a random offset, resized, JPEG re-encoded."""
    import cv2

    h, w = img_bgr.shape[:2]
    ch, cw = int(round(h * crop)), int(round(w * crop))
    y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    out = img_bgr[y : y + ch, x : x + cw]
    s = float(rng.uniform(*scale))
    out = cv2.resize(out, (max(8, int(cw * s)), max(8, int(ch * s))), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def build_catalog(root: str, videos: list[tuple[int, dict]], shots: int = 3, frames_per_shot: int = 20,
                  size: tuple[int, int] = (160, 96), keyframes_per_shot: int = 2, ocr: bool = False,
                  title_cards: bool = False):
    """A catalog written by hand from synthetic videos with *known* shot boundaries (no shot detector).

    Writes the tables and keyframe JPEGs the data engine writes, from a real decode of the real
    H.264 files. `ocr_text` is the rendered text, or with `ocr=True` what the engine's OCR
    (metrics/text.py, PP-OCR) reads on the keyframes. Returns (Catalog, [ShotTruth]).
    """
    import cv2

    from videoforge.catalog import Catalog
    from videoforge.io.decode import decode_frames
    from videoforge.io.fingerprint import fingerprint, shot_id_for, video_id_for

    cat = Catalog(root).create()
    truth_all = []
    for seed, texts in videos:
        path = os.path.join(root, "src", f"v{seed}.mp4")
        truth = make_video(path, seed, shots=shots, frames_per_shot=frames_per_shot, size=size, texts=texts,
                           title_cards=title_cards)
        vid = video_id_for(fingerprint(path))
        picks = {}
        for t in truth:
            step = (t.end_frame - t.start_frame + 1) / (keyframes_per_shot + 1)
            for j in range(keyframes_per_shot):
                picks[int(t.start_frame + step * (j + 1))] = t
        kf_rows, read = [], {}
        os.makedirs(os.path.join(root, "keyframes", vid), exist_ok=True)
        for fr in decode_frames(path):
            if fr.index in picks:
                t = picks[fr.index]
                rel = os.path.join("keyframes", vid, f"{fr.index:06d}.jpg")
                img = fr.bgr(384)
                cv2.imwrite(os.path.join(root, rel), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
                kf_rows.append((shot_id_for(vid, t.start_frame), vid, fr.index, fr.pts_time, rel, size[0], size[1]))
                if ocr:
                    from videoforge.metrics.text import ocr_engine

                    result, _ = ocr_engine()(img)
                    read.setdefault(t.shot_index, []).extend(line[1] for line in (result or []))
        with cat.write() as con:
            con.execute("INSERT INTO videos (video_id, path, fingerprint, num_shots) VALUES (?, ?, ?, ?)",
                        [vid, path, vid, len(truth)])
            for t in truth:
                text = " | ".join(dict.fromkeys(read.get(t.shot_index, []))) if ocr else t.text
                con.execute("""INSERT INTO shots (shot_id, video_id, shot_index, start_frame, end_frame, start_time,
                               end_time, num_frames, duration, motion, ocr_text) VALUES (?,?,?,?,?,?,?,?,?,?,?)""",
                            [shot_id_for(vid, t.start_frame), vid, t.shot_index, t.start_frame, t.end_frame,
                             t.start_time, t.end_time, t.end_frame - t.start_frame + 1, t.end_time - t.start_time,
                             float(t.shot_index), text])
            con.executemany("INSERT INTO keyframes VALUES (?,?,?,?,?,?,?)", kf_rows)
        truth_all += truth
    return cat, truth_all
