"""Per-video atomic commits: the only way analysis results enter the catalog.

Each video's rows are replaced in one transaction (delete old, insert new), so a rerun
never doubles rows and a process killed mid-commit leaves either the old rows or the new.
"""

from __future__ import annotations

import datetime as _dt

import duckdb

from videoforge.catalog.store import column_types

def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict]) -> None:
    if not rows:
        return
    known = set(column_types(con, table))
    cols = [c for c in rows[0].keys() if c in known]
    for r in rows[1:]:
        for c in r:
            if c in known and c not in cols:
                cols.append(c)
    placeholders = ", ".join("?" for _ in cols)
    con.executemany(
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders})",
        [[r.get(c) for c in cols] for r in rows],
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo an open transaction; a failed COMMIT (e.g. disk full) has already ended it, so the
    original error, not "cannot rollback", is what the caller sees."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)


def commit_video(con: duckdb.DuckDBPyConnection, result) -> None:
    """Replace one video's rows (videos, shots, transitions, keyframes) in one transaction."""
    vid = result.video["video_id"]
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("keyframes", "transitions", "shots", "videos"):
            con.execute(f"DELETE FROM {table} WHERE video_id = ?", [vid])
        con.execute("DELETE FROM errors WHERE path = ? OR fingerprint = ?", [result.video["path"], result.video["fingerprint"]])
        _insert(con, "videos", [{"analyzed_at": now(), **result.video}])  # contract column: when committed
        _insert(con, "shots", result.shots)
        _insert(con, "transitions", result.transitions)
        _insert(con, "keyframes", result.keyframes)
        con.execute("COMMIT")
    except Exception:
        _rollback(con)
        raise


def record_error(con: duckdb.DuckDBPyConnection, path: str, stage: str, message: str, fingerprint: str | None = None) -> None:
    """Replace the error row of `path` (one current error per file) in one transaction."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM errors WHERE path = ?", [path])
        con.execute(
            "INSERT INTO errors (path, stage, message, logged_at, fingerprint) VALUES (?, ?, ?, ?, ?)",
            [path, stage, message, now(), fingerprint],
        )
        con.execute("COMMIT")
    except Exception:
        _rollback(con)
        raise
