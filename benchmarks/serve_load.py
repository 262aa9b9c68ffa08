"""Load test of `videoforge serve` on 127.0.0.1: N concurrent clients for T seconds.

    python benchmarks/serve_load.py [--catalog DIR] [--clients 50] [--seconds 30] [--shots 4000]

Without --catalog it builds one: `--shots` shot rows over videos of 20 shots each, metric
values drawn at random and on-screen text from a small vocabulary (rows only: the routes
measured here never touch media), plus a BM25 search index when the search stage is
installed. The server runs as a real `videoforge serve` process (one uvicorn worker);
clients are asyncio tasks on httpx, each looping over the list, filter, shot and search
routes. Prints requests/s, p50/p99 latency per route and the count of 5xx answers.
Bounded: only 127.0.0.1, a fixed duration, a fixed number of clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time

WORDS = "sale opening weather news goal match city night river car train street market music".split()


def build_catalog(root: str, n_shots: int, seed: int = 0) -> str:
    """A catalog of `n_shots` synthetic shot rows (20 per video) committed through the engine's commit."""
    from types import SimpleNamespace

    from videoforge.catalog import Catalog
    from videoforge.catalog.commit import commit_video
    from videoforge.catalog.schema import METRIC_COLUMNS
    from videoforge.io.fingerprint import shot_id_for

    rng = random.Random(seed)
    cat = Catalog(root).create()
    per_video = 20
    with cat.write() as con:
        for v in range((n_shots + per_video - 1) // per_video):
            vid = f"{v:016x}"
            shots, trans = [], []
            for i in range(per_video):
                start = i * 50
                row = {"shot_id": shot_id_for(vid, start), "video_id": vid, "shot_index": i, "start_frame": start,
                       "end_frame": start + 49, "start_time": start / 25, "end_time": (start + 50) / 25,
                       "num_frames": 50, "duration": 2.0, "width": 640, "height": 360, "fps": 25.0,
                       "ocr_text": " ".join(rng.sample(WORDS, 3))}
                row.update({m: rng.random() * 10 for m in METRIC_COLUMNS})
                shots.append(row)
                if i:
                    trans.append({"video_id": vid, "kind": rng.choice(["cut", "dissolve", "fade", "wipe"]),
                                  "start_frame": start, "end_frame": start, "start_time": start / 25,
                                  "end_time": (start + 1) / 25, "confidence": 1.0})
            video = {"video_id": vid, "path": f"/footage/video{v:05d}.mp4", "fingerprint": vid * 2, "duration": 40.0,
                     "fps": 25.0, "frames": 1000, "width": 640, "height": 360, "num_shots": per_video,
                     "analysis_version": "bench"}
            commit_video(con, SimpleNamespace(video=video, shots=shots, transitions=trans, keyframes=[]))
    try:
        from videoforge.search import index_catalog

        index_catalog(cat.root, embedders=["bm25"])
    except ImportError:
        print("search stage not installed: /api/search answers [] (still measured)", file=sys.stderr)
    return cat.root


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen, seconds: float = 60) -> None:
    """Poll the server's login page until it answers; exit if it died or never came up."""
    import httpx

    deadline = time.time() + seconds
    while True:
        try:
            httpx.get(base + "/login", timeout=1)
            return
        except httpx.HTTPError:
            if time.time() > deadline or server.poll() is not None:
                raise SystemExit("server did not start")
            time.sleep(0.2)


def percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))] if xs else float("nan")


async def client(base: str, token: str, shot_ids: list[str], until: float, rng: random.Random, out: dict) -> None:
    import httpx

    routes = [
        ("list videos", lambda: f"/api/videos?limit=50&offset={rng.randrange(0, 200, 50)}"),
        ("filter shots", lambda: f"/api/shots?min_motion={rng.random() * 5:.2f}&max_sharpness={5 + rng.random() * 5:.2f}&limit=50"),
        ("one shot", lambda: f"/api/shots/{rng.choice(shot_ids)}"),
        ("search", lambda: f"/api/search?q={rng.choice(WORDS)}&k=10"),
    ]
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        i = rng.randrange(len(routes))
        while time.perf_counter() < until:
            name, url = routes[i % len(routes)]
            i += 1
            t0 = time.perf_counter()
            try:
                r = await http.get(url())
                status = r.status_code
            except httpx.HTTPError as e:
                status = f"error:{type(e).__name__}"
            out.setdefault(name, []).append((time.perf_counter() - t0, status))


async def run_load(base: str, token: str, shot_ids: list[str], clients: int, seconds: float) -> tuple[dict, float]:
    out: dict = {}
    t0 = time.perf_counter()
    until = t0 + seconds
    await asyncio.gather(*(client(base, token, shot_ids, until, random.Random(k), out) for k in range(clients)))
    return out, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--catalog", default=None)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--shots", type=int, default=4000)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 300:
        ap.error("bounded: 1-200 clients, 1-300 seconds")

    tmp = None
    cat = args.catalog
    if cat is None:
        tmp = tempfile.TemporaryDirectory(prefix="vf-serve-load-")
        t = time.perf_counter()
        cat = build_catalog(os.path.join(tmp.name, "cat"), args.shots)
        print(f"built catalog with {args.shots} shots in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    from videoforge.catalog import Catalog

    shot_ids = [r[0] for r in Catalog(cat).query("SELECT shot_id FROM shots")[1]]
    token = "load-test-token-" + os.urandom(8).hex()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "videoforge", "serve", cat, "--host", "127.0.0.1", "--port", str(port)],
                              env=dict(os.environ, VIDEOFORGE_TOKEN=token), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        results, wall = asyncio.run(run_load(base, token, shot_ids, args.clients, args.seconds))
    finally:
        server.terminate()
        server.wait(10)

    rows = []
    all_lat, total, n5xx, nerr = [], 0, 0, 0
    for name, samples in sorted(results.items()):
        lat = [s[0] for s in samples]
        codes = [s[1] for s in samples]
        fivexx = sum(1 for c in codes if isinstance(c, int) and c >= 500)
        other = sum(1 for c in codes if not isinstance(c, int) or (c != 200 and c < 500))
        rows.append({"route": name, "requests": len(samples), "rps": len(samples) / wall,
                     "p50_ms": 1000 * percentile(lat, 50), "p99_ms": 1000 * percentile(lat, 99),
                     "5xx": fivexx, "other_non_200": other})
        all_lat += lat
        total += len(samples)
        n5xx += fivexx
        nerr += other
    rows.append({"route": "all", "requests": total, "rps": total / wall, "p50_ms": 1000 * percentile(all_lat, 50),
                 "p99_ms": 1000 * percentile(all_lat, 99), "5xx": n5xx, "other_non_200": nerr})
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    if args.json:
        print(json.dumps({"clients": args.clients, "seconds": wall, "shots": len(shot_ids), "machine": machine, "rows": rows}))
    else:
        print(f"{args.clients} clients, {wall:.1f} s, catalog of {len(shot_ids)} shots; machine: {machine}")
        print(f"{'route':<14}{'requests':>10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'5xx':>6}{'other':>7}")
        for r in rows:
            print(f"{r['route']:<14}{r['requests']:>10}{r['rps']:>9.1f}{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['5xx']:>6}{r['other_non_200']:>7}")
    if tmp is not None:
        tmp.cleanup()
    return 1 if n5xx else 0


if __name__ == "__main__":
    sys.exit(main())
