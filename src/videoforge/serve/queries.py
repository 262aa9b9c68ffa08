"""Read-only catalog queries behind the API.

Each function takes a reader: anything with `.root` and a `.read()` context manager that
yields a connection or cursor, i.e. a `Catalog` (one short read-only connection per call)
or the server's `ReadGate` (a cursor on a shared connection that steps aside for writers).
Column names used in SQL come only from the catalog's own schema, never from a request.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from typing import Protocol

from videoforge.catalog.store import column_types


class Reader(Protocol):
    """A Catalog or a ReadGate: `.root`, and `.read()` yielding a connection/cursor."""

    root: str

    def read(self): ...


NUMERIC_TYPES = {"DOUBLE", "FLOAT", "REAL", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "DECIMAL"}
# Columns that are positions/identities, not measurements: no slider for them.
NOT_METRICS = {"shot_index", "start_frame", "end_frame", "start_time", "end_time", "width", "height", "num_frames", "fps"}
MAX_LIMIT = 500


class QueryError(ValueError):
    """A request asked for something the catalog cannot answer; the message says what is allowed."""


@dataclass
class Page:
    limit: int = 50
    offset: int = 0

    def check(self) -> "Page":
        if not 1 <= self.limit <= MAX_LIMIT:
            raise QueryError(f"limit must be between 1 and {MAX_LIMIT}, got {self.limit}")
        if self.offset < 0:
            raise QueryError(f"offset must be >= 0, got {self.offset}")
        return self


def _columns(con, table: str) -> dict[str, str]:
    """Column name -> base type name ('DECIMAL(9,3)' -> 'DECIMAL')."""
    return {name: dtype.split("(")[0].upper() for name, dtype in column_types(con, table).items()}


def _dicts(cur) -> list[dict]:
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def numeric_columns(con, reader: Reader | None = None) -> list[str]:
    """Shot columns a client may filter and sort on (metrics, duration, suitability, ...)."""
    def compute():
        return [c for c, t in _columns(con, "shots").items() if t in NUMERIC_TYPES and c not in NOT_METRICS]

    memo = getattr(reader, "memo", None)   # the ReadGate caches it while its connection is open
    return memo("numeric_columns", compute) if memo else compute()


def summary(catalog: Reader) -> dict:
    """Counts a front page needs: videos, shots, errors, transitions by kind."""
    with catalog.read() as con:
        n_videos = con.execute("SELECT count(*) FROM videos").fetchone()[0]
        n_shots, total_dur = con.execute("SELECT count(*), coalesce(sum(duration), 0) FROM shots").fetchone()
        n_errors = con.execute("SELECT count(*) FROM errors").fetchone()[0]
        kinds = dict(con.execute("SELECT kind, count(*) FROM transitions GROUP BY kind ORDER BY kind").fetchall())
    return {"videos": n_videos, "shots": n_shots, "shot_seconds": total_dur, "errors": n_errors, "transitions": kinds}


def metric_ranges(catalog: Reader) -> list[dict]:
    """For each filterable shot column: name, min, max, non-null count (slider bounds)."""
    with catalog.read() as con:
        cols = numeric_columns(con, catalog)
        if not cols:
            return []
        parts = ", ".join(f"min({c}), max({c}), count({c})" for c in cols)
        row = con.execute(f"SELECT {parts} FROM shots").fetchone()
    return [
        {"name": c, "min": row[3 * i], "max": row[3 * i + 1], "count": row[3 * i + 2]}
        for i, c in enumerate(cols)
    ]


def list_videos(catalog: Reader, page: Page, path_contains: str | None = None) -> dict:
    """One page of videos ordered by path; optional case-insensitive path filter."""
    page.check()
    where, params = "", []
    if path_contains:
        where, params = "WHERE lower(path) LIKE ?", [f"%{path_contains.lower()}%"]
    with catalog.read() as con:
        total = con.execute(f"SELECT count(*) FROM videos {where}", params).fetchone()[0]
        cur = con.execute(
            f"SELECT video_id, path, duration, fps, frames, width, height, codec, has_audio, num_shots, analyzed_at "
            f"FROM videos {where} ORDER BY path, video_id LIMIT ? OFFSET ?",
            params + [page.limit, page.offset],
        )
        items = _dicts(cur)
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


def get_video(catalog: Reader, video_id: str) -> dict | None:
    """A video row with all its shots (in order) and transitions; None if unknown."""
    with catalog.read() as con:
        cur = con.execute("SELECT * FROM videos WHERE video_id = ?", [video_id])
        rows = _dicts(cur)
        if not rows:
            return None
        video = rows[0]
        video["shots"] = _dicts(con.execute("SELECT * FROM shots WHERE video_id = ? ORDER BY start_frame", [video_id]))
        video["transitions"] = _dicts(
            con.execute("SELECT * FROM transitions WHERE video_id = ? ORDER BY start_frame", [video_id])
        )
    return video


def list_shots(catalog: Reader, page: Page, filters: dict[str, str], video_id: str | None = None,
               order: str | None = None, camera_move: str | None = None) -> dict:
    """One page of shots matching `min_<col>` / `max_<col>` filters on numeric shot columns.

    `order` is a numeric column or `-column` for descending; default is video then time.
    """
    page.check()
    with catalog.read() as con:
        allowed = numeric_columns(con, catalog)
        clauses, params = [], []
        for key, raw in filters.items():
            bound, _, col = key.partition("_")
            if bound not in ("min", "max") or col not in allowed:
                raise QueryError(f"unknown filter {key!r}; use min_<column> or max_<column> with one of: {', '.join(allowed)}")
            try:
                value = float(raw)
            except ValueError:
                raise QueryError(f"filter {key} needs a number, got {raw!r}") from None
            if value != value or value in (float("inf"), float("-inf")):
                raise QueryError(f"filter {key} needs a finite number, got {raw!r}")
            clauses.append(f"{col} {'>=' if bound == 'min' else '<='} ?")
            params.append(value)
        if video_id:
            clauses.append("video_id = ?")
            params.append(video_id)
        if camera_move:
            clauses.append("camera_move = ?")
            params.append(camera_move)
        order_sql = "video_id, start_frame"
        if order:
            col = order.lstrip("-")
            if col not in allowed:
                raise QueryError(f"cannot order by {order!r}; use one of: {', '.join(allowed)} (prefix '-' for descending)")
            order_sql = f"{col} {'DESC' if order.startswith('-') else 'ASC'} NULLS LAST, shot_id"
        where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
        total = con.execute(f"SELECT count(*) FROM shots {where}", params).fetchone()[0]
        items = _dicts(con.execute(
            f"SELECT * FROM shots {where} ORDER BY {order_sql} LIMIT ? OFFSET ?", params + [page.limit, page.offset]
        ))
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


def get_shot(catalog: Reader, shot_id: str) -> dict | None:
    """A shot with its metrics, keyframes, neighbouring transitions, caption and video; None if unknown."""
    with catalog.read() as con:
        rows = _dicts(con.execute("SELECT * FROM shots WHERE shot_id = ?", [shot_id]))
        if not rows:
            return None
        shot = rows[0]
        vid, start, end = shot["video_id"], shot["start_frame"], shot["end_frame"]
        shot.setdefault("caption", None)
        shot["video"] = _dicts(con.execute(
            "SELECT video_id, path, duration, fps, width, height, num_shots FROM videos WHERE video_id = ?", [vid]
        ))[0]
        shot["keyframes"] = _dicts(con.execute(
            "SELECT frame, pts_time, width, height FROM keyframes WHERE shot_id = ? ORDER BY frame", [shot_id]
        ))
        # A transition touches this shot if it ends just before it starts (into it) or
        # starts just after it ends (out of it); a cut's frame is the new shot's first frame.
        trans = _dicts(con.execute(
            "SELECT kind, start_frame, end_frame, start_time, end_time, confidence FROM transitions "
            "WHERE video_id = ? AND end_frame >= ? AND start_frame <= ? ORDER BY start_frame",
            [vid, start - 1, end + 1],
        ))
        for t in trans:
            t["side"] = "in" if t["start_frame"] <= start else "out"
        shot["transitions"] = trans
        prev_next = con.execute(
            "SELECT (SELECT shot_id FROM shots WHERE video_id = ? AND start_frame < ? ORDER BY start_frame DESC LIMIT 1),"
            "       (SELECT shot_id FROM shots WHERE video_id = ? AND start_frame > ? ORDER BY start_frame LIMIT 1)",
            [vid, start, vid, start],
        ).fetchone()
        shot["prev_shot_id"], shot["next_shot_id"] = prev_next
    return shot


def shot_media_row(catalog: Reader, shot_id: str) -> dict | None:
    """What the media routes need: times, source path, rotation, keyframe paths."""
    with catalog.read() as con:
        rows = _dicts(con.execute(
            "SELECT s.shot_id, s.video_id, s.start_frame, s.end_frame, s.start_time, s.end_time, v.path AS source, "
            "v.rotation, v.fingerprint, v.frames AS source_frames FROM shots s JOIN videos v USING (video_id) "
            "WHERE s.shot_id = ?",
            [shot_id],
        ))
        if not rows:
            return None
        row = rows[0]
        row["keyframes"] = [r[0] for r in con.execute(
            "SELECT path FROM keyframes WHERE shot_id = ? ORDER BY frame", [shot_id]
        ).fetchall()]
        row["export_clips"] = []
    # Exports started from the server write CATALOG/exports/NAME/clips/<video_id>/<shot_id>.mp4:
    # reuse such a clip instead of cutting the shot again.
    for found in sorted(glob.glob(os.path.join(glob.escape(catalog.root), "exports", "*", "clips",
                                               row["video_id"], f"{shot_id}.mp4"))):
        row["export_clips"].append(os.path.relpath(found, catalog.root))
    return row


def list_errors(catalog: Reader, page: Page) -> dict:
    """One page of error rows, newest first."""
    page.check()
    with catalog.read() as con:
        total = con.execute("SELECT count(*) FROM errors").fetchone()[0]
        # `kind` (input / internal) came with schema 4; a catalog not yet migrated has none.
        kind = "kind" if "kind" in column_types(con, "errors") else "NULL AS kind"
        items = _dicts(con.execute(
            f"SELECT path, stage, message, {kind}, logged_at, fingerprint FROM errors "
            "ORDER BY logged_at DESC, path LIMIT ? OFFSET ?",
            [page.limit, page.offset],
        ))
    return {"items": items, "total": total, "limit": page.limit, "offset": page.offset}


def error_paths(catalog: Reader) -> list[str]:
    with catalog.read() as con:
        return [r[0] for r in con.execute("SELECT DISTINCT path FROM errors WHERE path IS NOT NULL ORDER BY path").fetchall()]
