"""Calls into the search stage (another part of videoforge), imported only when used.

The server must work on a catalog that was never indexed and in an install without the
search extra, so search degrades to `[]` instead of failing.
"""

from __future__ import annotations


def search(catalog_root: str, query: str, k: int = 10, where: str | None = None) -> list[dict]:
    """Shot hits for a text query; `[]` for an empty query, a missing search stage or no index yet.

    Each hit has the `videoforge search --json` keys plus `video_id`. Other search errors
    (a corrupt index) are raised for the caller to report.
    """
    if not query or not query.strip():
        return []
    try:
        from videoforge.search.errors import SearchError
        from videoforge.search.query import index_status
        from videoforge.search.query import search as run_search
    except ImportError:
        return []   # search extra not installed
    if not index_status(catalog_root):
        return []   # never indexed
    try:
        hits = run_search(catalog_root, text=query, k=k, where=where)
    except SearchError as e:
        msg = str(e)
        if "no search index" in msg or "no built index answers" in msg or "has no shots" in msg:
            return []
        raise
    return [{**h.to_json(), "video_id": h.video_id} for h in hits]
