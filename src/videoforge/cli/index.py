"""`videoforge index CATALOG [--embedder NAME]`: build or update the catalog's search indexes."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "index",
        help="build or update search indexes (BM25 over on-screen text/captions, visual vectors)",
        description="Build or update the search indexes of a catalog under CATALOG/index/. With no --embedder it "
        "builds the offline defaults: BM25 over ocr_text and captions, and the 'visual' query-by-example embedder "
        "(no downloaded weights). Re-running embeds only new or changed shots and drops deleted ones.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder written by `videoforge run`")
    p.add_argument("--embedder", action="append", metavar="NAME",
                   help="index to build (repeatable): bm25, visual, minilm, clip, siglip, open_clip. Default: bm25 + visual")
    p.add_argument("--model", metavar="PATH_OR_NAME",
                   help="model for clip/siglip/minilm/open_clip: a local folder, or a hub name when online "
                   "(open_clip: ARCH[:PRETRAINED])")
    p.add_argument("--pooling", choices=["mean", "temporal"], default="mean",
                   help="shot vector from keyframe vectors: mean, or temporal attention over neighbouring keyframes")
    p.add_argument("--kind", choices=["auto", "exact", "ivfpq", "hnsw"], default="auto",
                   help="vector index: exact fp16 (auto up to 1M vectors), IVF-PQ with exact re-ranking beyond, "
                   "or IVF-PQ with an HNSW coarse quantizer")
    p.add_argument("--rebuild", action="store_true", help="discard existing indexes of these embedders and rebuild")
    p.add_argument("--json", action="store_true", help="print a JSON list of per-index summaries")
    return p


def main(args) -> int:
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.search.build import index_catalog
    from videoforge.search.embedders import names
    from videoforge.search.vector_index import IndexParams

    for n in args.embedder or []:
        if n not in names():
            raise UsageError(f"unknown embedder {n!r}; choose from: {', '.join(names())}")
    summaries = index_catalog(args.catalog, embedders=args.embedder, model=args.model, pooling=args.pooling,
                              params=IndexParams(kind=args.kind), rebuild=args.rebuild,
                              progress=lambda m: print(m, file=sys.stderr))
    if args.json:
        print_json(summaries)
    else:
        cols = ["embedder", "shots", "keyframes", "added", "removed", "kind", "seconds"]
        print_table(cols, [[s.get(c, "" if c != "added" else ("-" if s.get("unchanged") else "")) for c in cols]
                           for s in summaries])
    return 0
