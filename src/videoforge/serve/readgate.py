"""Shared, writer-friendly read access to the catalog for a busy server.

DuckDB lets one process write a database file, and only while no other process has it
open. Opening a read-only connection per request makes a run's writer compete with every
request for the file (under load some connection is nearly always open), and each open
costs tens of milliseconds (about 120 ms measured on a loaded 2-core machine).

The gate keeps one read-only connection (the "anchor") while requests are in flight and
hands each request its own cursor on it. It lets go of the file:
- as soon as a writer says it is waiting (`Catalog` touches `catalog.duckdb.write-wanted`
  while it retries for the lock): new requests wait, the ones in flight finish, the anchor
  closes, and requests resume once the writer has committed;
- after `max_hold` seconds of continuous holding, for a short `pause`, for writers that
  do not signal (other tools, older versions);
- when idle for `idle_close` seconds.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from videoforge.catalog import Catalog
from videoforge.catalog.sqlfilter import time_limit
from videoforge.catalog.store import WANT_WRITE_SUFFIX, writer_waiting


class ReadGate:
    """Many concurrent readers on one read-only connection that steps aside for writers."""

    def __init__(self, catalog: Catalog, max_hold: float = 5.0, pause: float = 0.5, idle_close: float = 0.25,
                 writer_wait: float = 30.0, query_timeout: float | None = 30.0):
        self.catalog = catalog
        # A request's queries are interrupted after this many seconds (QueryTimeout), so no
        # request can hold the shared connection, and with it the writer, indefinitely.
        self.query_timeout = query_timeout
        self.root = catalog.root
        self.max_hold, self.pause, self.idle_close, self.writer_wait = max_hold, pause, idle_close, writer_wait
        self._marker = catalog.db_path + WANT_WRITE_SUFFIX
        self._cond = threading.Condition()
        self._con = None
        self._users = 0
        self._opened_at = 0.0
        self._last_release = 0.0
        self._closing = False
        self._stop = False
        self._memo: dict = {}
        threading.Thread(target=self._janitor, daemon=True, name="catalog-readgate").start()

    # -- writer signal -------------------------------------------------------------------
    def writer_waiting(self) -> bool:
        return writer_waiting(self._marker)

    # -- holding the file ----------------------------------------------------------------
    def _must_yield(self) -> bool:
        return self.writer_waiting() or (self._con is not None and time.monotonic() - self._opened_at > self.max_hold)

    def memo(self, key, compute):
        """`compute()` once per opening of the shared connection. While it is open no process
        can write the file (DuckDB's lock), so e.g. the schema cannot change under the cache."""
        with self._cond:
            if key in self._memo:
                return self._memo[key]
        value = compute()
        with self._cond:
            self._memo[key] = value
        return value

    def _close_locked(self) -> None:
        self._memo = {}
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None

    def _step_aside_locked(self) -> None:
        """Called with the lock held and no users: close, then give the writer its turn."""
        self._closing = True
        self._close_locked()
        self._cond.release()
        try:
            deadline = time.monotonic() + self.writer_wait
            time.sleep(self.pause)   # long enough for a retrying writer (backoff <= 0.4 s) to get the file
            while self.writer_waiting() and time.monotonic() < deadline:
                time.sleep(0.02)
        finally:
            self._cond.acquire()
            self._closing = False
            self._cond.notify_all()

    @contextlib.contextmanager
    def read(self) -> Iterator:
        """A cursor on the shared read-only connection (waits while a writer has its turn)."""
        with self._cond:
            while True:
                while self._closing:
                    self._cond.wait()
                if self._con is not None and self._must_yield():
                    if self._users == 0:
                        self._step_aside_locked()
                        continue
                    self._cond.wait(0.05)   # in-flight requests finish; the last one steps aside
                    continue
                break
            if self._con is None:
                if self.writer_waiting():
                    self._step_aside_locked()
                self._con = self.catalog._connect(read_only=True)   # retries while a writer holds the file
                self._opened_at = time.monotonic()
            self._users += 1
            con = self._con
        cur = con.cursor()
        try:
            with time_limit(cur, self.query_timeout, "the request's catalog query"):
                yield cur
        finally:
            try:
                cur.close()
            finally:
                with self._cond:
                    self._users -= 1
                    self._last_release = time.monotonic()
                    if self._users == 0:
                        self._cond.notify_all()

    hold = read   # for calls that open their own connections (search, export checks): they share the instance

    def _janitor(self) -> None:
        """Close an idle anchor, and let a signalling writer in even when no request arrives."""
        while not self._stop:
            time.sleep(0.05)
            with self._cond:
                if self._con is None or self._users or self._closing:
                    continue
                if self.writer_waiting() or time.monotonic() - self._last_release > self.idle_close:
                    self._close_locked()

    def close(self) -> None:
        self._stop = True
        with self._cond:
            self._close_locked()
