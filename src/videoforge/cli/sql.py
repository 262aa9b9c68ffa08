"""`videoforge sql`: any read-only SQL query over a catalog, also while a run writes to it."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "sql",
        help="run a SQL query on a catalog (tables: videos, shots, transitions, keyframes, errors)",
        description="Run any read-only SQL query (DuckDB dialect) on a catalog. Works while a run is writing.",
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder")
    p.add_argument("query", metavar="SQL", help='e.g. "SELECT shot_id, motion FROM shots ORDER BY motion DESC LIMIT 5"')
    p.add_argument("--json", action="store_true", help="print a JSON list of row objects")
    p.add_argument("--max-width", type=int, default=40, help="truncate table cells to this many characters")
    return p


def main(args) -> int:
    import duckdb

    from videoforge.catalog import Catalog
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table

    catalog = Catalog(args.catalog)
    try:
        cols, rows = catalog.query(args.query)
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException) as e:
        raise UsageError(f"bad query: {e}") from e
    except duckdb.InvalidInputException as e:
        if "read-only" in str(e).lower():
            raise UsageError("the catalog is opened read-only here: only queries (SELECT, ...) are allowed") from e
        raise UsageError(str(e)) from e
    if args.json:
        print_json([dict(zip(cols, r)) for r in rows])
    else:
        print_table(cols, rows, max_width=args.max_width)
        print(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return 0
