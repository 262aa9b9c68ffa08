"""Content fingerprints: stable IDs for videos and shots on any machine, in any run."""

from __future__ import annotations

import hashlib
import os

_CHUNK = 1 << 20  # 1 MiB from the start, middle and end: fast on hour-long files, exact on small ones


def fingerprint(path: str | os.PathLike) -> str:
    """Hex blake2b digest of the file size and three 1 MiB samples of its bytes (whole file if small)."""
    size = os.path.getsize(path)
    h = hashlib.blake2b(digest_size=20)
    h.update(str(size).encode())
    with open(path, "rb") as f:
        if size <= 3 * _CHUNK:
            h.update(f.read())
        else:
            for offset in (0, size // 2 - _CHUNK // 2, size - _CHUNK):
                f.seek(offset)
                h.update(f.read(_CHUNK))
    return h.hexdigest()


def video_id_for(fp: str) -> str:
    """16 hex chars (URL-safe) derived from the content fingerprint."""
    return fp[:16]


def shot_id_for(video_id: str, start_frame: int) -> str:
    """16 hex chars derived from the video's id and the shot's first frame."""
    return hashlib.blake2b(f"{video_id}:{int(start_frame)}".encode(), digest_size=8).hexdigest()
