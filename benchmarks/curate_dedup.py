"""Near-duplicate benchmark: planted copies through the real engine (precision/recall), and
search time on synthetic hash sets of 10k / 100k shots.

    .venv/bin/python benchmarks/curate_dedup.py --work /tmp/vf-dedup --sources 60 --scale 10000 100000

Accuracy: `--sources` distinct clean shots (160x96 H.264): every shipped photo once, under a
moving camera with moving sprites, then procedural scenes (a new random picture each).
No two sources share a picture: a first run that drew sources from a small photo pool and
the real clip's stretches "found" many shots of the same picture or the same scene of the
clip -- real near-duplicates that the ground truth called distinct. 2/3 of the sources get one planted copy, cycling through
re-encode (CRF 30-37), resize (0.5-0.8x), crop (4-10 % per axis at random sides, scaled
back), brightness (+-20-40 levels) and trim (10-35 % off the start, 0-20 % off the end).
All go through `videoforge run`, then `videoforge dedup`. Scored per video pair: a pair is
predicted when any of their shots share a duplicate group; truth = (source, its copy).

Scale (SYNTHETIC hashes, not video): each shot gets 3 keyframes x 5 window hashes made by
flipping a few bits of a random 64-bit base (uniform random bases: the friendliest case
for hash buckets); 1 % of shots get a planted copy with 4-10 bits flipped per keyframe.
Timed: index build + range search + temporal alignment (`duplicate_pairs`).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time

import numpy as np

VF = [sys.executable, "-m", "videoforge"]


def accuracy(work: str, n_sources: int, seed: int = 7) -> list[dict]:
    from videoforge.catalog import Catalog
    from videoforge.synth.degrade import COPY_KINDS, near_copy
    from videoforge.io.encode import write_video

    vid_dir = os.path.join(work, "videos")
    truth_pairs, kind_of = set(), {}
    if not os.path.exists(os.path.join(vid_dir, "done")):
        os.makedirs(vid_dir, exist_ok=True)
        from videoforge.synth import footage as ft
        from videoforge.synth.degrade import TEXT_PHOTOS

        rng = np.random.default_rng(seed)
        photos = [n for n in ft.available_photos(ft.TRAIN_PHOTOS + ft.HELDOUT_PHOTOS) if n not in TEXT_PHOTOS]
        for i in range(n_sources):
            pic = ft.load_photo(photos[i], 180) if i < len(photos) else ft.procedural_scene(rng, 320, 192)
            shot = ft.CameraShot(pic, 160, 96, rng, [], sprites=int(rng.integers(1, 4)))
            frames = [shot.render(t) for t in range(int(rng.integers(40, 76)))]
            write_video(os.path.join(vid_dir, f"s{i:03d}.mp4"), frames, crf=20)
            if i % 3 != 2:
                kind = COPY_KINDS[i % len(COPY_KINDS)]
                c, crf = near_copy(frames, kind, rng)
                write_video(os.path.join(vid_dir, f"s{i:03d}_copy_{kind}.mp4"), c, crf=crf)
        open(os.path.join(vid_dir, "done"), "w").close()
    for f in os.listdir(vid_dir):
        if "_copy_" in f:
            a = os.path.join(vid_dir, f.split("_copy_")[0] + ".mp4")
            b = os.path.join(vid_dir, f)
            truth_pairs.add(frozenset((a, b)))
            kind_of[frozenset((a, b))] = f.split("_copy_")[1][:-4]
    cat = os.path.join(work, "cat")
    t = time.perf_counter()
    subprocess.run(VF + ["run", vid_dir, "--catalog", cat, "--workers", "2", "-q", "--no-ocr"], check=True, capture_output=True)
    print(f"engine: {time.perf_counter() - t:.0f} s for {len(os.listdir(vid_dir)) - 1} videos", file=sys.stderr)
    out = []
    for source in ("keyframes", "decode"):
        t = time.perf_counter()
        subprocess.run(VF + ["dedup", cat, "--source", source], check=True, capture_output=True)
        dt = time.perf_counter() - t
        rows = Catalog(cat).query_dicts("SELECT s.shot_id, s.duplicate_of, v.path FROM shots s JOIN videos v USING (video_id)")
        path_of = {r["shot_id"]: r["path"] for r in rows}
        pred = set()
        for r in rows:
            if r["duplicate_of"] and path_of[r["duplicate_of"]] != r["path"]:
                pred.add(frozenset((r["path"], path_of[r["duplicate_of"]])))
        # groups link every member to the representative; members linked through it count as pairs too
        members: dict[str, set[str]] = {}
        for r in rows:
            members.setdefault(r["duplicate_of"] or r["shot_id"], set()).add(r["path"])
        for paths in members.values():
            ps = sorted(paths)
            pred |= {frozenset((a, b)) for i, a in enumerate(ps) for b in ps[i + 1:]}
        tp = len(pred & truth_pairs)
        per_kind = {k: np.mean([p in pred for p in truth_pairs if kind_of[p] == k]) for k in sorted(set(kind_of.values()))}
        out.append({"source": source, "videos": len({r['path'] for r in rows}), "shots": len(rows),
                    "planted": len(truth_pairs), "predicted": len(pred), "precision": tp / max(1, len(pred)),
                    "recall": tp / max(1, len(truth_pairs)), "per_kind": per_kind, "seconds": dt})
    return out


def synthetic(n: int, rng: np.random.Generator, k: int = 3, v: int = 5, copy_frac: float = 0.01):
    def flip(h: np.ndarray, lo: int, hi: int) -> np.ndarray:
        """h with lo..hi random bits flipped per element (a repeated position flips once)."""
        pos = rng.integers(0, 64, h.shape + (hi,)).astype(np.uint64)
        use = np.arange(hi) < rng.integers(lo, hi + 1, h.shape)[..., None]
        masks = np.where(use, np.uint64(1) << pos, np.uint64(0))
        return h ^ np.bitwise_or.reduce(masks, axis=-1)

    base = rng.integers(0, 2**63, n, dtype=np.int64).astype(np.uint64) * np.uint64(2) + rng.integers(0, 2, n).astype(np.uint64)
    kf = flip(np.repeat(base[:, None], k, 1), 3, 8)                       # (n, k)
    win = flip(np.repeat(kf[:, :, None], v, 2), 2, 6)                       # (n, k, v)
    win[:, :, 0] = kf
    hashes = list(win)
    planted = []
    for s in rng.choice(n, int(n * copy_frac), replace=False):
        c = hashes[s].copy()
        c[:, 0] = flip(c[:, 0], 4, 10)
        c[:, 1:] = flip(np.repeat(c[:, :1], v - 1, 1), 2, 6)
        planted.append((int(s), len(hashes)))
        hashes.append(c)
    return hashes, planted


def scale(ns: list[int], seed: int = 3) -> list[dict]:
    from videoforge.curate.dedup import DedupParams, duplicate_pairs

    out = []
    rng = np.random.default_rng(seed)
    for n in ns:
        t = time.perf_counter()
        hashes, planted = synthetic(n, rng)
        gen = time.perf_counter() - t
        for index, nflip in ([("flat", 0)] if n <= 20000 else []) + [("multihash", 1), ("multihash", 2)]:
            t = time.perf_counter()
            pairs, _ = duplicate_pairs(hashes, DedupParams(index=index, nflip=nflip))
            dt = time.perf_counter() - t
            got = {(a, b) for a, b, _ in pairs}
            want = {(min(a, b), max(a, b)) for a, b in planted}
            out.append({"shots": len(hashes), "index": index if index == "flat" else f"multihash 3x21 bits, nflip={nflip}", "seconds": dt, "recall": len(got & want) / max(1, len(want)),
                        "precision": len(got & want) / max(1, len(got)), "gen_seconds": gen})
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/vf-dedup")
    ap.add_argument("--sources", type=int, default=60)
    ap.add_argument("--scale", type=int, nargs="*", default=[10000, 100000])
    a = ap.parse_args()
    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}\n")
    if a.sources:
        rows = accuracy(a.work, a.sources)
        print("| hashes from | videos | shots | planted copies | predicted pairs | precision | recall | dedup time (s) |")
        print("|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['source']} | {r['videos']} | {r['shots']} | {r['planted']} | {r['predicted']} | "
                  f"{r['precision']:.3f} | {r['recall']:.3f} | {r['seconds']:.1f} |")
        print("\nrecall per copy kind: " + "; ".join(
            f"{r['source']}: " + ", ".join(f"{k} {v:.2f}" for k, v in r["per_kind"].items()) for r in rows))
    if a.scale:
        rows = scale(a.scale)
        print("\nSYNTHETIC hash sets (3 keyframes x 5 windows per shot, 1 % planted copies):\n")
        print("| shots | index | search + alignment (s) | planted recall | precision |\n|---|---|---|---|---|")
        for r in rows:
            print(f"| {r['shots']} | {r['index']} | {r['seconds']:.2f} | {r['recall']:.3f} | {r['precision']:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
