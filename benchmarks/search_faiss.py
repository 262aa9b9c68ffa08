"""Vector search latency, batched throughput, recall and memory: exact fp16 vs IVF-PQ + exact re-ranking.

Data: unit 512-d vectors from a Gaussian mixture with thousands of overlapping clusters (n / 250
centres, at least 2048) in a 48-d latent space, never uniform random ones, on which no index beats brute force. Queries are
fresh draws from the same mixture (not database members). Recall@10 of IVF-PQ is measured
against the exact fp16 index's top 10 over an nprobe sweep.

    .venv/bin/python benchmarks/search_faiss.py --n 100000 1000000 --threads 2

Prints a markdown table and the machine; run it once, on a quiet machine if you have one.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time

# OpenMP threads that spin while waiting lose badly on a shared, oversubscribed machine
# (measured: IVF-PQ build 43 s spinning vs 10 s passive with 2 threads); must be set before FAISS loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

from videoforge.search.vector_index import IndexParams, VectorIndex


def _mixture_parts(d: int, clusters: int, seed: int, latent: int = 48):
    rng = np.random.default_rng(seed)
    basis, _ = np.linalg.qr(rng.standard_normal((d, latent)))           # (d, latent) orthonormal
    centres = rng.standard_normal((clusters, latent)).astype(np.float32)
    return basis.astype(np.float32), centres


def _draw(rng, basis, centres, m: int, spread: float, noise: float) -> np.ndarray:
    d, latent = basis.shape
    z = centres[rng.integers(0, len(centres), m)] + spread * rng.standard_normal((m, latent)).astype(np.float32)
    x = z @ basis.T + noise * rng.standard_normal((m, d)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def mixture(n: int, d: int, clusters: int, seed: int, spread: float = 0.6, noise: float = 0.05,
            chunk: int = 100_000) -> np.ndarray:
    """(n, d) fp16 unit vectors from a Gaussian mixture in a 48-d latent space mapped into d dims.

    Like real embeddings, the data has a low intrinsic dimension and clusters that overlap
    (spread 0.6 around unit-variance centres), so a query's neighbours can sit in nearby
    clusters: an IVF index must probe several lists, and PQ alone ranks them poorly.
    Generated in chunks so memory stays at the fp16 output.
    """
    basis, centres = _mixture_parts(d, clusters, seed)
    rng = np.random.default_rng(seed + 7)
    out = np.empty((n, d), np.float16)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        out[s : s + m] = _draw(rng, basis, centres, m, spread, noise)
    return out


def queries_like(n: int, d: int, clusters: int, seed: int, nq: int) -> np.ndarray:
    """Queries from the same mixture (same centres and basis), fresh draws."""
    basis, centres = _mixture_parts(d, clusters, seed)
    return _draw(np.random.default_rng(seed + 1), basis, centres, nq, 0.6, 0.05)


def time_single(idx: VectorIndex, q: np.ndarray, k: int, **kw) -> tuple[float, float, np.ndarray, float]:
    """(mean wall ms, p95 wall ms, ids, mean CPU ms) searching one query at a time.

    CPU time (all threads of this process) is reported beside wall time because the machine
    may be shared: wall time then includes waiting for a core, CPU time does not.
    """
    idx.search(q[:2], k, **kw)  # warm-up
    lat, out = [], []
    c0 = time.process_time()
    for row in q:
        t = time.perf_counter()
        _, ids = idx.search(row[None], k, **kw)
        lat.append((time.perf_counter() - t) * 1000)
        out.append(ids[0])
    cpu = (time.process_time() - c0) * 1000 / len(q)
    return float(np.mean(lat)), float(np.percentile(lat, 95)), np.stack(out), cpu


def time_batch(idx: VectorIndex, q: np.ndarray, k: int, **kw) -> float:
    """Queries/s answering all queries in one call."""
    t = time.perf_counter()
    idx.search(q, k, **kw)
    return len(q) / (time.perf_counter() - t)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024


def run(n: int, d: int, nq: int, k: int, nprobes: list[int], rerank: int, threads: int, seed: int = 0,
        exact_only: bool = False) -> list[dict]:
    import faiss

    clusters = max(2048, n // 250)
    t0 = time.perf_counter()
    x = mixture(n, d, clusters, seed)
    q = queries_like(n, d, clusters, seed, nq)
    print(f"# n={n} clusters={clusters}: data {time.perf_counter() - t0:.1f}s, peak RSS {rss_gb():.2f} GB", file=sys.stderr)
    rows = []
    exact = VectorIndex(d, IndexParams(kind="exact"))
    exact.ids, exact.vectors = np.arange(n, dtype=np.int64), x
    t0 = time.perf_counter()
    exact.build()
    build_s = time.perf_counter() - t0
    lat = {}
    for th in sorted({1, threads}):
        faiss.omp_set_num_threads(th)
        lat[th] = time_single(exact, q, k)
    faiss.omp_set_num_threads(threads)
    ms, p95, truth, cpu = lat[threads]
    qps = time_batch(exact, q, k)
    # fp16 exact vs float32 brute force on a few queries: what the fp16 storage itself costs in recall.
    sub = q[:50]
    f32 = np.argsort(-(sub @ x.astype(np.float32).T if n <= 200_000 else
                       np.concatenate([sub @ x[s:s + 200_000].astype(np.float32).T for s in range(0, n, 200_000)], 1)),
                     axis=1)[:, :k]
    for th, (ms, p95, _, cpu) in sorted(lat.items()):
        rows.append({"n": n, "index": f"exact fp16 (IndexScalarQuantizer), {th} thread(s)", "nprobe": "-", "ms": ms,
                     "p95": p95, "cpu": cpu, "qps": qps, "recall": recall(truth[:50], f32), "mem_gb": exact.memory_bytes / 1e9,
                     "build_s": build_s})
    print(rows[-1], file=sys.stderr)
    if exact_only:
        return rows
    exact.index = None  # free the exact copy before building IVF-PQ
    ivf = VectorIndex(d, IndexParams(kind="ivfpq", rerank=rerank))
    ivf.ids, ivf.vectors = exact.ids, x
    t0 = time.perf_counter()
    ivf.build()
    build_s = time.perf_counter() - t0
    inner = faiss.extract_index_ivf(ivf.index)
    print(f"# IVF-PQ nlist={inner.nlist} m={ivf.index.pq.M} built in {build_s:.1f}s, peak RSS {rss_gb():.2f} GB", file=sys.stderr)
    for npb in nprobes:
        for rr in (rerank, 0) if npb == nprobes[len(nprobes) // 2] else (rerank,):
            ms, p95, found, cpu = time_single(ivf, q, k, nprobe=npb, rerank=rr)
            qps = time_batch(ivf, q, k, nprobe=npb, rerank=rr)
            name = f"IVF{inner.nlist}-PQ{ivf.index.pq.M}" + (f" + re-rank top {k * rr}" if rr else " (no re-rank)")
            rows.append({"n": n, "index": name, "nprobe": npb, "ms": ms, "p95": p95, "cpu": cpu, "qps": qps,
                         "recall": recall(found, truth), "mem_gb": ivf.memory_bytes / 1e9, "build_s": build_s})
            print(rows[-1], file=sys.stderr)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--nprobe", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128])
    ap.add_argument("--rerank", type=int, default=16, help="candidates re-ranked per wanted result")
    ap.add_argument("--exact-only", action="store_true", help="measure only the exact fp16 index")
    ap.add_argument("--threads", type=int, default=2, help="FAISS/OpenMP threads (exact latency is also shown with 1)")
    args = ap.parse_args()
    import faiss

    faiss.omp_set_num_threads(args.threads)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.1f} (1 min), {load[1]:.1f} (5 min) on {os.cpu_count()} CPUs")
    print(f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} logical CPUs, "
          f"FAISS {faiss.__version__} with {args.threads} threads; Python {platform.python_version()}")
    rows = []
    for n in args.n:
        rows += run(n, args.dim, args.queries, args.k, args.nprobe, args.rerank, args.threads, exact_only=args.exact_only)
    print(f"\nload average at end: {os.getloadavg()[0]:.1f}")
    print(f"\n| vectors | index | nprobe | wall ms/query (mean) | p95 ms | CPU ms/query | batched QPS | recall@{args.k} | index memory GB | build s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['n']:,} | {r['index']} | {r['nprobe']} | {r['ms']:.2f} | {r['p95']:.2f} | {r['cpu']:.2f} | {r['qps']:.0f} | "
              f"{r['recall']:.3f} | {r['mem_gb']:.3f} | {r['build_s']:.1f} |")
    print(f"\npeak RSS {rss_gb():.2f} GB (includes the fp16 data, {args.dim * 2} bytes per vector, which IVF-PQ "
          "keeps memory-mapped on disk for re-ranking)")


if __name__ == "__main__":
    main()
