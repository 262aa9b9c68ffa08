"""Marker files that say "this folder is videoforge output": discovery never walks into one,
so `videoforge run . --catalog cat` does not take the catalog's keyframes or an export's
clips for input footage."""

from __future__ import annotations

import os

CATALOG_MARKER = ".videoforge-catalog"
EXPORT_MARKER = ".videoforge-export"
MARKERS = (CATALOG_MARKER, EXPORT_MARKER)

_TEXT = {
    CATALOG_MARKER: "This folder is a videoforge catalog. `videoforge run` does not read videos from it.\n",
    EXPORT_MARKER: "This folder is a videoforge export. `videoforge run` does not read videos from it.\n",
}


def mark(folder: str, marker: str) -> None:
    """Put `marker` in `folder` (idempotent; an unwritable folder is left as it is)."""
    path = os.path.join(folder, marker)
    if os.path.exists(path):
        return
    try:
        with open(path, "w") as f:
            f.write(_TEXT[marker])
    except OSError:
        pass   # the caller reports its own write errors; a missing marker only costs a skip


def is_output_folder(folder: str) -> bool:
    """A catalog or export folder (by marker; a catalog made before markers by its database)."""
    return any(os.path.exists(os.path.join(folder, m)) for m in (*MARKERS, "catalog.duckdb"))
