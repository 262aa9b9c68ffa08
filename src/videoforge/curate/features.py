"""Shot feature vectors from the catalog's metric columns (the tabular model's input).

Missing metrics (no audio, a scorer that was not run) stay NaN: the gradient-boosted model
handles missing values natively, so a catalog analysed with fewer scorers still scores.
"""

from __future__ import annotations

import numpy as np

from videoforge.catalog import Catalog
from videoforge.catalog.schema import METRIC_COLUMNS

# Shot geometry the metrics do not cover: too-short shots are unusable for training.
SHOT_COLUMNS = ["duration", "num_frames", "fps"]
FEATURE_COLUMNS = METRIC_COLUMNS + SHOT_COLUMNS


def shot_columns(catalog: Catalog) -> set[str]:
    """Names of the columns the catalog's `shots` table has."""
    _, rows = catalog.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'shots'")
    return {r[0] for r in rows}


def load_features(catalog: Catalog, features: list[str] | None = None, where: str | None = None
                  ) -> tuple[list[str], np.ndarray, list[dict]]:
    """(shot_ids, X float64 (n, len(features)) with NaN for missing, info rows with
    shot_id, video_id, path, start_frame, end_frame) for every shot (optionally filtered)."""
    features = list(features or FEATURE_COLUMNS)
    have = shot_columns(catalog)
    sel = [f"s.{c}" if c in have else f"NULL AS {c}" for c in features]
    sql = (f"SELECT s.shot_id, s.video_id, v.path, s.start_frame, s.end_frame, {', '.join(sel)} "
           "FROM shots s LEFT JOIN videos v USING (video_id)")
    if where:
        sql += f" WHERE {where}"
    sql += " ORDER BY s.video_id, s.start_frame"
    cols, rows = catalog.query(sql)
    info = [dict(zip(cols[:5], r[:5])) for r in rows]
    x = np.array([[np.nan if v is None else float(v) for v in r[5:]] for r in rows], dtype=np.float64)
    x = x.reshape(len(rows), len(features))
    return [i["shot_id"] for i in info], x, info
