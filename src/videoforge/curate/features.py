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

# Ratios of metric columns that trees cannot form themselves (name -> function of a column getter).
DERIVED = {
    # Laplacian variance grows with contrast squared; per unit of contrast it says blur vs noise
    "sharpness_per_contrast": lambda c: c("sharpness") / (c("contrast") ** 2 + 1e-3),
    # motion the camera does not explain: subject motion, or jitter
    "motion_beyond_camera": lambda c: c("motion") - np.hypot(c("camera_pan"), c("camera_tilt")),
    "clipped": lambda c: c("clip_dark") + c("clip_bright"),
}


def model_features(which: str = "default") -> list[str]:
    """Every feature the default model uses: metric + shot columns, derived ratios, keyframe measures.
    `which="v1"`: the first packaged model's set (keyframe picture measures only, no shot-level
    text/bar/flash measures), kept for the cross-validation comparison."""
    from videoforge.curate.frame_features import FRAME_FEATURES
    from videoforge.curate.keyframe_features import KEYFRAME_FEATURES, PICTURE_FEATURES

    if which == "v1":
        return FEATURE_COLUMNS + list(DERIVED) + PICTURE_FEATURES
    if which == "v2":   # + OCR-free text / bar / flash measures from the keyframes
        return FEATURE_COLUMNS + list(DERIVED) + KEYFRAME_FEATURES
    if which == "v3":   # + per-frame flash measures (the models shipped until issue 19's transfer work)
        return FEATURE_COLUMNS + list(DERIVED) + KEYFRAME_FEATURES + FRAME_FEATURES
    from videoforge.curate.quality_features import QUALITY_FEATURES, STEP_FEATURES

    if which == "v4":   # + general, content-relative picture / motion quality measures (model aced535d6adf)
        return FEATURE_COLUMNS + list(DERIVED) + KEYFRAME_FEATURES + FRAME_FEATURES + QUALITY_FEATURES
    # + the distribution of frame-to-frame change (holds, jumps: a slideshow is not a still shot)
    return FEATURE_COLUMNS + list(DERIVED) + KEYFRAME_FEATURES + FRAME_FEATURES + QUALITY_FEATURES + STEP_FEATURES


def shot_columns(catalog: Catalog) -> set[str]:
    """Names of the columns the catalog's `shots` table has."""
    return set(catalog.columns("shots"))


def load_features(catalog: Catalog, features: list[str] | None = None, where: str | None = None
                  ) -> tuple[list[str], np.ndarray, list[dict]]:
    """(shot_ids, X float64 (n, len(features)) with NaN for missing, info rows with
    shot_id, video_id, path, start_frame, end_frame) for every shot (optionally filtered)."""
    from videoforge.curate.frame_features import FRAME_FEATURES, shot_frame_features
    from videoforge.curate.keyframe_features import KEYFRAME_FEATURES, shot_keyframe_features
    from videoforge.curate.quality_features import QUALITY_FEATURES, STEP_FEATURES, shot_quality_features

    names = list(features or FEATURE_COLUMNS)
    computed = set(DERIVED) | set(KEYFRAME_FEATURES) | set(FRAME_FEATURES) | set(QUALITY_FEATURES) | set(STEP_FEATURES)
    cols = list(dict.fromkeys([n for n in names if n not in computed]
                              + (FEATURE_COLUMNS if any(n in DERIVED for n in names) else [])))
    have = shot_columns(catalog)
    sel = [f"s.{c}" if c in have else f"NULL AS {c}" for c in cols]
    # the filter applies to shots alone, so names shared with videos (duration, fps, ...) are not ambiguous
    from videoforge.catalog.sqlfilter import parse_filter

    where = parse_filter(where, "--where")   # exactly one expression, or SQLFilterError (exit 2)
    shots = f"(SELECT * FROM shots WHERE {where})" if where else "shots"
    sql = (f"SELECT s.shot_id, s.video_id, v.path, s.start_frame, s.end_frame, {', '.join(sel)} "
           f"FROM {shots} s LEFT JOIN videos v USING (video_id) ORDER BY s.video_id, s.start_frame")
    names_out, rows = catalog.query(sql)
    info = [dict(zip(names_out[:5], r[:5])) for r in rows]
    base = np.array([[np.nan if v is None else float(v) for v in r[5:]] for r in rows], dtype=np.float64)
    base = base.reshape(len(rows), len(cols))
    ids = [i["shot_id"] for i in info]

    def col(n):
        return base[:, cols.index(n)]

    kf = shot_keyframe_features(catalog, ids) if any(n in KEYFRAME_FEATURES for n in names) else None
    fr = shot_frame_features(info, catalog.root) if any(n in FRAME_FEATURES for n in names) else None
    with_steps = any(n in STEP_FEATURES for n in names)
    qf = (shot_quality_features(info, catalog.root, steps=with_steps)
          if with_steps or any(n in QUALITY_FEATURES for n in names) else None)
    q_names = QUALITY_FEATURES + (STEP_FEATURES if with_steps else [])
    out = np.empty((len(rows), len(names)))
    with np.errstate(all="ignore"):
        for j, n in enumerate(names):
            if n in DERIVED:
                out[:, j] = DERIVED[n](col)
            elif n in KEYFRAME_FEATURES:
                out[:, j] = kf[:, KEYFRAME_FEATURES.index(n)]
            elif n in FRAME_FEATURES:
                out[:, j] = fr[:, FRAME_FEATURES.index(n)]
            elif n in q_names:
                out[:, j] = qf[:, q_names.index(n)]
            else:
                out[:, j] = col(n)
    return ids, out, info
