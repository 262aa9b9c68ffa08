"""Runs through the API: start, follow, cancel, retry errors; reads while a run writes."""

from __future__ import annotations

import os
import subprocess
import time

import pytest
from fastapi.testclient import TestClient

from conftest import VIDEOFORGE, gradient_clip
from test_serve_support import build_catalog
from videoforge.catalog import Catalog
from videoforge.engine.config import AnalysisConfig
from videoforge.serve.app import create_app
from videoforge.io.encode import write_video

TOKEN = "Kq7vXr2-Lp9wTz4n-api"   # strong enough for the server (see auth.token_weakness)
H = {"Authorization": f"Bearer {TOKEN}"}
FAST = AnalysisConfig(detector="none", scorers=[], ocr=False)   # the run's mechanics, not its detectors


def wait_run(c: TestClient, run_id: str, timeout: float = 180) -> dict:
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = c.get(f"/api/runs/{run_id}", headers=H).json()
        if not r["active"]:
            return r
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish: {r}")


@pytest.fixture()
def setup(tmp_path):
    cat, media, truth = build_catalog(str(tmp_path))
    new = os.path.join(media, "new")
    for k in range(6):
        write_video(os.path.join(new, f"n{k}.mp4"), gradient_clip(24 + k, seed=100 + k), fps=25)
    return cat, media, new


def test_start_follow_and_read_while_writing(setup):
    cat, media, new = setup
    with TestClient(create_app(cat, TOKEN, media_root=media, workers=2, run_config=FAST)) as c:
        r = c.post("/api/runs", headers=H, json={"paths": ["new"]})
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        assert c.post("/api/runs", headers=H, json={"paths": ["new"]}).status_code == 409   # one writer at a time
        statuses = []
        while True:   # the catalog stays readable the whole time the run commits
            for p in ("/api/videos", "/api/shots", "/api/status", "/api/errors"):
                statuses.append(c.get(p, headers=H).status_code)
            run = c.get(f"/api/runs/{run_id}", headers=H).json()
            if not run["active"]:
                break
        assert set(statuses) == {200} and len(statuses) >= 4
        assert run["status"] == "finished", run
        assert (run["done"], run["total"]) == (6, 6)
        assert run["summary"]["analyzed"] == 6 and run["summary"]["failed"] == 0
        assert [e["event"] for e in run["events"]][0] == "start" and run["events"][-1]["event"] == "summary"
        assert sum(e["event"] == "video_done" for e in run["events"]) == 6
        listed = c.get("/api/videos?limit=500", headers=H).json()
        assert listed["total"] == 8
        assert {os.path.join(new, f"n{k}.mp4") for k in range(6)} <= {v["path"] for v in listed["items"]}
        assert c.get("/api/runs", headers=H).json()[0]["run_id"] == run_id


def test_cancel_keeps_finished_videos(setup):
    cat, media, new = setup
    for k in range(6, 14):
        write_video(os.path.join(new, f"n{k}.mp4"), gradient_clip(60, seed=100 + k), fps=25)
    with TestClient(create_app(cat, TOKEN, media_root=media, workers=1, run_config=FAST)) as c:
        run_id = c.post("/api/runs", headers=H, json={"paths": ["new"]}).json()["run_id"]
        while c.get(f"/api/runs/{run_id}", headers=H).json()["done"] < 1:
            time.sleep(0.05)
        assert c.post(f"/api/runs/{run_id}/cancel", headers=H).json()["cancel_requested"] is True
        run = wait_run(c, run_id)
        assert run["status"] == "cancelled", run
        analysed = run["summary"]["analyzed"]
        assert 1 <= analysed < 14
    n_new = Catalog(cat).query("SELECT count(*) FROM videos WHERE path LIKE ?", [new + "/%"])[1][0][0]
    assert n_new == analysed
    # every committed video has its shots: nothing torn
    assert Catalog(cat).query("SELECT count(*) FROM videos v WHERE num_shots != (SELECT count(*) FROM shots s WHERE s.video_id = v.video_id)")[1][0][0] == 0


def test_retry_errors_after_the_file_is_fixed(setup):
    cat, media, _ = setup
    broken = os.path.join(media, "broken.mp4")
    with TestClient(create_app(cat, TOKEN, media_root=media, run_config=FAST)) as c:
        errs = c.get("/api/errors", headers=H).json()
        assert [e["path"] for e in errs["items"]] == [broken]
        assert errs["items"][0]["kind"] == "input"   # a bad file, told apart from internal errors
        first = wait_run(c, c.post("/api/errors/retry", headers=H).json()["run_id"])
        assert first["summary"]["failed"] == 1 and c.get("/api/errors", headers=H).json()["total"] == 1
        write_video(broken, gradient_clip(20, seed=7), fps=25)   # the user repairs the file
        r = c.post("/api/errors/retry", headers=H)
        assert r.status_code == 202 and r.json()["paths"] == [broken]
        run = wait_run(c, r.json()["run_id"])
        assert run["status"] == "finished" and run["summary"]["analyzed"] == 1
        assert c.get("/api/errors", headers=H).json()["total"] == 0
        assert broken in {v["path"] for v in c.get("/api/videos", headers=H).json()["items"]}
        r = c.post("/api/errors/retry", headers=H)
        assert r.status_code == 409 and "nothing to retry" in r.json()["error"]


def test_server_reads_while_a_cli_run_writes(setup):
    """A separate `videoforge run` process is the writer; the server keeps answering."""
    cat, media, new = setup
    extra = os.path.join(os.path.dirname(media), "more")
    for k in range(10):
        write_video(os.path.join(extra, f"m{k}.mp4"), gradient_clip(40, seed=300 + k), fps=25)
    proc = subprocess.Popen([*VIDEOFORGE, "run", extra, "--catalog", cat, "--workers", "2", "--detector", "none",
                             "--no-ocr", "-q"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    statuses, seen = [], set()
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        # read first, then look at the writer: at least one read overlaps it however fast it is
        # (counting reads would make the test depend on timing)
        while True:
            alive = proc.poll() is None
            r = c.get("/api/videos?limit=500", headers=H)
            statuses.append(r.status_code)
            if r.status_code == 200:
                doc = r.json()
                assert doc["total"] == len(doc["items"])
                seen.add(doc["total"])
                for v in doc["items"]:   # a committed video always comes with all its shots
                    d = c.get(f"/api/videos/{v['video_id']}", headers=H).json()
                    assert len(d["shots"]) == d["num_shots"]
            if not alive:
                break
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        assert c.get("/api/videos", headers=H).json()["total"] == 12
    assert set(statuses) == {200}, statuses


def test_a_run_is_not_locked_out_by_a_busy_server(setup, tmp_path):
    """Eight clients hammer the API without pause; a `videoforge run` process must still commit.

    The server's ReadGate shares one read-only connection and steps aside when the writer
    signals it is waiting, so the run finishes while the load goes on.
    """
    import threading

    cat, media, new = setup
    stop = threading.Event()
    statuses: list[int] = []
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        def hammer():
            paths = ["/api/videos", "/api/shots?min_motion=1", "/api/status", "/api/errors"]
            i = 0
            while not stop.is_set():
                statuses.append(c.get(paths[i % 4], headers=H).status_code)
                i += 1

        threads = [threading.Thread(target=hammer) for _ in range(8)]
        for t in threads:
            t.start()
        try:
            time.sleep(1.0)   # the load is on before the run starts
            before = len(statuses)
            r = subprocess.run([*VIDEOFORGE, "run", new, "--catalog", cat, "--workers", "2", "--detector", "none",
                                "--no-ocr", "-q"], capture_output=True, text=True, timeout=300)
            during = len(statuses) - before
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert r.returncode == 0, r.stderr
    assert Catalog(cat).query("SELECT count(*) FROM videos")[1][0][0] == 8
    assert during > 20 and set(statuses) == {200}


def test_export_job_writes_clips_the_clip_route_then_serves(setup):
    pytest.importorskip("videoforge.export")
    cat, media, _ = setup
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        r = c.post("/api/export", headers=H, json={"name": "../x", "format": "opensora"})
        assert r.status_code == 400
        r = c.post("/api/export", headers=H, json={"name": "bad", "format": "opensora", "where": "no_such_column > 1"})
        assert r.status_code == 400 and "not a valid filter" in r.json()["error"]
        r = c.post("/api/export", headers=H, json={"name": "motion", "format": "opensora", "where": "motion > 6"})
        assert r.status_code == 202, r.text
        job = wait_run(c, r.json()["run_id"])
        assert job["kind"] == "export" and job["status"] == "finished", job
        want = Catalog(cat).query("SELECT count(*) FROM shots WHERE motion > 6")[1][0][0]
        assert job["summary"]["exported"] == want >= 1
        out = os.path.join(cat, "exports", "motion")
        assert os.path.isfile(job["summary"]["manifest"]) and job["summary"]["manifest"].startswith(out)
        assert c.post("/api/export", headers=H, json={"name": "motion"}).status_code == 409   # exists
        sid = Catalog(cat).query("SELECT shot_id FROM shots WHERE motion > 6 LIMIT 1")[1][0][0]
        clip = c.get(f"/api/shots/{sid}/clip", headers=H)
        exported = [os.path.join(d, f) for d, _, fs in os.walk(out) for f in fs if f == f"{sid}.mp4"]
        assert len(exported) == 1 and clip.content == open(exported[0], "rb").read()
