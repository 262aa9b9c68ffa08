"""The catalog's run lock: one analysis run writes a catalog at a time.

`CATALOG/run.lock` holds who has it (pid, host, boot id, the process's start time, the
command). A second run waits for it (saying who holds it) or, with a time limit, gives up
naming the holder. A lock whose holder is gone is stale and taken over: same host and boot,
and the pid is not alive or is now another process (its start time differs), or the machine
rebooted since. So `kill -9` then rerun just works. A holder on another host, or in another
pid namespace (container) on this one, cannot be checked from here; its lock is honoured until
it is removed.

Deciding "stale" and replacing the file happen under a short `flock` on `run.lock.guard`, so
two waiters never both take over (the kernel drops a flock when its process dies).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fcntl
import json
import os
import socket
import sys
import time
from collections.abc import Callable

from videoforge.catalog.store import CatalogError

LOCK_NAME = "run.lock"


class CatalogLockedError(CatalogError):
    """Another live run holds the catalog; the message names it."""


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id") as f:
            return f.read().strip()
    except OSError:
        return ""


def _pid_ns() -> str:
    """This process's pid namespace (e.g. 'pid:[4026531836]'): containers sharing a hostname
    and boot id still number their processes apart, so a pid is only checkable in its own."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def _start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), None if unknown or gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe(info: dict) -> str:
    return (f"pid {info.get('pid')} on host {info.get('host')}, started {info.get('started', '?')}"
            f" ({info.get('command', '?')})")


class RunLock:
    """`with RunLock(root, wait=None):` - hold the catalog's run lock (wait=None: wait forever)."""

    def __init__(self, root: str, wait: float | None = None, on_wait: Callable[[dict], None] | None = None,
                 on_takeover: Callable[[dict], None] | None = None, cancel=None):
        self.root = os.path.abspath(root)
        self.path = os.path.join(self.root, LOCK_NAME)
        self.wait = wait
        self.on_wait = on_wait or (lambda info: print(f"waiting for the catalog run lock of {self.root}, held by "
                                                      f"{describe(info)}", file=sys.stderr, flush=True))
        self.on_takeover = on_takeover or (lambda info: print(f"taking over a stale catalog run lock of {self.root} "
                                                              f"(its run is gone: {describe(info)})", file=sys.stderr, flush=True))
        self.cancel = cancel   # a threading.Event-like: set while waiting -> give up
        self.info: dict | None = None
        self.took_over: dict | None = None   # the stale holder replaced, if any

    def _mine(self) -> dict:
        pid = os.getpid()
        return {"pid": pid, "host": socket.gethostname(), "boot_id": _boot_id(), "pid_ns": _pid_ns(),
                "start_ticks": _start_ticks(pid),
                "started": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
                "command": " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(sys.argv))[:300]}

    def _read(self) -> dict | None:
        try:
            with open(self.path) as f:
                return json.load(f)
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}   # unreadable or torn (killed while writing it): treated as stale below

    def is_stale(self, info: dict) -> bool:
        if not info or "pid" not in info:
            return True
        if info.get("host") != socket.gethostname():
            return False   # another machine's process: cannot be checked from here
        if info.get("boot_id") and info["boot_id"] != _boot_id():
            return True    # the machine rebooted since
        if info.get("pid_ns") and info["pid_ns"] != _pid_ns():
            return False   # another container on this host: its pid means nothing here
        pid = int(info["pid"])
        if not _alive(pid):
            return True
        ticks = _start_ticks(pid)
        return info.get("start_ticks") is not None and ticks is not None and ticks != info["start_ticks"]

    @contextlib.contextmanager
    def _guard(self):
        fd = os.open(self.path + ".guard", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)   # releases the flock

    def _try(self) -> dict | None:
        """Take the lock if free or stale; else return the live holder's info."""
        with self._guard():
            info = self._read()
            if info is not None:
                if not self.is_stale(info):
                    return info
                self.took_over = info
                self.on_takeover(info)
            mine = self._mine()
            tmp = f"{self.path}.{mine['pid']}.tmp"
            with open(tmp, "w") as f:
                json.dump(mine, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)   # whole or absent, never torn
            self.info = mine
            return None

    def acquire(self) -> "RunLock":
        deadline = None if self.wait is None else time.monotonic() + self.wait
        told = False
        delay = 0.1
        while True:
            try:
                holder = self._try()
            except OSError as e:
                raise CatalogError(f"{self.root}: cannot write to the catalog (taking its run lock failed: "
                                   f"{e.strerror or e}); free disk space or choose a writable --catalog") from e
            if holder is None:
                return self
            if self.cancel is not None and self.cancel.is_set():
                raise CatalogLockedError(f"{self.root}: cancelled while waiting for the catalog run lock ({describe(holder)})")
            if deadline is not None and time.monotonic() >= deadline:
                raise CatalogLockedError(
                    f"{self.root}: another run is writing this catalog ({describe(holder)}); wait for it to finish "
                    f"(or rerun with a longer --lock-wait). If that run is gone, remove {self.path}")
            if not told:
                self.on_wait(holder)
                told = True
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)

    def release(self) -> None:
        if self.info is None:
            return
        with contextlib.suppress(OSError), self._guard():
            cur = self._read()
            if cur and cur.get("pid") == self.info["pid"] and cur.get("start_ticks") == self.info["start_ticks"] \
                    and cur.get("host") == self.info["host"]:
                os.remove(self.path)
        self.info = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
