"""User-written SQL filters (`--where`, the API's `where`) made safe to place inside our queries.

A filter is pasted into a larger statement (`... WHERE (<filter>) ...`). Pasted as typed,
`TRUE)) AS s; SET memory_limit='1MB'; SELECT ((TRUE` closes our parentheses, ends the
statement and runs others (DuckDB runs every statement of a multi-statement string). So a
filter is parsed on its own with DuckDB's expression parser, which accepts exactly one
expression (no `;`, no FROM / UNION / ORDER BY, no unbalanced parenthesis), and what goes
into the query is the parsed expression's own text (`str(SQLExpression)`: the typed text cut
to that one expression, trailing `--` comments dropped), never the raw input (a trailing
comment in the raw text would otherwise swallow the rest of our query).

A single expression can still be slow (a subquery over `range(10^12)`): `time_limit`
interrupts a connection's query after a deadline.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import duckdb

# The server checks a filter while the request waits; CLI and background exports get longer.
SERVER_QUERY_TIMEOUT_S = 10.0
EXPORT_QUERY_TIMEOUT_S = 300.0


class SQLFilterError(ValueError):
    """A filter is not exactly one valid SQL expression, or its query ran too long; the
    message says which and why (a usage error: exit 2 in the CLI, 400 in the API)."""


class QueryTimeout(SQLFilterError):
    """A query ran longer than its limit and was interrupted."""


def parse_filter(text: str | None, what: str = "--where") -> str | None:
    """Exactly one SQL expression -> DuckDB's canonical text for it; None for no filter.

    Raises SQLFilterError naming the filter and the parser's reason for anything else
    (several statements, a clause, unbalanced parentheses, an empty string with content...).
    """
    if text is None or not text.strip():
        return None
    if "\x00" in text:
        raise SQLFilterError(f"{what} {text!r} is not a filter: it contains a NUL character")
    try:
        expr = duckdb.SQLExpression(text)
    except (duckdb.ParserException, duckdb.InvalidInputException) as e:
        reason = str(e).splitlines()[0]   # DuckDB's own words, e.g. "Parser Error: syntax error at or near ..."
        raise SQLFilterError(f"{what} {text!r} must be exactly one SQL condition over shots "
                             f"(no ';', no other statements or clauses): {reason}") from e
    canonical = str(expr)
    if canonical.strip() in ("*", "") or canonical.upper().startswith("COLUMNS("):
        raise SQLFilterError(f"{what} {text!r} is not a condition")
    return canonical


@contextlib.contextmanager
def time_limit(con, seconds: float | None, what: str = "the query") -> Iterator[None]:
    """Interrupt `con`'s running query after `seconds` (None: no limit); raises QueryTimeout then.

    `con` is a DuckDB connection or cursor; interrupt() is safe to call from another thread.
    """
    if not seconds or seconds <= 0:
        yield
        return
    fired = threading.Event()

    def stop():
        fired.set()
        with contextlib.suppress(Exception):
            con.interrupt()

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()
    try:
        yield
    except duckdb.Error as e:
        if fired.is_set():
            raise QueryTimeout(f"{what} ran longer than {seconds:g} s and was stopped") from e
        raise
    finally:
        timer.cancel()
