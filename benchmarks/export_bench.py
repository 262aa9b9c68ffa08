"""Export throughput: clips/s and frames/s for stream copy vs libx264 re-encode, per format.

Synthetic 640x360 25 fps H.264 sources (keyframe every 50 frames, AAC tone), catalogued with
known shots (half starting on keyframes, half not), so the figures measure export alone.

    .venv/bin/python benchmarks/export_bench.py [--videos 4] [--frames 500]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from types import SimpleNamespace

from videoforge.catalog import Catalog
from videoforge.catalog.commit import commit_video
from videoforge.export import export_catalog
from videoforge.io.decode import DecodeStats, decode_frames
from videoforge.io.fingerprint import fingerprint, shot_id_for, video_id_for
from videoforge.io.probe import probe
from videoforge.synth.bad_inputs import moving_frames
from videoforge.io.encode import write_video


def build(root: str, videos: int, frames: int) -> tuple[Catalog, int]:
    cat = Catalog(os.path.join(root, "cat")).create()
    total = 0
    for k in range(videos):
        p = write_video(os.path.join(root, f"v{k}.mp4"), moving_frames(frames, 640, 360, seed=k), fps=25,
                        gop=50, audio_tone_hz=440)
        info, st = probe(p), DecodeStats()
        for _ in decode_frames(p, stats=st):
            pass
        fp = fingerprint(p)
        vid = video_id_for(fp)
        # shots of 50 frames; every other one starts 7 frames late (not on a keyframe)
        ranges = [(s + (7 if (s // 50) % 2 else 0), min(s + 49, frames - 1)) for s in range(0, frames, 50)]
        shots = [dict(shot_id=shot_id_for(vid, s), video_id=vid, start_frame=s, end_frame=e, start_time=st.pts[s],
                      end_time=st.end_time(e), num_frames=e - s + 1, width=info.width, height=info.height)
                 for s, e in ranges]
        total += sum(e - s + 1 for s, e in ranges)
        with cat.write() as con:
            commit_video(con, SimpleNamespace(video=dict(video_id=vid, path=p, fingerprint=fp, has_audio=True,
                                                         rotation=0), shots=shots, transitions=[], keyframes=[]))
    return cat, total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=4)
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--workers", type=int, default=None)
    args = ap.parse_args()
    root = tempfile.mkdtemp(prefix="vf-export-bench-")
    try:
        cat, total = build(root, args.videos, args.frames)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
        print(f"{args.videos} sources x {args.frames} frames 640x360; {total} frames in shots\n")
        print("| mode | format | clips | copied | re-encoded | seconds | clips/s | frames/s | x realtime |")
        print("|---|---|---|---|---|---|---|---|---|")
        for fmt, reencode in (("opensora", False), ("opensora", True), ("webdataset", False), ("parquet", False)):
            out = os.path.join(root, f"out-{fmt}-{reencode}")
            t = time.perf_counter()
            s = export_catalog(cat.root, out, fmt, reencode=reencode, workers=args.workers)
            dt = time.perf_counter() - t
            mode = "re-encode all" if reencode else "copy when aligned"
            print(f"| {mode} | {fmt} | {s.exported} | {s.copied} | {s.reencoded} | {dt:.2f} | {s.exported / dt:.1f} | "
                  f"{s.frames / dt:.0f} | {s.frames / 25 / dt:.1f} |")
        # one clip at a time, in this process: what each path costs per 50-frame 640x360 shot
        from videoforge.io.clips import build_packet_index, cut_clip

        src = os.path.join(root, "v0.mp4")
        idx = build_packet_index(src)
        print("\n| path (50-frame shot, 640x360, with audio) | ms per clip | frames/s |")
        print("|---|---|---|")
        for label, start, reenc in (("stream copy + frame-count check", 100, False),
                                    ("re-encode (libx264 veryfast crf 18)", 100, True)):
            reps, t = 5, time.perf_counter()
            for k in range(reps):
                r = cut_clip(src, os.path.join(root, f"one-{k}.mp4"), start, start + 49, index=idx, reencode=reenc)
            dt = (time.perf_counter() - t) / reps
            print(f"| {label} ({r.method}) | {dt * 1000:.0f} | {50 / dt:.0f} |")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
