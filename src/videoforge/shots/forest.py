"""Gradient-boosted trees evaluated in plain NumPy.

The classifier is trained with scikit-learn's HistGradientBoostingClassifier, then its
trees are flattened into a few arrays (`.npz`). Importing scikit-learn costs ~3 s of
process start on a small machine, more than the whole detection of a short video, so
`videoforge shots` evaluates the trees itself: all trees advance one level per step over
all frames at once (depth steps of vectorised gathers).
"""

from __future__ import annotations

import numpy as np


def export_hgb(clf, feature_names: list[str] | None = None) -> dict[str, np.ndarray]:
    """Flatten a fitted HistGradientBoostingClassifier (numeric features, no categoricals)."""
    feat, thr, left, right, leaf, value, miss, roots, tree_class = [], [], [], [], [], [], [], [], []
    base = 0
    for per_iter in clf._predictors:
        for k, pred in enumerate(per_iter):
            nd = pred.nodes
            if nd["is_categorical"].any():
                raise ValueError("categorical splits are not supported")
            m = len(nd)
            is_leaf = nd["is_leaf"].astype(bool)
            own = np.arange(m)
            feat.append(np.where(is_leaf, 0, nd["feature_idx"]).astype(np.int32))
            thr.append(nd["num_threshold"].astype(np.float32))
            left.append((np.where(is_leaf, own, nd["left"]) + base).astype(np.int32))
            right.append((np.where(is_leaf, own, nd["right"]) + base).astype(np.int32))
            leaf.append(is_leaf)
            value.append(np.where(is_leaf, nd["value"], 0).astype(np.float32))
            miss.append(nd["missing_go_to_left"].astype(bool))
            roots.append(base)
            tree_class.append(k)
            base += m
    depth = max(int(p.get_max_depth()) for it in clf._predictors for p in it)
    out = {
        "feature": np.concatenate(feat), "threshold": np.concatenate(thr), "left": np.concatenate(left),
        "right": np.concatenate(right), "is_leaf": np.concatenate(leaf), "value": np.concatenate(value),
        "missing_left": np.concatenate(miss), "roots": np.asarray(roots, np.int32),
        "tree_class": np.asarray(tree_class, np.int32), "depth": np.asarray(depth),
        "baseline": np.asarray(clf._baseline_prediction, np.float32).ravel(),
        "classes": np.asarray(clf.classes_),
    }
    if feature_names is not None:
        out["feature_names"] = np.asarray(feature_names)
    return out


class TreeEnsemble:
    """predict_proba over a flattened boosted-tree model (softmax of summed leaf values)."""

    def __init__(self, arrays):
        self.a = {k: arrays[k] for k in arrays.files} if hasattr(arrays, "files") else dict(arrays)
        self.classes = self.a["classes"]
        # threshold of +inf for leaves so the comparison is harmless
        self._thr = np.where(self.a["is_leaf"], np.inf, self.a["threshold"]).astype(np.float32)

    @classmethod
    def load(cls, path) -> "TreeEnsemble":
        return cls(np.load(path, allow_pickle=False))

    def raw(self, x: np.ndarray, chunk: int = 4096) -> np.ndarray:
        a = self.a
        n_cls = len(a["baseline"])
        roots, tc = a["roots"], a["tree_class"]
        out = np.empty((len(x), n_cls), np.float32)
        for s in range(0, len(x), chunk):
            xb = np.nan_to_num(x[s : s + chunk].astype(np.float32), nan=0.0)
            node = np.broadcast_to(roots, (len(xb), len(roots))).copy()
            rows = np.arange(len(xb))[:, None]
            for _ in range(int(a["depth"]) + 1):
                go_left = xb[rows, a["feature"][node]] <= self._thr[node]
                node = np.where(go_left, a["left"][node], a["right"][node])
            vals = a["value"][node]  # (b, trees)
            r = np.zeros((len(xb), n_cls), np.float32)
            for k in range(n_cls):
                r[:, k] = vals[:, tc == k].sum(1)
            out[s : s + chunk] = r + a["baseline"]
        return out

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        r = self.raw(x)
        if r.shape[1] == 1:  # binary: one logit
            p = 1 / (1 + np.exp(-r[:, 0]))
            return np.stack([1 - p, p], 1)
        r = r - r.max(1, keepdims=True)
        e = np.exp(r)
        return e / e.sum(1, keepdims=True)
