"""Training suitability: one learned score in [0, 1] per shot from its metric columns.

Koala-36M's point: thresholds on many sub-metrics ignore their joint distribution, so a
model fitted to judgements of whole shots filters better. This is the fast tabular level:
gradient-boosted trees (scikit-learn's HistGradientBoosting) over the metric columns, a few
ratios of them, and picture measures of the keyframes (features.py), NaN for missing ones.
The score is P(suitable) of a classifier, so it ranks: 0/1 labels are used as they are;
1-5 scores count as suitable from `suitable_from` (default 4) up. (On the project's own
labelled set a classifier ranked held-out shots better than a regressor on (label-1)/4:
ROC-AUC 0.81 vs 0.74, docs/notes/curate.md.) Monotonic constraints encode what is never
good for training whatever the rest says: more text, bars, black or frozen frames, shake
or clipping never raise the score, a longer shot never lowers it.

Model files are joblib pickles: load only models you trust.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

DEFAULT_MODEL = os.path.join(os.path.dirname(__file__), "models", "suitability_default.joblib")
FORMAT = "videoforge-suitability/1"


@dataclass
class SuitabilityModel:
    features: list[str]
    estimator: object
    kind: str                      # "binary" | "graded" (the labels it was fitted on)
    meta: dict = field(default_factory=dict)
    used: list[str] | None = None  # the features the estimator saw (all-missing ones in training are dropped)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Suitability in [0, 1] for rows of `x` (columns in `self.features` order)."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, len(self.features))
        if len(x) == 0:
            return np.zeros(0)
        if self.used is not None:
            x = x[:, [self.features.index(f) for f in self.used]]
        if hasattr(self.estimator, "predict_proba"):
            p = self.estimator.predict_proba(x)
            return p[:, list(self.estimator.classes_).index(1)] if p.shape[1] > 1 else np.full(len(x), float(self.estimator.classes_[0]))
        return np.clip(self.estimator.predict(x), 0.0, 1.0)

    def save(self, path: str) -> str:
        import joblib
        import sklearn

        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        meta = dict(self.meta, sklearn=sklearn.__version__)
        joblib.dump({"format": FORMAT, "features": self.features, "estimator": self.estimator,
                     "kind": self.kind, "meta": meta, "used": self.used}, path, compress=3)
        return path


def load_model(path: str | None = None) -> SuitabilityModel:
    """The model at `path` (default: the one shipped in the package)."""
    import joblib

    path = path or DEFAULT_MODEL
    if not os.path.exists(path):
        hint = ("the packaged default model is missing; build it with benchmarks/curate_suitability.py --save-default"
                if path == DEFAULT_MODEL else "train one with `videoforge train-scorer`")
        raise FileNotFoundError(f"{path}: no suitability model here ({hint})")
    try:
        d = joblib.load(path)
    except Exception as e:  # noqa: BLE001 - any unpickling failure means "not a model file"
        raise ValueError(f"{path}: not a readable suitability model ({type(e).__name__}: {e})") from e
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise ValueError(f"{path}: not a videoforge suitability model (expected format {FORMAT})")
    return SuitabilityModel(d["features"], d["estimator"], d["kind"], d.get("meta", {}), d.get("used"))


def normalise_labels(labels) -> tuple[np.ndarray, str]:
    """Labels -> (targets in [0, 1], kind): {0, 1} stays binary; 1-5 scores map to (y - 1) / 4."""
    y = np.asarray(labels, dtype=np.float64)
    vals = set(np.unique(y).tolist())
    if vals <= {0.0, 1.0}:
        return y, "binary"
    if y.min() >= 1 and y.max() <= 5:
        return (y - 1) / 4, "graded"
    raise ValueError(f"labels must be 0/1 or 1-5 scores; got values from {y.min():g} to {y.max():g}")


# +1: the score never falls as the feature grows; -1: never rises (see the module docstring)
MONOTONE = {"text_area": -1, "border_ratio": -1, "black_ratio": -1, "frozen_ratio": -1, "camera_shake": -1,
            "clip_dark": -1, "clip_bright": -1, "clipped": -1, "kf_blockiness": -1, "duration": 1, "num_frames": 1,
            # OCR-free overlay / bar / flash measures (keyframe_features.SHOT_FEATURES)
            "kf_text_band": -1, "kf_static_strokes": -1, "kf_bars": -1, "kf_bright_spread": -1,
            "fr_flash_jump": -1, "fr_bright_dev": -1}


# Hyper-parameters of the default fit (chosen by grouped cross-validation on the benchmark's
# TRAIN split only: benchmarks/curate_suitability.py --cv; docs/benchmarks/curate.md).
DEFAULT_PARAMS = dict(max_iter=500, learning_rate=0.03, max_leaf_nodes=15, l2_regularization=0.1)


def fit_model(x: np.ndarray, labels, features: list[str], seed: int = 0, meta: dict | None = None,
              suitable_from: float = 4, params: dict | None = None) -> SuitabilityModel:
    """Fit the classifier on rows `x` (features order) and 0/1 labels or 1-5 scores
    (suitable = score >= `suitable_from`). `params` override DEFAULT_PARAMS (HistGradientBoosting
    keyword arguments)."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from threadpoolctl import threadpool_limits

    _, kind = normalise_labels(labels)
    lab = np.asarray(labels, dtype=np.float64)
    y = (lab >= suitable_from).astype(int) if kind == "graded" else lab.astype(int)
    if len(y) < 4:
        raise ValueError(f"need at least 4 labelled shots to fit a model, got {len(y)}")
    if len(set(y.tolist())) < 2:
        raise ValueError("labels are all the same class; need both suitable and unsuitable shots"
                         + (f" (scores >= {suitable_from:g} count as suitable)" if kind == "graded" else ""))
    x = np.asarray(x, dtype=np.float64)
    keep = [j for j in range(x.shape[1]) if not np.isnan(x[:, j]).all()]   # e.g. audio columns of silent footage
    used = [features[j] for j in keep]
    x = x[:, keep]
    # Small trees, shrinkage and a leaf minimum: label sets are small (hundreds of shots).
    kw = dict(DEFAULT_PARAMS, min_samples_leaf=max(2, min(10, len(y) // 20)))
    kw.update(params or {})
    est = HistGradientBoostingClassifier(**kw, random_state=seed, monotonic_cst=[MONOTONE.get(f, 0) for f in used])
    with threadpool_limits(1):   # small data: OpenMP threads only contend (measured 10x slower on a busy box)
        est.fit(x, y)
    m = dict(meta or {})
    m.update(n_train=int(len(y)), n_suitable=int(y.sum()), kind=kind, suitable_from=suitable_from if kind == "graded" else None)
    return SuitabilityModel(list(features), est, kind, m, used)


def score_catalog(catalog, model: SuitabilityModel, where: str | None = None) -> dict:
    """Write `shots.suitability` for every shot (or those matching `where`); returns a summary."""
    from videoforge.curate.features import load_features
    from videoforge.curate.store import ensure_schema, write_shot_columns

    ensure_schema(catalog)
    ids, x, _ = load_features(catalog, model.features, where=where)
    s = model.predict(x)
    write_shot_columns(catalog, ids, {"suitability": [float(v) for v in s]})
    q = np.quantile(s, [0.1, 0.5, 0.9]).tolist() if len(s) else [None] * 3
    missing = [f for f, frac in zip(model.features, np.isnan(x).mean(0) if len(x) else []) if frac == 1.0]
    return {"shots": len(ids), "mean": float(s.mean()) if len(s) else None, "p10": q[0], "median": q[1], "p90": q[2],
            "missing_features": missing, "model": model.meta.get("name", "")}
