"""Runs started from the API: a background thread per run supervising one child process.

Why a child process and not `run_videos` in a server thread: DuckDB refuses, inside one
process, a read-write connection next to read-only ones ("different configuration"), so
a run committing from the server process would collide with the requests reading the
catalog. The child (`python -m videoforge.serve.runner --request-file F`) calls
`run_videos(..., cancel=event, on_event=...)` and is the catalog's single writer; its
events come back as JSON lines and a "cancel" line on its stdin sets its cancel event.
One run at a time per catalog (one writer). The request (thousands of input paths for a
big folder) travels in a private temporary file, not on the command line: the kernel caps one
argument at 128 KiB and all of them together (E2BIG), which a few thousand paths exceed.
"""

from __future__ import annotations

import json
import os
import contextlib
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field

MAX_EVENTS = 500
KEEP_FINISHED = 100   # finished runs kept for GET /api/runs; older ones are forgotten (a server lives for months)


class RunConflict(Exception):
    """Another run is still writing to this catalog."""


@dataclass
class RunState:
    run_id: str
    paths: list[str]                  # inputs of a run; the output folder of an export
    force: bool = False
    kind: str = "run"                 # run | export
    status: str = "starting"          # starting | running | finished | cancelled | failed
    done: int = 0
    total: int | None = None
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None
    summary: dict | None = None
    message: str | None = None
    events: list[dict] = field(default_factory=list)
    cancel_requested: bool = False

    def to_dict(self, events: bool = True) -> dict:
        d = {k: getattr(self, k) for k in ("run_id", "kind", "paths", "force", "status", "done", "total",
                                           "started_at", "finished_at", "summary", "message", "cancel_requested")}
        d["active"] = self.status in ("starting", "running")
        if events:
            d["events"] = list(self.events)
        return d


class RunManager:
    """Starts, follows and cancels runs on one catalog."""

    def __init__(self, catalog_root: str, workers: int | None = None, engine: str = "local",
                 config_json: str | None = None, address: str | None = None):
        self.catalog_root = catalog_root
        self.workers = workers
        self.engine = engine
        self.address = address
        self.config_json = config_json   # AnalysisConfig.to_json(); None = defaults
        self._runs: dict[str, RunState] = {}
        self._procs: dict[str, subprocess.Popen] = {}
        self._lock = threading.Lock()

    def active(self) -> RunState | None:
        with self._lock:
            return next((r for r in self._runs.values() if r.status in ("starting", "running")), None)

    def start(self, paths: list[str], force: bool = False) -> RunState:
        """Start a run over absolute `paths` (already checked to be under --media-root)."""
        request = {"kind": "run", "inputs": list(paths), "catalog": self.catalog_root, "force": force,
                   "workers": self.workers, "engine": self.engine, "address": self.address, "config": self.config_json}
        return self._launch(RunState(run_id=uuid.uuid4().hex[:12], paths=list(paths), force=force), request)

    def start_export(self, out_dir: str, fmt: str, where: str | None, min_seconds: float | None) -> RunState:
        """Export shots into `out_dir` (inside the catalog) as a background job with progress."""
        request = {"kind": "export", "catalog": self.catalog_root, "out": out_dir, "format": fmt, "where": where,
                   "min_seconds": min_seconds, "workers": self.workers}
        return self._launch(RunState(run_id=uuid.uuid4().hex[:12], paths=[out_dir], kind="export"), request)

    def start_plan(self, doc: dict) -> RunState:
        """Execute a plan document (decision center) as a background job: the child process is
        `run --plan`'s equivalent, so its CPU (start-up included) is what the plan promised."""
        request = {"kind": "plan", "catalog": self.catalog_root, "plan": doc}
        return self._launch(RunState(run_id=uuid.uuid4().hex[:12], paths=list(doc.get("inputs") or []), kind="plan"),
                            request)

    def _launch(self, run: RunState, request: dict) -> RunState:
        # Exports only read the catalog, but their error rows are written to it: one job at a time.
        with self._lock:
            busy = next((r for r in self._runs.values() if r.status in ("starting", "running")), None)
            if busy is not None:
                raise RunConflict(f"{busy.kind} {busy.run_id} is still running on this catalog; wait for it or cancel it")
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            fd, request_file = tempfile.mkstemp(prefix=f"videoforge-run-{run.run_id}-", suffix=".json")  # mode 0600
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump(request, f)
                proc = subprocess.Popen(
                    [sys.executable, "-m", "videoforge.serve.runner", "--request-file", request_file],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                )
            except BaseException:
                with contextlib.suppress(OSError):
                    os.remove(request_file)
                raise
            self._runs[run.run_id] = run
            self._procs[run.run_id] = proc
            self._forget_old()
        threading.Thread(target=self._follow, args=(run, proc, request_file), daemon=True,
                         name=f"run-{run.run_id}").start()
        return run

    def _follow(self, run: RunState, proc: subprocess.Popen, request_file: str | None = None) -> None:
        stderr_tail: list[str] = []

        def drain_stderr():
            for line in proc.stderr:
                stderr_tail.append(line.rstrip())
                del stderr_tail[:-20]

        threading.Thread(target=drain_stderr, daemon=True).start()
        for line in proc.stdout:
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            with self._lock:
                run.events.append(ev)
                del run.events[:-MAX_EVENTS]
                kind = ev.get("event")
                if kind == "start":
                    run.status, run.total = "running", ev.get("total")
                if "done" in ev:
                    run.done = ev["done"]
                if kind == "summary":
                    run.summary = ev.get("summary")
                if kind == "failed":
                    run.message = ev.get("message")
        rc = proc.wait()
        if request_file:   # the child removes it once read; this covers a child that died first
            with contextlib.suppress(OSError):
                os.remove(request_file)
        with self._lock:
            run.finished_at = time.time()
            if run.summary is not None and rc == 0:
                run.status = "cancelled" if run.summary.get("cancelled") else "finished"
            else:
                run.status = "failed"
                run.message = run.message or ("; ".join(stderr_tail[-3:]) or f"run process exited with code {rc}")
            self._procs.pop(run.run_id, None)

    def _forget_old(self) -> None:
        """Drop all but the KEEP_FINISHED most recently finished runs (caller holds the lock):
        each keeps up to MAX_EVENTS events and its input list, so the record must not grow forever."""
        done = sorted((r for r in self._runs.values() if r.finished_at is not None),
                      key=lambda r: r.finished_at, reverse=True)
        for r in done[KEEP_FINISHED:]:
            del self._runs[r.run_id]

    def get(self, run_id: str) -> RunState | None:
        with self._lock:
            return self._runs.get(run_id)

    def list(self) -> list[dict]:
        with self._lock:
            return [r.to_dict(events=False) for r in sorted(self._runs.values(), key=lambda r: -r.started_at)]

    def cancel(self, run_id: str) -> RunState | None:
        """Ask the run to stop after the videos in flight; finished videos stay committed."""
        with self._lock:
            run = self._runs.get(run_id)
            proc = self._procs.get(run_id)
            if run is None:
                return None
            run.cancel_requested = True
        if proc is not None and proc.poll() is None:
            try:
                proc.stdin.write("cancel\n")
                proc.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass
        return run

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel every run and wait for the children (server exit)."""
        for run_id in list(self._procs):
            self.cancel(run_id)
        deadline = time.time() + timeout
        for proc in list(self._procs.values()):
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()
