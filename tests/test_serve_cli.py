"""`videoforge serve` as a real process: generated token, 127.0.0.1 by default, clear usage errors."""

from __future__ import annotations

import os
import socket
import subprocess
import time

import httpx

from conftest import VIDEOFORGE, run_cli
from test_serve_support import build_catalog


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_prints_a_token_and_requires_it(tmp_path):
    cat, media, _ = build_catalog(str(tmp_path))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "VIDEOFORGE_TOKEN"}
    proc = subprocess.Popen([*VIDEOFORGE, "serve", cat, "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("token: "), line
        token = line.split(": ", 1)[1].strip()
        assert len(token) >= 32
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        while True:
            try:
                r = httpx.get(base + "/api/videos", timeout=2)
                break
            except httpx.HTTPError:
                assert time.time() < deadline and proc.poll() is None
                time.sleep(0.2)
        assert r.status_code == 401
        ok = httpx.get(base + "/api/videos", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json()["total"] == 2
        # bound to loopback only
        conns = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True).stdout
        assert f"127.0.0.1:{port}" in conns, conns
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_usage_errors(tmp_path):
    r = run_cli("serve", tmp_path / "nothing")
    assert r.returncode == 1 and "no catalog here" in r.stderr
    r = run_cli("serve", tmp_path, "--port", "0")
    assert r.returncode == 2 and "--port" in r.stderr
    r = run_cli("serve", tmp_path, "--media-root", tmp_path / "missing")
    assert r.returncode == 2 and "--media-root" in r.stderr
    r = run_cli("serve", tmp_path, env={"VIDEOFORGE_TOKEN": "short"})
    assert r.returncode == 2 and "VIDEOFORGE_TOKEN" in r.stderr
