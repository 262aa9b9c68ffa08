"""Structured captions: the OpenAI-compatible backend against a real local HTTP server,
the offline metadata captioner, caching, and the cascade on a real catalog."""

from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from curate_helpers import GOOD, FakeOpenAI
from videoforge.catalog import Catalog
from videoforge.curate.caption_run import caption_catalog
from videoforge.curate.captions import CAPTION_FIELDS, ShotInput, flatten
from videoforge.curate.captions.metadata import MetadataCaptioner
from videoforge.curate.captions.openai import OpenAICaptioner
from videoforge.curate.cascade import CascadePolicy
from videoforge.curate.store import write_shot_columns


@pytest.fixture
def keyframes(tmp_path):
    paths = []
    rng = np.random.default_rng(0)
    for i in range(3):
        p = str(tmp_path / f"kf{i}.jpg")
        cv2.imwrite(p, rng.integers(0, 255, (36, 64, 3), dtype=np.uint8))
        paths.append(p)
    return paths


def shot(keyframes, sid="s1"):
    return ShotInput(sid, keyframes, {"duration": 2.5})


def make(server, **kw):
    params = dict(base_url=server.base_url, model="llava-test", concurrency=2, timeout=5.0, max_retries=3, backoff=0.01)
    params.update(kw)
    return OpenAICaptioner(**params)


def test_good_reply_sends_images_and_counts_tokens(keyframes):
    with FakeOpenAI() as srv:
        cap = make(srv, api_key="sk-test", price_input=1.0, price_output=2.0)
        [c] = cap.caption_many([shot(keyframes)])
    assert c.error is None and c.fields == GOOD and c.attempts == 1
    assert (c.prompt_tokens, c.completion_tokens) == (100, 20)
    req = srv.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sk-test"
    content = req["body"]["messages"][1]["content"]
    images = [p for p in content if p["type"] == "image_url"]
    assert len(images) == 3 and images[0]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert all(k in content[0]["text"] for k in CAPTION_FIELDS)
    assert cap.cost_usd(c.prompt_tokens, c.completion_tokens) == pytest.approx((100 * 1 + 20 * 2) / 1e6)


@pytest.mark.parametrize("bad", ["malformed", "missing_key", "not_json_body", "no_choices", "e500", "e429"])
def test_retries_past_bad_replies(keyframes, bad):
    with FakeOpenAI(script=[bad, bad]) as srv:
        [c] = make(srv).caption_many([shot(keyframes)])
    assert c.fields == GOOD and c.attempts == 3 and len(srv.requests) == 3


def test_fenced_json_is_accepted(keyframes):
    with FakeOpenAI(script=["fenced"]) as srv:
        [c] = make(srv).caption_many([shot(keyframes)])
    assert c.fields == GOOD and c.attempts == 1


def test_timeout_is_retried_then_gives_up(keyframes):
    with FakeOpenAI(script=["slow"], slow_seconds=1.5) as srv:
        [c] = make(srv, timeout=0.3).caption_many([shot(keyframes)])
        assert c.fields == GOOD and c.attempts == 2
    with FakeOpenAI(default="slow", slow_seconds=1.0) as srv:
        [c] = make(srv, timeout=0.2, max_retries=1).caption_many([shot(keyframes)])
    assert c.fields is None and "timed out" in c.error and c.attempts == 2


def test_client_errors_fail_without_retry(keyframes):
    with FakeOpenAI(default="e400") as srv:
        [c] = make(srv).caption_many([shot(keyframes)])
    assert c.fields is None and c.attempts == 1 and "HTTP 400" in c.error


def test_always_malformed_fails_with_reason(keyframes):
    with FakeOpenAI(default="malformed") as srv:
        [c] = make(srv, max_retries=2).caption_many([shot(keyframes)])
    assert c.fields is None and c.attempts == 3 and "malformed caption" in c.error
    assert c.prompt_tokens == 300  # every billed attempt is counted


def test_concurrency_is_bounded(keyframes):
    with FakeOpenAI(delay=0.15) as srv:
        caps = make(srv, concurrency=3).caption_many([shot(keyframes, f"s{i}") for i in range(9)])
    assert all(c.fields == GOOD for c in caps)
    assert [c.shot_id for c in caps] == [f"s{i}" for i in range(9)]
    assert 2 <= srv.max_in_flight <= 3


def test_metadata_captioner_fills_only_measured_parts():
    m = {"duration": 3.2, "motion": 12.0, "camera_pan": 5.0, "camera_tilt": 0.1, "camera_zoom": 0.0,
         "camera_shake": 0.2, "brightness": 0.15, "contrast": 0.2, "ocr_text": "BREAKING NEWS", "text_area": 0.05}
    c = MetadataCaptioner().caption_one(ShotInput("s", [], m))
    assert c.fields["subject"] == "" and c.fields["environment"] == ""
    assert c.fields["camera_language"] == "the camera pans"
    zoom = MetadataCaptioner().caption_one(ShotInput("s", [], {"camera_move": "zoom", "camera_zoom": -4.0}))
    assert zoom.fields["camera_language"] == "the camera zooms out"
    assert "strong motion" in c.fields["subject_motion"]
    assert "dark" in c.fields["visual_style"]
    assert "3.2-second" in c.fields["summary"] and "BREAKING NEWS" in c.fields["summary"]
    doc = json.loads(c.to_json())
    assert doc["_backend"] == "metadata" and set(doc["_empty"]) == {"subject", "environment"}
    # nothing measured -> nothing claimed
    empty = MetadataCaptioner().caption_one(ShotInput("s", [], {}))
    assert all(v == "" for v in empty.fields.values())
    assert flatten(empty.fields) is None


def _catalog_with_shots(tmp_path, n=6):
    """A catalog with n shots of one video and one keyframe JPEG each (rows written directly)."""
    cat = Catalog(tmp_path / "cat").create()
    rng = np.random.default_rng(1)
    os.makedirs(os.path.join(cat.root, "keyframes", "v1"), exist_ok=True)
    with cat.write() as con:
        con.execute("INSERT INTO videos (video_id, path, fingerprint) VALUES ('v1', '/x.mp4', 'f')")
        for i in range(n):
            con.execute("INSERT INTO shots (shot_id, video_id, shot_index, start_frame, end_frame, duration) "
                        "VALUES (?, 'v1', ?, ?, ?, 2.0)", [f"s{i}", i, i * 50, i * 50 + 49])
            rel = f"keyframes/v1/{i}.jpg"
            cv2.imwrite(os.path.join(cat.root, rel), rng.integers(0, 255, (36, 64, 3), dtype=np.uint8))
            con.execute("INSERT INTO keyframes VALUES (?, 'v1', ?, 0.0, ?, 64, 36)", [f"s{i}", i * 50, rel])
    return cat


def test_cascade_caches_and_never_hides_shots(tmp_path):
    cat = _catalog_with_shots(tmp_path)
    ids = [f"s{i}" for i in range(6)]
    write_shot_columns(cat, ids, {"suitability": [0.9, 0.8, 0.1, 0.7, None, 0.95],
                                  "duplicate_of": [None, None, None, "s0", None, None]})
    with FakeOpenAI() as srv:
        cap = make(srv)
        s1 = caption_catalog(cat, cap, CascadePolicy(min_suitability=0.3))
        assert len(srv.requests) == 4
        s2 = caption_catalog(cat, cap, CascadePolicy(min_suitability=0.3))
        assert len(srv.requests) == 4  # second run: all from the cache
    assert s1["calls_made"] == 4 and s1["calls_saved"] == 2
    assert s1["skipped_low_suitability"] == 1 and s1["skipped_duplicates"] == 1 and s1["unscored_selected"] == 1
    assert s1["prompt_tokens"] == 400
    assert s2["cache_hits"] == 4 and s2["calls_made"] == 0 and s2["prompt_tokens"] == 0
    rows = {r["shot_id"]: r for r in cat.query_dicts("SELECT shot_id, caption, caption_json, caption_backend FROM shots")}
    assert len(rows) == 6  # every shot still there
    assert rows["s2"]["caption"] is None and rows["s3"]["caption"] is None
    assert rows["s0"]["caption"] == flatten(GOOD) and rows["s0"]["caption_backend"] == "openai"
    assert json.loads(rows["s4"]["caption_json"])["subject"] == GOOD["subject"]


def test_caption_cli_end_to_end(tmp_path):
    from conftest import run_cli

    cat = _catalog_with_shots(tmp_path, n=3)
    with FakeOpenAI() as srv:
        r = run_cli("caption", cat.root, "--backend", "openai", "--base-url", srv.base_url, "--model", "m", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["captioned"] == 3 and doc["calls_made"] == 3
    r = run_cli("caption", cat.root, "--backend", "openai", "--model", "m")
    assert r.returncode == 2 and "--base-url" in r.stderr
