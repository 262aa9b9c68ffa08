"""Frame-change features for shot boundaries, computed from the 160-px analysis frame.

Per frame, `process` keeps a tiny signature of the analysis frame halved (HSV histograms, a
32x18 luma thumbnail and a 16x9 gradient-magnitude map: ~1 KB). `features()` then turns the signatures into per-frame
feature rows with vectorised NumPy: colour distance (HSV histograms), structure distance
(gradient-map correlation), luma distance, brightness/contrast (fades), spatial-split
differences (wipes), distances across a few frames (gradual change vs. a flash that comes
back), consecutive-difference correlation (a dissolve moves every pixel the same way each
frame), and Kling's 3-sigma score: each frame's change against a robust Gaussian (median,
MAD) fitted to the changes of the preceding running window.
"""

from __future__ import annotations

import cv2
import numpy as np

THUMB = (32, 18)   # luma thumbnail (w, h): 4x3 grid of 8x6 cells for spatial splits
GRAD = (16, 9)     # gradient-magnitude map (w, h)
HIST_BINS = (16, 8, 8)
SIGMA_WINDOW = 30  # frames in the running window of the 3-sigma rule
FAR_LAGS = (3, 8, 16)  # half-widths of the symmetric "before vs after" distances

FEATURE_NAMES = [
    "d_hsv", "d_luma", "d_struct", "luma_mean", "luma_std", "dark_frac",
    "cell_max", "cell_min", "cell_spread", "diff_corr",
    "z_hsv", "z_luma", "z_struct",
    *[f"far{k}_{m}" for k in FAR_LAGS for m in ("hsv", "luma", "struct")],
    "acc_ratio_hsv", "acc_ratio_luma", "d_mean_signed",
    "farcell_max", "farcell_min", "farcell_spread",
]


class SignatureBuffer:
    """Collects per-frame signatures online; memory ~1 KB per frame."""

    def __init__(self):
        self.hist: list[np.ndarray] = []
        self.thumb: list[np.ndarray] = []
        self.grad: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self.thumb)

    def add(self, small_bgr: np.ndarray) -> None:
        # half the analysis frame (80x45 for 16:9) is plenty for histograms and 32x18 maps
        h0, w0 = small_bgr.shape[:2]
        small_bgr = cv2.resize(small_bgr, (max(2, w0 // 2), max(2, h0 // 2)), interpolation=cv2.INTER_AREA)
        hsv = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2HSV)
        h = np.concatenate([cv2.calcHist([hsv], [c], None, [b], [0, 180 if c == 0 else 256]).ravel()
                            for c, b in enumerate(HIST_BINS)])
        h /= max(1.0, float(hsv.shape[0] * hsv.shape[1]))          # float32, in place
        self.hist.append(h)
        gray = cv2.cvtColor(small_bgr, cv2.COLOR_BGR2GRAY)
        self.thumb.append(cv2.resize(gray, THUMB, interpolation=cv2.INTER_AREA))
        gx, gy = cv2.spatialGradient(gray)   # 3x3 Sobel, both directions in one call (int16)
        mag = np.abs(gx.astype(np.float32)) + np.abs(gy.astype(np.float32))
        self.grad.append(cv2.resize(mag, GRAD, interpolation=cv2.INTER_AREA).astype(np.float16))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (np.asarray(self.hist, np.float32), np.asarray(self.thumb, np.float32),
                np.asarray(self.grad, np.float32).reshape(len(self.grad), -1))


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """a[t+k] with edge values repeated (k may be negative).

    Two slice copies instead of a gather through an index array: the same values, at a
    fraction of the cost on the (frames, 576) thumbnail arrays."""
    n = len(a)
    if k == 0 or n == 0:
        return a.copy()
    if abs(k) >= n:
        return np.repeat(a[-1:] if k > 0 else a[:1], n, axis=0)
    if k > 0:
        return np.concatenate([a[k:], np.repeat(a[-1:], k, axis=0)])
    return np.concatenate([np.repeat(a[:1], -k, axis=0), a[:k]])


def _dist_hsv(a, b):
    return 0.5 * np.abs(a - b).sum(1) / len(HIST_BINS)


def _dist_luma(a, b):
    return np.abs(a - b).reshape(len(a), -1).mean(1) / 255.0


def _dist_struct(a, b):
    """1 - correlation of gradient-magnitude maps (0 same structure, ~1 unrelated)."""
    ac = a - a.mean(1, keepdims=True)
    bc = b - b.mean(1, keepdims=True)
    num = (ac * bc).sum(1)
    den = np.sqrt((ac * ac).sum(1) * (bc * bc).sum(1)) + 1e-3
    flat = (np.sqrt((ac * ac).sum(1)) < 1.0) & (np.sqrt((bc * bc).sum(1)) < 1.0)  # both flat (black)
    return np.where(flat, 0.0, 1.0 - num / den)


def _window_sums(d: np.ndarray, before: int, after: int) -> np.ndarray:
    """sum(d[t - before : t + after]) for every t, clipped at the ends.

    Each sum adds the same values in the same order wherever the array starts, so a row's
    features are bit-identical whether a video is processed whole or in segments (a running
    cumsum's rounding would depend on where it started).
    """
    from numpy.lib.stride_tricks import sliding_window_view

    padded = np.concatenate([np.zeros(before, d.dtype), d, np.zeros(max(0, after), d.dtype)])
    return sliding_window_view(padded, before + after).sum(1)[: len(d)]


def _row_median(a: np.ndarray) -> np.ndarray:
    """np.median(a, 1), the same values: one vectorised sort of short rows is ~8x faster here."""
    s = np.sort(a, axis=1)
    k = a.shape[1]
    return s[:, k // 2] if k % 2 else (s[:, k // 2 - 1] + s[:, k // 2]) * np.float32(0.5)


def _zscore(d: np.ndarray, w: int = SIGMA_WINDOW) -> np.ndarray:
    """Kling's rule made robust: (d[t] - median) / (1.4826 * MAD) of d over the `w` frames
    before t. A mean and standard deviation (the original rule) let one earlier cut inside the
    window inflate the spread, so in fast-cut real footage (cuts 7-30 frames apart) the next
    cut scored ~1 sigma; the median and MAD ignore it. Each row depends on its window alone,
    so segments join bit-identically."""
    from numpy.lib.stride_tricks import sliding_window_view

    n = len(d)
    d = d.astype(np.float32)
    med = np.zeros(n, np.float32)
    mad = np.zeros(n, np.float32)
    if n > w:
        win = sliding_window_view(d[:-1], w)          # win[k] = d[k : k + w], the window of row k + w
        m = _row_median(win)
        med[w:] = m
        mad[w:] = _row_median(np.abs(win - m[:, None]))
    head = min(n, w + 1)                              # the first rows see fewer frames: d[:t]
    if head > 1:
        med[1:head], mad[1:head] = _prefix_median_mad(d[:head - 1])
    sd = 1.4826 * mad + 0.004  # floor: static shots have near-zero spread
    z = (d - med) / sd
    z[np.arange(n) < 3] = 0.0
    return np.clip(z, -5, 50) / 10.0


def _prefix_median_mad(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For t = 1 .. len(d): np.median(d[:t]) and np.median(np.abs(d[:t] - that median)), the
    same float32 values, from one sort of a (t, len(d)) matrix of the prefixes padded with +inf
    instead of 2 * len(d) np.median calls (each ~0.1 ms of call overhead: the loop was ~30 % of
    every segment join's CPU). An even count's median is (a + b) * 0.5 in float32, which is
    what np.median computes ((a + b) / 2: the same rounded sum, halved exactly)."""
    k = len(d)
    if not np.isfinite(d).all():   # NaN / inf would mix with the padding: the plain way
        med = np.array([np.median(d[:t]) for t in range(1, k + 1)], np.float32)
        mad = np.array([np.median(np.abs(d[:t] - m)) for t, m in zip(range(1, k + 1), med)], np.float32)
        return med, mad
    t = np.arange(1, k + 1)
    inside = np.arange(k)[None, :] < t[:, None]        # row r holds d[:r + 1]
    lo, hi = (t - 1) // 2, t // 2                       # the middle pair (one element when t is odd)
    rows = np.arange(k)

    def prefix_medians(m: np.ndarray) -> np.ndarray:
        s = np.sort(np.where(inside, m, np.float32(np.inf)), axis=1)
        a, b = s[rows, lo], s[rows, hi]
        return np.where(lo == hi, a, (a + b) * np.float32(0.5))

    med = prefix_medians(np.broadcast_to(d[None, :], (k, k)))
    return med, prefix_medians(np.abs(d[None, :] - med[:, None]))


# A frame's class probability depends on the signatures of at most 43 frames before it
# (feature rows: 3-sigma window 30 + the change into the frame; classifier context 12) and 29
# after it (lags up to 16, candidate radius 14). Around a join between separately processed
# segments, rows that saw fewer frames than that are recomputed with these margins (css.py).
CONTEXT_BEFORE = 48
CONTEXT_AFTER = 32


def features(buf: SignatureBuffer | tuple) -> np.ndarray:
    """(N, len(FEATURE_NAMES)) float32 rows; row t describes the change into frame t.
    Takes a SignatureBuffer or its `arrays()`."""
    hist, thumb, grad = buf.arrays() if isinstance(buf, SignatureBuffer) else buf
    n = len(thumb)
    if n == 0:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32)
    ph, pt, pg = _shift(hist, -1), _shift(thumb, -1), _shift(grad, -1)
    d_hsv = _dist_hsv(hist, ph)
    step = thumb - pt                 # the change into each frame, pixel by pixel
    step_abs = np.abs(step)
    d_luma = step_abs.reshape(n, -1).mean(1) / 255.0    # = _dist_luma(thumb, pt)
    d_struct = _dist_struct(grad, pg)
    flat = thumb.reshape(n, -1)
    luma_mean = flat.mean(1) / 255.0
    luma_std = flat.std(1) / 255.0
    dark = (flat < 24).mean(1)
    cells = step_abs.reshape(n, 3, 6, 4, 8).mean(axis=(2, 4)).reshape(n, 12) / 255.0
    cell_max, cell_min = cells.max(1), cells.min(1)
    cell_spread = (cell_max - cell_min) / (cell_max + 0.01)
    diff = step.reshape(n, -1)
    nd = _shift(diff, 1)
    dc = diff - diff.mean(1, keepdims=True)
    ndc = nd - nd.mean(1, keepdims=True)
    diff_corr = (dc * ndc).sum(1) / (np.sqrt((dc * dc).sum(1) * (ndc * ndc).sum(1)) + 1.0)
    cols = [d_hsv, d_luma, d_struct, luma_mean, luma_std, dark, cell_max, cell_min, cell_spread, diff_corr,
            _zscore(d_hsv), _zscore(d_luma), _zscore(d_struct)]
    far = {}   # lag k -> hsv and luma distance from k frames before to k-1 after, and those thumbnails

    def across(k):
        if k not in far:
            ta, tb = _shift(thumb, -k), _shift(thumb, k - 1)
            far[k] = (_dist_hsv(_shift(hist, -k), _shift(hist, k - 1)), _dist_luma(ta, tb), ta, tb)
        return far[k]

    for k in FAR_LAGS:
        cols += [*across(k)[:2], _dist_struct(_shift(grad, -k), _shift(grad, k - 1))]
    # accumulated vs direct change over 8 frames: ~1 for a monotonic (gradual) change,
    # ~0 for a flash or shake that goes and comes back
    k = 8
    for dist, per in ((across(k)[0], d_hsv), (across(k)[1], d_luma)):
        acc = _window_sums(per, k - 1, k)   # per[t-k+1 .. t+k-1]
        cols.append(dist / (acc + 0.01))
    cols.append(luma_mean - _shift(luma_mean, -1))
    # spatial split of the change across 16 frames: a wipe has replaced some cells completely
    # and left others untouched; a dissolve or fade changes all cells alike
    ta, tb = across(k)[2:]
    fc = np.abs(tb - ta).reshape(n, 3, 6, 4, 8).mean(axis=(2, 4)).reshape(n, 12) / 255.0
    fmax, fmin = fc.max(1), fc.min(1)
    cols += [fmax, fmin, (fmax - fmin) / (fmax + 0.01)]
    return np.stack(cols, 1).astype(np.float32)


WINDOW_OFFSETS = (-12, -8, -5, -3, -2, -1, 0, 1, 2, 3, 5, 8, 12)


def windowed(f: np.ndarray, offsets=WINDOW_OFFSETS, rows: np.ndarray | None = None) -> np.ndarray:
    """Context for the classifier: each row gets its neighbours' rows at `offsets` frames.
    `rows` (a boolean mask) builds only those rows: the classifier skips most frames."""
    n = len(f)
    if rows is not None:
        idx = np.flatnonzero(rows)
        return np.concatenate([f[np.clip(idx + o, 0, n - 1)] for o in offsets], 1) if len(idx) \
            else np.zeros((0, f.shape[1] * len(offsets)), f.dtype)
    if n == 0:
        return np.zeros((0, f.shape[1] * len(offsets)), np.float32)
    return np.concatenate([_shift(f, o) for o in offsets], 1)


def candidates(f: np.ndarray, radius: int = 14) -> np.ndarray:
    """Frames worth classifying: some colour or luma change within `radius` frames, near or
    across 16 frames. Inside a still or slowly moving shot every frame is plainly 'none', and
    skipping the trees there is most of the classifier's cost on typical footage."""
    i = {n: k for k, n in enumerate(FEATURE_NAMES)}
    act = ((f[:, i["d_hsv"]] > 0.02) | (f[:, i["d_luma"]] > 0.012) | (f[:, i["far16_hsv"]] > 0.04)
           | (f[:, i["far16_luma"]] > 0.025) | (np.abs(f[:, i["d_mean_signed"]]) > 0.004))
    if not act.any():
        return act
    c = np.concatenate([[0], np.cumsum(act)])
    n = len(act)
    t = np.arange(n)
    return (c[np.minimum(n, t + radius + 1)] - c[np.maximum(0, t - radius)]) > 0
