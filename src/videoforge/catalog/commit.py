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


def _carried_columns(con: duckdb.DuckDBPyConnection, result) -> list[str]:
    """`shots` columns a re-analysis must not touch: curation (suitability, duplicate_of,
    caption*, user columns added later), i.e. every column analysis does not write."""
    from videoforge.catalog.schema import ANALYSIS_SHOT_COLUMNS

    written = set(ANALYSIS_SHOT_COLUMNS)
    for r in result.shots:
        written.update(r)
    return [c for c in column_types(con, "shots") if c not in written and c != "curation_stale"]


def commit_video(con: duckdb.DuckDBPyConnection, result) -> None:
    """Replace one video's rows (videos, shots, transitions, keyframes) in one transaction.

    Curation survives re-analysis: for every shot_id that is still there, the curation columns
    are carried over in the same transaction; `curation_stale` is set where the shot's
    boundaries or the file's content changed (the values describe the old shot), and on shots
    whose `duplicate_of` points at a shot that vanished or changed."""
    vid = result.video["video_id"]
    carried = _carried_columns(con, result)
    con.execute("BEGIN TRANSACTION")
    try:
        old_hash = con.execute("SELECT content_hash FROM videos WHERE video_id = ?", [vid]).fetchone()
        new_hash = result.video.get("content_hash")
        content_changed = bool(old_hash and old_hash[0] and new_hash and old_hash[0] != new_hash)
        has_old = con.execute("SELECT count(*) FROM shots WHERE video_id = ?", [vid]).fetchone()[0] > 0
        if has_old:
            con.execute("DROP TABLE IF EXISTS vf_old_shots")
            cols = ", ".join(["shot_id", "start_frame", "end_frame", "curation_stale", *map(_quote, carried)])
            con.execute(f"CREATE TEMP TABLE vf_old_shots AS SELECT {cols} FROM shots WHERE video_id = ?", [vid])
        for table in ("keyframes", "transitions", "shots", "videos"):
            con.execute(f"DELETE FROM {table} WHERE video_id = ?", [vid])
        con.execute("DELETE FROM errors WHERE path = ? OR fingerprint = ?", [result.video["path"], result.video["fingerprint"]])
        _insert(con, "videos", [{"analyzed_at": now(), **result.video}])  # contract column: when committed
        _insert(con, "shots", result.shots)
        _insert(con, "transitions", result.transitions)
        _insert(con, "keyframes", result.keyframes)
        if has_old:
            _carry_curation(con, carried, content_changed)
            con.execute("DROP TABLE vf_old_shots")
        con.execute("COMMIT")
    except BaseException:
        _rollback(con)
        raise


def _quote(name: str) -> str:
    """A column name as a DuckDB identifier, whatever it holds."""
    return '"' + name.replace('"', '""') + '"'


def _carry_curation(con: duckdb.DuckDBPyConnection, carried: list[str], content_changed: bool) -> None:
    """Copy curation from vf_old_shots onto the new rows with the same shot_id; flag what changed."""
    q = {c: _quote(c) for c in carried}   # user-added columns may be keywords or hold spaces
    has_value = " OR ".join(f"o.{q[c]} IS NOT NULL" for c in carried) or "FALSE"
    changed = "TRUE" if content_changed else "(o.end_frame IS DISTINCT FROM shots.end_frame)"
    sets = [f"{q[c]} = o.{q[c]}" for c in carried]
    sets.append(f"curation_stale = coalesce(o.curation_stale, FALSE) OR (({changed}) AND ({has_value}))")
    con.execute(f"UPDATE shots SET {', '.join(sets)} FROM vf_old_shots o WHERE shots.shot_id = o.shot_id")
    if "duplicate_of" in carried:
        # other shots named a shot of this video as their original: flag them if it is gone or changed
        con.execute(f"""
            UPDATE shots SET curation_stale = TRUE
            WHERE duplicate_of IN (
                SELECT o.shot_id FROM vf_old_shots o LEFT JOIN shots n ON n.shot_id = o.shot_id
                WHERE n.shot_id IS NULL OR {"TRUE" if content_changed else "n.end_frame IS DISTINCT FROM o.end_frame"})""")


def record_error(con: duckdb.DuckDBPyConnection, path: str, stage: str, message: str, fingerprint: str | None = None,
                 kind: str = "input") -> None:
    """Replace the error row of `path` (one current error per file) in one transaction.
    `kind`: 'input' (the file is bad) or 'internal' (a videoforge bug or a resource failure)."""
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM errors WHERE path = ?", [path])
        con.execute(
            "INSERT INTO errors (path, stage, message, logged_at, fingerprint, kind) VALUES (?, ?, ?, ?, ?, ?)",
            [path, stage, message, now(), fingerprint, kind],
        )
        con.execute("COMMIT")
    except Exception:
        _rollback(con)
        raise
