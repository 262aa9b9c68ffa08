"""General, content-relative quality measures of a shot from its decoded frames (issue 19).

The suitability model must catch a defect of a kind it was never shown (leave-one-kind-out):
that takes measures of picture and motion quality that hold whatever made the defect, each
judged against the shot's own content rather than in absolute units. Frames are decoded from
the video (not the keyframe JPEGs, whose own compression blurs and blocks them), at most
`MAX_FRAMES` consecutive frames from the shot's start, pictures reduced to at most
`WORK_WIDTH` pixels wide so a measure means the same at every resolution.

Picture measures (median over up to `PICTURE_FRAMES` frames spread over the run):
- `q_edge_steep`: how abruptly the shot's strongest edges change: per pixel, gradient magnitude
  over the local 7x7 range (max - min); the 90th percentile over pixels whose range exceeds
  24 grey levels. A sharp step rises in 1-2 pixels (~0.4-0.6); a defocus / motion blur of k
  pixels spreads it to ~1/k, whatever the content's contrast.
- `q_blur`: Crete et al.'s no-reference blur effect (2007): re-blur with a 9-tap box and
  measure how much of the frame's neighbour variation is lost; already-blurred frames lose
  little (0 sharp .. 1 blurred), max of the horizontal and vertical directions.
- `q_grid`: blocking on a fixed pixel grid of any size: the column (row) profile of mean
  |horizontal (vertical) difference|, averaged over the frames so moving content washes out
  while fixed block edges stay, divided by its own smooth trend (sigma 6 px); the mean of its
  top 20 % minus its median. Block edges (codec blocks, nearest-neighbour upscales) carry the
  picture's steps in a few columns and leave the rest flat; natural content spreads them.
- `q_black_level`: 2nd percentile of luma / 255: lifted or washed-out blacks.
- `q_bright_frac`: fraction of pixels above 200/255: a picture pushed into its highlights.

Motion measures over consecutive frames (64x36 grey thumbnails, lightly smoothed):
- `q_dup_frac`: fraction of frame steps that barely change (< 0.2 x the shot's 90th
  percentile step) in a shot that does move: held, duplicated or dropped frames.
- `q_step_irreg`: (p90 - p10) / median of the step sizes: irregular timing (smooth motion
  changes the picture by similar amounts every frame).
- `q_reversal`: fraction of moving steps whose change is undone by the next one
  (anti-correlated consecutive differences): time running back and forth.
All three are 0 for a shot whose picture hardly moves (static-but-fine is not a stutter).

Change-pattern measures (`STEP_FEATURES`, same thumbnails and steps): the three above decide
"the shot moves" from the 90th percentile step, so a slideshow (a picture held 10-17 frames,
then a jump: fewer than 10 % of its steps change) reads as "still" there, like clean
static-but-fine footage. These look at the whole distribution of steps instead:
- `q_jump_rate`: abrupt content jumps per step: a step above `JUMP_STEP`, above 5x the shot's
  median step and above 3x the smaller of its two neighbours (a jump out of a hold, not the
  peak of a smooth move).
- `q_hold_frac`: fraction of steps that are near-exact repeats (< `HOLD_STEP` grey levels) in
  a shot with at least one abrupt jump; 0 without one (a still shot, or a smooth move that
  slows down, has no holds *between changes*).
- `q_frozen_run`: the longest run of near-exact repeats / number of steps (same condition as
  `q_hold_frac`).
- `q_jump_ratio`: log2((largest step + .25) / (median step + .25)): how far the biggest change
  stands above the typical one (smooth motion, noise and sprites: ~0-1.5; holds with jumps: 3+).
"Mostly frozen with a few jumps" is high on all four; "still but alive" (grain, a small moving
thing) changes a little every step (no holds, no jumps); smooth motion changes by similar
amounts every step.
NaN when the video cannot be opened (the model handles missing values).
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np

from videoforge.curate.frame_features import per_shot

QUALITY_FEATURES = ["q_edge_steep", "q_blur", "q_grid", "q_black_level", "q_bright_frac",
                    "q_dup_frac", "q_step_irreg", "q_reversal"]
MAX_FRAMES = 72
PICTURE_FRAMES = 5
WORK_WIDTH = 256
MOVING_STEP = 0.6      # mean |difference| of thumbnails (grey levels) below which a step is "no motion"
STEP_FEATURES = ["q_hold_frac", "q_jump_rate", "q_frozen_run", "q_jump_ratio"]
HOLD_STEP = 0.2        # a step below this (grey levels, blurred 64x36 thumbnails) repeats the picture
JUMP_STEP = 1.5        # the least change that counts as a content jump


def read_frames(path: str, start: int, end: int, max_frames: int = MAX_FRAMES) -> list[np.ndarray]:
    """Grey frames start..end inclusive (at most `max_frames`), reduced to <= WORK_WIDTH wide."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        return []
    out = []
    try:
        if start > 0:
            cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        for _ in range(max(0, min(end - start + 1, max_frames))):
            ok, f = cap.read()
            if not ok:
                break
            g = cv2.cvtColor(f, cv2.COLOR_BGR2GRAY)
            if g.shape[1] > WORK_WIDTH:
                g = cv2.resize(g, (WORK_WIDTH, max(8, round(g.shape[0] * WORK_WIDTH / g.shape[1]))),
                               interpolation=cv2.INTER_AREA)
            out.append(g)
    finally:
        cap.release()
    return out


def edge_steepness(g: np.ndarray) -> float:
    gf = g.astype(np.float32)
    gx, gy = cv2.Sobel(gf, cv2.CV_32F, 1, 0) / 8, cv2.Sobel(gf, cv2.CV_32F, 0, 1) / 8   # per-pixel step
    mag = np.hypot(gx, gy)
    k = np.ones((7, 7), np.uint8)
    rng = cv2.dilate(g, k).astype(np.float32) - cv2.erode(g, k).astype(np.float32)
    m = rng > 24
    if m.sum() < 20:
        return np.nan
    return float(np.percentile(mag[m] / rng[m], 90))


def crete_blur(g: np.ndarray) -> float:
    gf = g.astype(np.float32)
    out = []
    for axis, ksize in ((0, (1, 9)), (1, (9, 1))):
        b = cv2.blur(gf, ksize)
        df = np.abs(np.diff(gf, axis=1 - axis))
        db = np.abs(np.diff(b, axis=1 - axis))
        s = df.sum()
        out.append(1.0 - np.maximum(0, df - db).sum() / s if s > 0 else 1.0)
    return float(max(out))


def _step_concentration(profile: np.ndarray) -> float:
    p = profile.astype(np.float32)
    if len(p) < 30 or p.mean() <= 1e-6:
        return 0.0
    r = p / (cv2.GaussianBlur(p.reshape(1, -1), (0, 0), 6, borderType=cv2.BORDER_REFLECT).ravel() + 0.05 * p.mean())
    top = np.sort(r)[-max(1, len(r) // 5):]
    return float(top.mean() - np.median(r))


def grid_blocking(greys: list[np.ndarray]) -> float:
    fs = [g.astype(np.float32) for g in greys]
    cols = np.mean([np.abs(np.diff(f, axis=1)).mean(axis=0) for f in fs], axis=0)
    rows = np.mean([np.abs(np.diff(f, axis=0)).mean(axis=1) for f in fs], axis=0)
    return max(_step_concentration(cols), _step_concentration(rows))


def picture_measures(g: np.ndarray) -> list[float]:
    """q_edge_steep, q_blur, q_black_level, q_bright_frac of one grey picture."""
    return [edge_steepness(g), crete_blur(g), float(np.percentile(g, 2) / 255.0), float((g > 200).mean())]


def _steps(greys: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(differences of consecutive blurred 64x36 thumbnails, mean |difference| per step)."""
    th = np.stack([cv2.GaussianBlur(cv2.resize(g, (64, 36), interpolation=cv2.INTER_AREA).astype(np.float32), (3, 3), 0)
                   for g in greys])
    d = np.diff(th, axis=0)
    return d, np.abs(d).mean(axis=(1, 2))


def step_pattern(step: np.ndarray) -> list[float]:
    """STEP_FEATURES of one series of step sizes (see the module docstring)."""
    if len(step) < 3:
        return [np.nan] * len(STEP_FEATURES)
    top, med = float(step.max()), float(np.median(step))
    ratio = float(np.log2((top + 0.25) / (med + 0.25)))
    left, right = np.r_[np.inf, step[:-1]], np.r_[step[1:], np.inf]
    jump = (step >= JUMP_STEP) & (step > 5 * med) & (step > 3 * np.minimum(left, right))
    if not jump.any():       # no abrupt change: slow or smooth moments are not holds between jumps
        return [0.0, 0.0, 0.0, ratio]
    hold = step < HOLD_STEP
    longest = run = 0
    for h in hold:
        run = run + 1 if h else 0
        longest = max(longest, run)
    return [float(hold.mean()), float(jump.mean()), longest / len(step), ratio]


def step_measures(greys: list[np.ndarray]) -> list[float]:
    """STEP_FEATURES of consecutive grey frames."""
    if len(greys) < 4:
        return [np.nan] * len(STEP_FEATURES)
    return step_pattern(_steps(greys)[1])


def motion_measures(greys: list[np.ndarray]) -> list[float]:
    """q_dup_frac, q_step_irreg, q_reversal of consecutive grey frames."""
    if len(greys) < 4:
        return [np.nan, np.nan, np.nan]
    d, step = _steps(greys)
    p90 = np.percentile(step, 90)     # the shot's typical moving step (held frames may be most steps)
    if p90 < MOVING_STEP:
        return [0.0, 0.0, 0.0]
    dup = float((step < 0.2 * p90).mean())
    irreg = float((np.percentile(step, 90) - np.percentile(step, 10)) / (np.median(step) + 0.5))
    flat = d.reshape(len(d), -1)
    nrm = np.linalg.norm(flat, axis=1)
    rev, moving = 0, 0
    for t in range(len(flat) - 1):
        if step[t] >= MOVING_STEP and step[t + 1] >= MOVING_STEP:
            moving += 1
            rev += float(flat[t] @ flat[t + 1]) / (nrm[t] * nrm[t + 1] + 1e-9) < -0.2
    return [dup, irreg, rev / moving if moving else 0.0]


def frames_features(greys: list[np.ndarray]) -> list[float]:
    """QUALITY_FEATURES of a run of consecutive grey frames."""
    if not greys:
        return [np.nan] * len(QUALITY_FEATURES)
    pick = np.unique(np.linspace(0, len(greys) - 1, min(PICTURE_FRAMES, len(greys))).round().astype(int))
    pics = np.array([picture_measures(greys[i]) for i in pick])
    with warnings.catch_warnings():   # a measure NaN on every frame stays NaN, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        steep, blur, black, bright = np.nanmedian(pics, axis=0)
    grid = grid_blocking([greys[i] for i in pick] if len(greys) < 12 else greys[:: max(1, len(greys) // 12)])
    return [float(steep), float(blur), grid, float(black), float(bright), *motion_measures(greys)]


def shot_quality_features(info: list[dict], root: str | None = None, steps: bool = False) -> np.ndarray:
    """(len(info), len(QUALITY_FEATURES)) for rows with path, start_frame, end_frame (inclusive);
    NaN where the video is unreadable. `steps`: STEP_FEATURES appended as further columns (one
    decode serves both)."""
    if not steps:
        return per_shot(info, root, len(QUALITY_FEATURES), lambda p, s, e: frames_features(read_frames(p, s, e)))

    def both(p, s, e):
        g = read_frames(p, s, e)
        return frames_features(g) + step_measures(g)

    return per_shot(info, root, len(QUALITY_FEATURES) + len(STEP_FEATURES), both)
