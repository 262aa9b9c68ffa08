"""End to end: `videoforge run` with the default pipeline, then the server on its catalog."""

from __future__ import annotations

import os

import av
import cv2
import numpy as np
from fastapi.testclient import TestClient

from conftest import run_cli
from test_serve_support import make_videos
from videoforge.catalog import Catalog
from videoforge.serve.app import create_app

TOKEN = "Rb5mWc8-Hj3sNf6y-e2e"
H = {"Authorization": f"Bearer {TOKEN}"}


def test_serve_a_catalog_made_by_videoforge_run(tmp_path):
    media, cat = str(tmp_path / "media"), str(tmp_path / "cat")
    truth = make_videos(media)
    r = run_cli("run", media, "--catalog", cat, "--no-ocr", "-q")
    assert r.returncode == 0, r.stderr
    rows = Catalog(cat).query_dicts("SELECT shot_id, video_id, num_frames, start_frame, end_frame FROM shots")
    assert rows
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        videos = c.get("/api/videos", headers=H).json()
        assert {v["path"] for v in videos["items"]} == set(truth)
        for v in videos["items"]:
            doc = c.get(f"/api/videos/{v['video_id']}", headers=H).json()
            starts = [s["start_frame"] for s in doc["shots"]]
            assert starts == sorted(starts) and len(doc["shots"]) == doc["num_shots"]
            assert all(t["kind"] in {"cut", "dissolve", "fade", "wipe"} for t in doc["transitions"])
        for row in rows:
            shot = c.get(f"/api/shots/{row['shot_id']}", headers=H).json()
            assert shot["video"]["video_id"] == row["video_id"]
            clip = c.get(f"/api/shots/{row['shot_id']}/clip", headers=H)
            assert clip.status_code == 200
            path = tmp_path / f"{row['shot_id']}.mp4"
            path.write_bytes(clip.content)
            with av.open(str(path)) as f:
                assert sum(1 for _ in f.decode(f.streams.video[0])) == row["num_frames"]
            thumb = c.get(f"/api/shots/{row['shot_id']}/thumbnail", headers=H)
            assert thumb.status_code == 200
            assert cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR) is not None
        # thumbnails came from the engine's keyframes, not from decoding the source again
        assert Catalog(cat).query("SELECT count(*) FROM keyframes")[1][0][0] >= len(rows)
        assert not os.path.isdir(os.path.join(cat, "cache", "thumbs")) or not os.listdir(os.path.join(cat, "cache", "thumbs"))
