"""Near-duplicate shots: frame perceptual hashes, a binary index, temporal alignment.

A re-encoded, resized, slightly cropped, brightness-shifted or trimmed copy of a shot has
frames whose pHashes lie within a few bits of the original's (see phash.py). The frames
hashed are, by default, one every 6 frames decoded from the source (dense enough that a
trimmed copy's frames lie near hashed frames of the original), or the catalog's keyframe
JPEGs only (no decoding; the engine keeps ~1 per 2 s, too sparse for many trims). Every
keyframe's query hash is searched (Hamming radius) among all keyframes' window hashes in a
FAISS binary index: exact brute force (IndexBinaryFlat) for small catalogs, multi-index
hashing (IndexBinaryMultiHash: the 64 bits split into substrings, each looked up in its own
hash table with bit flips) for large ones, so the search is sub-linear at millions of shots.
A candidate pair of shots is a duplicate when an order-preserving chain of matching
keyframes covers at least `min_match` of the shorter shot's keyframes (a trimmed copy
covers part of the original, in the same order). Duplicate pairs are joined into groups;
each group keeps one representative: highest suitability, then longest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from videoforge.curate.phash import WINDOWS, to_bytes, window_hashes


@dataclass
class DedupParams:
    radius: int = 12          # max Hamming distance (of 64 bits) for two keyframes to match
    min_match: float = 0.5    # fraction of the shorter shot's keyframes an aligned chain must cover
    index: str = "auto"       # flat | multihash | auto (multihash above `flat_limit` indexed hashes)
    flat_limit: int = 300_000
    nhash: int = 3            # multihash: substrings of 64 // nhash bits
    nflip: int = 1            # multihash: bits flipped per substring lookup (finds every match within
                              # nhash * (nflip + 1) - 1 bits for sure, farther ones when one substring is close;
                              # nflip=2 is ~10x slower per query)


@dataclass
class DedupResult:
    shot_ids: list[str]
    duplicate_of: list[str | None]
    pairs: list[tuple[str, str, float]] = field(default_factory=list)
    groups: int = 0
    index: str = ""


# ------------------------------------------------------------------------------------ search
def _build_index(entries: np.ndarray, p: DedupParams):
    import faiss

    kind = p.index
    if kind == "auto":
        kind = "flat" if len(entries) <= p.flat_limit else "multihash"
    if kind == "flat":
        idx = faiss.IndexBinaryFlat(64)
    elif kind == "multihash":
        idx = faiss.IndexBinaryMultiHash(64, p.nhash, 64 // p.nhash)
        idx.nflip = p.nflip
    else:
        raise ValueError(f"unknown index {p.index!r}; choose flat, multihash or auto")
    idx.add(to_bytes(entries))
    return idx, kind


def candidate_matches(hashes: list[np.ndarray], p: DedupParams, batch: int = 65536):
    """Keyframe matches between different shots: arrays (shot_a, kf_a, shot_b, kf_b, dist)
    with shot_a < shot_b. `hashes[s]` is shot s's (keyframes, windows) uint64 array."""
    owner, kf = [], []
    for s, h in enumerate(hashes):
        owner.append(np.full(len(h), s, np.int64))
        kf.append(np.arange(len(h), dtype=np.int64))
    owner = np.concatenate(owner) if owner else np.zeros(0, np.int64)
    kf = np.concatenate(kf) if kf else np.zeros(0, np.int64)
    if len(owner) == 0:
        z = np.zeros(0, np.int64)
        return z, z, z, z, np.zeros(0, np.int32), "none"
    allh = np.concatenate([h for h in hashes if len(h)]).astype(np.uint64)     # (K, V)
    nwin = allh.shape[1]
    idx, kind = _build_index(allh.reshape(-1), p)                          # entry e -> keyframe e // V
    queries = allh[:, 0]
    qa, ea, da = [], [], []
    for s in range(0, len(queries), batch):
        lims, d, ids = idx.range_search(to_bytes(queries[s:s + batch]), p.radius + 1)
        q = np.repeat(np.arange(s, s + len(lims) - 1), np.diff(lims.astype(np.int64)))
        qa.append(q)
        ea.append(ids.astype(np.int64) // nwin)
        da.append(d)
    q, e, d = np.concatenate(qa), np.concatenate(ea), np.concatenate(da).astype(np.int32)
    keep = owner[q] != owner[e]
    q, e, d = q[keep], e[keep], d[keep]
    # orient every match as (lower shot, higher shot) so both search directions merge
    swap = owner[q] > owner[e]
    a = np.where(swap, e, q)
    b = np.where(swap, q, e)
    return owner[a], kf[a], owner[b], kf[b], d, kind


def _chain(pairs: list[tuple[int, int]]) -> int:
    """Longest chain of keyframe pairs increasing in both shots (temporal order kept)."""
    pairs = sorted(set(pairs))
    best = [1] * len(pairs)
    for i, (a, b) in enumerate(pairs):
        for j in range(i):
            if pairs[j][0] < a and pairs[j][1] < b and best[j] + 1 > best[i]:
                best[i] = best[j] + 1
    return max(best, default=0)


def duplicate_pairs(hashes: list[np.ndarray], p: DedupParams | None = None) -> tuple[list[tuple[int, int, float]], str]:
    """(shot index a, shot index b, aligned coverage) for every duplicate pair, and the index kind used."""
    p = p or DedupParams()
    sa, ka, sb, kb, _d, kind = candidate_matches(hashes, p)
    if len(sa) == 0:
        return [], kind
    order = np.lexsort((kb, ka, sb, sa))
    sa, ka, sb, kb = sa[order], ka[order], sb[order], kb[order]
    cut = np.flatnonzero((np.diff(sa) != 0) | (np.diff(sb) != 0)) + 1
    out = []
    for lo, hi in zip(np.r_[0, cut], np.r_[cut, len(sa)]):
        a, b = int(sa[lo]), int(sb[lo])
        n = min(len(hashes[a]), len(hashes[b]))
        cover = _chain(list(zip(ka[lo:hi].tolist(), kb[lo:hi].tolist()))) / max(1, n)
        if cover >= p.min_match:
            out.append((a, b, float(cover)))
    return out, kind


def group_duplicates(n: int, pairs: list[tuple[int, int, float]], rank: np.ndarray) -> list[int]:
    """Representative index for each of n shots (itself when kept): union-find over pairs,
    the member with the highest `rank` represents the group."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    best: dict[int, int] = {}
    for i in range(n):
        r = find(i)
        if r not in best or rank[i] > rank[best[r]]:
            best[r] = i
    return [best[find(i)] for i in range(n)]


# ------------------------------------------------------------------------------ catalog I/O
def _hashes_from_keyframes(catalog, kf_rows: list[dict]) -> dict[str, list[int] | None]:
    """Window hashes per keyframe path, from the cache table or computed (and cached)."""
    from videoforge.curate.phash import hash_file

    paths = sorted({r["path"] for r in kf_rows if r["path"]})
    cached: dict[str, list[int]] = {}
    if paths:
        _, rows = catalog.query("SELECT path, hashes FROM keyframe_hashes")
        cached = {p: list(h) for p, h in rows if h is not None and len(h) == len(WINDOWS)}
    new = {}
    for p in paths:
        if p not in cached:
            h = hash_file(os.path.join(catalog.root, p))
            if h is not None:
                new[p] = h
    if new:
        import pyarrow as pa

        t = pa.table({"path": list(new), "hashes": pa.array([[int(x) for x in v] for v in new.values()], pa.list_(pa.uint64()))})
        with catalog.write() as con:
            con.register("vf_new_hashes", t)
            con.execute("INSERT OR REPLACE INTO keyframe_hashes SELECT path, hashes FROM vf_new_hashes")
            con.unregister("vf_new_hashes")
    cached.update(new)
    return cached


def _hashes_by_decoding(video_path: str, shots: list[dict], every: int = 6, cap: int = 16) -> dict[str, list[list[int]]]:
    """Hash a frame every `every` frames of each shot (at most `cap`, spread evenly): dense
    enough that any frame of a trimmed copy lies a few frames from a hashed original frame."""
    from videoforge.io.decode import decode_frames

    want: dict[int, list[str]] = {}
    for s in shots:
        a, b = int(s["start_frame"]), int(s["end_frame"])
        k = int(min(cap, max(1, (b - a) // every + 1)))
        for f in sorted({int(round(x)) for x in np.linspace(a + (b - a) / (2 * k), b - (b - a) / (2 * k), k)}):
            want.setdefault(f, []).append(s["shot_id"])
    out: dict[str, list[list[int]]] = {s["shot_id"]: [] for s in shots}
    last = max(want) if want else -1
    for fr in decode_frames(video_path):
        if fr.index in want:
            h = window_hashes(fr.small)
            for sid in want[fr.index]:
                out[sid].append(h)
        if fr.index >= last:
            break
    return out


def shot_hashes(catalog, shot_rows: list[dict], source: str = "decode") -> tuple[list[np.ndarray], int]:
    """(frames, windows) uint64 hash arrays aligned with shot_rows, and how many shots were
    decoded. source: keyframes (the catalog's keyframe JPEGs), decode (frames sampled from
    the videos: slower, denser, best for trimmed copies), auto (keyframes, decode if none)."""
    if source not in ("auto", "keyframes", "decode"):
        raise ValueError(f"unknown hash source {source!r}; choose auto, keyframes or decode")
    kf = [] if source == "decode" else catalog.query_dicts("SELECT shot_id, frame, path FROM keyframes ORDER BY shot_id, frame")
    per_path = _hashes_from_keyframes(catalog, kf)
    by_shot: dict[str, list[list[int]]] = {}
    for r in kf:
        h = per_path.get(r["path"])
        if h is not None:
            by_shot.setdefault(r["shot_id"], []).append(h)
    missing: dict[str, list[dict]] = {}
    for s in shot_rows:
        if s["shot_id"] not in by_shot and s.get("path") and source != "keyframes":
            missing.setdefault(s["path"], []).append(s)
    decoded = 0
    for path, shots in missing.items():
        try:
            got = _hashes_by_decoding(path, shots)
        except Exception:  # noqa: BLE001 - a vanished/broken source only loses dedup for its shots
            continue
        by_shot.update({k: v for k, v in got.items() if v})
        decoded += len(shots)
    out = [np.asarray(by_shot.get(s["shot_id"], []), dtype=np.uint64).reshape(-1, len(WINDOWS)) for s in shot_rows]
    return out, decoded


def dedup_catalog(catalog, params: DedupParams | None = None, source: str = "decode") -> dict:
    """Find near-duplicate shots and write `shots.duplicate_of`; returns a summary."""
    import time

    from videoforge.curate.store import ensure_schema, write_shot_columns

    t0 = time.perf_counter()
    ensure_schema(catalog)
    rows = catalog.query_dicts(
        "SELECT s.shot_id, s.start_frame, s.end_frame, s.duration, s.suitability, v.path "
        "FROM shots s LEFT JOIN videos v USING (video_id) ORDER BY s.shot_id")
    hashes, decoded = shot_hashes(catalog, rows, source)
    t1 = time.perf_counter()
    pairs, kind = duplicate_pairs(hashes, params)
    # rank: suitability (in 0.05 steps, so noise does not beat length), then duration, then id for ties
    suit = np.array([round((r["suitability"] if r["suitability"] is not None else -1) * 20) for r in rows], float)
    dur = np.array([r["duration"] or 0.0 for r in rows], float)
    order = np.lexsort((np.arange(len(rows))[::-1], dur, suit))
    rank = np.empty(len(rows))
    rank[order] = np.arange(len(rows))
    rep = group_duplicates(len(rows), pairs, rank)
    ids = [r["shot_id"] for r in rows]
    dup = [None if rep[i] == i else ids[rep[i]] for i in range(len(rows))]
    write_shot_columns(catalog, ids, {"duplicate_of": dup})
    return {"shots": len(rows), "duplicates": sum(d is not None for d in dup),
            "groups": len({rep[i] for i in range(len(rows)) if rep[i] != i}), "pairs": len(pairs),
            "shots_without_hashes": sum(len(h) == 0 for h in hashes), "shots_decoded_for_hashes": decoded,
            "index": kind, "hash_seconds": round(t1 - t0, 3), "search_seconds": round(time.perf_counter() - t1, 3)}
