"""`videoforge probe`: what a file holds, without analysing it."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("probe", help="show a video's streams (duration, fps, size, codec, rotation, audio)",
                       description="Read a video's headers and first frame; print its properties.")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--header-only", action="store_true",
                   help="read headers only (fast): frames, fps, duration are the container's claims and vfr is not measured")
    return p


def main(args) -> int:
    from videoforge.cli._common import print_json, print_table
    from videoforge.io import VideoError, probe

    try:
        info = probe(args.video)
    except VideoError as e:
        print(f"videoforge probe: {e}", file=sys.stderr)
        return 1
    d = info.to_dict()
    d.pop("extra", None)
    d["frames_expected"] = info.frames
    if args.header_only:
        d["vfr"] = None    # not measured without decoding
    else:
        # The catalog's definitions: frames actually decoded, fps = the stream's rate, vfr from PTS.
        from videoforge.io.decode import DecodeStats, decode_frames

        stats = DecodeStats()
        try:
            for _ in decode_frames(args.video, width=16, stats=stats):
                pass
        except VideoError as e:
            print(f"videoforge probe: {e}", file=sys.stderr)
            return 1
        d.update(frames=stats.frames, duration=stats.duration, fps=stats.average_fps, vfr=stats.vfr,
                 decode_errors=stats.corrupt_packets)
    if args.json:
        print_json(d)
    else:
        print_table(["property", "value"], list(d.items()), max_width=80)
    return 0
