"""Decision-center API (issue 25): GET /api/stages, POST /api/plans, GET /api/plans, behind the app's auth."""

from __future__ import annotations

import shutil

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

        r = c.post("/api/plans", headers=H, json={"paths": ["clips"], "goal": "search", "budget_cpu_hours": 1e-6})
        assert r.status_code == 422 and r.json()["error"] == "infeasible"
        r = c.post("/api/plans", headers=H, json={"paths": ["../etc"], "goal": "search"})
        assert r.status_code == 403
        r = c.post("/api/plans", headers=H, json={"paths": ["clips"], "goal": "nope"})
        assert r.status_code == 400
        r = c.get("/api/plans", headers=H)
        assert r.status_code == 200 and r.json()["items"] == []
        r = c.get("/plans", headers=H)
        assert r.status_code == 200 and "plans.js" in r.text
