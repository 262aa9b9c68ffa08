"""One transaction on a catalog connection: everything inside commits together or not at all."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import duckdb


def rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo an open transaction; a failed COMMIT (e.g. disk full) has already ended it, so the
    original error, not "cannot rollback", is what the caller sees."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


@contextlib.contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT around the block; any exception (Ctrl-C included) rolls back and re-raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
        con.execute("COMMIT")
    except BaseException:
        rollback(con)
        raise
