"""Stable 64-bit FAISS ids from the catalog's hex ids, so an index agrees with the catalog on any machine."""

from __future__ import annotations

import hashlib

import numpy as np


def shot_key(shot_id: str) -> int:
    """int64 FAISS id of a shot: its 16 hex chars read as a two's-complement 64-bit integer."""
    v = int(shot_id, 16)
    return v - (1 << 64) if v >= (1 << 63) else v


def shot_keys(shot_ids: list[str]) -> np.ndarray:
    """int64 array of `shot_key` for many shot ids."""
    return np.fromiter((shot_key(s) for s in shot_ids), dtype=np.int64, count=len(shot_ids))


def shot_id_of(key: int) -> str:
    """Inverse of `shot_key`: the 16-hex-char shot id."""
    return f"{int(key) & ((1 << 64) - 1):016x}"


def keyframe_key(shot_id: str, frame: int) -> int:
    """int64 FAISS id of one keyframe (shot id + frame number), stable across runs."""
    d = hashlib.blake2b(f"{shot_id}:{int(frame)}".encode(), digest_size=8).digest()
    return int(np.frombuffer(d, dtype=np.int64)[0])
