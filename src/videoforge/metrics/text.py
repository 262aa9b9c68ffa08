"""On-screen text: a real OCR (PP-OCRv4 via rapidocr-onnxruntime) on the shot's keyframes.

Cheap before expensive: every keyframe first goes through `text_likelihood`, a
morphological test on a 160-px grey copy (~0.2 ms) that looks for rows of compact,
high-contrast strokes; only keyframes that pass it reach the OCR (~25-110 ms each). The OCR
work per video is budgeted: at most one OCR call per `frames_per_ocr` decoded frames (at
least `min_calls`), spent first on each shot's most text-like keyframe, most likely shots
first, then on the remaining candidates (at most `max_per_shot` per shot). Keyframes whose
text strokes sit in the same place (a logo, a caption held across a cut) form one group that
a single reading serves; groups covering more shots are read first. The OCR reads only the
padded box around the text-like regions (detection cost grows with area).

Per shot:
- `text_area`: fraction of the keyframe area covered by recognised text boxes (union of the
  boxes with a recognition score >= `min_score`), the largest over the shot's OCR'd
  keyframes, 0-1. 0 when no keyframe looks like text; NULL when some did but the budget ran out
  before any was read.
- `ocr_text`: the distinct recognised lines, in reading order, joined by " | "; '' when no text
  was found, NULL when not examined.

The OCR reads the keyframe JPEGs (<= 384 px on their longest side), so text smaller than
about 8 px there (~15 px at 720p) is not read. Detection runs at the image's own size
(limit_type max), classification of rotated text is off (on-screen text is upright).
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import Scorer, ShotContext

COLUMNS = ("text_area", "ocr_text")
_ENGINES = threading.local()   # RapidOCR keeps per-call state: one instance per thread


def ocr_engine(threads: int = 1):
    """This thread's RapidOCR instance (models load once per worker, ~0.3-0.8 s)."""
    engines = getattr(_ENGINES, "by_threads", None)
    if engines is None:
        engines = _ENGINES.by_threads = {}
    eng = engines.get(threads)
    if eng is None:
        from rapidocr_onnxruntime import RapidOCR

        eng = engines[threads] = RapidOCR(use_cls=False, det_limit_type="max", det_limit_side_len=640,
                                          intra_op_num_threads=threads, inter_op_num_threads=1,
                                          print_verbose=False)
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
              crop: tuple[int, int, int, int] | None = None) -> tuple[float, list[str]]:
    """(text area fraction 0-1 of the whole picture, recognised lines in reading order).

    `crop` (x0, y0, x1, y1) limits the OCR to that part (detection cost grows with the area).
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
        items.append((float(pts[:, 1].mean()), float(pts[:, 0].min()), " ".join(str(text).split())))
    lines = [t for _, _, t in sorted(items, key=lambda it: (round(it[0] / 8.0), it[1]))]
    return float(mask.mean()), lines


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


class TextScorer(Scorer):
    name = "text"
    columns = COLUMNS

    def __init__(self, gate: float = 0.006, frames_per_ocr: int = 250, min_calls: int = 1,
                 max_per_shot: int = 2, min_score: float = 0.5, threads: int = 1, crop: bool = True):
        self.crop = crop
        self.gate = gate
        self.frames_per_ocr = frames_per_ocr
        self.min_calls = min_calls
        self.max_per_shot = max_per_shot
        self.min_score = min_score
        self.threads = threads
        self.calls = 0          # OCR calls made for the last video (for benchmarks)
        self.reused = 0         # keyframes that reused an earlier reading of the same text

    def process(self, frame: Frame) -> None:   # works on the keyframes, after the pass
        pass

    def finish(self, ctx: ShotContext) -> list[dict]:
        import cv2

        root = ctx.catalog_root or ""
        per_shot = ctx.keyframes if ctx.keyframes else [[] for _ in ctx.shots]
        # 1. cheap gate on every keyframe
        likely: list[list[tuple]] = []   # per shot: (score, path, crop, stroke signature), best first
        for kfs in per_shot:
            scored = []
            for kf in kfs:
                img = cv2.imread(os.path.join(root, kf["path"]))
                if img is None:
                    continue
                score, boxes = text_regions(img)
                if score >= self.gate:
                    crop = text_crop(img.shape, boxes)
                    scored.append((score, kf["path"], crop, stroke_signature(img, crop)))
            likely.append(sorted(scored, key=lambda c: -c[0])[: self.max_per_shot])
        # 2. group keyframes showing the same text in the same place (a logo, a caption held
        #    across a cut): one reading serves the whole group
        order = sorted(((cand[0][0], i, 0) for i, cand in enumerate(likely) if cand), reverse=True)
        order += sorted(((c[0], i, k) for i, cand in enumerate(likely) for k, c in enumerate(cand) if k), reverse=True)
        groups: list[list[tuple[int, int]]] = []
        for _, i, k in order:
            crop, sig = likely[i][k][2], likely[i][k][3]
            g = next((g for g in groups if same_text(crop, sig, likely[g[0][0]][g[0][1]][2],
                                                     likely[g[0][0]][g[0][1]][3])), None)
            if g is None:
                groups.append([(i, k)])
            else:
                g.append((i, k))
        # 3. OCR within the budget: groups holding more shots' best keyframes first, then the most likely
        def priority(g):
            return (-len({i for i, k in g if k == 0}), -likely[g[0][0]][g[0][1]][0])

        budget = max(self.min_calls, math.ceil(ctx.stats.frames / max(1, self.frames_per_ocr)))
        results: dict[tuple[int, int], tuple[float, list[str]]] = {}
        self.calls = self.reused = 0
        for g in sorted(groups, key=priority)[:budget]:
            i, k = g[0]
            _, path, crop, _ = likely[i][k]
            img = cv2.imread(os.path.join(root, path))
            res = ocr_image(img, self.threads, self.min_score, crop if self.crop else None)
            self.calls += 1
            self.reused += len(g) - 1
            for member in g:
                results[member] = res
        out = []
        for i, (kfs, cand) in enumerate(zip(per_shot, likely)):
            read = [results[(i, k)] for k in range(len(cand)) if (i, k) in results]
            if not kfs:
                out.append({"text_area": None, "ocr_text": None})
            elif not cand:
                out.append({"text_area": 0.0, "ocr_text": ""})
            elif not read:
                out.append({"text_area": None, "ocr_text": None})
            else:
                lines: list[str] = []
                for _, ls in read:
                    lines.extend(t for t in ls if t not in lines)
                out.append({"text_area": max(a for a, _ in read), "ocr_text": " | ".join(lines)})
        return out
