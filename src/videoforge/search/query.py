"""Query a catalog's search indexes: text, image or both, fused by reciprocal rank fusion.

Branches: `bm25` (text over ocr_text + captions), `<embedder>:text` (a text query embedded
by a sentence or CLIP-like model), `<embedder>:image` (an image query against keyframe and
shot vectors; the best keyframe gives the hit's `keyframe_time`). Each branch ranks shots;
RRF adds 1 / (rrf_k + rank) over branches, so no branch's raw score scale dominates.
Every shot in the index can come back: nothing is hidden unless `where` asks.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from videoforge.search import store
from videoforge.search.build import open_catalog
from videoforge.search.embedders import TEXT_INDEX, Embedder, from_signature
from videoforge.search.errors import FilterError, IndexCorruptError, SearchError
from videoforge.search.ids import shot_id_of, shot_keys
from videoforge.search.sources import read_image
from videoforge.search.spans import widen_text_spans
from videoforge.search.text_index import BM25Index
from videoforge.search.vector_index import VectorIndex

RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al. 2009)


@dataclass
class Hit:
    video: str                  # source path
    shot_id: str
    start_time: float           # s
    end_time: float             # s, exclusive
    keyframe_time: float | None  # s; the matching keyframe, or the shot's middle keyframe
    score: float                # fused RRF score
    branches: list[str]         # which branches ranked this shot, best rank first
    video_id: str = ""
    cluster: int | None = None  # coarse cluster of the shot (first image index), for browsing
    branch_scores: dict = field(default_factory=dict)  # branch -> raw score (BM25 or cosine)
    shot_start_time: float | None = None  # s, the shot's own span; start/end_time of a text hit can be
    shot_end_time: float | None = None    # wider (search/spans.py: a word shown across a cut in the shot)

    def to_json(self) -> dict:
        """The contract keys of `videoforge search --json`."""
        return {"video": self.video, "shot_id": self.shot_id, "start_time": self.start_time,
                "end_time": self.end_time, "keyframe_time": self.keyframe_time, "score": self.score,
                "branches": self.branches}


@dataclass
class LoadedIndex:
    name: str
    manifest: dict
    bm25: BM25Index | None = None
    shots: VectorIndex | None = None
    keyframes: VectorIndex | None = None
    kf_shot: dict | None = None      # keyframe key -> (shot key, pts_time)
    kf_by_shot: dict | None = None   # shot key -> array of keyframe keys
    cluster_of: dict | None = None   # shot key -> cluster label
    embedder: Embedder | None = None


_CACHE: dict[str, tuple[tuple, LoadedIndex]] = {}
_LOCK = threading.Lock()


def load_index(catalog_root: str, name: str) -> LoadedIndex:
    """One embedder's index, cached in-process until its manifest changes (the server queries often).

    While `videoforge index` rewrites an index, its files and manifest can briefly disagree; a
    mismatch is retried when the manifest changed meanwhile, and reported as corrupt otherwise.
    """
    mpath = os.path.join(store.embedder_dir(catalog_root, name), "manifest.json")
    try:
        for attempt in range(3):
            before = os.stat(mpath).st_mtime_ns
            try:
                return _load_index(catalog_root, name)
            except IndexCorruptError:
                time.sleep(0.3)
                if attempt == 2 or os.stat(mpath).st_mtime_ns == before:
                    raise
    except FileNotFoundError as e:
        raise SearchError(f"{mpath}: index removed while reading it (a `videoforge index --rebuild` running?); "
                          "try again") from e
    raise AssertionError("unreachable")


def _load_index(catalog_root: str, name: str) -> LoadedIndex:
    folder = store.embedder_dir(catalog_root, name)
    mpath = os.path.join(folder, "manifest.json")
    st = os.stat(mpath)
    stamp = (st.st_mtime_ns, st.st_size)
    with _LOCK:
        hit = _CACHE.get(folder)
        if hit and hit[0] == stamp:
            return hit[1]
    m = store.read_manifest(folder)
    li = LoadedIndex(name, m)
    if name == TEXT_INDEX:
        li.bm25 = BM25Index.load(folder, m["bm25"])
    else:
        li.shots = VectorIndex.load(os.path.join(folder, "shots"), m["shots"])
        if m.get("keyframes"):
            li.keyframes = VectorIndex.load(os.path.join(folder, "keyframes"), m["keyframes"])
            meta = store.load_npz(os.path.join(folder, "keyframes.meta.npz"), m["files"]["keyframes.meta.npz"])
            li.kf_shot = dict(zip(meta["keys"].tolist(), zip(meta["shot"].tolist(), meta["time"].tolist())))
            order = np.argsort(meta["shot"], kind="stable")
            s_sorted = meta["shot"][order]
            bounds = np.flatnonzero(np.diff(s_sorted)) + 1
            li.kf_by_shot = {int(g[0]): meta["keys"][order][i0:i1]
                             for g, i0, i1 in zip(np.split(s_sorted, bounds), np.r_[0, bounds], np.r_[bounds, len(order)])
                             if len(g)}
        if "clusters.npz" in m.get("files", {}):
            c = store.load_npz(os.path.join(folder, "clusters.npz"), m["files"]["clusters.npz"])
            li.cluster_of = dict(zip(c["keys"].tolist(), c["labels"].tolist()))
        try:
            li.embedder = from_signature(m["signature"])
        except (KeyError, ValueError, TypeError) as e:
            raise SearchError(f"{mpath}: cannot recreate embedder {name!r} ({e}); "
                              f"rebuild with `videoforge index CATALOG --embedder {name} --rebuild`") from e
    with _LOCK:
        _CACHE[folder] = (stamp, li)
    return li


def _allowed_shots(con, where: str | None) -> set[str] | None:
    from videoforge.catalog.sqlfilter import SQLFilterError, parse_filter

    try:   # exactly one expression, placed as DuckDB renders it
        where = parse_filter(where, "--where")
    except SQLFilterError as e:
        raise FilterError(str(e)) from e
    if not where:
        return None
    try:
        rows = con.execute(f"SELECT shot_id FROM shots WHERE ({where})").fetchall()
    except Exception as e:  # noqa: BLE001 - DuckDB parser/binder errors: show them with the filter
        raise FilterError(f"--where {where!r} is not a valid filter on shots: {str(e).splitlines()[0]}") from e
    return {r[0] for r in rows}


def _vector_branch(li: LoadedIndex, q: np.ndarray, depth: int, allowed: set[str] | None) -> list[tuple[int, float, float | None]]:
    """[(shot key, score, keyframe time)] best first: max of the shot vector's and its best keyframe's score."""
    allowed_keys = shot_keys(sorted(allowed)) if allowed is not None else None
    best: dict[int, tuple[float, float | None]] = {}
    s, ids = li.shots.search(q[None], depth, allowed=allowed_keys)
    for sc, key in zip(s[0].tolist(), ids[0].tolist()):
        if key != -1:
            best[key] = (sc, None)
    if li.keyframes is not None:
        kf_allowed = None
        if allowed_keys is not None:
            parts = [li.kf_by_shot[k] for k in allowed_keys.tolist() if k in li.kf_by_shot]
            kf_allowed = np.concatenate(parts) if parts else np.zeros(0, np.int64)
        s, ids = li.keyframes.search(q[None], depth * 3, allowed=kf_allowed)
        seen: set[int] = set()
        for sc, key in zip(s[0].tolist(), ids[0].tolist()):  # best first: a shot's first keyframe is its best
            if key == -1 or key not in li.kf_shot:
                continue
            shot, t = li.kf_shot[key]
            if shot in seen:
                continue
            seen.add(shot)
            cur = best.get(shot)
            best[shot] = (max(sc, cur[0]) if cur else sc, t)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:depth]
    return [(k, sc, t) for k, (sc, t) in ranked]


def _load_query_image(image) -> np.ndarray:
    if isinstance(image, np.ndarray):
        return image
    path = os.fspath(image)
    img = read_image(path)
    if img is None:
        raise SearchError(f"{path}: cannot read the query image (missing, or not an image format OpenCV reads)")
    return img


def search(catalog, text: str | None = None, image=None, k: int = 10, where: str | None = None,
           embedders: list[str] | None = None, rrf_k: int = RRF_K, depth: int | None = None) -> list[Hit]:
    """Top-k shots for a text query, an image (path or BGR array), or both; fused by RRF."""
    text = (text or "").strip() or None
    if text is None and image is None:
        raise ValueError("give a text query, an image, or both")
    if k <= 0:
        raise ValueError("k must be positive")
    cat = open_catalog(catalog)
    qimg = _load_query_image(image) if image is not None else None
    with cat.read() as con:  # one short read-only connection per query
        n_shots = con.execute("SELECT count(*) FROM shots").fetchone()[0]
        if n_shots == 0:
            raise SearchError(f"{cat.root}: the catalog has no shots (run `videoforge run INPUT --catalog {cat.root}` first)")
        names = [n for n in store.built_embedders(cat.root) if embedders is None or n in embedders]
        if not names:
            raise SearchError(f"{cat.root}: no search index yet (run `videoforge index {cat.root}` first)")
        allowed = _allowed_shots(con, where)
        branches, clusters = _run_branches(cat.root, names, text, qimg, allowed, depth or max(4 * k, 50))
        hits = _fuse(con, branches, k, rrf_k, clusters)
        if text and TEXT_INDEX in branches:
            widen_text_spans(con, hits, load_index(cat.root, TEXT_INDEX).bm25.query_words(text))
        return hits


def _run_branches(root: str, names: list[str], text: str | None, qimg, allowed, depth: int):
    branches: dict[str, list[tuple[str, float, float | None]]] = {}
    clusters = None
    for name in names:
        li = load_index(root, name)
        if li.bm25 is not None:
            if text:
                branches[TEXT_INDEX] = [(sid, sc, None) for sid, sc in li.bm25.search(text, depth, allowed)]
            continue
        emb = li.embedder
        if clusters is None and li.manifest.get("modality") == "image":
            clusters = li.cluster_of
        if text and li.manifest.get("accepts_text_query"):
            q = emb.embed_texts([text])[0]
            branches[f"{name}:text"] = [(shot_id_of(kk), sc, t) for kk, sc, t in _vector_branch(li, q, depth, allowed)]
        if qimg is not None and li.manifest.get("accepts_image_query"):
            q = emb.embed_images([qimg])[0]
            branches[f"{name}:image"] = [(shot_id_of(kk), sc, t) for kk, sc, t in _vector_branch(li, q, depth, allowed)]
    if not branches:
        asked = "text" if text and qimg is None else "image" if qimg is not None and not text else "text or image"
        raise SearchError(f"{root}: no built index answers a {asked} query (built: {', '.join(names)}); "
                          f"run `videoforge index {root}` (text: bm25, minilm, clip; image: visual, clip)")
    return branches, clusters


def _fuse(con, branches: dict, k: int, rrf_k: int, clusters: dict | None) -> list[Hit]:
    fused: dict[str, float] = {}
    matched: dict[str, list[tuple[int, str]]] = {}
    kf_time: dict[str, tuple[float, float]] = {}
    raw: dict[str, dict] = {}
    for bname, ranked in branches.items():
        for rank, (sid, sc, t) in enumerate(ranked, 1):
            fused[sid] = fused.get(sid, 0.0) + 1.0 / (rrf_k + rank)
            matched.setdefault(sid, []).append((rank, bname))
            raw.setdefault(sid, {})[bname] = sc
            if t is not None and (sid not in kf_time or sc > kf_time[sid][1]):
                kf_time[sid] = (t, sc)
    order = sorted(fused, key=lambda s: (-fused[s], min(r for r, _ in matched[s]), s))
    # Look up more than k: an index older than the catalog may name shots that are gone.
    wanted = order[: max(2 * k, k + 10)]
    if not wanted:
        return []
    ph = ",".join("?" * len(wanted))
    rows = con.execute(f"""SELECT s.shot_id, s.video_id, v.path, s.start_time, s.end_time,
                                (SELECT kf.pts_time FROM keyframes kf WHERE kf.shot_id = s.shot_id
                                 ORDER BY abs(kf.pts_time - (s.start_time + s.end_time) / 2) LIMIT 1)
                         FROM shots s LEFT JOIN videos v USING (video_id) WHERE s.shot_id IN ({ph})""", wanted).fetchall()
    info = {r[0]: r for r in rows}
    hits = []
    for sid in wanted:
        r = info.get(sid)
        if r is None:
            continue
        kt = kf_time[sid][0] if sid in kf_time else r[5]
        hits.append(Hit(video=r[2] or "", shot_id=sid, start_time=r[3], end_time=r[4], keyframe_time=kt,
                        score=round(fused[sid], 6), branches=[b for _, b in sorted(matched[sid])], video_id=r[1],
                        cluster=(clusters or {}).get(int(shot_keys([sid])[0])), branch_scores=raw[sid],
                        shot_start_time=r[3], shot_end_time=r[4]))
        if len(hits) == k:
            break
    return hits


def index_status(catalog) -> dict:
    """{embedder: {"indexed": n shots, "catalog": n shots}} to tell whether indexes are behind the catalog."""
    cat = open_catalog(catalog)
    n = cat.query("SELECT count(*) FROM shots")[1][0][0]
    out = {}
    for name in store.built_embedders(cat.root):
        m = store.read_manifest(store.embedder_dir(cat.root, name))
        count = m["bm25"]["count"] if name == TEXT_INDEX else m["shots"]["count"]
        out[name] = {"indexed": int(count), "catalog": int(n), "modality": m.get("modality", "text")}
    return out
