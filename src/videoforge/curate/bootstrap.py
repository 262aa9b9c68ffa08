"""95 % bootstrap intervals for the figures a learned score is judged by (ROC-AUC, medians).

Without `groups`, resampling is over shots and stratified (clean and degraded shots are resampled
separately, so every replicate keeps both classes and the set's class sizes). With `groups` (one
label per shot: the picture / clip piece / procedural seed it was made from), whole groups are
resampled with replacement (a cluster bootstrap): degraded copies share their clean shot's source,
so shots are not independent, and resampling shots understates source-to-source variation.
Replicates that lack a class are drawn again. Seeded, so a rerun prints the same interval.
"""

from __future__ import annotations

import numpy as np

from videoforge.curate.evaluate import roc_auc


def _group_draws(groups, n_boot: int, rng, ok=None):
    """n_boot index arrays, each the shots of len(unique groups) groups drawn with replacement
    (redrawn, up to 20 times, while `ok(idx)` is False)."""
    g = np.asarray(groups)
    _, inv = np.unique(g, return_inverse=True)
    members = [np.flatnonzero(inv == k) for k in range(inv.max() + 1)]
    for _ in range(n_boot):
        for _try in range(20):
            idx = np.concatenate([members[k] for k in rng.integers(0, len(members), len(members))])
            if ok is None or ok(idx):
                break
        yield idx


def auc_ci(y, s, n_boot: int = 1000, seed: int = 0, level: float = 0.95, groups=None) -> dict:
    """{"auc", "lo", "hi", "n", "n_pos", "n_neg"} (+ "n_groups" with `groups`): ROC-AUC of score s
    for binary y with a percentile bootstrap interval over shots, or over groups of shots."""
    y = np.asarray(y).astype(bool)
    s = np.asarray(s, float)
    pos, neg = np.flatnonzero(y), np.flatnonzero(~y)
    out = {"auc": roc_auc(y, s), "lo": float("nan"), "hi": float("nan"), "n": int(len(y)),
           "n_pos": int(len(pos)), "n_neg": int(len(neg))}
    if len(pos) < 2 or len(neg) < 2:
        return out
    rng = np.random.default_rng(seed)
    from scipy.stats import rankdata

    if groups is not None:
        out["n_groups"] = int(len(set(np.asarray(groups).tolist())))
        vals = np.array([roc_auc(y[i], s[i]) for i in _group_draws(groups, n_boot, rng, lambda i: 0 < y[i].sum() < len(i))])
        vals = vals[~np.isnan(vals)]
        q = (1 - level) / 2
        out["lo"], out["hi"] = float(np.quantile(vals, q)), float(np.quantile(vals, 1 - q))
        return out

    sp, sn = np.nan_to_num(s[pos], nan=-np.inf), np.nan_to_num(s[neg], nan=-np.inf)
    vals = np.empty(n_boot)
    for b in range(n_boot):
        a, c = sp[rng.integers(0, len(sp), len(sp))], sn[rng.integers(0, len(sn), len(sn))]
        r = rankdata(np.r_[a, c])
        vals[b] = (r[: len(a)].sum() - len(a) * (len(a) + 1) / 2) / (len(a) * len(c))
    q = (1 - level) / 2
    out["lo"], out["hi"] = float(np.quantile(vals, q)), float(np.quantile(vals, 1 - q))
    return out


def median_ci(v, n_boot: int = 1000, seed: int = 0, level: float = 0.95, groups=None) -> dict:
    """{"median", "lo", "hi", "n"} with a percentile bootstrap interval over values, or over groups."""
    v = np.asarray(v, float)
    out = {"median": float(np.median(v)) if len(v) else float("nan"), "lo": float("nan"), "hi": float("nan"), "n": int(len(v))}
    if len(v) < 2:
        return out
    rng = np.random.default_rng(seed)
    if groups is not None:
        out["n_groups"] = int(len(set(np.asarray(groups).tolist())))
        meds = np.array([np.median(v[i]) for i in _group_draws(groups, n_boot, rng)])
        q = (1 - level) / 2
        out["lo"], out["hi"] = float(np.quantile(meds, q)), float(np.quantile(meds, 1 - q))
        return out
    meds = np.median(v[rng.integers(0, len(v), (n_boot, len(v)))], axis=1)
    q = (1 - level) / 2
    out["lo"], out["hi"] = float(np.quantile(meds, q)), float(np.quantile(meds, 1 - q))
    return out


def fmt(d: dict, key: str = "auc") -> str:
    """'0.912 [0.88, 0.94]'."""
    return f"{d[key]:.3f} [{d['lo']:.3f}, {d['hi']:.3f}]"
