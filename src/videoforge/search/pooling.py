"""Shot vector from its keyframe vectors: mean, or temporal attention over neighbouring keyframes.

Mean pooling is the robust default. The `temporal` option follows the spatio-temporal idea of
per-shot encoding: each keyframe is first smoothed with its time neighbours (a window of
`window` keyframes), then the smoothed vectors are weighted by a softmax of their agreement
with the shot's mean (attention with the mean as the query), so a keyframe that looks like no
other (a flash, a transition remnant) counts less than the shot's recurring content.
"""

from __future__ import annotations

import numpy as np

from videoforge.search.embedders.base import l2_normalize

POOLINGS = ("mean", "temporal")


def pool_shot(vectors: np.ndarray, times: np.ndarray | None = None, method: str = "mean",
              window: int = 3, temperature: float = 0.05) -> np.ndarray:
    """(dim,) unit shot vector from (n, dim) unit keyframe vectors ordered by `times` (s)."""
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim != 2 or len(v) == 0:
        raise ValueError("pool_shot needs at least one keyframe vector")
    if times is not None and len(times) == len(v):
        v = v[np.argsort(np.asarray(times), kind="stable")]
    if method == "mean" or len(v) == 1:
        return l2_normalize(v.mean(axis=0))
    if method != "temporal":
        raise ValueError(f"unknown pooling {method!r}; choose one of {POOLINGS}")
    half = max(window, 1) // 2
    smooth = np.stack([v[max(0, i - half) : i + half + 1].mean(axis=0) for i in range(len(v))])
    smooth = l2_normalize(smooth)
    q = l2_normalize(smooth.mean(axis=0))
    logits = smooth @ q / temperature
    w = np.exp(logits - logits.max())
    return l2_normalize((w / w.sum()) @ smooth)
