"""What the full content hash costs a run: `analyze_video` with and without `HashWhileDecoding`
beside it (the hash thread that reads the file while the decoder does), interleaved.

    nice -n 5 .venv/bin/python benchmarks/content_hash_cost.py --repeat 5

Files: OpenCV's real sample clips (Debian opencv-doc: Megamind.avi, Megamind_bugy.avi,
tree.avi, vtest.avi) and a 1280x720 H.264 file generated here at a high bit rate (the hash's
worst case: many bytes per decoded frame). Each pass is `analyze_video` with OCR off (what
`run --no-ocr` does per video), once with the hash thread started first and joined after,
once without, in alternating order; the fastest of `--repeat` passes counts for each. Also
`full_hash` alone (MB/s, file in the page cache). Timings on a shared machine are noisy;
the ratio of interleaved passes (and of CPU time, all threads) is what to read, and the
hash's own time (file in the page cache) as a share of the analysis, which is the least noisy.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import tempfile
import time

import numpy as np


def make_big(path: str, frames: int = 150) -> None:
    from videoforge.io.encode import write_video

    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, (90, 160 + frames, 3), dtype=np.uint8)
    import cv2

    big = cv2.resize(base, (base.shape[1] * 8, base.shape[0] * 8), interpolation=cv2.INTER_NEAREST)
    noise = rng.integers(0, 40, (720, 1280, 3), dtype=np.uint8)
    write_video(path, (np.ascontiguousarray(big[:720, 8 * i: 8 * i + 1280]) + noise for i in range(frames)),
                fps=25, crf=12)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    from videoforge.engine.analyze import analyze_video
    from videoforge.engine.config import AnalysisConfig
    from videoforge.io.fingerprint import HashWhileDecoding, full_hash

    work = tempfile.mkdtemp(prefix="vf-hash-")
    files = sorted(glob.glob("/usr/share/doc/opencv-doc/examples/data/*.avi"))
    big = os.path.join(work, "big720p.mp4")
    make_big(big)
    files.append(big)
    cfg = AnalysisConfig(ocr=False)
    rows = []
    for f in files:
        size = os.path.getsize(f)
        best = {"plain": 1e9, "hashed": 1e9}
        cpu = {"plain": 1e9, "hashed": 1e9}
        for r in range(args.repeat):
            order = ("plain", "hashed") if r % 2 == 0 else ("hashed", "plain")
            for mode in order:
                out = os.path.join(work, f"cat-{mode}")
                t, c = time.perf_counter(), time.process_time()
                h = HashWhileDecoding(f) if mode == "hashed" else None
                analyze_video(f, out, cfg)
                if h is not None:
                    h.result()
                best[mode] = min(best[mode], time.perf_counter() - t)
                cpu[mode] = min(cpu[mode], time.process_time() - c)   # all threads: less noisy on a shared machine
        t = time.perf_counter()
        for _ in range(5):
            full_hash(f)
        hash_s = (time.perf_counter() - t) / 5
        row = {"file": os.path.basename(f), "mb": round(size / 1e6, 2), "analyze_s": round(best["plain"], 3),
               "analyze_with_hash_s": round(best["hashed"], 3), "ratio": round(best["hashed"] / best["plain"], 3),
               "cpu_s": round(cpu["plain"], 3), "cpu_with_hash_s": round(cpu["hashed"], 3),
               "cpu_ratio": round(cpu["hashed"] / cpu["plain"], 3),
               "hash_alone_s": round(hash_s, 4), "hash_mb_s": round(size / 1e6 / hash_s, 1),
               "hash_share": round(hash_s / best["plain"], 4)}
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    print("| file | MB | analyse s | analyse + hash s | wall ratio | CPU s | CPU + hash s | CPU ratio | hash alone s (MB/s) | hash alone / analyse |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['file']} | {r['mb']} | {r['analyze_s']} | {r['analyze_with_hash_s']} | {r['ratio']} | "
              f"{r['cpu_s']} | {r['cpu_with_hash_s']} | {r['cpu_ratio']} | "
              f"{r['hash_alone_s']} ({r['hash_mb_s']}) | {100 * r['hash_share']:.1f} % |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows, "repeat": args.repeat, "cpus": os.cpu_count()}, f, indent=1)
    import shutil

    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
