"""What the search side reads from the catalog: shots, their texts, keyframes, and pictures of them.

A shot without a usable keyframe file still gets a picture: its middle frame is decoded
from the source video, so every shot is searchable by image.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import numpy as np

from videoforge.catalog import Catalog


@dataclass
class ShotSource:
    shot_id: str
    video_id: str
    video_path: str
    start_time: float
    end_time: float
    text: str                                        # ocr_text + caption, "" if none
    keyframes: list[tuple[int, float, str]] = field(default_factory=list)  # (frame, pts_time s, absolute path)

    def content_hash(self, modality: str) -> int:
        """int64 hash of what this shot's vectors are built from (keyframes, or text)."""
        if modality == "text":
            key = self.text
        else:
            # Frame numbers and times, not paths: a copied catalog folder must not look changed.
            key = "|".join(f"{f}:{t:.6f}" for f, t, _ in self.keyframes) or f"mid:{self.start_time}:{self.end_time}"
        d = hashlib.blake2b(key.encode(), digest_size=8).digest()
        return int(np.frombuffer(d, dtype=np.int64)[0])


def shot_columns(catalog: Catalog) -> set[str]:
    """Column names of the `shots` table."""
    return set(catalog.columns("shots"))


def text_sql(columns: set[str]) -> str:
    """SQL expression of a shot's searchable text: ocr_text plus caption when the column exists."""
    parts = [p for p in ("ocr_text", "caption") if p in columns]
    if not parts:
        return "''"
    return "concat_ws(' ', " + ", ".join(f"coalesce(s.{p}, '')" for p in parts) + ")"


def load_shots(catalog: Catalog, with_keyframes: bool = True) -> list[ShotSource]:
    """All shots in catalog order (video, shot_index), with texts and keyframes."""
    cols = shot_columns(catalog)
    rows = catalog.query(
        f"""SELECT s.shot_id, s.video_id, v.path, s.start_time, s.end_time, {text_sql(cols)}
            FROM shots s LEFT JOIN videos v USING (video_id)
            ORDER BY s.video_id, s.start_time"""
    )[1]
    shots = [ShotSource(r[0], r[1], r[2] or "", float(r[3] or 0), float(r[4] or 0), (r[5] or "").strip()) for r in rows]
    if with_keyframes and shots:
        by_id = {s.shot_id: s for s in shots}
        for sid, frame, t, path in catalog.query(
            "SELECT shot_id, frame, pts_time, path FROM keyframes ORDER BY shot_id, pts_time"
        )[1]:
            s = by_id.get(sid)
            if s is not None and path:
                full = path if os.path.isabs(path) else os.path.join(catalog.root, path)
                s.keyframes.append((int(frame if frame is not None else -1), float(t or 0.0), full))
    return shots


def read_image(path: str) -> np.ndarray | None:
    """BGR uint8 image from a file, None when it cannot be read."""
    import cv2

    if not os.path.exists(path):
        return None
    img = cv2.imread(path, cv2.IMREAD_COLOR)
    return img if img is not None and img.size else None


def frames_at(video_path: str, times: list[float], max_side: int = 640) -> list[np.ndarray | None]:
    """BGR frames nearest each time (s) of a video, by seeking; None where decoding fails."""
    import av

    out: list[np.ndarray | None] = []
    try:
        container = av.open(video_path)
    except Exception:  # noqa: BLE001 - a missing source leaves the shot without a picture
        return [None] * len(times)
    with container:
        vs = container.streams.video[0]
        tb = float(vs.time_base or 0) or 1 / 90000
        for t in times:
            img = None
            try:
                container.seek(int(max(t - 0.5, 0) / tb), stream=vs, backward=True)
                for vf in container.decode(vs):
                    if vf.pts is None or vf.pts * tb + 1e-6 >= t:
                        w, h = vf.width, vf.height
                        s = min(1.0, max_side / max(w, h))
                        img = vf.to_ndarray(format="bgr24", width=max(2, int(w * s)) // 2 * 2, height=max(2, int(h * s)) // 2 * 2)
                        break
            except Exception:  # noqa: BLE001
                img = None
            out.append(img)
    return out
