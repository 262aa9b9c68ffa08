"""Manifest rows: Open-Sora's columns first, then the shot's metrics, then its lineage.

Open-Sora's dataset tools (tools/datasets/datautil.py) write `aspect_ratio = height / width`
and `resolution = height * width`; trainers bucket on these, so they are written the same way.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math

OPENSORA_COLUMNS = ["path", "text", "num_frames", "height", "width", "aspect_ratio", "fps", "resolution"]
LINEAGE_COLUMNS = ["source_path", "video_id", "shot_id", "start_time", "end_time", "start_frame", "end_frame"]

# Shot columns that the leading or lineage columns already state, or that describe the source
# rather than the clip; everything else on `shots` (metrics, curation scores, OCR text) follows.
_NOT_METRICS = {"shot_id", "video_id", "shot_index", "start_frame", "end_frame", "start_time", "end_time",
                "num_frames", "width", "height", "fps", "caption", "source_path", "source_rotation",
                "source_has_audio", "source_frames"}


def metric_columns(shot_columns: list[str]) -> list[str]:
    """The shot columns carried after Open-Sora's columns, in catalog order."""
    return [c for c in shot_columns if c not in _NOT_METRICS]


def _scalar(v):
    """Plain Python scalars only (CSV/JSON/Parquet-friendly); NaN becomes None."""
    if v is None:
        return None
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (_dt.datetime, _dt.date)):
        return v.isoformat()
    if isinstance(v, (bool, int, str)):
        return v
    if hasattr(v, "item"):
        return _scalar(v.item())
    return str(v)


def manifest_row(shot: dict, clip, path: str, metrics: list[str]) -> dict:
    """One manifest row for `shot` (a selected catalog row) cut into `clip` (a ClipResult) stored at `path`."""
    caption = shot.get("caption")
    row = {
        "path": path,
        "text": caption if isinstance(caption, str) else "",
        "num_frames": int(clip.num_frames),
        "height": int(clip.height),
        "width": int(clip.width),
        "aspect_ratio": clip.height / clip.width if clip.width else None,
        "fps": round(float(clip.fps), 6),  # 25.000000000000004 -> 25.0
        "resolution": int(clip.height * clip.width),
    }
    for c in metrics:
        row[c] = _scalar(shot.get(c))
    row.update({
        "source_path": shot["source_path"],
        "video_id": shot["video_id"],
        "shot_id": shot["shot_id"],
        "start_time": float(shot["start_time"]),
        "end_time": float(shot["end_time"]),
        "start_frame": int(shot["start_frame"]),
        "end_frame": int(shot["end_frame"]),
    })
    return row
