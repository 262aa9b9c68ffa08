"""Helpers shared by commands: JSON output, tables, error text."""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import sys


def _jsonable(v):
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat()
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if hasattr(v, "item"):  # numpy scalars
        return _jsonable(v.item())
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    return v


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
