"""`videoforge search CATALOG ["text"] [--image IMG] [--k 10] [--where SQL] [--json]`: shots with timestamps."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "search",
        help="find shots by on-screen text, caption, or an example image",
        description="Search a catalog's indexes (build them with `videoforge index CATALOG`). A text query runs "
        "BM25 over ocr_text/captions (and any text-capable vector index: minilm, clip); --image runs "
        "query-by-example over keyframe and shot vectors. Branches are fused by reciprocal rank fusion. "
        "On-screen text matches OCR misreadings too (one letter off, clipped or glued words), ranked below "
        "exact readings; a text hit's start_time/end_time span the adjacent shots that show the same word. "
        "Every shot is searchable; use --where to filter, e.g. --where \"suitability > 0.5 AND motion < 2\".",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder")
    p.add_argument("text", nargs="?", default=None, help="text query (case-insensitive, Unicode case folding)")
    p.add_argument("--image", metavar="IMG", help="query image file (a frame, screenshot or crop)")
    p.add_argument("--k", type=int, default=10, help="number of shots to return")
    p.add_argument("--where", metavar="SQL", help="SQL condition on `shots` columns that results must satisfy")
    p.add_argument("--embedder", action="append", metavar="NAME", help="only use these built indexes (repeatable)")
    p.add_argument("--json", action="store_true",
                   help='print a JSON list of {"video", "shot_id", "start_time", "end_time", "keyframe_time", '
                   '"score", "branches"}')
    return p


def main(args) -> int:
    from videoforge.cli import UsageError

    if not (args.text or "").strip() and not args.image:
        raise UsageError("give a text query, --image IMG, or both")
    if args.image and not os.path.isfile(args.image):
        raise UsageError(f"--image {args.image}: no such file")
    if args.k <= 0:
        raise UsageError("--k must be a positive number")
    from videoforge.cli._common import print_json, print_table
    from videoforge.search.query import index_status, search

    from videoforge.search.errors import FilterError

    try:
        hits = search(args.catalog, text=args.text, image=args.image, k=args.k, where=args.where,
                      embedders=args.embedder)
    except FilterError as e:
        raise UsageError(str(e)) from e
    for name, st in index_status(args.catalog).items():
        if st["indexed"] < st["catalog"] and (name == "bm25" or st["modality"] == "image"):
            print(f"warning: index {name} holds {st['indexed']} of {st['catalog']} shots; "
                  f"run `videoforge index {args.catalog}` to add the rest", file=sys.stderr)
    if args.json:
        print_json([h.to_json() for h in hits])
        return 0
    if not hits:
        print("no matching shots", file=sys.stderr)
        return 0
    print_table(["#", "video", "shot_id", "start", "end", "keyframe", "score", "branches"],
                [[i, h.video, h.shot_id, f"{h.start_time:.2f}", f"{h.end_time:.2f}",
                  "" if h.keyframe_time is None else f"{h.keyframe_time:.2f}", f"{h.score:.4f}", ",".join(h.branches)]
                 for i, h in enumerate(hits, 1)], max_width=60)
    return 0
