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

Model files hold arrays, not pickles (issue 20): the fitted trees' node arrays and the
baseline in a NumPy .npz read with allow_pickle=False, plus a JSON header (format version,
library versions, feature list, calibration). Loading needs neither scikit-learn nor
unpickling; a file of another format version (e.g. an older joblib pickle) is refused with
a message saying how to rebuild it. Scores are P(suitable) of the trees, optionally mapped
through a Platt calibration fitted on out-of-fold training scores.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field

import numpy as np

DEFAULT_MODEL = os.path.join(os.path.dirname(__file__), "models", "suitability_default.npz")
FORMAT = "videoforge-suitability"
FORMAT_VERSION = 2       # 1 = joblib pickle of the scikit-learn estimator (refused since issue 20)
_TREE_ARRAYS = ("value", "feature", "threshold", "missing_left", "left", "right", "is_leaf")


class ModelFileError(ValueError):
    """A model file that cannot be used; the message names the file and the problem."""


@dataclass
class TreeArrays:
    """A binary gradient-boosted tree ensemble as flat arrays: node i of tree t sits at
    offsets[t] + i; children indices are tree-local. raw(x) = baseline + sum of leaf values,
    P = expit(raw): the same arithmetic, in the same order, as scikit-learn's predictor."""

    value: np.ndarray          # float64 leaf value (0 for splits)
    feature: np.ndarray        # int64 column of the split
    threshold: np.ndarray      # float64: x <= threshold goes left
    missing_left: np.ndarray   # uint8: NaN goes left
    left: np.ndarray           # int64 tree-local child
    right: np.ndarray
    is_leaf: np.ndarray        # uint8
    offsets: np.ndarray        # int64 (n_trees + 1,)
    baseline: float

    @classmethod
    def from_sklearn(cls, est) -> "TreeArrays":
        """From a fitted binary HistGradientBoostingClassifier (numerical features only)."""
        if getattr(est, "n_trees_per_iteration_", 1) != 1:
            raise ValueError("only binary classifiers can be stored as arrays")
        nodes = [it[0].nodes for it in est._predictors]
        if any(n["is_categorical"].any() for n in nodes):
            raise ValueError("categorical splits are not supported in the array format")
        cat = np.concatenate(nodes) if nodes else np.zeros(0, dtype=[(f, "f8") for f in ("value",)])
        offs = np.r_[0, np.cumsum([len(n) for n in nodes])].astype(np.int64)
        return cls(value=cat["value"].astype(np.float64), feature=cat["feature_idx"].astype(np.int64),
                   threshold=cat["num_threshold"].astype(np.float64), missing_left=cat["missing_go_to_left"].astype(np.uint8),
                   left=cat["left"].astype(np.int64), right=cat["right"].astype(np.int64),
                   is_leaf=cat["is_leaf"].astype(np.uint8), offsets=offs,
                   baseline=float(np.asarray(est._baseline_prediction).ravel()[0]))

    def raw(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros(len(x), dtype=np.float64)
        out += self.baseline
        rows = np.arange(len(x))
        for t in range(len(self.offsets) - 1):
            o = self.offsets[t]
            node = np.zeros(len(x), dtype=np.int64)
            while True:
                g = o + node
                leaf = self.is_leaf[g].astype(bool)
                if leaf.all():
                    break
                v = x[rows, self.feature[g]]
                go_left = np.where(np.isnan(v), self.missing_left[g].astype(bool), v <= self.threshold[g])
                node = np.where(leaf, node, np.where(go_left, self.left[g], self.right[g]))
            out += self.value[o + node]
        return out

    def proba(self, x: np.ndarray) -> np.ndarray:
        from scipy.special import expit

        return expit(self.raw(x))

    def check(self, n_features: int, where: str) -> None:
        """Refuse arrays that do not describe trees over `n_features` columns (a damaged file)."""
        n = len(self.value)
        if any(len(getattr(self, a)) != n for a in _TREE_ARRAYS):
            raise ModelFileError(f"{where}: damaged model file (tree arrays of different lengths)")
        if len(self.offsets) < 2 or self.offsets[0] != 0 or self.offsets[-1] != n or np.any(np.diff(self.offsets) < 1):
            raise ModelFileError(f"{where}: damaged model file (bad tree offsets)")
        size = np.repeat(np.diff(self.offsets), np.diff(self.offsets))
        split = ~self.is_leaf.astype(bool)
        bad = split & ((self.left < 1) | (self.right < 1) | (self.left >= size) | (self.right >= size)
                       | (self.feature < 0) | (self.feature >= n_features))
        if bad.any() or not np.isfinite(self.baseline):
            raise ModelFileError(f"{where}: damaged model file (a split points outside its tree or feature list)")


@dataclass
class SuitabilityModel:
    features: list[str]
    trees: TreeArrays | None
    kind: str                      # "binary" | "graded" (the labels it was fitted on)
    meta: dict = field(default_factory=dict)
    used: list[str] | None = None  # the features the trees saw (all-missing ones in training are dropped)
    calibration: tuple[float, float] | None = None   # Platt (a, b): score = expit(a * margin + b)
    estimator: object = None       # the scikit-learn estimator right after fitting (not saved)
    novelty: dict | None = None    # clean-range penalty (fit_novelty), part of the margin

    def columns(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64).reshape(-1, len(self.features))
        if self.used is not None:
            x = x[:, [self.features.index(f) for f in self.used]]
        return x

    def raw(self, x: np.ndarray) -> np.ndarray:
        """The trees' margin (logit of the uncalibrated P(suitable))."""
        return self.trees.raw(self.columns(x))

    def margin(self, x: np.ndarray) -> np.ndarray:
        """The uncalibrated margin: the trees' logit minus the clean-range penalty (a ranking score)."""
        x = np.asarray(x, dtype=np.float64).reshape(-1, len(self.features))
        r = self.trees.raw(self.columns(x))
        if self.novelty:
            r = r - novelty_penalty(x, self.features, self.novelty)
        return r

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Suitability in [0, 1] for rows of `x` (columns in `self.features` order)."""
        from scipy.special import expit

        x = np.asarray(x, dtype=np.float64).reshape(-1, len(self.features))
        if len(x) == 0:
            return np.zeros(0)
        r = self.margin(x)
        if self.calibration is not None:
            a, b = self.calibration
            r = a * r + b
        return expit(r)

    def save(self, path: str) -> str:
        """Write arrays + a JSON header to one .npz file at exactly `path` (no pickle)."""
        import sklearn

        import videoforge

        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        head = {"format": FORMAT, "format_version": FORMAT_VERSION, "videoforge": videoforge.__version__,
                "sklearn_at_fit": sklearn.__version__, "features": self.features, "used": self.used, "kind": self.kind,
                "meta": self.meta, "calibration": list(self.calibration) if self.calibration else None,
                "novelty": self.novelty,
                "baseline": self.trees.baseline, "n_trees": int(len(self.trees.offsets) - 1)}
        arrays = {a: getattr(self.trees, a) for a in _TREE_ARRAYS}
        arrays["offsets"] = self.trees.offsets
        arrays["header"] = np.frombuffer(json.dumps(head).encode(), dtype=np.uint8)
        buf = io.BytesIO()
        np.savez_compressed(buf, **arrays)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
        return path


def load_model(path: str | None = None) -> SuitabilityModel:
    """The model at `path` (default: the one shipped in the package). Raises FileNotFoundError
    when there is no file, ModelFileError (a ValueError) when the file is not a model of this
    format version or is damaged."""
    path = path or DEFAULT_MODEL
    if not os.path.exists(path):
        hint = ("the packaged default model is missing; build it with benchmarks/curate_frozen_set.py --save-default"
                if path == DEFAULT_MODEL else "train one with `videoforge train-scorer`")
        raise FileNotFoundError(f"{path}: no suitability model here ({hint})")
    with open(path, "rb") as f:
        magic = f.read(4)
    zlib_head = len(magic) >= 2 and magic[0] == 0x78 and (magic[0] * 256 + magic[1]) % 31 == 0
    if magic[:1] == b"\x80" or zlib_head:   # a pickle, or a zlib-compressed one: joblib's format
        raise ModelFileError(f"{path}: an old pickled (joblib) suitability model (format version 1); this videoforge "
                             f"reads format version {FORMAT_VERSION} (arrays, no pickle) and will not unpickle it: "
                             f"retrain it with `videoforge train-scorer`")
    if magic != b"PK\x03\x04":
        raise ModelFileError(f"{path}: not a readable suitability model (not a .npz array file)")
    try:
        with np.load(path, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        head = json.loads(bytes(d["header"]).decode())
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{path}: not a readable suitability model ({type(e).__name__}: {e})") from e
    if not isinstance(head, dict) or head.get("format") != FORMAT:
        raise ModelFileError(f"{path}: not a videoforge suitability model (expected format {FORMAT})")
    if head.get("format_version") != FORMAT_VERSION:
        raise ModelFileError(f"{path}: suitability model of format version {head.get('format_version')!r} (written by "
                             f"videoforge {head.get('videoforge', '?')}); this videoforge {_version()} reads format "
                             f"version {FORMAT_VERSION} only: retrain it with `videoforge train-scorer`")
    try:
        trees = TreeArrays(**{a: d[a] for a in _TREE_ARRAYS}, offsets=d["offsets"], baseline=float(head["baseline"]))
        features, used = list(head["features"]), head.get("used")
        cal = head.get("calibration")
        model = SuitabilityModel(features, trees, head["kind"], head.get("meta", {}), used,
                                 (float(cal[0]), float(cal[1])) if cal else None, novelty=head.get("novelty"))
        if model.novelty and not set(model.novelty["features"]) <= set(features):
            raise ValueError("clean-range features outside the feature list")
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path}: damaged model file ({type(e).__name__}: {e})") from e
    if used is not None and not set(used) <= set(features):
        raise ModelFileError(f"{path}: damaged model file (used features outside its feature list)")
    trees.check(len(used if used is not None else features), path)
    return model


def _version() -> str:
    import videoforge

    return videoforge.__version__


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
            "fr_flash_jump": -1, "fr_bright_dev": -1,
            # general picture / motion quality measures (quality_features.QUALITY_FEATURES)
            "q_edge_steep": 1, "q_blur": -1, "q_grid": -1, "q_black_level": -1, "q_bright_frac": -1,
            "q_dup_frac": -1, "q_step_irreg": -1, "q_reversal": -1,
            # change-pattern measures (quality_features.STEP_FEATURES): holds and jumps
            "q_hold_frac": -1, "q_jump_rate": -1, "q_frozen_run": -1, "q_jump_ratio": -1}


# The side of each measure that is bad by its meaning (+1: high is bad, -1: low is bad). The
# clean-range penalty uses them: a shot beyond the range of CLEAN training shots on a bad side
# loses margin, whether or not a degradation of that kind was among the training examples.
# That is what lets the score transfer to defects it was not shown (leave-one-kind-out).
BAD_SIDE = {"text_area": 1, "border_ratio": 1, "black_ratio": 1, "frozen_ratio": 1, "camera_shake": 1, "clip_dark": 1,
            "clip_bright": 1, "kf_blockiness": 1, "kf_noise": 1, "kf_text_band": 1, "kf_static_strokes": 1, "kf_bars": 1,
            "fr_flash_jump": 1, "fr_bright_dev": 1, "kf_bright_spread": 1, "motion_beyond_camera": 1,
            "duration": -1, "num_frames": -1, "contrast": -1, "kf_detail_ratio": -1, "sharpness_per_contrast": -1,
            "kf_dynamic_range": -1,
            "q_edge_steep": -1, "q_blur": 1, "q_grid": 1, "q_black_level": 1, "q_bright_frac": 1, "q_dup_frac": 1,
            "q_step_irreg": 1, "q_reversal": 1, "q_hold_frac": 1, "q_jump_rate": 1, "q_frozen_run": 1}
# (q_jump_ratio has no bad side here on purpose: busy real footage, e.g. people walking into a
# still surveillance view, raises it without any hold; inside the trees it is only monotone.)


# Least width of the clean tail for measures that are exactly 0 on every clean training shot (a
# fraction of held steps, a rate of jumps): without it one held step beyond the clean range would
# cost the whole cap; with it a shot loses one unit per this much excess.
MIN_TAIL = {"q_hold_frac": 0.05, "q_jump_rate": 0.02, "q_frozen_run": 0.05}


def fit_novelty(x_clean: np.ndarray, features: list[str], weight: float, q: float = 0.99, cap: float = 3.0) -> dict | None:
    """Clean range of every BAD_SIDE feature: the q (or 1-q) quantile of clean shots, and the
    width of the clean tail (from the 0.9 / 0.1 quantile to it) as the unit of excess. None when
    weight is 0."""
    if weight <= 0:
        return None
    feats, side, bound, scale = [], [], [], []
    for f, sd in BAD_SIDE.items():
        if f not in features:
            continue
        v = x_clean[:, features.index(f)]
        v = v[~np.isnan(v)]
        if len(v) < 10:
            continue
        b = float(np.quantile(v, q if sd > 0 else 1 - q))
        inner = float(np.quantile(v, 0.9 if sd > 0 else 0.1))   # the tail's width is the unit of excess
        feats.append(f)
        side.append(sd)
        bound.append(b)
        scale.append(max(abs(b - inner), 1e-3 * max(1.0, abs(b)), MIN_TAIL.get(f, 0.0)))
    return {"features": feats, "side": side, "bound": bound, "scale": scale, "weight": float(weight), "cap": float(cap), "q": q}


def novelty_penalty(x: np.ndarray, features: list[str], nov: dict) -> np.ndarray:
    """weight * sum over features of min(cap, excess beyond the clean range in units of its scale); NaN adds nothing."""
    pen = np.zeros(len(x))
    for f, sd, b, sc in zip(nov["features"], nov["side"], nov["bound"], nov["scale"]):
        v = x[:, features.index(f)]
        e = np.nan_to_num((v - b) * sd / sc, nan=0.0)
        pen += np.minimum(nov["cap"], np.maximum(0.0, e))
    return nov["weight"] * pen


# Hyper-parameters of the default fit (chosen by grouped cross-validation on the benchmark's
# TRAIN split only: benchmarks/curate_suitability.py --cv; docs/benchmarks/curate.md).
DEFAULT_PARAMS = dict(max_iter=500, learning_rate=0.03, max_leaf_nodes=15, l2_regularization=0.1)


def fit_model(x: np.ndarray, labels, features: list[str], seed: int = 0, meta: dict | None = None,
              suitable_from: float = 4, params: dict | None = None, balanced: bool = True,
              novelty: float = 0.0) -> SuitabilityModel:
    """Fit the classifier on rows `x` (features order) and 0/1 labels or 1-5 scores
    (suitable = score >= `suitable_from`). `params` override DEFAULT_PARAMS (HistGradientBoosting
    keyword arguments). `novelty` > 0 adds the clean-range penalty with that weight (fit_novelty)."""
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
    x = x_all = np.asarray(x, dtype=np.float64)
    keep = [j for j in range(x.shape[1]) if not np.isnan(x[:, j]).all()]   # e.g. audio columns of silent footage
    used = [features[j] for j in keep]
    x = x[:, keep]
    # Small trees, shrinkage and a leaf minimum: label sets are small (hundreds of shots).
    kw = dict(DEFAULT_PARAMS, min_samples_leaf=max(2, min(10, len(y) // 20)))
    kw.update(params or {})
    est = HistGradientBoostingClassifier(**kw, random_state=seed, monotonic_cst=[MONOTONE.get(f, 0) for f in used])
    # balanced classes: a set with more degraded than clean shots must not push every score down
    w = np.where(y == 1, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9)) if balanced else None
    with threadpool_limits(1):   # small data: OpenMP threads only contend (measured 10x slower on a busy box)
        est.fit(x, y, sample_weight=w)
    m = dict(meta or {})
    m.update(n_train=int(len(y)), n_suitable=int(y.sum()), kind=kind, suitable_from=suitable_from if kind == "graded" else None,
             params={k: v for k, v in kw.items() if isinstance(v, (int, float, str))}, balanced=balanced)
    nov = fit_novelty(np.asarray(x_all, dtype=np.float64)[y == 1], list(features), novelty)
    return SuitabilityModel(list(features), TreeArrays.from_sklearn(est), kind, m, used, estimator=est, novelty=nov)


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
