"""Decision-center API (issue 25): GET /api/stages, POST /api/plans, GET /api/plans, behind the app's auth."""

from __future__ import annotations

import shutil

import pytest

from fastapi.testclient import TestClient

from videoforge.catalog import Catalog
from videoforge.serve.app import create_app

TOKEN = "Kq7vXr2-Lp9wTz4n-api"
H = {"Authorization": f"Bearer {TOKEN}"}


def test_stages_and_plans_routes(tiny_videos, tmp_path):
    media = tmp_path / "media"
    shutil.copytree(tiny_videos, media / "clips")
    cat = tmp_path / "cat"
    Catalog(cat).create()
    with TestClient(create_app(str(cat), TOKEN, media_root=str(media))) as c:
        for r in (c.get("/api/stages"), c.get("/api/plans"), c.post("/api/plans", json={})):
            assert r.status_code == 401, r.url   # the same gate as every other route
        r = c.get("/api/stages", headers=H)
        assert r.status_code == 200
        keys = {(s["stage"], s["variant"]) for s in r.json()["stages"]}
        assert ("shots", "videoforge") in keys and ("metrics", "half") in keys

        r = c.post("/api/plans", headers=H, json={"paths": ["clips"], "goal": "search"})
        assert r.status_code == 200, r.text
        doc = r.json()
        assert len(doc["inputs"]) == 3 and {"goal", "inputs", "budget", "stages", "predicted"} <= set(doc)
        assert doc["predicted"]["quality"]["text_recall"] > 0.9   # no budget: search reads text
        assert doc["probe"]["factors"]   # a fresh catalog: the shipped fixed costs were corrected by a probe run

        r = c.post("/api/plans", headers=H, json={"paths": ["clips"], "goal": "search", "budget_cpu_hours": 1e-6,
                                                  "probe": False})
        assert r.status_code == 422 and r.json()["error"] == "infeasible"
        r = c.post("/api/plans", headers=H, json={"paths": ["../etc"], "goal": "search"})
        assert r.status_code == 403
        r = c.post("/api/plans", headers=H, json={"paths": ["clips"], "goal": "nope"})
        assert r.status_code == 400
        r = c.post("/api/plans", headers=H, json={"paths": ["clips"], "goal": "search", "probe": "no"})
        assert r.status_code == 400
        r = c.get("/api/plans", headers=H)
        assert r.status_code == 200 and r.json()["items"] == []
        r = c.get("/plans", headers=H)
        assert r.status_code == 200 and "plans.js" in r.text


def test_post_plan_with_execute_runs_it_and_reports_actual(tiny_videos, tmp_path):
    import time

    media = tmp_path / "media"
    shutil.copytree(tiny_videos, media / "clips")
    cat = tmp_path / "cat"
    Catalog(cat).create()
    with TestClient(create_app(str(cat), TOKEN, media_root=str(media))) as c:
        r = c.post("/api/plans", headers=H, json={"paths": ["clips"], "goal": "catalog", "execute": "yes"})
        assert r.status_code == 400
        r = c.post("/api/plans", headers=H, json={"paths": ["clips"], "goal": "catalog", "execute": True,
                                                  "probe": False})
        assert r.status_code == 202, r.text
        body = r.json()
        assert body["plan"]["predicted"]["cpu_seconds"] > 0 and body["run"]["kind"] == "plan"
        run_id = body["run"]["run_id"]
        deadline = time.time() + 300
        while True:
            run = c.get(f"/api/runs/{run_id}", headers=H).json()
            if run["status"] in ("finished", "failed", "cancelled") or time.time() > deadline:
                break
            time.sleep(0.3)
        assert run["status"] == "finished", run
        actual = run["summary"]["actual"]
        assert actual["cpu_seconds"] > 0 and set(actual) >= {"cpu_seconds", "usd", "wall_seconds"}
        items = c.get("/api/plans", headers=H).json()["items"]
        assert len(items) == 1 and items[0]["actual_cpu_seconds"] == pytest.approx(actual["cpu_seconds"])
        assert items[0]["predicted_cpu_seconds"] == pytest.approx(body["plan"]["predicted"]["cpu_seconds"])
        shots = c.get("/api/shots", headers=H, params={"limit": 100}).json()
        assert shots["total"] >= 3, "the plan's engine calls wrote the three clips' shots"
