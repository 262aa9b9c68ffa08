"""Open the catalog safely from many processes.

DuckDB lets one process hold a database file read-write at a time, and a read-write
holder locks out readers. So nobody keeps the file open: the run's single writer opens
it only to commit one video's rows in one transaction, and readers (`videoforge sql`,
the server) open it read-only per query. Both retry briefly when the other holds it.
"""

from __future__ import annotations

import contextlib
import os
import random
import threading
import time
from collections.abc import Iterator

import duckdb

from videoforge.catalog.schema import MIGRATIONS, SCHEMA_VERSION
from videoforge.catalog.transaction import transaction

DB_NAME = "catalog.duckdb"


class CatalogError(Exception):
    """The catalog folder or database cannot be used; the message says why and what to do."""


# Set by `videoforge serve` (and inherited by the runs it starts): SQL fragments from HTTP
# requests (`where`, filters) run on these connections, so DuckDB's file and network
# functions (read_text, read_csv, glob, ATTACH, httpfs) are switched off there, and the
# configuration is locked (no SET / RESET / PRAGMA can change memory, threads or access
# settings of the database instance the server's requests share).
NO_EXTERNAL_ACCESS_ENV = "VIDEOFORGE_SQL_NO_EXTERNAL_ACCESS"


def _connect_config() -> dict:
    if os.environ.get(NO_EXTERNAL_ACCESS_ENV) == "1":
        return {"enable_external_access": False, "lock_configuration": True}
    return {}


WANT_WRITE_SUFFIX = ".write-wanted"   # the marker `_connect` leaves while a writer waits (as serve/readgate.py reads it)
MARKER_FRESH_S = 3.0   # a waiting writer refreshes it on every retry; an older one is a killed writer's leftover


def writer_waiting(marker: str) -> bool:
    """Whether a writer of another connection waits for the file: its marker is fresh (the hold and
    the server's read gate both give the file up then)."""
    try:
        return time.time() - os.stat(marker).st_mtime < MARKER_FRESH_S
    except OSError:
        return False


class _Held:
    """The connection of a `Catalog.hold()` block: opened on first use, closed when idle, and given
    up at a job's end once another process wants the file (see `hold`)."""

    def __init__(self, idle: float, max_hold: float = 1.0, pause: float = 0.5, close_wait: float = 10.0):
        self.idle, self.max_hold, self.pause, self.close_wait = idle, max_hold, pause, close_wait
        self.lock = threading.Lock()
        self.con: duckdb.DuckDBPyConnection | None = None
        self.users = 0
        self.last = 0.0
        self.opened_at = 0.0
        self.rest_until = 0.0   # after giving the file up: per-job connections until then, as outside a hold
        self.marker: str | None = None
        self.janitor: threading.Thread | None = None
        self.closed = False   # set by close(): later jobs open their own connection, as outside a hold

    def _writer_waiting(self) -> bool:
        return self.marker is not None and writer_waiting(self.marker)

    def _release_if_due_locked(self, now: float) -> None:
        """With the lock held: close the idle connection when a writer waits for the file or it has been
        open `max_hold` seconds (a reader of another process leaves no marker), then rest `pause` s."""
        if self.con is None or self.users:
            return
        if self._writer_waiting() or now - self.opened_at > self.max_hold:
            self._close_con_locked()
            self.rest_until = now + self.pause

    def _close_con_locked(self) -> None:
        # a close() that raises must still forget the connection (and not kill the cleanup thread)
        try:
            self.con.close()
        except duckdb.Error:
            pass
        finally:
            self.con = None

    @contextlib.contextmanager
    def cursor(self, catalog: "Catalog", read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of the held connection, or a per-job connection while resting or once closed.
        `read_only`: the kind of connection the job would open outside a hold (used once closed)."""
        counted = False   # the count, the yield and its undoing in one try: an interrupt between them
        try:              # (KeyboardInterrupt) must not leave a user behind (close() would wait for it)
            with self.lock:
                self.marker = catalog.db_path + WANT_WRITE_SUFFIX
                now = time.monotonic()
                if self.closed:   # a thread that found the hold just before its block ended
                    resting, per_job_read_only = True, read_only
                else:
                    self._release_if_due_locked(now)
                    resting = self.con is None and (now < self.rest_until or self._writer_waiting())
                    # (read-write while resting, as the held cursors: a read-only instance beside another
                    # thread's read-write one in this process would be refused)
                    per_job_read_only = False
                if not resting:
                    if self.con is None:
                        self.con = catalog._connect(read_only=False)
                        self.opened_at = time.monotonic()
                    cur = self.con.cursor()   # before counting the user: a failure here leaves no user behind
                    self.users += 1
                    counted = True
            if resting:   # other processes get the file between this process's jobs, as without a hold
                con = catalog._connect(read_only=per_job_read_only)
                try:
                    yield con
                finally:
                    con.close()
                return
            yield cur
        finally:
            if counted:
                with self.lock:
                    with contextlib.suppress(duckdb.Error):
                        cur.close()
                    self.users -= 1
                    self.last = time.monotonic()
                    self._release_if_due_locked(self.last)
                    if self.con is not None and (self.janitor is None or not self.janitor.is_alive()):
                        self.janitor = threading.Thread(target=self._close_when_idle, daemon=True,
                                                        name="catalog-hold")
                        self.janitor.start()

    def _close_when_idle(self) -> None:
        while True:
            with self.lock:
                if self.con is None:
                    return
                now = time.monotonic()
                self._release_if_due_locked(now)   # a writer that starts waiting between two jobs
                if self.con is None:
                    return
                wait = self.last + self.idle - now
                if self.users == 0 and wait <= 0:
                    self._close_con_locked()
                    return
            time.sleep(min(max(wait, 0.01), 0.05) if self.users == 0 else 0.05)

    def close(self) -> None:
        """Close the connection once no job uses it (another thread's job inside the block ends first),
        or after `close_wait` seconds anyway (a job that never ends must not hang the process's exit)."""
        deadline = time.monotonic() + self.close_wait
        with self.lock:
            self.closed = True   # no job starts on the held connection any more (see cursor)
        while True:
            with self.lock:
                if self.users == 0 or time.monotonic() > deadline:
                    if self.con is not None:
                        with contextlib.suppress(duckdb.Error):
                            self.con.close()
                        self.con = None
                    return
            time.sleep(0.01)


_HELD: dict[str, _Held] = {}
_HELD_LOCK = threading.Lock()


def _held(db_path: str) -> _Held | None:
    return _HELD.get(db_path) if _HELD else None


def _is_lock_error(e: Exception) -> bool:
    msg = str(e).lower()
    # "different configuration": a read-only open while this process has the file open read-write
    # (a hold's connection, until its block ends): wait for it as for another process's lock
    return "lock" in msg or "conflicting" in msg or "being used" in msg or "different configuration" in msg


class Catalog:
    """A catalog folder: `catalog.duckdb`, `keyframes/`, and whatever later stages add."""

    def __init__(self, root: str | os.PathLike, lock_timeout: float = 60.0):
        self.root = os.path.abspath(os.fspath(root))
        self.db_path = os.path.join(self.root, DB_NAME)
        self.lock_timeout = lock_timeout

    # -- paths ---------------------------------------------------------------------------
    @property
    def keyframe_dir(self) -> str:
        return os.path.join(self.root, "keyframes")

    def exists(self) -> bool:
        return os.path.exists(self.db_path)

    # -- opening -------------------------------------------------------------------------
    def _connect(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.005
        # A writer kept waiting says so in a marker file, refreshed on every retry, so a busy
        # reader (the server's ReadGate) can let go of the file instead of starving it.
        marker = None if read_only else self.db_path + WANT_WRITE_SUFFIX
        touched = False   # only a marker this call made or refreshed is removed (another writer may wait)
        try:
            while True:
                try:
                    return duckdb.connect(self.db_path, read_only=read_only, config=_connect_config())
                except (duckdb.IOException, duckdb.ConnectionException) as e:
                    if not _is_lock_error(e) or time.monotonic() > deadline:
                        raise CatalogError(f"{self.db_path}: cannot open catalog ({e})") from e
                    if marker:
                        with contextlib.suppress(OSError):
                            with open(marker, "a"):
                                os.utime(marker)
                            touched = True
                    time.sleep(delay * (1 + random.random()))
                    delay = min(delay * 2, 0.2)
        finally:
            if touched:
                with contextlib.suppress(OSError):
                    os.remove(marker)

    def create(self) -> "Catalog":
        """Create the folder and database if needed and bring the schema up to date."""
        try:
            os.makedirs(self.keyframe_dir, exist_ok=True)
        except OSError as e:
            raise CatalogError(f"{self.root}: cannot create catalog folder ({e.strerror}); choose a writable --catalog") from e
        if not os.access(self.root, os.W_OK):
            raise CatalogError(f"{self.root}: catalog folder is not writable; choose a writable --catalog")
        with self.write() as con:
            migrate(con)
        return self

    @contextlib.contextmanager
    def write(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short read-write connection: open, do one job, close. Wrap changes in a transaction.
        Inside `hold()`, a cursor of the held connection instead (see there)."""
        held = _held(self.db_path)
        if held is not None:
            with held.cursor(self) as cur:
                yield cur
            return
        con = self._connect(read_only=False)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection that waits while a writer commits."""
        if not self.exists():
            raise CatalogError(f"{self.root}: no catalog here (run `videoforge run INPUT --catalog {self.root}` first)")
        held = _held(self.db_path)
        if held is not None:
            with held.cursor(self, read_only=True) as cur:
                yield cur
            return
        con = self._connect(read_only=True)
        try:
            yield con
        finally:
            con.close()

    @contextlib.contextmanager
    def hold(self, idle: float = 0.25, max_hold: float = 1.0, pause: float = 0.5) -> Iterator["Catalog"]:
        """A burst of short jobs in this process: inside the block, `read()` and `write()` (of any
        Catalog on this database) are cursors of one read-write connection, opened at the first
        job and closed once no job has used it for `idle` seconds (and at the end of the block).

        Why: opening the database costs ~0.02-0.03 CPU-s each time (DuckDB builds its instance:
        the built-in catalog, the file, the WAL), and `run --plan`'s post stages open it ~10 times
        within a second (session 12).

        Other processes (the server's reads, `videoforge sql`, a parallel run) still get the file:
        at the end of a job that leaves the connection unused it is closed at once when a writer
        waits (the `.write-wanted` marker `_connect` leaves, as the server's read gate obeys it) or
        when it has been open `max_hold` seconds (a waiting reader leaves no marker); the next
        `pause` seconds' jobs (and any while the marker is fresh) then open their own connection
        each, as outside a hold, before the held one opens again. So jobs coming closer than
        `idle` (caption batches) never keep the file from others for more than ~`max_hold` s.

        The hold is the whole process's, not the calling thread's: while it lasts, any thread's
        `read()` of this database gets a cursor of the read-write connection. Only `run --plan`
        holds today (plan/execute.py). Jobs of several threads that overlap keep the connection in
        use (a user count above 0), so the `max_hold` / waiting-writer release happens only at an
        instant without a running job: threads whose jobs always overlap keep the file until one
        such gap (or the block's end). Not for code that starts processes that open the catalog
        themselves (they would wait for the file), nor around long jobs that do not use it.
        Outside the block nothing changes; nested blocks share the outer one."""
        path = self.db_path
        with _HELD_LOCK:
            outer = _HELD.get(path)
            if outer is None:
                _HELD[path] = _Held(idle, max_hold, pause)
        if outer is not None:
            yield self
            return
        try:
            yield self
        finally:
            with _HELD_LOCK:
                h = _HELD.pop(path)
            h.close()

    def query(self, sql: str, params: list | None = None) -> tuple[list[str], list[tuple]]:
        """Run one read-only query; returns (column names, rows)."""
        with self.read() as con:
            cur = con.execute(sql, params or [])
            cols = [d[0] for d in cur.description] if cur.description else []
            return cols, cur.fetchall()

    def query_dicts(self, sql: str, params: list | None = None) -> list[dict]:
        cols, rows = self.query(sql, params)
        return [dict(zip(cols, r)) for r in rows]

    def columns(self, table: str) -> dict[str, str]:
        """Column name -> DuckDB type of `table`, in table order (curation adds columns over time)."""
        with self.read() as con:
            return column_types(con, table)


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name -> DuckDB type name (e.g. 'DOUBLE', 'DECIMAL(9,3)') of `table`, in table order;
    empty when there is no such table."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: str(dtype) for name, dtype in rows}


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    try:
        row = con.execute("SELECT val FROM meta WHERE name = 'schema_version'").fetchone()
    except duckdb.CatalogException:
        return 0
    return int(row[0]) if row else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations in one transaction each; returns the resulting version."""
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise CatalogError(f"catalog schema version {current} is newer than this videoforge ({SCHEMA_VERSION}); upgrade videoforge")
    for version in range(current + 1, SCHEMA_VERSION + 1):
        with transaction(con):
            for stmt in MIGRATIONS[version - 1]:
                con.execute(stmt)
            con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(version)])
    return SCHEMA_VERSION
