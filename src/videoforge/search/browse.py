"""Browse a catalog by the coarse cluster level of an image index: groups of look-alike shots."""

from __future__ import annotations

import os

import numpy as np

from videoforge.search import store
from videoforge.search.build import open_catalog
from videoforge.search.errors import SearchError
from videoforge.search.ids import shot_id_of


def clusters(catalog, embedder: str = "visual", per_cluster: int = 5, cluster: int | None = None) -> list[dict]:
    """[{"cluster", "size", "shot_ids"}] largest first; `shot_ids` are the members nearest the centroid."""
    from videoforge.search.query import load_index

    cat = open_catalog(catalog)
    folder = store.embedder_dir(cat.root, embedder)
    m = store.read_manifest(folder)
    if m is None or "clusters.npz" not in m.get("files", {}):
        raise SearchError(f"{cat.root}: no {embedder} index with clusters (run `videoforge index {cat.root} --embedder {embedder}`)")
    li = load_index(cat.root, embedder)
    c = store.load_npz(os.path.join(folder, "clusters.npz"), m["files"]["clusters.npz"])
    out = []
    for label in np.unique(c["labels"]):
        if cluster is not None and int(label) != cluster:
            continue
        keys = c["keys"][c["labels"] == label]
        rows = li.shots.rows_of(keys)
        sims = np.asarray(li.shots.vectors[np.sort(rows)], np.float32) @ c["centroids"][label]
        keys_sorted = li.shots.ids[np.sort(rows)][np.argsort(-sims)]
        out.append({"cluster": int(label), "size": int(len(keys)),
                    "shot_ids": [shot_id_of(k) for k in keys_sorted[: per_cluster if cluster is None else len(keys_sorted)]]})
    return sorted(out, key=lambda d: (-d["size"], d["cluster"]))
