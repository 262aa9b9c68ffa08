"""Joining an existing Ray cluster: a head started with `ray start`, reached over Ray Client (ray://)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import gradient_clip, run_cli
from test_serve_support import catalog_rows, same_rows
from videoforge.io.encode import write_video

pytest.importorskip("ray")
pytest.importorskip("grpc", reason="Ray Client (ray://) needs grpcio: pip install 'ray[client]'")

RUN_ARGS = ["--workers", "2", "--detector", "none", "--no-ocr", "-q"]
# Recent Ray turns on token authentication for new clusters; a test cluster on loopback opts out
# (a real cluster's driver needs the cluster's token instead, see docs/SERVING.md).
NO_AUTH = {"RAY_AUTH_MODE": "disabled"}
# On a busy 2-core machine the head's per-client server can take longer than Ray's 30 s default to come up.
HEAD_ENV = {**NO_AUTH, "RAY_CLIENT_SERVER_CHECK_CHANNEL_TIMEOUT_S": "120"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def ray_head():
    """A separate 2-CPU Ray head in its own process group (killed as a group; never `ray stop`,
    which would stop every Ray on the machine)."""
    ray_bin = shutil.which("ray") or os.path.join(os.path.dirname(os.sys.executable), "ray")
    gcs, client = free_port(), free_port()
    temp = tempfile.mkdtemp(prefix="vfray", dir="/tmp")   # Ray's socket paths must stay under 107 chars
    proc = subprocess.Popen(
        [ray_bin, "start", "--head", "--block", "--num-cpus", "2", "--port", str(gcs), "--ray-client-server-port",
         str(client), "--include-dashboard", "false", "--disable-usage-stats", "--temp-dir", temp],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env={**os.environ, **HEAD_ENV})
    deadline = time.time() + 120
    while True:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", client)) == 0:
                break
        if proc.poll() is not None or time.time() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail(f"ray head did not start: {proc.stderr.read().decode()[-2000:] if proc.poll() is not None else 'timeout'}")
        time.sleep(0.5)
    time.sleep(2)   # the client server accepts before the head is fully up
    yield f"ray://127.0.0.1:{client}"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)   # the head and every Ray process it started
    proc.wait()
    shutil.rmtree(temp, ignore_errors=True)


def test_run_on_a_cluster_over_ray_client_equals_local(ray_head, tmp_path):
    inputs = tmp_path / "in"
    for k in range(4):
        write_video(inputs / f"c{k}.mp4", gradient_clip(30 + 4 * k, seed=800 + k), fps=25)
    local, remote = str(tmp_path / "local"), str(tmp_path / "remote")
    r1 = run_cli("run", inputs, "--catalog", local, *RUN_ARGS)
    assert r1.returncode == 0, r1.stderr
    r2 = run_cli("run", inputs, "--catalog", remote, "--engine", "ray", "--address", ray_head, *RUN_ARGS, env=NO_AUTH)
    if r2.returncode != 0 and "Starting Ray client server failed" in r2.stderr:
        # Ray's own per-client server did not start in time (machine load), before any of our
        # code ran: try once more rather than report Ray's startup as our failure.
        r2 = run_cli("run", inputs, "--catalog", remote, "--engine", "ray", "--address", ray_head, *RUN_ARGS, env=NO_AUTH)
    assert r2.returncode == 0, r2.stderr[-3000:]
    a, b = catalog_rows(local), catalog_rows(remote)
    assert len(a["videos"]) == 4 and same_rows(a, b)
