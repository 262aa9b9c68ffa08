"""Build and update search indexes for a catalog: only shots that are new or changed are embedded.

`index_catalog(catalog)` builds the offline defaults (BM25 over ocr_text + captions, the
`visual` query-by-example embedder); `index_catalog(catalog, ["clip"], model="path")` adds a
learned visual-text embedder. Each index remembers which shots it holds and a hash of what
each was built from, so a re-run embeds only shots that appeared or changed, deletes the
vectors of shots that left the catalog, and does nothing when nothing changed. A change of
embedder parameters (its signature) or `rebuild=True` starts the index afresh.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable

import numpy as np

from videoforge.catalog import Catalog
from videoforge.search import store
from videoforge.search.embedders import DEFAULT_EMBEDDERS, TEXT_INDEX, Embedder, get_embedder
from videoforge.search.errors import SearchError
from videoforge.search.ids import keyframe_key, shot_keys
from videoforge.search.pooling import pool_shot
from videoforge.search.sources import ShotSource, frames_at, load_shots, read_image
from videoforge.search.text_index import BM25Index
from videoforge.search.vector_index import IndexParams, VectorIndex

BATCH = 64  # images per embedder call: bounded memory, reasonable batching for torch models


def _log(progress: Callable[[str], None] | None, msg: str) -> None:
    if progress:
        progress(msg)


def open_catalog(catalog) -> Catalog:
    """A Catalog from a Catalog or a folder path; SearchError when there is no catalog there."""
    cat = catalog if isinstance(catalog, Catalog) else Catalog(catalog)
    if not cat.exists():
        raise SearchError(f"{cat.root}: no catalog here (run `videoforge run INPUT --catalog {cat.root}` first)")
    return cat


def index_catalog(catalog, embedders: list[str] | None = None, model: str | None = None,
                  pooling: str = "mean", params: IndexParams | None = None, rebuild: bool = False,
                  progress: Callable[[str], None] | None = None) -> list[dict]:
    """Build or update the named indexes (default: bm25 + visual); returns one summary dict per index."""
    cat = open_catalog(catalog)
    shots = load_shots(cat)
    if not shots:
        raise SearchError(f"{cat.root}: the catalog has no shots to index (run `videoforge run INPUT --catalog {cat.root}` first)")
    os.makedirs(store.index_root(cat.root), exist_ok=True)
    out = []
    for name in embedders or DEFAULT_EMBEDDERS:
        t0 = time.perf_counter()
        folder = store.embedder_dir(cat.root, name)
        if rebuild:
            shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder, exist_ok=True)
        if name == TEXT_INDEX:
            summary = _index_bm25(folder, shots)
        else:
            try:
                emb = get_embedder(name, model=model) if model else get_embedder(name)
            except TypeError as e:
                raise SearchError(f"embedder {name!r} takes no --model ({e})") from e
            summary = _index_vectors(folder, cat, shots, emb, pooling, params or IndexParams(), progress)
        summary["seconds"] = round(time.perf_counter() - t0, 3)
        _log(progress, f"index {name}: {summary}")
        out.append(summary)
    return out


# -- BM25 -------------------------------------------------------------------------------------
def _index_bm25(folder: str, shots: list[ShotSource]) -> dict:
    h = hashlib.blake2b(digest_size=16)
    for s in shots:
        h.update(f"{s.shot_id}\x00{s.text}\x01".encode())
    digest = h.hexdigest()
    old = _safe_manifest(folder)
    idx = BM25Index()
    sig = {"name": TEXT_INDEX, "trigrams": idx.trigrams, "tokenizer": idx.tokenizer}
    if old and old.get("content") == digest and old.get("signature") == sig:
        return {"embedder": TEXT_INDEX, "shots": old["bm25"]["count"], "added": 0, "removed": 0, "unchanged": True}
    idx.build([s.shot_id for s in shots], [s.text for s in shots])
    entry = idx.save(folder)
    store.write_manifest(folder, {"embedder": TEXT_INDEX, "signature": sig, "content": digest, "bm25": entry})
    with_text = sum(1 for s in shots if s.text)
    return {"embedder": TEXT_INDEX, "shots": len(shots), "with_text": with_text, "rebuilt": True}


def _safe_manifest(folder: str) -> dict | None:
    try:
        return store.read_manifest(folder)
    except SearchError:
        return None  # a corrupt previous build is simply replaced


# -- vector embedders -------------------------------------------------------------------------
def _load_existing(folder: str, sig: dict, pooling: str):
    """(shot index, keyframe index, state, kf meta) of a compatible previous build, or None."""
    m = _safe_manifest(folder)
    if not m or m.get("signature") != sig or m.get("pooling") != pooling:
        return None
    try:
        shots = VectorIndex.load(os.path.join(folder, "shots"), m["shots"], mmap=False)
        kfs = VectorIndex.load(os.path.join(folder, "keyframes"), m["keyframes"], mmap=False) if m.get("keyframes") else None
        state = store.load_npz(os.path.join(folder, "state.npz"), m["files"]["state.npz"])
        meta = store.load_npz(os.path.join(folder, "keyframes.meta.npz"), m["files"]["keyframes.meta.npz"]) \
            if "keyframes.meta.npz" in m["files"] else None
    except SearchError:
        return None
    return shots, kfs, state, meta


def _pictures(shot: ShotSource) -> list[tuple[int, float, np.ndarray]]:
    """(frame, pts_time, BGR image) of a shot's keyframes; the decoded middle frame when none is readable."""
    pics = [(f, t, img) for f, t, p in shot.keyframes if (img := read_image(p)) is not None]
    if not pics and shot.video_path:
        mid = (shot.start_time + shot.end_time) / 2
        img = frames_at(shot.video_path, [mid])[0]
        if img is not None:
            pics = [(-1, mid, img)]
    return pics


def _index_vectors(folder: str, cat: Catalog, shots: list[ShotSource], emb: Embedder, pooling: str,
                   params: IndexParams, progress) -> dict:
    sig = emb.signature()
    modality = emb.modality
    current = {s.shot_id: s for s in shots if modality != "text" or s.text}
    cur_keys = shot_keys(list(current))
    cur_hash = np.array([current[s].content_hash(modality) for s in current], dtype=np.int64)

    # Cheap check first: a million-vector index is not loaded just to learn that nothing changed.
    m = _safe_manifest(folder)
    same_kind = m and m.get("shots", {}).get("params", {}).get("kind") == params.kind
    if same_kind and m.get("signature") == sig and m.get("pooling") == pooling and "state.npz" in m.get("files", {}):
        try:
            st = store.load_npz(os.path.join(folder, "state.npz"), m["files"]["state.npz"])
            if np.array_equal(st["keys"], cur_keys) and np.array_equal(st["hash"], cur_hash):
                return {"embedder": emb.name, "shots": int(m["shots"]["count"]), "added": 0, "removed": 0,
                        "unchanged": True, "kind": m["shots"]["kind"]}
        except SearchError:
            pass
    prev = _load_existing(folder, sig, pooling)
    if prev is None:
        shot_idx = VectorIndex(emb.dim, params)
        kf_idx = VectorIndex(emb.dim, params) if modality == "image" else None
        old_keys = np.zeros(0, np.int64)
        old_hash = np.zeros(0, np.int64)
        kf_meta = {"keys": np.zeros(0, np.int64), "shot": np.zeros(0, np.int64), "time": np.zeros(0, np.float64)}
    else:
        shot_idx, kf_idx, state, meta = prev
        shot_idx.params = params
        if kf_idx is not None:
            kf_idx.params = params
        old_keys, old_hash = state["keys"], state["hash"]
        kf_meta = meta or {"keys": np.zeros(0, np.int64), "shot": np.zeros(0, np.int64), "time": np.zeros(0, np.float64)}

    # What changed: shots gone or rebuilt from different inputs leave; new or changed ones are embedded.
    old_map = dict(zip(old_keys.tolist(), old_hash.tolist()))
    cur_map = dict(zip(cur_keys.tolist(), cur_hash.tolist()))
    stale = np.array([k for k, h in old_map.items() if cur_map.get(k) != h], dtype=np.int64)
    todo = [sid for sid, k in zip(current, cur_keys.tolist()) if old_map.get(k) != cur_map[k]]
    if len(stale) == 0 and not todo and prev is not None and not shot_idx.needs_rebuild():
        return {"embedder": emb.name, "shots": len(shot_idx), "added": 0, "removed": 0, "unchanged": True,
                "kind": shot_idx.kind}
    removed = shot_idx.remove(stale)
    if kf_idx is not None and len(stale):
        gone = np.isin(kf_meta["shot"], stale)
        kf_idx.remove(kf_meta["keys"][gone])
        kf_meta = {k: v[~gone] for k, v in kf_meta.items()}

    new_shot_keys, new_shot_vecs = [], []
    new_kf = {"keys": [], "shot": [], "time": []}
    new_kf_vecs = []
    missing = 0
    for start in range(0, len(todo), BATCH if modality == "text" else max(1, BATCH // 4)):
        chunk = [current[sid] for sid in todo[start : start + (BATCH if modality == "text" else max(1, BATCH // 4))]]
        if modality == "text":
            vecs = emb.embed_texts([s.text for s in chunk])
            new_shot_keys += shot_keys([s.shot_id for s in chunk]).tolist()
            new_shot_vecs.append(vecs)
        else:
            pics = [(s, _pictures(s)) for s in chunk]
            flat = [img for _, p in pics for _, _, img in p]
            vecs = emb.embed_images(flat) if flat else np.zeros((0, emb.dim), np.float32)
            i = 0
            for s, p in pics:
                if not p:
                    missing += 1
                    continue
                v = vecs[i : i + len(p)]
                i += len(p)
                times = np.array([t for _, t, _ in p])
                skey = int(shot_keys([s.shot_id])[0])
                new_shot_keys.append(skey)
                new_shot_vecs.append(pool_shot(v, times, pooling)[None])
                new_kf["keys"] += [keyframe_key(s.shot_id, f if f >= 0 else int(t * 1000)) for f, t, _ in p]
                new_kf["shot"] += [skey] * len(p)
                new_kf["time"] += times.tolist()
                new_kf_vecs.append(v)
        _log(progress, f"{emb.name}: embedded {min(start + len(chunk), len(todo))}/{len(todo)} shots")

    if new_shot_keys:
        shot_idx.add(np.array(new_shot_keys, np.int64), np.concatenate(new_shot_vecs))
    if kf_idx is not None and new_kf["keys"]:
        kf_idx.add(np.array(new_kf["keys"], np.int64), np.concatenate(new_kf_vecs))
        kf_meta = {"keys": np.concatenate([kf_meta["keys"], np.array(new_kf["keys"], np.int64)]),
                   "shot": np.concatenate([kf_meta["shot"], np.array(new_kf["shot"], np.int64)]),
                   "time": np.concatenate([kf_meta["time"], np.array(new_kf["time"], np.float64)])}
    for idx in (shot_idx, kf_idx):
        if idx is not None and idx.needs_rebuild():  # e.g. --kind changed, or grown past exact_max
            idx.build()
    if missing:
        print(f"warning: {missing} shots have no readable keyframe or source frame; they are not in the {emb.name} index",
              file=sys.stderr)

    # Indexed state = shots that now have vectors (a shot with no picture is retried next time).
    in_index = set(shot_idx.ids.tolist())
    keep = np.array([k in in_index for k in cur_keys.tolist()], dtype=bool)
    files = {"state.npz": store.save_npz(os.path.join(folder, "state.npz"), keys=cur_keys[keep], hash=cur_hash[keep])}
    if kf_idx is not None:
        files["keyframes.meta.npz"] = store.save_npz(os.path.join(folder, "keyframes.meta.npz"), **kf_meta)
    from videoforge.search.coarse import fit_clusters

    files["clusters.npz"] = fit_clusters(os.path.join(folder, "clusters.npz"), shot_idx)
    doc = {"embedder": emb.name, "signature": sig, "modality": modality, "pooling": pooling,
           "accepts_text_query": emb.accepts_text_query, "accepts_image_query": emb.accepts_image_query,
           "dim": emb.dim, "shots": shot_idx.save(os.path.join(folder, "shots")), "files": files}
    if kf_idx is not None:
        doc["keyframes"] = kf_idx.save(os.path.join(folder, "keyframes"))
    store.write_manifest(folder, doc)
    return {"embedder": emb.name, "shots": len(shot_idx), "keyframes": len(kf_idx) if kf_idx is not None else 0,
            "added": len(new_shot_keys), "removed": removed, "kind": shot_idx.kind}
