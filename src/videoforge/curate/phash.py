"""64-bit perceptual hashes of keyframes, robust to re-encoding, resizing, small crops and
brightness shifts (they keep the low-frequency layout of the picture, not its pixels).

pHash: the 8x8 lowest DCT frequencies of a 32x32 grey thumbnail, each bit = coefficient
above the median (DC left out, so a global brightness shift changes no bit). A copy's
query hash covers the central 90 % of its picture; the indexed side also keeps hashes of
90 % windows shifted to each edge, so a copy cropped by up to ~10 % on any side meets one
window that covers nearly the same region (measured: crops move the central hash by a
median 8 bits, the nearest window by 6; unrelated pictures stay >= ~16 bits apart).
"""

from __future__ import annotations

import cv2
import numpy as np

# (left, top, right, bottom) windows as fractions; the first is the query window
WINDOWS = [(0.05, 0.05, 0.95, 0.95), (0.0, 0.05, 0.9, 0.95), (0.1, 0.05, 1.0, 0.95),
           (0.05, 0.0, 0.95, 0.9), (0.05, 0.1, 0.95, 1.0)]


def _grey(img: np.ndarray, box=WINDOWS[0]) -> np.ndarray:
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    h, w = img.shape[:2]
    return img[int(round(h * box[1])):max(1, int(round(h * box[3]))), int(round(w * box[0])):max(1, int(round(w * box[2])))]


def phash(img: np.ndarray, box=WINDOWS[0]) -> int:
    """pHash of window `box` of a BGR or grey uint8 picture, as an unsigned 64-bit int."""
    g = cv2.resize(_grey(img, box), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)
    d = cv2.dct(g)[:8, :8].ravel()
    bits = d > np.median(d[1:])
    bits[0] = False
    return int(np.packbits(bits).view(">u8")[0])


def dhash(img: np.ndarray) -> int:
    """Difference hash (horizontal gradient signs of a 9x8 thumbnail), as an unsigned 64-bit int."""
    g = cv2.resize(_grey(img), (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (g[:, 1:] > g[:, :-1]).ravel()
    return int(np.packbits(bits).view(">u8")[0])


def window_hashes(img: np.ndarray) -> list[int]:
    """pHashes of every window in WINDOWS (query window first)."""
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return [phash(img, b) for b in WINDOWS]


def hash_file(path: str) -> list[int] | None:
    """Window hashes of an image file, or None when it cannot be read."""
    img = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
    return None if img is None else window_hashes(img)


def to_bytes(hashes) -> np.ndarray:
    """uint64 hashes -> (n, 8) uint8 rows, the layout FAISS binary indexes take."""
    a = np.asarray(hashes, dtype=np.uint64).reshape(-1)
    return a.astype(">u8").view(np.uint8).reshape(-1, 8)


def hamming(a: int, b: int) -> int:
    return int(a ^ b).bit_count()
