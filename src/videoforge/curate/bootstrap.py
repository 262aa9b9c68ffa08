"""95 % bootstrap intervals for the figures a learned score is judged by (ROC-AUC, medians).

Resampling is stratified (clean and degraded shots are resampled separately, so every replicate
keeps both classes and the set's class sizes) and seeded, so a rerun prints the same interval.
"""

from __future__ import annotations

import numpy as np

from videoforge.curate.evaluate import roc_auc


def auc_ci(y, s, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """{"auc", "lo", "hi", "n", "n_pos", "n_neg"}: ROC-AUC of score s for binary y with a
    percentile bootstrap interval."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, float)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    out = {"auc": roc_auc(y, s), "lo": float("nan"), "hi": float("nan"), "n": int(len(y)),
           "n_pos": int(len(pos)), "n_neg": int(len(neg))}
    if len(pos) < 2 or len(neg) < 2:
        return out
    rng = np.random.default_rng(seed)
    from scipy.stats import rankdata

    sp, sn = np.nan_to_num(s[pos], nan=-np.inf), np.nan_to_num(s[neg], nan=-np.inf)
    vals = np.empty(n_boot)
    for b in range(n_boot):
        a, c = sp[rng.integers(0, len(sp), len(sp))], sn[rng.integers(0, len(sn), len(sn))]
        r = rankdata(np.r_[a, c])
        vals[b] = (r[: len(a)].sum() - len(a) * (len(a) + 1) / 2) / (len(a) * len(c))
    q = (1 - level) / 2
    out["lo"], out["hi"] = float(np.quantile(vals, q)), float(np.quantile(vals, 1 - q))
    return out


def median_ci(v, n_boot: int = 1000, seed: int = 0, level: float = 0.95) -> dict:
    """{"median", "lo", "hi", "n"} with a percentile bootstrap interval."""
    v = np.asarray(v, float)
    out = {"median": float(np.median(v)) if len(v) else float("nan"), "lo": float("nan"), "hi": float("nan"), "n": int(len(v))}
    if len(v) < 2:
        return out
    rng = np.random.default_rng(seed)
    meds = np.median(v[rng.integers(0, len(v), (n_boot, len(v)))], axis=1)
    q = (1 - level) / 2
    out["lo"], out["hi"] = float(np.quantile(meds, q)), float(np.quantile(meds, 1 - q))
    return out


def fmt(d: dict, key: str = "auc") -> str:
    """'0.912 [0.88, 0.94]'."""
    return f"{d[key]:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"
