"""The key-frame pass counts and times every frame exactly (io/sparse.py): against a full decode.

For every video in a folder (e.g. the files tests/test_container_matrix.py writes under pytest's
temporary folder: H.264 / HEVC / VP9 / MPEG-4 / MJPEG in MP4, MKV, MOV, WebM, AVI, MPEG-TS, raw
streams, broken timestamps), either `packet_times` declines the file (the mode then decodes every
frame) or the sparse passes ("keyframes", "reference") must give the full decode's frame count,
presentation times and last-frame duration.

    .venv/bin/python benchmarks/plan_sparse_exact.py [--mid-gop] FOLDER [FOLDER ...]

--mid-gop adds two files that start mid-GOP (tests/test_plan_sparse.py writes them: an x264 MPEG-TS with
its first 40 TS packets cut away, an MKV whose packets start at a non-key frame): the decoder drops their
leading frames, so `packet_times` must decline them (a file that is counted there is a MISMATCH).
"""

from __future__ import annotations

import glob
import os
import sys

from videoforge.io.decode import DecodeStats, decode_frames
from videoforge.io.sparse import packet_times, sparse_frames


def main(argv=None) -> int:
    args = list(argv if argv is not None else sys.argv[1:])
    mid_gop: list[str] = []
    if "--mid-gop" in args:
        import pathlib
        import tempfile

        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
        from test_plan_sparse import _write_mid_gop_cuts

        args.remove("--mid-gop")
        mid_gop = _write_mid_gop_cuts(pathlib.Path(tempfile.mkdtemp(prefix="vf-midgop-")))
    folders = args or ([] if mid_gop else ["."])
    bad = checked = declined = 0
    files = [p for folder in folders for p in sorted(glob.glob(os.path.join(folder, "*")))]
    for p in mid_gop:
        if packet_times(p) is not None:
            bad += 1
            print(f"MISMATCH counted from packets, starts mid-GOP: {os.path.basename(p)}")
    for _ in [0]:
        for p in files + mid_gop:
            if packet_times(p) is None:
                declined += 1
                print(f"declined (full decode)  {os.path.basename(p)}")
                continue
            a = DecodeStats()
            try:
                sum(1 for _ in decode_frames(p, stats=a))
            except Exception as e:   # noqa: BLE001 - not a video
                print(f"full decode fails        {os.path.basename(p)}: {e}")
                continue
            for mode in ("keyframes", "reference"):
                b = DecodeStats()
                seen = [(f.index, f.pts_time) for f in sparse_frames(p, mode, stats=b)]
                ok = (a.frames == b.frames and len(a.pts) == len(b.pts)
                      and max(abs(x - y) for x, y in zip(a.pts, b.pts)) < 1e-9
                      and abs(a.last_duration - b.last_duration) < 1e-9 and all(abs(a.pts[i] - t) < 1e-9 for i, t in seen))
                checked += 1
                bad += not ok
                print(f"{'exact' if ok else 'MISMATCH':8s} {mode:9s} {os.path.basename(p)}: {b.frames} frames "
                      f"(full {a.frames}), {b.frames_decoded} decoded")
    print(f"{checked} sparse passes checked, {bad} mismatches, {declined} files declined")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
