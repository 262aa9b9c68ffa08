"""On-screen text: a real OCR (PP-OCRv4 via rapidocr-onnxruntime) on sampled frames of each shot.

Recall first. During the decode pass the scorer samples frames on a fixed 2 Hz grid of
presentation time and puts each through `gate_frame`, a cheap test (~1-3 ms per sampled
frame, i.e. ~0.1 ms per decoded frame at 25 fps) that may skip a frame only where it is sure
there is no text: stroke clusters (gradient, threshold, horizontal closing, components
wider than tall and crossed by several separate strokes) at three scales of the frame's own
luma plane and in its chroma planes, at a faint and a strong gradient level. The gate is
tuned for recall on the `tune` split of `synth/text_scenes.py`; busy photographs pass it
often, which costs OCR time but never a word. A passing frame's padded text region (from the
frame at <= `ocr_side` px) waits as a JPEG (in memory up to `MEMORY_BYTES`, then on disk).

After the pass, with the shots known, each shot's candidates are planned: the shot is cut
into time slices of `slice_seconds` (at most `max_per_shot`), and the most text-like
candidate of each slice is a read - so a word that appears mid-shot has its own slice.
Every shot with a candidate gets its first read whatever the budget (a texted shot never
stays NULL); the budget, one further read per `frames_per_ocr` decoded frames, goes to the
shots' further slices, second slices first. No reading is shared between shots.
Event-triggered reads (session 6): a text-like box that a shot's previous sample did not have
and its next sample has again (in place, or a ticker along its row) - a word appearing mid-shot,
or the text a shot opens with - gets a read of the next sample on a crop of those boxes, outside
the slice schedule (`max_events_per_shot`, `frames_per_event`; docs/benchmarks/text.md section 5).
Session 7 (cost): a shot's reads run in order and a read is skipped when every text-like box it
is for is explained by an earlier read of the shot - a line read there that PP-OCR's recogniser
alone (no detector) still reads with the same letters, or texture already looked at in the same
place (`_walk`); a box may match along its row (a ticker) only in the frame's top/bottom quarter;
ONNX Runtime's memory arena is on. Section "Session 7" of docs/benchmarks/text.md has the figures.
Session 8 (recall): an event is read even where a planned read of the shot looked at its boxes and
found no line (`recheck_events`); an event crop whose new boxes are all small is enlarged before
PP-OCR (`event_scale`, `event_small_px`); a line read next to a cut is looked for by the recogniser
alone in the other shot's sample nearest the cut and added there when it reads the same letters
(`cross_cut`: a cut the shot detector made inside a word's time no longer cuts its hit's span).
`frames_per_ocr` stays 125: 250 (18 % fewer reads, same words on 12 videos of the gate's first
held-out set) lost 4 of 118 words end to end on the unseen text set E - mid-shot words whose
shot's "one more read" comes from the budget (docs/benchmarks/text.md, session 5).

Per shot:
- `text_area`: fraction of the frame covered by recognised text boxes (union of the boxes
  with a recognition score >= `min_score`), the largest over the shot's reads, 0-1; 0 when
  nothing text-like was seen or read.
- `ocr_text`: the distinct recognised lines, in reading order, joined by " | "; '' when no text
  was found. NULL only for a shot too short to hold a grid sample whose keyframes could not
  be read (such shots go through the same gate and OCR on their keyframes instead).

Detection runs at the crop's own size up to 960 px (limit_type max); classification of
rotated text is off (PP-OCR's detector finds text rotated by a few degrees anyway).
"""

from __future__ import annotations

import math
import os
import threading
from dataclasses import dataclass

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import Scorer, ShotContext

COLUMNS = ("text_area", "ocr_text")
# Candidates' crops are held in memory (JPEG bytes) up to this many bytes per scorer, then wait
# on disk: memory stays bounded on long videos, and a short one pays no file writes and deletes.
MEMORY_BYTES = 48 << 20
_ENGINES = threading.local()
_ENGINE_LOCK = threading.Lock()   # engine construction patches rapidocr's session options for a moment
_COUNT_LOCK = threading.Lock()   # reads run in threads; their pixel count is summed under it   # RapidOCR keeps per-call state: one instance per thread


_POOLS: dict = {}


def _read_pool(threads: int):
    """A thread pool kept for the process's life: each thread loads its OCR engine once
    (~0.13 s CPU, ~0.5 s wall), not once per call. Keyed by pid: a forked worker makes its own."""
    from concurrent.futures import ThreadPoolExecutor

    key = (os.getpid(), threads)
    pool = _POOLS.get(key)
    if pool is None:
        pool = _POOLS[key] = ThreadPoolExecutor(threads, thread_name_prefix="videoforge-ocr")
    return pool


def ocr_engine(threads: int = 1):
    """This thread's RapidOCR instance (models load once per worker, ~0.3-0.8 s)."""
    engines = getattr(_ENGINES, "by_threads", None)
    if engines is None:
        engines = _ENGINES.by_threads = {}
    eng = engines.get(threads)
    if eng is None:
        from rapidocr_onnxruntime import RapidOCR
        from rapidocr_onnxruntime.utils import infer_engine

        # rapidocr turns ONNX Runtime's memory arena off: every detector run then maps and zeroes
        # its large activations afresh; with the arena on they are reused (same outputs, measured
        # ~10-15 % less detector CPU on 0.3-0.5 Mpx crops; the arena keeps its peak, ~100 MB)
        kw = dict(use_cls=False, det_limit_type="max", det_limit_side_len=960,
                  intra_op_num_threads=threads, inter_op_num_threads=1, print_verbose=False)
        plain = getattr(infer_engine, "OrtInferSession", object).__dict__.get("_init_sess_opts")
        if not isinstance(plain, staticmethod):   # another rapidocr layout: its own session options
            eng = engines[threads] = RapidOCR(**kw)
            return eng
        with _ENGINE_LOCK:
            def with_arena(config, _f=plain.__func__):
                opts = _f(config)
                opts.enable_cpu_mem_arena = True
                return opts
            infer_engine.OrtInferSession._init_sess_opts = staticmethod(with_arena)
            try:
                eng = RapidOCR(**kw)
            finally:
                infer_engine.OrtInferSession._init_sess_opts = plain
        engines[threads] = eng
    return eng


def text_regions(bgr: np.ndarray, width: int = 160) -> tuple[float, list[tuple[int, int, int, int]]]:
    """Text-like stroke clusters of a picture: (area fraction 0-1, boxes (x, y, w, h) in its px).

    Computed on a `width`-px grey copy. Text is dense high-contrast strokes in horizontal runs:
    morphological gradient, threshold, a horizontal closing joins letters into words;
    components that are wider than tall, not too tall, well filled and crossed by many
    separate strokes (letters) count. Textures give some false positives: this only gates
    and frames the OCR.
    """
    import cv2

    h0, w0 = bgr.shape[:2]
    if w0 != width:
        bgr = cv2.resize(bgr, (width, max(2, round(h0 * width / w0))), interpolation=cv2.INTER_AREA)
    g = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    grad = cv2.morphologyEx(g, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    strokes = (grad >= 48).astype(np.uint8)
    words = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 1)))
    _, _, stats, _ = cv2.connectedComponentsWithStats(words, connectivity=8)
    H, W = g.shape
    sx, sy = w0 / W, h0 / H
    area, boxes = 0, []
    for x, y, bw, bh, px in stats[1:]:
        if not (3 <= bh <= H // 3 and bw >= 1.5 * bh and px >= 0.35 * bw * bh):
            continue
        # letters are many vertical strokes: count stroke starts along the box's rows
        box = strokes[y: y + bh, x: x + bw]
        starts = int(np.max(np.count_nonzero(np.diff(box, axis=1) == 1, axis=1)))
        if starts >= max(3, 0.5 * bw / bh):
            area += bw * bh
            boxes.append((int(x * sx), int(y * sy), int(np.ceil(bw * sx)), int(np.ceil(bh * sy))))
    return area / float(H * W), boxes


@dataclass
class Gate:
    """What the cheap text test says about one frame."""

    score: float                                  # text-like area, fraction of the frame (0-1)
    boxes: list[tuple[int, int, int, int]]        # text-like clusters (x0, y0, x1, y1), frame px
    crop: tuple[int, int, int, int] | None        # padded union of the boxes: what the OCR reads

    @property
    def passed(self) -> bool:
        return bool(self.boxes)


# Gate scales: luma is examined at these widths (px), so one stroke-cluster test sized for
# ~4-28 px letters covers ~9 px letters (at 640 px) up to titles a third of the frame high;
# colour differences (the chroma planes) at the finest scale, for text that differs from its
# background in hue more than in brightness. Three gradient thresholds (8-bit levels): a faint
# one, a middle one, and one where only the strongest edges survive (text on a busy picture
# separates from the texture at one of them). Tuned on the `tune` split of synth/text_scenes.py;
# the middle level and the sheared copies were added after the first held-out sets showed busy,
# small and rotated words missed (so those sets are no longer held out; see docs/benchmarks/text.md).
GATE_WIDTHS = (320, 160, 80)
GATE_LEVELS = (32, 72, 128)
CHROMA_LEVEL = 32
GATE_SHEAR = 0.15       # tan(8.5 degrees): rotated words are looked for on sheared copies too
GATE_MIN_STD = 20.0     # luma spread inside a cluster, 8-bit levels (tune split: 22 keeps every positive)
CHROMA_MIN_STD = 12.0


def _gradient(g: np.ndarray) -> np.ndarray:
    import cv2

    return cv2.morphologyEx(g, cv2.MORPH_GRADIENT, _KERNELS["ellipse3"])


def _clusters(grad: np.ndarray, level: int, planes: tuple[np.ndarray, ...], min_std: float) -> list[tuple[int, int, int, int]]:
    """Word-like clusters of strokes in one gradient picture at one threshold: (x, y, w, h) px.

    Strong edges, joined along rows (letters into words); a cluster counts when it is 4-28 px
    high, wider than high, at least a fifth filled, and crossed along one row by at least as
    many separate strokes as it is wide per height (letters are upright strokes side by side),
    and one of the pictures `planes` varies inside it by at least `min_std` levels (ink against
    background). Rotated words (up to ~10 degrees) have boxes taller than their letters: up to
    36 px high is allowed.
    """
    import cv2

    strokes = (grad >= level).astype(np.uint8)
    words = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, _KERNELS["rect5x1"])
    # BBDT: the same components as the default labelling (only their order may differ), about
    # half its time on these small pictures; the components' order plays no part below
    _, _, stats, _ = cv2.connectedComponentsWithStatsWithAlgorithm(words, 8, cv2.CV_32S, cv2.CCL_BBDT)
    out = []
    H = grad.shape[0]
    # the shape test on every component at once (a busy picture has ~100 per pass; a Python
    # loop over all of them was a fifth of the gate's time); the stroke count only on the rest
    s = stats[1:].astype(np.int64)
    bw_, bh_ = s[:, 2], s[:, 3]
    ok = (bh_ >= 4) & (bh_ <= min(H // 2, 36)) & (bw_ >= 1.3 * bh_) & (bw_ >= 10) & (s[:, 4] >= 0.2 * bw_ * bh_)
    for x, y, bw, bh, px in s[ok].tolist():
        box = strokes[y: y + bh, x: x + bw]
        starts = int(np.count_nonzero(box[:, 1:] > box[:, :-1], axis=1).max())   # 0 -> 1 steps along rows
        if starts >= max(2.0, bw / bh) and max(float(p[y: y + bh, x: x + bw].std()) for p in planes) >= min_std:
            out.append((int(x), int(y), int(bw), int(bh)))
    return out


_KERNELS: dict = {}


def gate_planes(luma: np.ndarray, chroma: tuple[np.ndarray, np.ndarray] | None = None, widths=GATE_WIDTHS,
                levels=GATE_LEVELS) -> Gate:
    """The cheap text test (see `Gate`) on a full-resolution luma picture and, optionally, the
    two chroma planes (U, V) at any size: colour edges are looked for at the finest scale."""
    import cv2

    if not _KERNELS:
        _KERNELS["ellipse3"] = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        _KERNELS["rect5x1"] = cv2.getStructuringElement(cv2.MORPH_RECT, (5, 1))
    h0, w0 = luma.shape[:2]
    boxes, area = [], 0.0

    def add(found, shape):
        nonlocal area
        sx, sy = w0 / shape[1], h0 / shape[0]
        for x, y, bw, bh in found:
            area += bw * bh / float(shape[0] * shape[1])
            boxes.append((int(x * sx), int(y * sy), int(np.ceil((x + bw) * sx)), int(np.ceil((y + bh) * sy))))

    prev = luma
    for width in widths:
        width = min(width, w0)
        size = (width, max(8, round(h0 * width / w0)))
        # each scale from the one before (area averaging of area averages: a fraction of the cost
        # of shrinking the full frame again; for whole-number ratios it is the same picture up to rounding)
        g = prev if width == prev.shape[1] else cv2.resize(prev, size, interpolation=cv2.INTER_AREA)
        prev = g
        grad = _gradient(g)
        for level in levels:
            add(_clusters(grad, level, (g,), GATE_MIN_STD), g.shape)
        if width == widths[0]:
            # words rotated by up to ~10 degrees: the finest scale again, sheared by +-GATE_SHEAR so a
            # slanted baseline runs along the rows (the row-wise closing and stroke count need that)
            for k in (GATE_SHEAR, -GATE_SHEAR):
                m = np.float32([[1, 0, 0], [k, 1, -k * g.shape[1] / 2]])
                gs = cv2.warpAffine(g, m, (g.shape[1], g.shape[0]), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                for x, y, bw, bh in _clusters(_gradient(gs), levels[0], (gs,), GATE_MIN_STD):
                    # back to the unsheared picture: y_orig = y_sheared - k * (x - w/2)
                    ys = [y - k * (xx - g.shape[1] / 2) for xx in (x, x + bw)]
                    y0, y1 = max(0.0, min(ys)), min(float(g.shape[0]), max(ys) + bh)
                    add([(x, int(y0), bw, max(1, int(np.ceil(y1 - y0))))], g.shape)
        if chroma is not None and width == widths[0]:
            u, v = (c if c.shape[1] == width else cv2.resize(c, size, interpolation=cv2.INTER_AREA) for c in chroma)
            cg = np.maximum(_gradient(u), _gradient(v))
            add(_clusters(cg, CHROMA_LEVEL, (u, v), CHROMA_MIN_STD), u.shape)
    if not boxes:
        return Gate(0.0, [], None)
    crop = text_crop((h0, w0), [(b[0], b[1], b[2] - b[0], b[3] - b[1]) for b in boxes])
    return Gate(min(1.0, area), boxes, crop)


def gate_luma(luma: np.ndarray) -> Gate:
    """The cheap text test on luma alone."""
    return gate_planes(luma)


def _chroma(frame: Frame) -> tuple[np.ndarray, np.ndarray] | None:
    """The decoded frame's own U and V planes (views, no conversion), upright; None for other formats."""
    av_frame = getattr(frame, "_av", None)
    if av_frame is None or av_frame.format.name not in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p",
                                                        "yuv444p", "yuvj444p"):
        return None
    from videoforge.io.decode import _rotate

    u, v = (np.frombuffer(p, np.uint8).reshape(p.height, p.line_size)[:, : p.width] for p in av_frame.planes[1:3])
    return _rotate(u, frame.rotation), _rotate(v, frame.rotation)


def gate_frame(frame: Frame) -> Gate:
    """The cheap text test on a decoded frame: its full-resolution luma plane and chroma planes."""
    return gate_planes(frame.full_luma(), _chroma(frame))


def text_likelihood(bgr: np.ndarray, width: int = 160) -> float:
    """Fraction of a picture (0-1) covered by text-like stroke clusters (see `text_regions`)."""
    return text_regions(bgr, width)[0]


def text_crop(shape: tuple[int, ...], boxes: list[tuple[int, int, int, int]]) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the boxes' union, padded by a text height and 10 % of the width, in px."""
    h, w = shape[:2]
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    pad_y = max(b[3] for b in boxes)
    pad_x = int(0.1 * w) + pad_y
    return max(0, x0 - pad_x), max(0, y0 - pad_y), min(w, x1 + pad_x), min(h, y1 + pad_y)


def ocr_image(bgr: np.ndarray, threads: int = 1, min_score: float = 0.5,
              crop: tuple[int, int, int, int] | None = None, boxes: list | None = None) -> tuple[float, list[str]]:
    """(text area fraction 0-1 of the whole picture, recognised lines in reading order).

    `crop` (x0, y0, x1, y1) limits the OCR to that part (detection cost grows with the area).
    `boxes`, when given, receives each returned line's bounding box (x0, y0, x1, y1) in `bgr`'s px,
    in the lines' order.
    """
    import cv2

    x0, y0 = (crop[0], crop[1]) if crop else (0, 0)
    part = np.ascontiguousarray(bgr[crop[1]: crop[3], crop[0]: crop[2]]) if crop else bgr
    result, _ = ocr_engine(threads)(part)
    if not result:
        return 0.0, []
    h, w = bgr.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    items = []
    for box, text, score in result:
        if float(score) < min_score or not str(text).strip():
            continue
        pts = np.asarray(box, dtype=np.float32).reshape(-1, 2) + np.float32([x0, y0])
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
        items.append((float(pts[:, 1].mean()), float(pts[:, 0].min()), " ".join(str(text).split()),
                      (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))))
    items.sort(key=lambda it: (round(it[0] / 8.0), it[1]))
    if boxes is not None:
        boxes.extend(it[3] for it in items)   # one per line, in the lines' order
    return float(mask.mean()), [it[2] for it in items]


def stroke_signature(bgr: np.ndarray, crop: tuple[int, int, int, int], size=(96, 24)) -> np.ndarray:
    """Where the strong strokes are inside `crop`, as a (24, 96) bool mask: compares text, not scenes."""
    import cv2

    x0, y0, x1, y1 = crop
    g = cv2.cvtColor(np.ascontiguousarray(bgr[y0:y1, x0:x1]), cv2.COLOR_BGR2GRAY)
    grad = cv2.morphologyEx(g, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    m = cv2.resize((grad >= 48).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return m > 0.2


def _iou(a: tuple, b: tuple) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def same_text(crop_a: tuple, sig_a: np.ndarray, crop_b: tuple, sig_b: np.ndarray,
              min_box_iou: float = 0.8, min_stroke_iou: float = 0.6) -> bool:
    """True when two keyframes show the same text in the same place (box and stroke overlap)."""
    if _iou(crop_a, crop_b) < min_box_iou:
        return False
    union = np.count_nonzero(sig_a | sig_b)
    return union > 0 and np.count_nonzero(sig_a & sig_b) / union >= min_stroke_iou


def stroke_signature_grey(grey: np.ndarray, crop: tuple[int, int, int, int], size=(96, 24)) -> np.ndarray:
    """`stroke_signature` of a grey (luma) picture."""
    import cv2

    x0, y0, x1, y1 = crop
    g = np.ascontiguousarray(grey[y0:y1, x0:x1])
    grad = cv2.morphologyEx(g, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    m = cv2.resize((grad >= 48).astype(np.float32), size, interpolation=cv2.INTER_AREA)
    return m > 0.2


@dataclass
class Candidate:
    """A sampled frame that passed the gate."""

    frame: int                      # frame index (in the segment while a segment is analysed)
    pts_time: float
    score: float                    # gate score
    crop: tuple[int, int, int, int]  # in the OCR picture's px
    frame_size: tuple[int, int]     # (w, h) of the OCR picture (text_area is relative to it)
    jpeg: bytes | str | None        # the crop as JPEG: a temp file's path in one pass, bytes from a segment
    boxes: tuple = ()               # the gate's text-like boxes (x0, y0, x1, y1), frame px
    luma_size: tuple = ()           # (w, h) of the frame px the boxes are in


def _steady_area(boxes: tuple, others: list[tuple], min_iou: float = 0.5) -> float:
    """Area (px) of `boxes` found again (IoU >= min_iou) among a neighbouring sample's boxes."""
    if not boxes or not others:
        return 0.0
    a = np.asarray(boxes, np.float32)
    area = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    keep = np.zeros(len(a), bool)
    for o in others:
        if not o:
            continue
        b = np.asarray(o, np.float32)
        ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
        iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
        inter = ix * iy
        union = area[:, None] + ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[None, :] - inter
        keep |= (inter / np.maximum(union, 1e-6) >= min_iou).any(axis=1)
    return float(area[keep].sum())



# The box bookkeeping after the pass compares every box of a sample with every box of its
# neighbours; busy pictures give dozens of boxes per sample, so these are whole matrices at
# once (float64 on integer px: the same comparisons as `_iou` per pair, exactly; tested against
# per-box loops in tests/test_text_gate.py).
def _alnum(s: str) -> str:
    """Letters and digits, lower case: how two readings of one line are compared."""
    return "".join(ch for ch in s.lower() if ch.isalnum())


def _overlap(a, b) -> float:
    """Intersection area (px) of two boxes (x0, y0, x1, y1)."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _iou_matrix(a, b) -> np.ndarray:
    """IoU of every box of `a` with every box of `b`, shape (len(a), len(b))."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ix = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    iy = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = ix * iy
    union = (((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]))[:, None]
             + ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]))[None, :] - inter)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def _row_matrix(a, b) -> np.ndarray:
    """Which pairs lie on the same text row (vertical IoU >= 0.5, heights within 1.5x), wherever
    along it: a scrolling ticker's word moves sideways between two samples. Bool (len(a), len(b))."""
    a = np.asarray(a, np.float64).reshape(-1, 4)
    b = np.asarray(b, np.float64).reshape(-1, 4)
    ha, hb = (a[:, 3] - a[:, 1])[:, None], (b[:, 3] - b[:, 1])[None, :]
    inter = np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1])
    span = np.maximum(a[:, None, 3], b[None, :, 3]) - np.minimum(a[:, None, 1], b[None, :, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        same_row = (inter > 0) & (inter / np.where(span > 0, span, 1.0) >= 0.5)
    return same_row & (np.maximum(ha, hb) <= 1.5 * np.maximum(1, np.minimum(ha, hb)))


class TextScorer(Scorer):
    """Samples frames on a fixed time grid during the pass, gates them, keeps new text; OCR after."""

    name = "text"
    columns = COLUMNS
    segmentable = True

    def __init__(self, gate: float = 0.0, frames_per_ocr: int = 125, min_calls: int = 1,
                 max_per_shot: int = 3, min_score: float = 0.5, threads: int = 1, crop: bool = True,
                 sample_hz: float = 2.0, ocr_side: int = 960, slice_seconds: float = 3.0,
                 jpeg_quality: int = 92, tmp_dir: str | None = None, max_events_per_shot: int = 2,
                 frames_per_event: int = 150, steady_crop: bool = True, skip_known: bool = True,
                 ticker_band: float = 0.25, recheck_events: bool = True, cross_cut: bool = True,
                 event_scale: float = 1.5, event_small_px: float = 32.0):
        self.gate = gate                     # minimum gate score (0: any text-like cluster passes)
        self.crop = crop
        self.frames_per_ocr = frames_per_ocr
        self.min_calls = min_calls
        self.max_per_shot = max_per_shot
        self.min_score = min_score
        self.threads = threads
        self.sample_hz = sample_hz
        self.ocr_side = ocr_side
        self.slice_seconds = slice_seconds
        self.jpeg_quality = jpeg_quality
        self.tmp_dir = tmp_dir
        self.max_events_per_shot = max_events_per_shot   # reads triggered by new steady text, per shot
        self.frames_per_event = frames_per_event         # ... and over the video: one per this many frames (+ 1 per shot with text)
        self.steady_crop = steady_crop                   # planned reads on the steady boxes' crop (see finish)
        self.skip_known = skip_known                     # skip / narrow reads whose boxes earlier reads explain (`_walk`)
        self.ticker_band = ticker_band                   # top/bottom fraction of the frame where a box may match along its row
        # session 8: an event whose boxes a planned read of the shot already looked at is still read
        # when that read recognised no line over them (OCR on a moving picture is flaky from frame
        # to frame: a word the planned read missed was read on the next samples)
        self.recheck_events = recheck_events
        # session 8: a line read next to a cut is looked for (recogniser alone) in the other shot's
        # sample at the cut, so a word shown across a cut is in both shots' text (`_cross_cut`)
        self.cross_cut = cross_cut
        self.event_scale = event_scale
        self.event_small_px = event_small_px
        self.cross_added = 0    # lines added to a shot by the cross-cut check (last video)
        self.skipped = 0        # reads skipped: every box they were for was explained by an earlier read
        self.rec_checks = 0     # recogniser-only reads of a line box (to tell the same text from a new one)
        self._tmp: str | None = None   # crops over the memory allowance wait here (memory stays flat on long videos)
        self._cleanup = None
        self.calls = 0          # OCR calls made for the last video (for benchmarks)
        self.reused = 0         # shots served by a reading made for another shot
        self.event_calls = 0    # of `calls`: reads triggered by new steady text (on a crop of the new boxes)
        self.ocr_pixels = 0     # pixels of the pictures sent to the OCR (its detector's cost grows with them)
        self.sampled = 0        # frames the gate examined
        self.passed = 0         # ... and let through
        self._reset()

    def _reset(self) -> None:
        self.samples: list[tuple[int, int]] = []      # (frame index, candidate index or -1: nothing text-like)
        self.cands: list[Candidate] = []
        self._slot: int | None = None
        self._steady: dict[int, float] = {}             # candidate -> steady text-like area (after the pass)
        self._steady_boxes: dict[int, list] = {}        # candidate -> its boxes found again in a neighbour sample
        self._sub: dict[int, tuple] = {}                # candidate -> the part of its crop a plan read reads
        self._shot_span: dict[int, tuple[int, int]] = {}  # candidate -> its shot's frames
        self._event_boxes: dict = {}                    # event read key -> the new boxes it is for
        self._held = 0                                  # bytes of crops held in memory

    # -- during the pass -------------------------------------------------------------------
    def _slot_of(self, frame) -> int:
        return math.floor(frame.pts_time * self.sample_hz + 1e-6)

    def process(self, frame: Frame) -> None:
        # a fixed grid in presentation time: the same frames are sampled whatever segment decodes them
        slot = self._slot_of(frame)
        if slot == self._slot:
            return
        self._slot = slot
        self.sampled += 1
        g = gate_frame(frame)
        if not g.passed or g.score < self.gate:
            self.samples.append((frame.index, -1))
            return
        self.passed += 1
        import cv2

        # The picture the OCR will read: the gate's crop at <= ocr_side px. No attempt to tell
        # "the same text as before" from strokes here: on a busy picture the crop is most of the
        # frame and any two busy pictures look alike (a caption read for one shot was served
        # to the next one showing another word); the per-shot plan below bounds the reads instead.
        img = frame.bgr(self.ocr_side)
        luma_h, luma_w = frame.full_luma().shape[:2]
        sy, sx = img.shape[0] / luma_h, img.shape[1] / luma_w
        c = g.crop if self.crop else (0, 0, luma_w, luma_h)
        ocrop = (int(c[0] * sx), int(c[1] * sy), int(np.ceil(c[2] * sx)), int(np.ceil(c[3] * sy)))
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(img[ocrop[1]: ocrop[3], ocrop[0]: ocrop[2]]),
                               [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
        where: bytes | str | None = None
        if ok:
            where = buf.tobytes()
            if self._held + len(where) <= MEMORY_BYTES:
                self._held += len(where)
            else:   # over the allowance: this crop waits on disk
                path = os.path.join(self._spill_dir(), f"{frame.index}.jpg")
                with open(path, "wb") as f:
                    f.write(where)
                where = path
        self.cands.append(Candidate(frame.index, frame.pts_time, g.score, ocrop, (img.shape[1], img.shape[0]), where,
                                    tuple(g.boxes), (luma_w, luma_h)))
        self.samples.append((frame.index, len(self.cands) - 1))

    def _spill_dir(self) -> str:
        if self._tmp is None:
            import shutil
            import tempfile
            import weakref

            self._tmp = tempfile.mkdtemp(prefix=f"vf-text-{os.getpid()}-", dir=self.tmp_dir)
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, True)
        return self._tmp

    def close(self) -> None:
        """Remove the waiting crops (also done when the scorer is garbage-collected)."""
        if self._cleanup is not None:
            self._cleanup()
        self._tmp = self._cleanup = None

    # -- parallel segments (engine/segments.py) -----------------------------------------------
    def segment_state(self):
        """Samples and candidates; the crops travel as bytes (the segment's temp folder goes with it)."""
        cands = []
        for c in self.cands:
            data = c.jpeg
            if isinstance(data, str):
                with open(data, "rb") as f:
                    data = f.read()
            cands.append(Candidate(c.frame, c.pts_time, c.score, c.crop, c.frame_size, data, c.boxes, c.luma_size))
        self.close()
        return {"samples": self.samples, "cands": cands, "counts": (self.sampled, self.passed)}

    def join_segments(self, states: list, seams: list) -> None:
        """The state one pass leaves: samples and candidates with whole-video frame indices."""
        self._reset()
        self.sampled = self.passed = 0
        for k, st in enumerate(states):
            off = seams[k - 1].offset if k else 0
            samples, cands = list(st["samples"]), list(st["cands"])
            sampled, passed = st["counts"]
            if k and samples and samples[0][0] == 0 and self._slot_of(seams[k - 1].before) == self._slot_of(seams[k - 1].after):
                # one pass samples a slot once: the segment's first frame shares its slot with the frame before
                _, c0 = samples.pop(0)
                sampled -= 1
                if c0 >= 0:
                    passed -= 1
                    cands[c0] = None
            index = {}
            for j, c in enumerate(cands):
                if c is not None:
                    index[j] = len(self.cands)
                    self.cands.append(Candidate(c.frame + off, c.pts_time, c.score, c.crop, c.frame_size, c.jpeg, c.boxes,
                                                c.luma_size))
            self.samples += [(i + off, index[c] if c >= 0 else -1) for i, c in samples]
            self.sampled += sampled
            self.passed += passed

    # -- after the pass ----------------------------------------------------------------------
    def _plan(self, shot, fps: float) -> list[int]:
        """Candidates to read for one shot, most needed first: the most text-like one of each
        time slice of the shot (a word shown for part of the shot has its own slice)."""
        inside = [(i, c) for i, c in self.samples if shot.start_frame <= i <= shot.end_frame and c >= 0]
        readable = [(i, c) for i, c in inside if self.cands[c].jpeg is not None]
        if not readable:
            return []
        n_frames = shot.end_frame - shot.start_frame + 1
        n_slices = max(1, min(self.max_per_shot, 1 + int(n_frames / max(fps, 1e-6) // self.slice_seconds)))
        edges = np.linspace(shot.start_frame, shot.end_frame + 1, n_slices + 1)
        # Burned-in text stays put while the picture under it moves: a candidate whose text-like
        # boxes are also found at the same place in the neighbouring samples ranks first.
        seq = [c for _, c in inside]
        nbrs = {c: [self.cands[n].boxes for n in seq[max(0, k - 1): k] + seq[k + 1: k + 2]] for k, c in enumerate(seq)}
        steady = {c: _steady_area(self.cands[c].boxes, nbrs[c]) for k, c in enumerate(seq)}
        for c in seq:
            # what stays put (or, a ticker, on its row) between neighbouring samples: burned-in text
            bx, others = self.cands[c].boxes, [o for nb in nbrs[c] for o in nb]
            if not bx or not others:
                self._steady_boxes[c] = []
                continue
            keep = ((_iou_matrix(bx, others) >= 0.5) | self._ticker_rows(c, bx, others)).any(axis=1)
            self._steady_boxes[c] = [b for b, k in zip(bx, keep) if k]
        self._steady.update(steady)
        for c in seq:
            self._shot_span[c] = (shot.start_frame, shot.end_frame)
        picks: list[tuple[tuple, int]] = []
        for a, b in zip(edges[:-1], edges[1:]):
            part = [c for i, c in readable if a <= i < b]
            if part:
                best = max(part, key=lambda c: (steady[c], self.cands[c].score, -c))
                if best not in [p for _, p in picks]:
                    picks.append(((steady[best], self.cands[best].score), best))
        return [c for _, c in sorted(picks, key=lambda t: (-t[0][0], -t[0][1]))]

    def _events(self, shot) -> list[tuple[float, int, tuple[int, int, int, int], list]]:
        """New steady text in one shot: [(area px, candidate, sub-crop, boxes)], largest first.

        An event is a sample whose text-like boxes include one that the previous sample of the
        shot did not have (no box there with IoU >= 0.3; at the shot's first sample every box is
        new) and that the next sample has again (same place, or - a ticker - the same row): a
        word that appears mid-shot, or text the shot opens with. The read is the next sample
        (the word is fully in by then), on a crop of just the matching boxes (padded like the
        gate's crop, in the OCR picture's px, relative to the stored crop).
        """
        seq = [c for i, c in self.samples if shot.start_frame <= i <= shot.end_frame]
        boxes = [self.cands[c].boxes if c >= 0 else () for c in seq]
        out = []
        for k in range(0, len(seq) - 1):
            if not boxes[k] or not boxes[k + 1]:
                continue
            new = list(boxes[k])
            if k and boxes[k - 1]:
                new = [b for b, seen in zip(new, (_iou_matrix(new, boxes[k - 1]) >= 0.3).any(axis=1)) if not seen]
            if not new:
                continue
            # a new box's matches in the next sample: the boxes at its place, else those on its row
            at = _iou_matrix(new, boxes[k + 1]) >= 0.5
            m = np.where(at.any(axis=1, keepdims=True), at, self._ticker_rows(seq[k], new, boxes[k + 1]))
            again: list[tuple] = []
            for o, hit in zip(boxes[k + 1], m.any(axis=0)):
                if hit and o not in again:
                    again.append(o)
            if not again:
                continue
            # the whole line a new box belongs to: a word changed in place (a subtitle) may differ from
            # the one before in a few letters only, so only part of its line makes a new box
            for o in boxes[k + 1]:
                if o not in again and any(_overlap(o, e) > 0 and min(o[3], e[3]) - max(o[1], e[1])
                                          >= 0.5 * min(o[3] - o[1], e[3] - e[1]) for e in again):
                    again.append(o)
            c = seq[k + 1]
            sub = self._sub_crop(c, again)
            if sub is None:
                continue
            area = float(sum((b[2] - b[0]) * (b[3] - b[1]) for b in again))
            out.append((area, c, sub, again))
        return sorted(out, key=lambda t: (-t[0], t[1]))

    def _ticker_rows(self, c: int, a, b) -> np.ndarray:
        """`_row_matrix` (same text row, anywhere along it: a scrolling ticker) for the boxes `a` of
        candidate c whose middle lies in the frame's top or bottom `ticker_band` (where tickers run);
        elsewhere a busy picture's texture finds a box on its row in every sample, which made most
        of the frame "steady". False for the other rows."""
        m = _row_matrix(a, b)
        h = self.cands[c].luma_size[1] if self.cands[c].luma_size else 0
        if self.ticker_band >= 0.5 or not h or not len(a):
            return m
        mid = (np.asarray(a, np.float64).reshape(-1, 4)[:, [1, 3]].mean(axis=1)) / h
        return m & ((mid < self.ticker_band) | (mid > 1.0 - self.ticker_band))[:, None]

    def _sub_crop(self, c: int, boxes) -> tuple[int, int, int, int] | None:
        """The part of candidate c's stored crop around `boxes` (frame px), padded like the gate's
        crop, in the stored crop's px; None when it cannot be cut (no picture, or under 8 px)."""
        cand = self.cands[c]
        if cand.jpeg is None or not cand.luma_size or not boxes:
            return None
        sx, sy = cand.frame_size[0] / cand.luma_size[0], cand.frame_size[1] / cand.luma_size[1]
        x0, y0, x1, y1 = text_crop((cand.luma_size[1], cand.luma_size[0]),
                                   [(b[0], b[1], b[2] - b[0], b[3] - b[1]) for b in boxes])
        cx0, cy0, cx1, cy1 = cand.crop
        sub = (max(cx0, int(x0 * sx)) - cx0, max(cy0, int(y0 * sy)) - cy0,
               min(cx1, int(np.ceil(x1 * sx))) - cx0, min(cy1, int(np.ceil(y1 * sy))) - cy0)
        if sub[2] - sub[0] < 8 or sub[3] - sub[1] < 8:
            return None
        return sub

    def _image(self, c: int) -> np.ndarray | None:
        """Candidate c's stored crop, decoded (BGR), or None."""
        import cv2

        cand = self.cands[c]
        if isinstance(cand.jpeg, bytes):
            return cv2.imdecode(np.frombuffer(cand.jpeg, np.uint8), cv2.IMREAD_COLOR)
        return cv2.imread(cand.jpeg, cv2.IMREAD_COLOR) if cand.jpeg else None

    def _read(self, key, img=None, line_boxes: list | None = None) -> tuple[float, list[str]]:
        """OCR of a candidate's crop (key: candidate) or of a part of it (key: (candidate, sub-crop));
        `img`: the candidate's decoded crop if at hand; `line_boxes` receives the recognised lines'
        boxes in frame (luma) px."""
        c, sub = key if isinstance(key, tuple) else (key, self._sub.get(key))
        cand = self.cands[c]
        if img is None:
            img = self._image(c)
        if img is None:
            return 0.0, []
        if sub is not None:
            img = np.ascontiguousarray(img[sub[1]: sub[3], sub[0]: sub[2]])
        part_h, part_w = img.shape[:2]
        # an event's crop (a part of the frame) whose new boxes are all small (< `event_small_px` px high
        # in the OCR picture) is enlarged up to `event_scale` (never past `ocr_side`): PP-OCR's detector
        # missed small words on event crops that it found on the same crop enlarged (session 8, dev sets
        # F/H); the detector's cost grows with the pixels, so only these reads
        scale = 1.0
        boxes = self._event_boxes.get(key, ()) if isinstance(key, tuple) else ()
        tallest = max(((b[3] - b[1]) * cand.frame_size[1] / max(1, cand.luma_size[1]) for b in boxes), default=0.0) \
            if cand.luma_size else 0.0
        if boxes and tallest < self.event_small_px and self.event_scale > 1.0:
            scale = min(self.event_scale, self.ocr_side / max(img.shape[:2]))
            if scale > 1.05:
                import cv2

                img = cv2.resize(img, (round(img.shape[1] * scale), round(img.shape[0] * scale)),
                                 interpolation=cv2.INTER_CUBIC)
                scale = img.shape[1] / float((sub[2] - sub[0]) if sub else img.shape[1] / scale)
            else:
                scale = 1.0
        with _COUNT_LOCK:
            self.ocr_pixels += img.shape[0] * img.shape[1]
        found: list = []
        area, lines = ocr_image(img, self.threads, self.min_score, boxes=found)
        if line_boxes is not None and cand.luma_size:
            # OCR picture px of the read part -> frame (luma) px, where the gate's boxes are
            ox, oy = cand.crop[0] + (sub[0] if sub else 0), cand.crop[1] + (sub[1] if sub else 0)
            sx, sy = cand.frame_size[0] / cand.luma_size[0], cand.frame_size[1] / cand.luma_size[1]
            line_boxes.extend(((x0 / scale + ox) / sx, (y0 / scale + oy) / sy, (x1 / scale + ox) / sx, (y1 / scale + oy) / sy)
                              for x0, y0, x1, y1 in found)
        w, h = cand.frame_size
        return area * part_h * part_w / float(w * h), lines   # relative to the whole frame (same rounding as before)

    # -- reads of one shot in order: skip what earlier reads of the shot already explain --------
    def _walk(self, state: dict, reads: list) -> dict:
        """Read `reads` [(key, target boxes in frame px)] of one shot in order; returns {key: (area, lines)}.

        A read's target boxes are the text-like boxes it is for (the steady boxes of a planned read,
        the new boxes of an event, every gate box of a whole-crop read). With `skip_known`, a target
        box is explained when an earlier read of the shot (a) recognised a line over it (covering half
        of the box, or half of the line inside the box) and the recogniser alone, on that line's box in
        this sample, reads the same letters (the same burned-in text held steady; a subtitle changed in
        place reads otherwise and gets its full read), or (b) looked at a box at the same place
        (IoU >= 0.5) and found no line there (texture already looked at). A read whose boxes are all
        explained is skipped (reading a narrower crop around the others lost small words: the detector
        on a small crop is less sure of them). `state` carries what was
        read between calls for the same shot (step 3's extra read)."""
        out = {}
        texts, empty, imgs = state.setdefault("texts", []), state.setdefault("empty", []), state.setdefault("imgs", {})
        checked = state.setdefault("checked", {})   # (line, candidate) -> the recogniser read the same text there
        empty_ev = state.setdefault("empty_ev", [])   # ... of those, places event reads looked at
        for key, targets in reads:
            c = key[0] if isinstance(key, tuple) else key
            # an event's new text is not explained away by a planned read that found nothing there
            # (`recheck_events`): only by a line read there, or by another event read's empty look
            is_ev = isinstance(key, tuple)
            emp = empty_ev if (is_ev and self.recheck_events) else empty
            if self.skip_known and targets and (texts or emp):
                # the cheap tests first: a box no earlier line overlaps and no empty place matches cannot
                # be explained, and then no recogniser run is spent on the others
                cheap = [self._explained(c, b, texts, emp, imgs, checked, recognise=False) for b in targets]
                if all(x is not False for x in cheap) and \
                        all(x or self._explained(c, b, texts, emp, imgs, checked) for x, b in zip(cheap, targets)):
                    state["skipped"] = state.get("skipped", 0) + 1
                    continue
            if c not in imgs:
                imgs[c] = self._image(c)
            found: list = []
            out[key] = self._read(key, img=imgs[c], line_boxes=found)
            state["reads"] = state.get("reads", 0) + 1
            texts.extend((b, c, t) for b, t in zip(found, out[key][1]))
            for b in targets:
                if not any(_overlap(b, t) > 0 for t in found):
                    empty.append(b)
                    if is_ev:
                        empty_ev.append(b)
        return out

    def _explained(self, c: int, box, texts: list, empty: list, imgs: dict, checked: dict,
                   recognise: bool = True) -> bool | None:
        """Whether an earlier read of the shot explains `box` (see `_walk`). With `recognise` off no
        recogniser runs: None where only it could tell (a line read there in another sample)."""
        if empty and (_iou_matrix([box], empty) >= 0.5).any():
            return True
        area = (box[2] - box[0]) * (box[3] - box[1])
        maybe = False
        for k, (line, cp, text) in enumerate(texts):
            # the line covers half the box, or (a coarse-scale box around the line and some texture)
            # the box holds half the line
            if _overlap(box, line) >= 0.5 * max(1e-6, min(area, (line[2] - line[0]) * (line[3] - line[1]))):
                if cp == c:
                    return True
                if not recognise:
                    maybe = True
                    continue
                if (k, c) not in checked:
                    checked[(k, c)] = self._same_text(line, text, c, imgs)
                if checked[(k, c)]:
                    return True
        return None if maybe else False

    def _same_text(self, line, text: str, c: int, imgs: dict) -> bool:
        """Whether candidate c shows `text` in the line box (frame px) where an earlier sample's read
        found it: PP-OCR's recogniser alone on that box of c's crop (a few ms; the detector, which
        the full read would run over the whole crop, is the OCR's main cost) reads the same letters."""
        cand = self.cands[c]
        if c not in imgs:
            imgs[c] = self._image(c)
        img = imgs[c]
        if img is None or not cand.luma_size:
            return False
        sx, sy = cand.frame_size[0] / cand.luma_size[0], cand.frame_size[1] / cand.luma_size[1]
        x0, y0 = int(line[0] * sx) - cand.crop[0], int(line[1] * sy) - cand.crop[1]
        x1, y1 = int(np.ceil(line[2] * sx)) - cand.crop[0], int(np.ceil(line[3] * sy)) - cand.crop[1]
        if x0 < 0 or y0 < 0 or x1 > img.shape[1] or y1 > img.shape[0] or x1 - x0 < 4 or y1 - y0 < 4:
            return False   # the line is not wholly inside this sample's crop: cannot tell
        want = _alnum(text)
        if not want:
            return False
        (res, *_), _ = ocr_engine(self.threads).text_rec([np.ascontiguousarray(img[y0:y1, x0:x1])])
        with _COUNT_LOCK:
            self.rec_checks += 1
        return float(res[1]) >= self.min_score and _alnum(str(res[0])) == want

    def finish(self, ctx: ShotContext) -> list[dict]:
        fps = ctx.stats.average_fps if getattr(ctx.stats, "average_fps", None) else 25.0
        plans = [self._plan(shot, fps) for shot in ctx.shots]
        sampled = [any(shot.start_frame <= i <= shot.end_frame for i, _ in self.samples) for shot in ctx.shots]
        budget = max(self.min_calls, math.ceil(ctx.stats.frames / max(1, self.frames_per_ocr)))
        results: dict[int, tuple[float, list[str]]] = {}
        self.calls = self.reused = self.ocr_pixels = self.rec_checks = self.cross_added = 0
        # 1. every shot that shows text-like strokes gets its most text-like candidate read, outside
        #    the budget (a texted shot never stays NULL); 2. the budget (one read per
        #    `frames_per_ocr` frames) goes to the shots' further slices, second slices first
        order = [(0, i, p[0]) for i, p in enumerate(plans) if p]
        order += sorted(((k, i, c) for i, p in enumerate(plans) for k, c in enumerate(p) if k),
                        key=lambda t: (t[0], -self.cands[t[2]].score))
        extra = 0
        to_read: list[int] = []
        for k, i, c in order:
            if c in results or c in to_read:
                self.reused += 1
                continue
            if k:
                if extra >= budget:
                    continue
                extra += 1
            to_read.append(c)
            self.calls += 1
        # 2a. a planned read looks at the sample's steady boxes only (burned-in text stays put while
        #     the picture moves; the OCR's detector cost grows with the area); a sample with none,
        #     and the extra read of step 3, read the gate's whole crop
        if self.steady_crop:
            for c in to_read:
                sub = self._sub_crop(c, self._steady_boxes.get(c))
                if sub is not None:
                    self._sub[c] = sub
        # 2b. new steady text (a word that appears mid-shot, see `_events`): a read of the sample that
        #     shows it again, on a crop of the new boxes only, whatever the slices chose; at most
        #     `max_events_per_shot` per shot and, over the video, one per `frames_per_event` frames
        #     plus one per shot with text (first events of every shot before second ones)
        event_keys: dict[int, list] = {}
        cands_ev = []
        boxes_of: dict = {}
        for i, (shot, p) in enumerate(zip(ctx.shots, plans)):
            if not p:
                continue
            # text whose boxes a whole-crop read of this shot already holds at the same place is covered
            read_boxes = tuple(b for c in p if c in to_read
                               for b in (self._steady_boxes.get(c, ()) if c in self._sub else self.cands[c].boxes))
            evs = [e for e in self._events(shot) if e[1] not in to_read
                   and (self.recheck_events
                        or not (read_boxes and (_iou_matrix(e[3], read_boxes) >= 0.5).any(axis=1).all()))]
            for r, (area, c, sub, ebx) in enumerate(evs[: self.max_events_per_shot]):
                cands_ev.append((r, -area, i, c, sub))
                boxes_of[(c, sub)] = ebx
        ev_budget = math.ceil(ctx.stats.frames / max(1, self.frames_per_event)) + sum(1 for p in plans if p)
        self.event_calls = 0
        for r, _, i, c, sub in sorted(cands_ev):
            if self.event_calls >= ev_budget:
                continue
            event_keys.setdefault(i, []).append((c, sub))
            self._event_boxes[(c, sub)] = boxes_of[(c, sub)]
            to_read.append((c, sub))
            self.event_calls += 1
        self.calls += self.event_calls
        # the reads of each shot in order (its best-ranked one first, then by time), each skipped
        # where the shot's earlier reads explain its boxes (`_walk`); shots in parallel
        planned = set(to_read)
        shot_reads, states = {}, {}
        for i, p in enumerate(plans):
            keys = [c for c in p if c in planned] + event_keys.get(i, [])
            if keys:
                first, rest = keys[0], sorted(keys[1:], key=lambda k: self.cands[k[0] if isinstance(k, tuple) else k].frame)
                shot_reads[i] = [(k, self._targets(k)) for k in [first] + rest]
                states[i] = {}
        self._walk_all(shot_reads, states, results, ctx)
        # 3. a shot whose reads found nothing gets one more (its next candidate by rank, from the
        #    budget): OCR on a moving picture is flaky from frame to frame
        again = {}
        for i, p in enumerate(plans):
            if p and not any(results.get(c, (0, []))[1] for c in p + event_keys.get(i, [])) and extra < budget:
                spare = self._spare(p)
                if spare is not None and spare not in results and spare not in again.values():
                    again[i] = spare
                    extra += 1
        self._walk_all({i: [(c, list(self.cands[c].boxes))] for i, c in again.items()}, states, results, ctx)
        for i, c in again.items():
            plans[i].append(c)
        self.calls = sum(st.get("reads", 0) for st in states.values())
        self.skipped = sum(st.get("skipped", 0) for st in states.values())
        self.event_calls = sum(1 for ks in event_keys.values() for k in ks if k in results)
        added = self._cross_cut(ctx, states, fps) if self.cross_cut else {}
        out = []
        fallback = self._keyframe_fallback(ctx, [not s for s in sampled])
        for i, plan in enumerate(plans):
            read = [results[c] for c in plan + event_keys.get(i, []) if c in results] + added.get(i, [])
            if i in fallback:
                out.append(fallback[i])
            elif not read:
                out.append({"text_area": 0.0, "ocr_text": ""})
            else:
                lines: list[str] = []
                for _, ls in read:
                    lines.extend(t for t in ls if t not in lines)
                out.append({"text_area": max(a for a, _ in read), "ocr_text": " | ".join(lines)})
        self._reset()
        self.close()
        return out

    def _cross_cut(self, ctx: ShotContext, states: dict, fps: float, max_gap_s: float = 0.5) -> dict:
        """Lines read next to a cut, found again across it: {shot: [(area, [line])]} to add.

        The shot detector sometimes cuts inside the time a word is on screen (a caption appearing or
        leaving makes a hard cut), and a word that comes or goes shortly before a cut may be read in
        one shot only. For two adjacent shots (at most `max_gap_s` apart), each line read in one of
        them is looked for in the other shot's sample nearest the cut (its last sample for the shot
        before, its first for the shot after): PP-OCR's recogniser alone on the line's box (no
        detector; `_same_text`) must read the same letters. Lines found so are added to that shot and
        are themselves looked for further along (a word over three pieces). Only shots with lines read
        take part: footage without text is not touched."""
        shots = ctx.shots
        lines = {i: [(b, t) for b, _, t in st.get("texts", [])] for i, st in states.items()}
        if not any(lines.values()):
            return {}
        first, last = {}, {}
        for i, c in self.samples:
            if c < 0 or self.cands[c].jpeg is None:
                continue
            for k, shot in enumerate(shots):
                if shot.start_frame <= i <= shot.end_frame:
                    first.setdefault(k, c)
                    last[k] = c
                    break
        imgs: dict = {}
        checked: dict = {}
        added: dict = {}

        def carry(src: int, dst: int, c: int | None) -> None:
            if c is None:
                return
            have = {_alnum(t) for _, t in lines.get(dst, [])}
            for box, text in list(lines.get(src, [])):
                key = (round(box[0]), round(box[1]), _alnum(text), c)
                if _alnum(text) in have or len(_alnum(text)) < 2 or key in checked:
                    continue
                # the gate saw nothing text-like at the line's place in that sample: no recogniser run
                la = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
                if not any(_overlap(box, b) >= 0.25 * min(la, (b[2] - b[0]) * (b[3] - b[1])) for b in self.cands[c].boxes):
                    checked[key] = False
                    continue
                checked[key] = self._same_text(box, text, c, imgs)
                if checked[key]:
                    lines.setdefault(dst, []).append((box, text))
                    have.add(_alnum(text))
                    lw, lh = self.cands[c].luma_size or (1, 1)
                    area = (box[2] - box[0]) * (box[3] - box[1]) / float(max(1, lw * lh))
                    added.setdefault(dst, []).append((min(1.0, area), [text]))
                    self.cross_added += 1

        near = [k + 1 < len(shots) and (shots[k + 1].start_frame - shots[k].end_frame - 1) <= max_gap_s * fps
                for k in range(len(shots))]
        for k in range(len(shots) - 2, -1, -1):     # backwards: the shot after's lines into the shot before
            if near[k]:
                carry(k + 1, k, last.get(k))
        for k in range(len(shots) - 1):             # forwards: the shot before's lines into the shot after
            if near[k]:
                carry(k, k + 1, first.get(k + 1))
        return added

    def _targets(self, key) -> list:
        """The text-like boxes a read is for (frame px): an event's new boxes, a planned read's steady
        boxes when it reads their crop, else every gate box of the sample."""
        if isinstance(key, tuple):
            return list(self._event_boxes.get(key, ()))
        if key in self._sub:
            return list(self._steady_boxes.get(key, ()))
        return list(self.cands[key].boxes)

    def _walk_all(self, shot_reads: dict, states: dict, results: dict, ctx: ShotContext) -> None:
        items = sorted(shot_reads.items())
        if not items:
            return
        threads = min(max(1, getattr(ctx, "workers", 1)), len(items))
        run = lambda it: self._walk(states.setdefault(it[0], {}), it[1])   # noqa: E731
        for got in (_read_pool(threads).map(run, items) if threads > 1 else map(run, items)):
            results.update(got)

    def _spare(self, plan: list[int]) -> int | None:
        """The best-ranked candidate of the plan's shot that the plan does not read (None if none)."""
        first = self.cands[plan[0]]
        inside = [c for i, c in self.samples if c >= 0 and c not in plan and self.cands[c].jpeg is not None
                  and abs(self.cands[c].frame - first.frame) <= 10 * 25]
        shot_of_first = self._shot_span.get(plan[0])
        if shot_of_first is not None:
            lo, hi = shot_of_first
            inside = [c for c in inside if lo <= self.cands[c].frame <= hi]
        return max(inside, key=lambda c: (self._steady.get(c, 0.0), self.cands[c].score, -c)) if inside else None

    def _keyframe_fallback(self, ctx: ShotContext, unsampled: list[bool]) -> dict[int, dict]:
        """Shots too short to hold a grid sample: their keyframe JPEGs go through the same gate and OCR."""
        import cv2

        out: dict[int, dict] = {}
        root = ctx.catalog_root or ""
        for i, missing in enumerate(unsampled):
            if not missing:
                continue
            kfs = ctx.keyframes[i] if i < len(ctx.keyframes) else []
            row = {"text_area": None, "ocr_text": None}
            for kf in kfs:
                img = cv2.imread(os.path.join(root, kf["path"]))
                if img is None:
                    continue
                grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
                g = gate_planes(grey)
                if not g.passed:
                    row = {"text_area": 0.0, "ocr_text": ""} if row["ocr_text"] is None else row
                    continue
                area, lines = ocr_image(img, self.threads, self.min_score, g.crop if self.crop else None)
                self.calls += 1
                prev = row["ocr_text"].split(" | ") if row["ocr_text"] else []
                prev += [t for t in lines if t not in prev]
                row = {"text_area": max(area, row["text_area"] or 0.0), "ocr_text": " | ".join(prev)}
            out[i] = row
        return out
