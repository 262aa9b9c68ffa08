"""`videoforge probe`: what a file holds, without analysing it."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("probe", help="show a video's streams (duration, fps, size, codec, rotation, audio)",
                       description="Read a video's headers and first frame; print its properties.")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def main(args) -> int:
    from videoforge.cli._common import print_json, print_table
    from videoforge.io import VideoError, probe

    try:
        info = probe(args.video)
    except VideoError as e:
        import sys

        print(f"videoforge probe: {e}", file=sys.stderr)
        return 1
    d = info.to_dict()
    d.pop("extra", None)
    if args.json:
        print_json(d)
    else:
        print_table(["property", "value"], list(d.items()), max_width=80)
    return 0
