"""A persisted FAISS vector index keyed by stable int64 ids: exact fp16, or IVF-PQ with exact re-ranking.

Why two kinds: up to about a million vectors a plain fp16 scan (FAISS `IndexScalarQuantizer`
QT_fp16, SIMD decode + inner product) is fast and exact, and beats an IVF-PQ engine at 100k
(OPPO's 14 ms figure). Beyond that the scan grows linearly, so IVF-PQ narrows the search to
`nprobe` inverted lists of compressed codes and the best `k * rerank` candidates are re-scored
exactly against the fp16 vectors, which stay on disk (memory-mapped) for that purpose.

Vectors are L2-normalised by the embedders, so inner product is cosine similarity.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass

import numpy as np

from videoforge.search.errors import IndexCorruptError

EXACT_MAX = 1_000_000  # vectors; above this `kind="auto"` switches to IVF-PQ
BATCH_GEMM = 16        # queries; from this batch size exact search runs as blocked fp32 GEMM
IVF_MIN = 1_024         # vectors; below this an IVF-PQ request builds an exact index instead
SMALL = 32_768         # vectors; up to this many, exact search is one NumPy product on a cached fp32 copy


@dataclass
class IndexParams:
    kind: str = "auto"        # auto | exact | ivfpq | hnsw (IVF-PQ with an HNSW coarse quantizer)
    exact_max: int = EXACT_MAX
    nlist: int = 0            # IVF lists; 0 = about 2 * sqrt(n), a power of two
    pq_m: int = 0             # PQ sub-quantizers (bytes per code); 0 = dim / 8
    nprobe: int = 64          # lists visited per query
    rerank: int = 16          # candidates re-scored exactly per wanted result (k * rerank)
    train_max: int = 131_072  # vectors sampled to train IVF-PQ (memory and time stay bounded)

    def resolved_kind(self, n: int) -> str:
        if self.kind != "auto":
            return self.kind
        return "exact" if n <= self.exact_max else "ivfpq"


def _faiss():
    # OpenMP workers that spin while idle lose badly when cores are shared (measured on a loaded
    # 2-core box: IVF-PQ build 43 s spinning vs 10 s passive). Only effective before FAISS loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    return faiss


def _as_f32(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32)


class VectorIndex:
    """Vectors with int64 ids; search by inner product; add, remove, save, load."""

    def __init__(self, dim: int, params: IndexParams | None = None):
        self.dim = int(dim)
        self.params = params or IndexParams()
        self.ids = np.zeros(0, dtype=np.int64)
        self.vectors = np.zeros((0, self.dim), dtype=np.float16)  # the exact store (re-ranking, rebuilds)
        self.kind = "exact"
        self.index = None          # the FAISS index, or None when it must be (re)built
        self.trained_on = 0        # n when the IVF-PQ codebooks were trained
        self._order = None         # (argsort of ids, sorted ids), for id -> row lookups
        self._f32 = None           # fp32 copy of a small index's vectors

    # -- size ----------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.ids.shape[0])

    @property
    def memory_bytes(self) -> int:
        """Bytes the FAISS structure holds in RAM (codes + ids + codebooks); the exact store is memory-mapped."""
        if self.index is None:
            return 0
        n, d = len(self), self.dim
        if self.kind == "exact":
            return n * (2 * d + 8)  # fp16 codes + the id map
        ivf = _faiss().extract_index_ivf(self.index)
        m = self.index.pq.M
        return n * (m + 8) + ivf.nlist * d * 4 + m * 256 * (d // m) * 4

    # -- building ------------------------------------------------------------------------
    def _build(self) -> None:
        faiss = _faiss()
        n, d = len(self), self.dim
        self.kind = self.params.resolved_kind(n)
        if n < IVF_MIN:
            self.kind = "exact"  # PQ codebooks (256 centroids per sub-space) cannot be trained on so few
        if self.kind == "exact":
            base = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
            index = faiss.IndexIDMap2(base)
            for s in range(0, n, 65536):
                index.add_with_ids(_as_f32(self.vectors[s : s + 65536]), self.ids[s : s + 65536])
            self.index, self.trained_on = index, n
            return
        nlist = self.params.nlist or max(16, 1 << int(round(math.log2(2 * math.sqrt(max(n, 1))))))
        nlist = min(nlist, max(1, n // 39))  # FAISS wants ~39 training points per centroid
        m = self.params.pq_m or max(1, d // 8)
        while d % m:
            m -= 1
        if self.kind == "hnsw":
            quantizer = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        else:
            quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFPQ(quantizer, d, nlist, m, 8, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = 10  # coarse k-means: 10 iterations place lists well enough; 25 costs 2.5x the time
        rng = np.random.default_rng(0)
        sample = np.sort(rng.choice(n, size=min(n, self.params.train_max), replace=False))
        index.train(_as_f32(self.vectors[sample]))
        for s in range(0, n, 65536):
            index.add_with_ids(_as_f32(self.vectors[s : s + 65536]), self.ids[s : s + 65536])
        self.index, self.trained_on = index, n

    def needs_rebuild(self) -> bool:
        """True when the FAISS structure is missing, of the wrong kind, or trained on far fewer vectors."""
        if self.index is None:
            return True
        kind = self.params.resolved_kind(len(self))
        if kind != self.kind:
            return kind == "exact" or len(self) >= IVF_MIN
        return kind != "exact" and len(self) > 4 * max(self.trained_on, 1)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add (or replace) vectors under `ids` (int64). Retrains IVF-PQ only when it has outgrown its training."""
        ids = np.asarray(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        if len(ids) == 0:
            return
        self.remove(ids)
        self.ids = np.concatenate([self.ids, ids])
        self.vectors = np.concatenate([np.asarray(self.vectors), vectors.astype(np.float16)])
        self._order = self._f32 = None
        if self.needs_rebuild():
            self._build()
        else:
            self.index.add_with_ids(_as_f32(vectors), ids)

    def remove(self, ids: np.ndarray) -> int:
        """Remove vectors by id; returns how many were present."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0 or len(self) == 0:
            return 0
        keep = ~np.isin(self.ids, ids)
        removed = int(len(self) - keep.sum())
        if removed:
            self.ids = self.ids[keep]
            self.vectors = np.asarray(self.vectors)[keep]
            self._order = self._f32 = None
            if self.index is not None:
                self.index.remove_ids(_faiss().IDSelectorBatch(ids))
        return removed

    def build(self) -> None:
        """(Re)build the FAISS structure from the exact store."""
        self._build()

    # -- lookup --------------------------------------------------------------------------
    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """Row numbers of `ids` in the exact store (-1 where absent)."""
        ids = np.asarray(ids, dtype=np.int64)
        if len(self) == 0:
            return np.full(ids.shape, -1, np.int64)
        if self._order is None:  # cached until the next add/remove: a query must not re-sort n ids
            order = np.argsort(self.ids, kind="stable")
            self._order = (order, self.ids[order])
        order, sorted_ids = self._order
        pos = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
        return np.where(sorted_ids[pos] == ids, order[pos], -1)

    def _exact_subset(self, q: np.ndarray, k: int, allowed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = self.rows_of(allowed)
        rows = np.sort(rows[rows >= 0])
        scores = q @ _as_f32(self.vectors[rows]).T if len(rows) else np.zeros((len(q), 0), np.float32)
        return _topk(scores, self.ids[rows], k)

    def search(self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None,
               nprobe: int | None = None, rerank: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) per query row, inner product; ids -1 pad missing results.

        `allowed` (int64 ids) restricts results; small allowed sets are scored exactly.
        """
        faiss = _faiss()
        q = _as_f32(np.atleast_2d(queries))
        k = int(k)
        if len(self) == 0 or k <= 0:
            return np.zeros((len(q), max(k, 0)), np.float32), np.full((len(q), max(k, 0)), -1, np.int64)
        if allowed is not None and len(allowed) <= 20000:
            return self._exact_subset(q, k, np.asarray(allowed, np.int64))
        if allowed is None and self.kind == "exact" and len(self) <= SMALL:
            # Starting FAISS's thread pool costs more than scoring a few thousand vectors.
            if self._f32 is None:
                self._f32 = _as_f32(self.vectors)
            return _topk(q @ self._f32.T, self.ids, k)
        if self.index is None:
            self._build()
        sel = faiss.IDSelectorBatch(np.asarray(allowed, np.int64)) if allowed is not None else None
        if self.kind == "exact" and sel is None and len(q) >= BATCH_GEMM:
            return self._exact_blocked(q, k)
        if self.kind == "exact":
            params = faiss.SearchParameters(sel=sel) if sel is not None else None
            return self.index.search(q, min(k, len(self)), params=params) if params else self.index.search(q, min(k, len(self)))
        rerank = self.params.rerank if rerank is None else rerank
        kc = min(len(self), max(k, k * max(rerank, 1)))
        params = faiss.SearchParametersIVF(nprobe=nprobe or self.params.nprobe)
        if sel is not None:
            params.sel = sel
        approx, cand = self.index.search(q, kc, params=params)
        if rerank <= 0:
            return approx[:, :k], cand[:, :k]
        return self.rescore(q, cand, k)

    def _exact_blocked(self, q: np.ndarray, k: int, block: int = 16384) -> tuple[np.ndarray, np.ndarray]:
        """Exact search for a batch of queries: fp16 blocks widened to fp32, one BLAS product per block.

        FAISS's fp16 scan decodes every vector once per query; for a batch, widening a block
        once and multiplying it with all queries (sgemm) amortises the decode over the batch.
        """
        best_s = np.full((len(q), k), -np.inf, np.float32)
        best_i = np.full((len(q), k), -1, np.int64)
        for s in range(0, len(self), block):
            blk = np.asarray(self.vectors[s : s + block], dtype=np.float32)
            sc = q @ blk.T
            bs, bi = _topk(sc, self.ids[s : s + block], k)
            allsc = np.concatenate([best_s, bs], 1)
            alli = np.concatenate([best_i, bi], 1)
            top = np.argsort(-allsc, axis=1, kind="stable")[:, :k]
            best_s, best_i = np.take_along_axis(allsc, top, 1), np.take_along_axis(alli, top, 1)
        k_real = min(k, len(self))
        return best_s[:, :k_real], best_i[:, :k_real]

    def rescore(self, q: np.ndarray, cand: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact fp16 re-ranking of candidate ids (n_queries, n_candidates) -> top-k (scores, ids)."""
        rows = self.rows_of(cand.ravel()).reshape(cand.shape)
        valid = rows >= 0
        # One gather of the needed rows (sorted: sequential reads from the memory map).
        uniq, inv = np.unique(np.where(valid, rows, rows.max(initial=0)), return_inverse=True)
        block = _as_f32(self.vectors[uniq]) if len(uniq) else np.zeros((0, self.dim), np.float32)
        cvec = block[inv.reshape(rows.shape)]                      # (nq, nc, d)
        scores = np.einsum("qcd,qd->qc", cvec, q)
        scores[~valid] = -np.inf
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        s = np.take_along_axis(scores, top, 1)
        i = np.where(np.isfinite(s), np.take_along_axis(cand, top, 1), -1)
        return np.where(np.isfinite(s), s, 0).astype(np.float32), i

    # -- persistence ---------------------------------------------------------------------
    def files(self, prefix: str) -> list[str]:
        return [prefix + ".faiss", prefix + ".ids.npy", prefix + ".vec.npy"]

    def save(self, prefix: str) -> dict:
        """Write `<prefix>.faiss`, `.ids.npy`, `.vec.npy` atomically; returns the manifest entry."""
        faiss = _faiss()
        if self.index is None:
            self._build()
        written = {}
        for path, writer in (
            (prefix + ".ids.npy", lambda p: _save_npy(p, self.ids)),
            (prefix + ".vec.npy", lambda p: _save_npy(p, np.asarray(self.vectors, dtype=np.float16))),
            (prefix + ".faiss", lambda p: faiss.write_index(self.index, p)),
        ):
            tmp = path + ".tmp"  # write then rename: a reader never sees half a file
            writer(tmp)
            os.replace(tmp, path)
            written[os.path.basename(path)] = os.path.getsize(path)
        return {"kind": self.kind, "dim": self.dim, "count": len(self), "trained_on": self.trained_on,
                "params": asdict(self.params), "files": written}

    @classmethod
    def load(cls, prefix: str, entry: dict, mmap: bool = True) -> "VectorIndex":
        """Read an index saved by `save`; raises IndexCorruptError naming the bad file."""
        faiss = _faiss()
        for name, size in entry.get("files", {}).items():
            path = os.path.join(os.path.dirname(prefix), name)
            if not os.path.exists(path):
                raise IndexCorruptError(path, "file missing")
            if os.path.getsize(path) != size:
                raise IndexCorruptError(path, f"size {os.path.getsize(path)} bytes, expected {size}")
        self = cls(int(entry["dim"]), IndexParams(**entry.get("params", {})))
        try:
            self.ids = np.load(prefix + ".ids.npy")
        except Exception as e:  # noqa: BLE001
            raise IndexCorruptError(prefix + ".ids.npy", f"{type(e).__name__}: {e}") from e
        try:
            self.vectors = np.load(prefix + ".vec.npy", mmap_mode="r" if mmap else None)
        except Exception as e:  # noqa: BLE001
            raise IndexCorruptError(prefix + ".vec.npy", f"{type(e).__name__}: {e}") from e
        try:
            self.index = faiss.read_index(prefix + ".faiss")
        except Exception as e:  # noqa: BLE001
            raise IndexCorruptError(prefix + ".faiss", str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__) from e
        n = int(entry["count"])
        if self.ids.shape != (n,) or self.vectors.shape != (n, self.dim) or self.index.ntotal != n or self.index.d != self.dim:
            raise IndexCorruptError(prefix + ".faiss", f"holds {self.index.ntotal} x {self.index.d}, ids {self.ids.shape}, "
                                    f"vectors {self.vectors.shape}; manifest says {n} x {self.dim}")
        self.kind, self.trained_on = entry["kind"], int(entry.get("trained_on", n))
        if self.kind != "exact":
            faiss.extract_index_ivf(self.index).nprobe = self.params.nprobe
        return self


def _save_npy(path: str, arr: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, arr)


def _topk(scores: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k of a dense (nq, n) score matrix -> (scores, ids) padded with -1 ids."""
    nq, n = scores.shape
    out_s = np.zeros((nq, k), np.float32)
    out_i = np.full((nq, k), -1, np.int64)
    if n == 0:
        return out_s, out_i
    kk = min(k, n)
    part = np.argpartition(-scores, kk - 1, axis=1)[:, :kk]
    ps = np.take_along_axis(scores, part, 1)
    order = np.argsort(-ps, axis=1, kind="stable")
    out_s[:, :kk] = np.take_along_axis(ps, order, 1)
    out_i[:, :kk] = ids[np.take_along_axis(part, order, 1)]
    return out_s, out_i
