"""Which shots an export takes: an SQL filter over `shots` (and `videos` through the alias `v`)."""

from __future__ import annotations

import duckdb

from videoforge.catalog import Catalog
from videoforge.catalog.sqlfilter import EXPORT_QUERY_TIMEOUT_S, SQLFilterError, parse_filter, time_limit


class SelectionError(SQLFilterError):
    """The --where expression is not one valid SQL condition for this catalog, or selecting
    ran too long; the message says why (DuckDB's words for SQL errors)."""


# `shots` is scanned inside a LATERAL subquery, so unqualified names bind to shots' columns
# first (shots.duration, shots.width, ...) and `v.<column>` reaches the video's row.
_SQL = """
SELECT s.*, v.path AS source_path, v.rotation AS source_rotation, v.has_audio AS source_has_audio,
       v.frames AS source_frames
FROM videos AS v,
     LATERAL (SELECT * FROM shots WHERE shots.video_id = v.video_id AND ({where})) AS s
ORDER BY v.path, s.start_frame
"""


def selection_sql(where: str | None = None, min_seconds: float | None = None, limit: int | None = None) -> str:
    """The SELECT that lists the exported shots, in source-path then start-frame order."""
    conds = []
    try:   # exactly one expression, placed as DuckDB renders it (never the raw text: see sqlfilter)
        expr = parse_filter(where, "--where")
    except SQLFilterError as e:
        raise SelectionError(str(e)) from e
    if expr:
        conds.append(f"({expr})")
    if min_seconds is not None:
        # A microsecond of slack: 25 frames at 25 fps are 2.4 - 1.4 = 0.9999999999999998 s in floats.
        conds.append(f"(shots.end_time - shots.start_time) >= {float(min_seconds) - 1e-6!r}")
    sql = _SQL.format(where=" AND ".join(conds) if conds else "TRUE")
    if limit is not None:
        sql += f"LIMIT {int(limit)}\n"
    return sql


def select_shots(catalog: Catalog, where: str | None = None, min_seconds: float | None = None,
                 limit: int | None = None, timeout: float | None = EXPORT_QUERY_TIMEOUT_S) -> list[dict]:
    """Rows of the selected shots (every `shots` column plus source_path). Raises SelectionError on
    bad SQL, and when the selection runs longer than `timeout` seconds (None: no limit)."""
    sql = selection_sql(where, min_seconds, limit)
    try:
        with catalog.read() as con, time_limit(con, timeout, f"--where {where!r}"):
            cur = con.execute(sql)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]
    except SQLFilterError as e:   # the time limit
        raise SelectionError(str(e)) from e
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
            duckdb.ConversionException, duckdb.InvalidInputException, duckdb.PermissionException) as e:
        raise SelectionError(f"--where {where!r} is not a valid filter over shots: {e}") from e


def shot_column_types(catalog: Catalog) -> dict[str, str]:
    """DuckDB type name of every `shots` column (for typed Parquet manifests)."""
    return catalog.columns("shots")
