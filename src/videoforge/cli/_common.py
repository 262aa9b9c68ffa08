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


def run_media_job(name: str, args, job, usage_errors: tuple = ()):
    """The shared frame of `matte` and `enhance`: the weights file and PyTorch are checked before
    any work, then `job()` runs. Returns its result, or None after an input the engine cannot
    read (the reason, naming the file, on stderr: exit 1). Wrong usage, including a weights file
    that is not one (ValueError), raises UsageError (exit 2)."""
    import os

    from videoforge.cli import UsageError

    if args.weights and not os.path.exists(args.weights):
        raise UsageError(f"{args.weights}: no such weights file")
    if args.threads is not None and args.threads < 1:
        raise UsageError("--threads must be >= 1")
    try:
        import torch  # noqa: F401
    except ModuleNotFoundError:
        raise UsageError(f"{name} needs PyTorch: pip install 'videoforge[enhance]'") from None
    from videoforge.io import VideoError

    try:
        return job()
    except VideoError as e:
        print(f"videoforge {name}: {e}", file=sys.stderr)
        return None
    except (*usage_errors, ValueError) as e:   # ValueError: weights file unreadable
        raise UsageError(str(e)) from e
