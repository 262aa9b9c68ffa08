"""Helpers shared by commands: JSON output, tables, error text."""

from __future__ import annotations

import json
import sys

from videoforge.jsonable import jsonable as _jsonable


def print_json(doc) -> None:
    """Only the JSON document goes to stdout: numbers as numbers, NULL/NaN as null."""
    sys.stdout.write(json.dumps(_jsonable(doc), ensure_ascii=False, allow_nan=False))
    sys.stdout.write("\n")


def print_table(columns: list[str], rows: list, max_width: int = 40) -> None:
    def fmt(v):
        if v is None:
            return "NULL"
        if isinstance(v, float):
            return f"{v:.4g}"
        s = str(v)
        return s if len(s) <= max_width else s[: max_width - 1] + "…"

    cells = [[fmt(v) for v in r] for r in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    line = "  ".join(c.ljust(w) for c, w in zip(columns, widths))
    print(line)
    print("  ".join("-" * w for w in widths))
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)))


def describe_failure(e: Exception) -> str:
    msg = str(e) or type(e).__name__
    return msg
