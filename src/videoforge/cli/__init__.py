"""`videoforge` command line: a thin layer that parses, calls the library and prints.

Each command lives in its own module here exposing `add_parser(subparsers)` and
`main(args) -> int`. Modules import only the standard library at import time, so
`videoforge --help` stays fast; heavy imports (torch, OCR, Ray) happen inside `main`.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from videoforge import __version__

# Order is the order in `--help`. A module missing from this list is not a command.
COMMANDS = [
    "run", "shots", "probe", "sql", "export",
    "score", "train_scorer", "dedup", "caption",
    "index", "search",
    "serve",
    "train", "generate", "train_text_adapter", "finetune", "merge_adapters", "codec",
    "matte", "enhance",
    "stages", "plan", "calibrate",
    "scale",
    "distill",
]


class UsageError(Exception):
    """Bad arguments detected after parsing; exit code 2."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """Every command's parser; `only` (a command module's name): that command's alone (see main)."""
    parser = argparse.ArgumentParser(
        prog="videoforge",
        description="Turn raw video into curated, searchable, trainable shots.",
    )
    parser.add_argument("--version", action="version", version=f"videoforge {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        if only is not None and name != only:
            continue
        try:
            mod = importlib.import_module(f"videoforge.cli.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"videoforge.cli.{name}":
                continue
            raise
        p = mod.add_parser(sub)
        p.set_defaults(_main=mod.main)
    return parser


def _only_command(argv: list[str]) -> str | None:
    """The command module `argv` names when it starts with a command (`run ...`), else None.
    Building only that command's parser skips importing and building the other ~25 (session 12:
    ~0.03 CPU-s of every process, which `run --plan` counts in its cost); the parse, its help and
    its errors are the same, as a command's arguments never depend on another command's."""
    if not argv or not isinstance(argv[0], str) or argv[0].startswith("-"):
        return None
    name = argv[0].replace("-", "_")
    return name if name in COMMANDS else None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    only = _only_command(argv)
    parser = build_parser(only)
    if only is not None and argv[0] not in parser._subparsers._group_actions[0].choices:
        parser = build_parser()   # the module registers another name: the whole parser decides
    args = parser.parse_args(argv)
    if not getattr(args, "_main", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args._main(args) or 0)
    except UsageError as e:
        print(f"videoforge {args.command}: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # stdout closed early (`| head`): not an error of ours; silence the flush at exit too.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # noqa: BLE001 - last line of defence: say why, exit 1
        sqlfilter = sys.modules.get("videoforge.catalog.sqlfilter")   # loaded by whatever took a --where
        if sqlfilter is not None and isinstance(e, sqlfilter.SQLFilterError):
            print(f"videoforge {args.command}: error: {e}", file=sys.stderr)   # a bad --where: a usage error
            return 2
        from videoforge.cli._common import describe_failure

        print(f"videoforge {args.command}: {describe_failure(e)}", file=sys.stderr)
        return 1


def entry() -> int:
    """The `videoforge` console command (and `python -m videoforge`): main(), then a fast exit.

    At exit the interpreter's last garbage collection walks every object NumPy, OpenCV and
    PyAV created at import (~0.08 s, 2 % of a `videoforge shots` run). Freezing them first
    skips that walk; files and connections are closed by our own code (context managers)
    and by reference counting, not by that collection. Not in main(): callers that go on
    running (tests, the server) keep a collectable heap."""
    rc = main()
    import gc

    gc.freeze()
    return rc

