"""Where search indexes live: `CATALOG/index/<embedder>/`, one manifest per embedder.

Layout of one embedder's folder:
  manifest.json            what was built, by which embedder signature, file sizes (written last)
  shots.{faiss,ids.npy,vec.npy}      shot vectors (pooled keyframes, or the shot's text)
  keyframes.{faiss,ids.npy,vec.npy}  keyframe vectors (image embedders)
  keyframes.meta.npz       keyframe id -> shot id, pts_time
  state.npz                indexed shot ids and a hash of what they were built from (incremental updates)
  clusters.npz             coarse k-means level over shot vectors, for browsing
  bm25/, bm25.shots.json   the BM25 text index (embedder `bm25`)
Files are replaced atomically (write, then rename); the manifest is written last.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from videoforge.search.errors import IndexCorruptError

FORMAT = 1
INDEX_DIR = "index"


def index_root(catalog_root: str) -> str:
    return os.path.join(catalog_root, INDEX_DIR)


def embedder_dir(catalog_root: str, name: str) -> str:
    return os.path.join(index_root(catalog_root), name)


def built_embedders(catalog_root: str) -> list[str]:
    """Names of embedders whose folder holds a manifest, sorted."""
    root = index_root(catalog_root)
    if not os.path.isdir(root):
        return []
    return sorted(n for n in os.listdir(root) if os.path.exists(os.path.join(root, n, "manifest.json")))


def read_manifest(folder: str) -> dict | None:
    """The folder's manifest, None if absent; IndexCorruptError if unreadable."""
    path = os.path.join(folder, "manifest.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            doc = json.load(f)
        if not isinstance(doc, dict) or "embedder" not in doc:
            raise ValueError("not a search manifest")
    except Exception as e:  # noqa: BLE001
        raise IndexCorruptError(path, f"{type(e).__name__}: {e}") from e
    if int(doc.get("format", 0)) > FORMAT:
        raise IndexCorruptError(path, f"format {doc.get('format')} is newer than this videoforge ({FORMAT}); upgrade videoforge")
    return doc


def write_manifest(folder: str, doc: dict) -> None:
    doc = {"format": FORMAT, "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), **doc}
    path = os.path.join(folder, "manifest.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, path)


def save_npz(path: str, **arrays) -> int:
    """Atomic np.savez; returns the file size in bytes."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
    os.replace(tmp, path)
    return os.path.getsize(path)


def load_npz(path: str, size: int | None = None) -> dict[str, np.ndarray]:
    """Arrays of an npz written by `save_npz`; IndexCorruptError naming the file when unreadable."""
    if not os.path.exists(path):
        raise IndexCorruptError(path, "file missing")
    if size is not None and os.path.getsize(path) != size:
        raise IndexCorruptError(path, f"size {os.path.getsize(path)} bytes, expected {size}")
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except Exception as e:  # noqa: BLE001
        raise IndexCorruptError(path, f"{type(e).__name__}: {e}") from e
