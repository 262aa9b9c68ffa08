"""Shot-level multimodal search: embedders, FAISS indexes, BM25, fusion.

    from videoforge.search import index_catalog, search
    index_catalog("CATALOG")                       # bm25 over ocr_text/captions + offline visual
    hits = search("CATALOG", text="sale", k=10)    # or image="frame.jpg", where="motion > 1"

Heavy libraries load lazily, inside the functions that need them.
"""

from __future__ import annotations


def index_catalog(*args, **kwargs):
    """Build or update a catalog's search indexes; see `videoforge.search.build.index_catalog`."""
    from videoforge.search.build import index_catalog as f

    return f(*args, **kwargs)


def search(*args, **kwargs):
    """Top-k shots for text and/or image; see `videoforge.search.query.search`."""
    from videoforge.search.query import search as f

    return f(*args, **kwargs)


def clusters(*args, **kwargs):
    """Browse shots by coarse cluster; see `videoforge.search.browse.clusters`."""
    from videoforge.search.browse import clusters as f

    return f(*args, **kwargs)


__all__ = ["clusters", "index_catalog", "search"]
