"""`videoforge dedup`: mark near-duplicate shots in `shots.duplicate_of`."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "dedup",
        help="find near-duplicate shots (re-encoded, resized, cropped, brightened, trimmed copies)",
        description=(
            "Find near-duplicate shots from keyframe perceptual hashes and temporal alignment, searched in a "
            "binary index (FAISS), and write shots.duplicate_of: the shot_id of the group's kept representative "
            "(highest suitability, then longest), NULL for kept shots. Nothing is deleted; filter with "
            "`--where \"duplicate_of IS NULL\"`. Run `videoforge score` first so suitability picks representatives."
        ),
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder")
    p.add_argument("--radius", type=int, default=12, help="max Hamming distance (0-64) for two keyframes to match (default 12)")
    p.add_argument("--min-match", type=float, default=0.5,
                   help="fraction of the shorter shot's keyframes that must align in order (default 0.5)")
    p.add_argument("--index", choices=["auto", "flat", "multihash"], default="auto",
                   help="binary index: exact flat search, multi-index hashing, or auto by size")
    p.add_argument("--source", choices=["decode", "keyframes", "auto"], default="decode",
                   help="decode (default): hash a frame every 6 frames of each shot, decoded from the source videos "
                        "(finds trimmed copies); keyframes: hash only the catalog's keyframe JPEGs (no decoding, fast at "
                        "millions of shots, misses many trimmed copies of moving shots); auto: keyframes, decoding only "
                        "shots that have none")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return p


def main(args) -> int:
    from videoforge.catalog import Catalog
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.curate.dedup import DedupParams, dedup_catalog

    if not 0 <= args.radius <= 64:
        raise UsageError("--radius must be between 0 and 64")
    if not 0 < args.min_match <= 1:
        raise UsageError("--min-match must be in (0, 1]")
    summary = dedup_catalog(Catalog(args.catalog), DedupParams(radius=args.radius, min_match=args.min_match, index=args.index),
                             source=args.source)
    if args.json:
        print_json(summary)
        return 0
    cols = ["shots", "duplicates", "groups", "index", "hash_seconds", "search_seconds"]
    print_table(cols, [[summary[c] for c in cols]])
    if summary["shots_without_hashes"]:
        print(f"note: {summary['shots_without_hashes']} shots had no keyframes and could not be decoded; they are never marked")
    return 0
