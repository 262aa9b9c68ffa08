"""Captioning never loses paid work (issue 20): captions and the cache are committed per batch
as replies arrive, a rerun asks nothing twice, and a 401/403 stops the run at once with the
reason. Against a real local HTTP server speaking the OpenAI protocol."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from conftest import VIDEOFORGE, run_cli
from curate_helpers import GOOD, FakeOpenAI
from test_curate_captions import _catalog_with_shots, make
from videoforge.curate.caption_run import caption_catalog
from videoforge.curate.cascade import CascadePolicy

ALL = CascadePolicy(min_suitability=None, skip_duplicates=False)


def captioned(cat) -> int:
    return cat.query("SELECT count(*) FROM shots WHERE caption_json IS NOT NULL")[1][0][0]


def cached(cat) -> int:
    return cat.query("SELECT count(*) FROM caption_cache")[1][0][0]


def test_kill9_mid_caption_keeps_every_committed_batch(tmp_path):
    cat = _catalog_with_shots(tmp_path, n=12)
    with FakeOpenAI(delay=0.25) as srv:
        cmd = [*VIDEOFORGE, "caption", cat.root, "--backend", "openai", "--base-url", srv.base_url, "--model", "m",
               "--all", "--concurrency", "1", "--commit-every", "2"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        deadline = time.time() + 120
        while len(srv.requests) < 7 and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
        sent_before = len(srv.requests)
        kept = captioned(cat)
        assert kept >= 4 and cached(cat) == kept     # the batches that finished are in, captions and cache alike
        r = run_cli("caption", cat.root, "--backend", "openai", "--base-url", srv.base_url, "--model", "m", "--all",
                    "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
    assert len(srv.requests) - sent_before == 12 - kept    # no request for a shot already captioned
    assert doc["cache_hits"] == kept and doc["calls_made"] == 12 - kept
    assert captioned(cat) == 12


def test_interrupt_keeps_what_arrived(tmp_path, monkeypatch):
    cat = _catalog_with_shots(tmp_path, n=6)
    with FakeOpenAI() as srv:
        cap = make(srv, concurrency=1)
        real = cap.caption_one
        n = {"calls": 0}

        def one(shot):
            n["calls"] += 1
            if n["calls"] == 4:
                raise KeyboardInterrupt   # Ctrl-C in the middle of the fourth request
            return real(shot)

        monkeypatch.setattr(cap, "caption_one", one)
        with pytest.raises(KeyboardInterrupt):
            caption_catalog(cat, cap, ALL, batch_size=100)
        assert captioned(cat) == 3 and cached(cat) == 3
        monkeypatch.setattr(cap, "caption_one", real)
        s = caption_catalog(cat, cap, ALL)
    assert s["cache_hits"] == 3 and s["calls_made"] == 3 and len(srv.requests) == 6


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_stops_at_once_with_the_reason(tmp_path, status):
    from videoforge.curate.captions import CaptionStopped

    cat = _catalog_with_shots(tmp_path, n=20)
    with FakeOpenAI(script=["good", "good"], default=f"e{status}") as srv:
        cap = make(srv, concurrency=2)
        with pytest.raises(CaptionStopped) as info:
            caption_catalog(cat, cap, ALL)
    msg = str(info.value)
    assert f"HTTP {status}" in msg and ("invalid api key" in msg or "forbidden" in msg), msg
    assert len(srv.requests) <= 2 + 2     # the two good ones and what was already in flight: no more
    assert captioned(cat) == 2            # what was paid for before the refusal is kept


def test_auth_failure_cli_exit_1(tmp_path):
    cat = _catalog_with_shots(tmp_path, n=8)
    with FakeOpenAI(default="e401") as srv:
        r = run_cli("caption", cat.root, "--backend", "openai", "--base-url", srv.base_url, "--model", "m", "--all",
                    "--concurrency", "1")
        assert len(srv.requests) == 1
    assert r.returncode == 1
    assert "HTTP 401" in r.stderr and "invalid api key" in r.stderr and "Traceback" not in r.stderr, r.stderr


def test_good_run_unchanged(tmp_path):
    cat = _catalog_with_shots(tmp_path, n=5)
    with FakeOpenAI() as srv:
        s = caption_catalog(cat, make(srv), ALL, batch_size=2)
    assert s["captioned"] == 5 and s["calls_made"] == 5 and cached(cat) == 5
    doc = json.loads(cat.query("SELECT caption_json FROM shots WHERE shot_id = 's3'")[1][0][0])
    assert doc["subject"] == GOOD["subject"]
