"""Judging a suitability score: ROC-AUC, precision at a recall, and the baselines a learned
score must beat (best single metric threshold, a multi-threshold rule)."""

from __future__ import annotations

import numpy as np


def roc_auc(y: np.ndarray, score: np.ndarray) -> float:
    """ROC-AUC of `score` for binary `y` (1 = suitable); NaN scores rank lowest; ties count half."""
    y = np.asarray(y).astype(bool)
    s = np.nan_to_num(np.asarray(score, float), nan=-np.inf)
    pos, neg = s[y], s[~y]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    from scipy.stats import rankdata

    r = rankdata(np.r_[pos, neg])
    return float((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def precision_at_recall(y: np.ndarray, score: np.ndarray, recall: float = 0.8) -> float:
    """Precision of keeping the top-scored shots until `recall` of the suitable ones are kept."""
    y = np.asarray(y).astype(bool)
    s = np.nan_to_num(np.asarray(score, float), nan=-np.inf)
    need = int(np.ceil(recall * y.sum()))
    if need == 0:
        return float("nan")
    thr = np.sort(s[y])[::-1][need - 1]
    kept = s >= thr           # ties at the threshold are kept together, as a threshold would
    return float(y[kept].mean())


def metric_direction(y: np.ndarray, x: np.ndarray) -> int:
    """+1 if higher values of metric x mean more suitable (on this labelled set), else -1."""
    ok = ~np.isnan(x)
    if ok.sum() < 2 or len(set(y[ok].tolist())) < 2:
        return 1
    return 1 if roc_auc(y[ok], x[ok]) >= 0.5 else -1


def per_metric(y_train, x_train, y_test, x_test, names) -> list[dict]:
    """For every metric column: direction chosen on train, AUC and precision@80 % recall on test.
    NaN (e.g. no audio) ranks lowest in its better direction."""
    out = []
    for j, n in enumerate(names):
        d = metric_direction(y_train, x_train[:, j])
        s = d * x_test[:, j]
        if np.isnan(x_test[:, j]).all():
            continue
        out.append({"metric": n, "direction": "higher" if d > 0 else "lower", "train_auc": roc_auc(y_train, d * x_train[:, j]),
                    "auc": roc_auc(y_test, s), "p_at_r80": precision_at_recall(y_test, s)})
    return out


class ThresholdRule:
    """The hand-tuned multi-threshold filter curation pipelines use: a shot passes a metric
    when it lies inside [lo, hi]; the score is the fraction of rules passed (so it ranks).
    Bounds are set from clean training shots: the q and 1-q quantiles on each metric's bad side(s)."""

    # metric -> which side is bad: "low", "high" or "both"
    RULES = {
        "sharpness": "low", "contrast": "low", "brightness": "both", "clip_dark": "high", "clip_bright": "high",
        "black_ratio": "high", "frozen_ratio": "high", "border_ratio": "high", "text_area": "high",
        "camera_shake": "high", "motion": "both", "duration": "low",
    }

    def __init__(self, q: float = 0.03):
        self.q = q
        self.bounds: dict[str, tuple[float, float]] = {}

    def fit(self, x_clean: np.ndarray, names: list[str]) -> "ThresholdRule":
        for m, side in self.RULES.items():
            if m not in names:
                continue
            v = x_clean[:, names.index(m)]
            v = v[~np.isnan(v)]
            if len(v) == 0:
                continue
            lo = float(np.quantile(v, self.q)) if side in ("low", "both") else -np.inf
            hi = float(np.quantile(v, 1 - self.q)) if side in ("high", "both") else np.inf
            self.bounds[m] = (lo, hi)
        return self

    def score(self, x: np.ndarray, names: list[str]) -> np.ndarray:
        passed = np.zeros(len(x))
        for m, (lo, hi) in self.bounds.items():
            v = x[:, names.index(m)]
            passed += ((v >= lo) & (v <= hi)) | np.isnan(v)   # a missing metric does not fail a shot
        return passed / max(1, len(self.bounds))
