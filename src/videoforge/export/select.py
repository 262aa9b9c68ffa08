"""Which shots an export takes: an SQL filter over `shots` (and `videos` through the alias `v`)."""

from __future__ import annotations

import duckdb

from videoforge.catalog import Catalog


class SelectionError(ValueError):
    """The --where expression is not valid SQL for this catalog; the message is DuckDB's."""


# `shots` is scanned inside a LATERAL subquery, so unqualified names bind to shots' columns
# first (shots.duration, shots.width, ...) and `v.<column>` reaches the video's row.
_SQL = """
SELECT s.*, v.path AS source_path, v.rotation AS source_rotation, v.has_audio AS source_has_audio
FROM videos AS v,
     LATERAL (SELECT * FROM shots WHERE shots.video_id = v.video_id AND ({where})) AS s
ORDER BY v.path, s.start_frame
"""


def selection_sql(where: str | None = None, min_seconds: float | None = None, limit: int | None = None) -> str:
    """The SELECT that lists the exported shots, in source-path then start-frame order."""
    conds = []
    if where and where.strip():
        conds.append(f"({where})")
    if min_seconds is not None:
        # A microsecond of slack: 25 frames at 25 fps are 2.4 - 1.4 = 0.9999999999999998 s in floats.
        conds.append(f"(shots.end_time - shots.start_time) >= {float(min_seconds) - 1e-6!r}")
    sql = _SQL.format(where=" AND ".join(conds) if conds else "TRUE")
    if limit is not None:
        sql += f"LIMIT {int(limit)}\n"
    return sql


def select_shots(catalog: Catalog, where: str | None = None, min_seconds: float | None = None,
                 limit: int | None = None) -> list[dict]:
    """Rows of the selected shots (every `shots` column plus source_path). Raises SelectionError on bad SQL."""
    sql = selection_sql(where, min_seconds, limit)
    try:
        return catalog.query_dicts(sql)
    except (duckdb.ParserException, duckdb.BinderException, duckdb.CatalogException,
            duckdb.ConversionException, duckdb.InvalidInputException, duckdb.PermissionException) as e:
        raise SelectionError(f"--where {where!r} is not a valid filter over shots: {e}") from e


def shot_column_types(catalog: Catalog) -> dict[str, str]:
    """DuckDB type name of every `shots` column (for typed Parquet manifests)."""
    return catalog.columns("shots")
