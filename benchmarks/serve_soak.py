"""Soak of `videoforge serve` on 127.0.0.1: N clients for T seconds while runs keep writing.

    nice -n 5 python benchmarks/serve_soak.py [--clients 50] [--seconds 600] [--shots 4000] [--videos 12]

The catalog is serve_load.py's (synthetic shot rows, BM25 index) plus a media folder of small
real H.264 videos. The server is a real `videoforge serve` process with --media-root; while
the clients loop over the API (lists, filters, one shot, search, status, runs, errors, the
page), a run over the media folder is started through the API, and when it ends another
one with force=true re-analyses and re-commits the same videos, so a writer is active for
the whole soak. Prints p50/p99 latency, requests, 5xx and other non-200 answers, the runs
completed and videos committed, and the server's resident memory at start (after a short
warm-up), at its peak (sampled every 5 s) and at the end.
Bounded: only 127.0.0.1, a fixed duration (at most 900 s), at most 200 clients.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time

from serve_load import WORDS, build_catalog, free_port, percentile, wait_until_up


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def make_media(folder: str, n: int) -> None:
    import numpy as np

    from videoforge.io.encode import write_video

    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(7)
    for k in range(n):
        frames = []
        for shot in range(3):   # three hard-cut shots of a drifting colour field
            base = rng.integers(0, 255, (1, 1, 3))
            for i in range(40):
                y, x = np.mgrid[0:96, 0:160]
                f = (base + 40 * np.sin((x + 3 * i) / (9 + shot)) [..., None] + y[..., None] * 0.5) % 255
                frames.append(f.astype(np.uint8))
        write_video(os.path.join(folder, f"soak{k:02d}.mp4"), frames, fps=25)


async def client(base: str, token: str, shot_ids: list[str], until: float, rng: random.Random, out: list) -> None:
    import httpx

    routes = [
        ("list videos", lambda: f"/api/videos?limit=50&offset={rng.randrange(0, 200, 50)}"),
        ("filter shots", lambda: f"/api/shots?min_motion={rng.random() * 5:.2f}&max_sharpness={5 + rng.random() * 5:.2f}&limit=50"),
        ("one shot", lambda: f"/api/shots/{rng.choice(shot_ids)}"),
        ("search", lambda: f"/api/search?q={rng.choice(WORDS)}&k=10"),
        ("status", lambda: "/api/status"),
        ("runs", lambda: "/api/runs"),
        ("errors", lambda: "/api/errors?limit=20"),
        ("page", lambda: "/"),
    ]
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        i = rng.randrange(len(routes))
        while time.perf_counter() < until:
            name, url = routes[i % len(routes)]
            i += 1
            t0 = time.perf_counter()
            try:
                status = (await http.get(url())).status_code
            except httpx.HTTPError as e:
                status = f"error:{type(e).__name__}"
            out.append((name, time.perf_counter() - t0, status))


async def writer(base: str, token: str, until: float, log: dict) -> None:
    """Keep one run writing: start it, wait for it, start the next with force=true."""
    import httpx

    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=120) as http:
        force = False
        while time.perf_counter() < until:
            r = await http.post("/api/runs", json={"paths": ["media"], "force": force})
            if r.status_code != 202:
                log.setdefault("start_refused", []).append(r.status_code)
                await asyncio.sleep(1)
                continue
            run_id = r.json()["run_id"]
            while True:
                await asyncio.sleep(1)
                run = (await http.get(f"/api/runs/{run_id}")).json()
                if not run["active"]:
                    break
                if time.perf_counter() > until:
                    await http.post(f"/api/runs/{run_id}/cancel")
            log["runs"] = log.get("runs", 0) + 1
            log["statuses"] = log.get("statuses", []) + [run["status"]]
            s = run.get("summary") or {}
            log["videos_committed"] = log.get("videos_committed", 0) + int(s.get("analyzed") or 0)
            force = True


async def sample_memory(pid: int, until: float, samples: list) -> None:
    while time.perf_counter() < until:
        samples.append(rss_mb(pid))
        await asyncio.sleep(5)


async def soak(base: str, token: str, shot_ids: list[str], clients: int, seconds: float, pid: int):
    out: list = []
    log: dict = {}
    mem: list = []
    t0 = time.perf_counter()
    until = t0 + seconds
    await asyncio.gather(writer(base, token, until, log), sample_memory(pid, until, mem),
                         *(client(base, token, shot_ids, until, random.Random(k), out) for k in range(clients)))
    return out, log, mem, time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--shots", type=int, default=4000)
    ap.add_argument("--videos", type=int, default=12)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 1 <= args.seconds <= 900:
        ap.error("bounded: 1-200 clients, 1-900 seconds")

    with tempfile.TemporaryDirectory(prefix="vf-serve-soak-") as tmp:
        cat = build_catalog(os.path.join(tmp, "cat"), args.shots)
        media_root = os.path.join(tmp, "root")
        make_media(os.path.join(media_root, "media"), args.videos)
        from videoforge.catalog import Catalog

        shot_ids = [r[0] for r in Catalog(cat).query("SELECT shot_id FROM shots")[1]]
        token = "soak-" + os.urandom(16).hex()
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "videoforge", "serve", cat, "--host", "127.0.0.1", "--port", str(port),
                                   "--media-root", media_root, "--workers", "1", "--no-ocr"],
                                  env=dict(os.environ, VIDEOFORGE_TOKEN=token), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        base = f"http://127.0.0.1:{port}"
        try:
            import httpx

            wait_until_up(base, server)
            # warm-up: every route once, so "start" memory is the running server's, not a cold import
            h = {"Authorization": f"Bearer {token}"}
            for p in ("/api/videos", "/api/shots", f"/api/shots/{shot_ids[0]}", "/api/search?q=sale", "/api/status", "/"):
                httpx.get(base + p, headers=h, timeout=60)
            mem_start = rss_mb(server.pid)
            samples, log, mem, wall = asyncio.run(soak(base, token, shot_ids, args.clients, args.seconds, server.pid))
            mem_end = rss_mb(server.pid)
        finally:
            server.terminate()
            server.wait(30)

    lat = [s[1] for s in samples]
    codes = [s[2] for s in samples]
    n5xx = sum(1 for c in codes if isinstance(c, int) and c >= 500)
    other = sum(1 for c in codes if not isinstance(c, int) or (c != 200 and c < 500))
    by_route = {}
    for name, t, c in samples:
        by_route.setdefault(name, []).append(t)
    doc = {
        "clients": args.clients, "seconds": round(wall, 1), "shots": len(shot_ids), "videos": args.videos,
        "requests": len(samples), "rps": round(len(samples) / wall, 1),
        "p50_ms": round(1000 * percentile(lat, 50), 1), "p99_ms": round(1000 * percentile(lat, 99), 1),
        "max_ms": round(1000 * max(lat), 1) if lat else None,
        "5xx": n5xx, "other_non_200": other,
        "p99_ms_by_route": {k: round(1000 * percentile(v, 99), 1) for k, v in sorted(by_route.items())},
        "runs_completed": log.get("runs", 0), "run_statuses": log.get("statuses", []),
        "videos_committed": log.get("videos_committed", 0), "run_start_refused": log.get("start_refused", []),
        "server_rss_mb": {"start": round(mem_start, 1), "peak": round(max(mem + [mem_start, mem_end]), 1), "end": round(mem_end, 1)},
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    print(json.dumps(doc, indent=None if args.json else 1))
    return 1 if n5xx else 0


if __name__ == "__main__":
    sys.exit(main())
