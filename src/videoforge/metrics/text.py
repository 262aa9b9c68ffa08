"""On-screen text: a real OCR (PP-OCRv4 via rapidocr-onnxruntime) on the shot's keyframes.

Cheap before expensive: every keyframe first goes through `text_likelihood`, a
morphological test on a 160-px grey copy (~0.2 ms) that looks for rows of compact,
high-contrast strokes; only keyframes that pass it reach the OCR (~25-110 ms each). The OCR
work per video is budgeted: at most one OCR call per `frames_per_ocr` decoded frames (at
least `min_calls`), spent first on each shot's most text-like keyframe, most likely shots
first, then on the remaining candidates.

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

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.base import Scorer, ShotContext

COLUMNS = ("text_area", "ocr_text")
_ENGINES: dict[int, object] = {}


def ocr_engine(threads: int = 1):
    """The process-wide RapidOCR instance (models load once per process, ~0.3 s)."""
    eng = _ENGINES.get(threads)
    if eng is None:
        from rapidocr_onnxruntime import RapidOCR

        eng = _ENGINES[threads] = RapidOCR(use_cls=False, det_limit_type="max", det_limit_side_len=640,
                                          intra_op_num_threads=threads, inter_op_num_threads=1,
                                          print_verbose=False)
    return eng


def text_likelihood(bgr: np.ndarray, width: int = 160) -> float:
    """Fraction of a picture (0-1) covered by text-like stroke clusters, on a `width`-px grey copy.

    Text is dense high-contrast strokes in horizontal runs: morphological gradient, threshold,
    a horizontal closing joins letters into words; components that are wider than tall, not
    too tall, well filled and crossed by many separate strokes (letters) count. Textures give some false positives: this only gates the OCR.
    """
    import cv2

    h, w = bgr.shape[:2]
    if w != width:
        bgr = cv2.resize(bgr, (width, max(2, round(h * width / w))), interpolation=cv2.INTER_AREA)
    g = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY) if bgr.ndim == 3 else bgr
    grad = cv2.morphologyEx(g, cv2.MORPH_GRADIENT, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
    strokes = (grad >= 48).astype(np.uint8)
    words = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 1)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(words, connectivity=8)
    H, W = g.shape
    area = 0
    for x, y, bw, bh, px in stats[1:]:
        if not (3 <= bh <= H // 3 and bw >= 1.5 * bh and px >= 0.35 * bw * bh):
            continue
        # letters are many vertical strokes: count stroke starts along the box's rows
        box = strokes[y: y + bh, x: x + bw]
        starts = int(np.max(np.count_nonzero(np.diff(box, axis=1) == 1, axis=1)))
        if starts >= max(3, 0.5 * bw / bh):
            area += bw * bh
    return area / float(H * W)


def ocr_image(bgr: np.ndarray, threads: int = 1, min_score: float = 0.5) -> tuple[float, list[str]]:
    """(text area fraction 0-1, recognised lines in reading order) of one BGR picture."""
    import cv2

    result, _ = ocr_engine(threads)(bgr)
    if not result:
        return 0.0, []
    h, w = bgr.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    items = []
    for box, text, score in result:
        if float(score) < min_score or not str(text).strip():
            continue
        pts = np.asarray(box, dtype=np.float32).reshape(-1, 2)
        cv2.fillPoly(mask, [np.round(pts).astype(np.int32)], 1)
        items.append((float(pts[:, 1].mean()), float(pts[:, 0].min()), " ".join(str(text).split())))
    lines = [t for _, _, t in sorted(items, key=lambda it: (round(it[0] / 8.0), it[1]))]
    return float(mask.mean()), lines


class TextScorer(Scorer):
    name = "text"
    columns = COLUMNS

    def __init__(self, gate: float = 0.006, frames_per_ocr: int = 150, min_calls: int = 1,
                 max_per_shot: int = 2, min_score: float = 0.5, threads: int = 1):
        self.gate = gate
        self.frames_per_ocr = frames_per_ocr
        self.min_calls = min_calls
        self.max_per_shot = max_per_shot
        self.min_score = min_score
        self.threads = threads
        self.calls = 0          # OCR calls made for the last video (for benchmarks)

    def process(self, frame: Frame) -> None:   # works on the keyframes, after the pass
        pass

    def finish(self, ctx: ShotContext) -> list[dict]:
        import cv2

        root = ctx.catalog_root or ""
        per_shot = ctx.keyframes if ctx.keyframes else [[] for _ in ctx.shots]
        # 1. cheap gate on every keyframe
        likely: list[list[tuple[float, str]]] = []
        for kfs in per_shot:
            scored = []
            for kf in kfs:
                img = cv2.imread(os.path.join(root, kf["path"]))
                if img is None:
                    continue
                score = text_likelihood(img)
                if score >= self.gate:
                    scored.append((score, kf["path"]))
            likely.append(sorted(scored, reverse=True)[: self.max_per_shot])
        # 2. OCR the most likely keyframes first, one per shot, within the budget
        budget = max(self.min_calls, math.ceil(ctx.stats.frames / max(1, self.frames_per_ocr)))
        order = sorted(((cand[0][0], i, 0) for i, cand in enumerate(likely) if cand), reverse=True)
        order += sorted(((c[0], i, k) for i, cand in enumerate(likely) for k, c in enumerate(cand) if k), reverse=True)
        results: dict[tuple[int, int], tuple[float, list[str]]] = {}
        self.calls = 0
        for _, i, k in order[:budget]:
            img = cv2.imread(os.path.join(root, likely[i][k][1]))
            results[(i, k)] = ocr_image(img, self.threads, self.min_score)
            self.calls += 1
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
