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
        a = self.a
        depth = int(a["depth"])
        n_trees = len(a["roots"])
        # level by level, the node at each position of a complete tree; a leaf's children are
        # itself (export_hgb), so a shallow leaf fills every position below it
        feat, thr = [], []
        nodes = a["roots"].astype(np.int64)[:, None]                    # (trees, 1)
        for _ in range(depth):
            feat.append(a["feature"][nodes].astype(np.int32))
            thr.append(np.where(a["is_leaf"][nodes], np.inf, a["threshold"][nodes]).astype(np.float32))
            nodes = np.stack([a["left"][nodes], a["right"][nodes]], -1).reshape(n_trees, -1)
        self._depth = depth
        self._feat = [f.ravel() for f in feat]        # level d: (trees * 2**d,)
        self._thr = [t.ravel() for t in thr]
        self._leaf = a["value"][nodes].astype(np.float32).ravel()     # (trees * 2**depth,)
        # trees of one class, in their original order (the sums below add in that order)
        self._class_trees = [np.flatnonzero(a["tree_class"] == k) for k in range(len(a["baseline"]))]

    @classmethod
    def load(cls, path) -> "TreeEnsemble":
        return cls(np.load(path, allow_pickle=False))

    def raw(self, x: np.ndarray, chunk: int = 512) -> np.ndarray:
        a = self.a
        n_cls = len(a["baseline"])
        n_trees = len(a["roots"])
        tree = np.arange(n_trees, dtype=np.int32)
        out = np.empty((len(x), n_cls), np.float32)
        for s in range(0, len(x), chunk):
            xb = np.nan_to_num(x[s : s + chunk].astype(np.float32), nan=0.0)
            b, n_feat = xb.shape
            xb = xb.ravel()                                  # rows gathered by flat index below
            row = (np.arange(b, dtype=np.int32) * n_feat)[:, None]
            pos = np.zeros((b, n_trees), np.int32)          # position within the current level
            for d in range(self._depth):
                at = (tree << d) + pos                       # index into level d's arrays
                go_right = xb[row + self._feat[d][at]] > self._thr[d][at]
                pos = 2 * pos + go_right
            vals = self._leaf[(tree << self._depth) + pos]   # (b, trees)
            r = np.zeros((b, n_cls), np.float32)
            for k, trees in enumerate(self._class_trees):
                r[:, k] = vals[:, trees].sum(1)
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
