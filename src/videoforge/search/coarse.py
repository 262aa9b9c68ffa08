"""A coarse cluster level over shot vectors (spherical k-means), so results can be browsed by cluster.

About sqrt(n) clusters (at most 256): few enough to list, each a group of look-alike shots.
It is refitted whenever the index changes; k-means trains on at most 100k sampled vectors
so the cost stays bounded at a million shots.
"""

from __future__ import annotations

import numpy as np

from videoforge.search import store
from videoforge.search.vector_index import VectorIndex

MAX_CLUSTERS = 256
TRAIN_MAX = 100_000


def n_clusters(n: int) -> int:
    """Number of coarse clusters for n shot vectors."""
    return int(max(1, min(MAX_CLUSTERS, round(np.sqrt(n)))))


def fit_clusters(path: str, shots: VectorIndex, seed: int = 0) -> int:
    """Fit k-means on the index's shot vectors, assign every shot, save to `path`; returns the file size."""
    import faiss

    n, d = len(shots), shots.dim
    k = n_clusters(n)
    if n == 0:
        return store.save_npz(path, centroids=np.zeros((0, d), np.float32), keys=np.zeros(0, np.int64),
                              labels=np.zeros(0, np.int32))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(n, TRAIN_MAX), replace=False))
    x = np.ascontiguousarray(shots.vectors[sample], dtype=np.float32)
    if k == 1:
        centroids = x.mean(0, keepdims=True)
    else:
        km = faiss.Kmeans(d, k, niter=20, spherical=True, seed=seed, verbose=False, min_points_per_centroid=1)
        km.train(x)
        centroids = km.centroids
    centroids = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
    flat = faiss.IndexFlatIP(d)
    flat.add(np.ascontiguousarray(centroids, dtype=np.float32))
    labels = np.empty(n, np.int32)
    for s in range(0, n, 65536):
        labels[s : s + 65536] = flat.search(np.ascontiguousarray(shots.vectors[s : s + 65536], dtype=np.float32), 1)[1][:, 0]
    return store.save_npz(path, centroids=centroids.astype(np.float32), keys=shots.ids.copy(), labels=labels)
