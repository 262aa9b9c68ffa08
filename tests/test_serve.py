"""The HTTP API: auth, every list route, filters, shot detail, media with ranges, refusals."""

from __future__ import annotations

import json
import math
import os

import av
import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from test_serve_support import build_catalog
from videoforge.catalog import Catalog
from videoforge.serve.app import create_app
from videoforge.serve.auth import SESSION_COOKIE

TOKEN = "Kq7vXr2-Lp9wTz4n-api"   # strong enough for the server (see auth.token_weakness)
H = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_catalog(str(tmp_path_factory.mktemp("serve")))


@pytest.fixture()
def client(built):
    cat, media, _ = built
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        yield c


def snapshot(cat: str) -> dict:
    c = Catalog(cat)
    return {t: sorted(map(repr, c.query(f"SELECT * FROM {t}")[1])) for t in ("videos", "shots", "transitions", "keyframes", "errors")}


def api_get_routes(app) -> list[str]:
    return sorted(r.path for r in app.routes if getattr(r, "methods", None) and "GET" in r.methods
                  and r.path.startswith("/api") and "{" not in r.path)


def finite(doc) -> bool:
    if isinstance(doc, float):
        return math.isfinite(doc)
    if isinstance(doc, dict):
        return all(finite(v) for v in doc.values())
    if isinstance(doc, list):
        return all(finite(v) for v in doc)
    return True


# -- auth --------------------------------------------------------------------------------------
def test_everything_needs_credentials(client, built):
    shot = Catalog(built[0]).query("SELECT shot_id FROM shots LIMIT 1")[1][0][0]
    paths = api_get_routes(client.app) + ["/openapi.json", f"/api/shots/{shot}", f"/api/shots/{shot}/clip",
                                          f"/api/shots/{shot}/thumbnail"]
    for p in paths:
        for headers in ({}, {"Authorization": "Bearer wrong-token-xxxxx"}, {"Authorization": TOKEN},
                        {"Cookie": f"{SESSION_COOKIE}=forged.value.sig"}):
            r = client.get(p, headers=headers, follow_redirects=False)
            # 429 once the server-wide limit of wrong tokens is reached (see test_failed_attempts_...)
            assert r.status_code in (401, 429), (p, headers, r.status_code)
            assert "error" in r.json()
    # a token in the query string is not a credential
    assert client.get(f"/api/videos?token={TOKEN}").status_code == 401
    # page routes send the browser to the login page
    for p in ("/", "/docs", "/static/app.js"):
        r = client.get(p, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next="), p
    assert client.post("/api/runs", json={"paths": ["x"]}).status_code == 401
    assert client.get("/login").status_code == 200


def test_login_sets_strict_httponly_cookie(built):
    cat, media, _ = built
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        bad = c.post("/login", data={"token": "nope-nope-nope"}, follow_redirects=False)
        assert bad.status_code == 303 and "error=1" in bad.headers["location"]
        assert SESSION_COOKIE not in c.cookies
        assert c.get("/api/videos").status_code == 401
        r = c.post("/login", data={"token": TOKEN, "next": "//evil.example/"}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/"   # no open redirect
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        assert c.get("/api/videos").status_code == 200        # cookie alone is enough for the API
        page = c.get("/", follow_redirects=False)
        assert page.status_code == 200 and "app.js" in page.text
        assert c.get("/docs").status_code == 200
        c.post("/logout")
        assert c.get("/api/videos").status_code == 401
    # a cookie signed by another server instance (another secret) is refused
    with TestClient(create_app(cat, TOKEN, media_root=media)) as other:
        other.post("/login", data={"token": TOKEN})
        stolen = other.cookies[SESSION_COOKIE]
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        assert c.get("/api/videos", cookies={SESSION_COOKIE: stolen}).status_code == 401


# -- the API -----------------------------------------------------------------------------------
def test_every_get_without_path_params_answers_200_finite_json(client):
    routes = api_get_routes(client.app)
    assert {"/api/videos", "/api/shots", "/api/search", "/api/errors", "/api/runs", "/api/status", "/api/metrics"} <= set(routes)
    for p in routes:
        r = client.get(p, headers=H)
        assert r.status_code == 200, (p, r.text)
        doc = json.loads(r.text)   # strict JSON: NaN/Infinity would fail here
        assert finite(doc), p
    assert client.get("/api/search", headers=H).json() == []
    assert client.get("/openapi.json", headers=H).json()["paths"]["/api/shots/{shot_id}/clip"]


def test_videos_and_shots_paging_and_metric_filters(client, built):
    cat, _, truth = built
    v = client.get("/api/videos", headers=H).json()
    assert v["total"] == 2 and {x["path"] for x in v["items"]} == set(truth)
    page = client.get("/api/videos?limit=1&offset=1", headers=H).json()
    assert len(page["items"]) == 1 and page["items"][0]["path"] == sorted(truth)[1]
    allshots = Catalog(cat).query_dicts("SELECT shot_id, motion, brightness FROM shots")
    cut = sorted(s["motion"] for s in allshots)[2]
    got = client.get(f"/api/shots?min_motion={cut}&limit=500", headers=H).json()
    assert {s["shot_id"] for s in got["items"]} == {s["shot_id"] for s in allshots if s["motion"] >= cut}
    assert got["total"] == 3
    both = client.get(f"/api/shots?min_motion={cut}&max_brightness=0.5", headers=H).json()
    assert {s["shot_id"] for s in both["items"]} == {s["shot_id"] for s in allshots if s["motion"] >= cut and s["brightness"] <= 0.5}
    ordered = client.get("/api/shots?order=-motion", headers=H).json()["items"]
    assert [s["motion"] for s in ordered] == sorted((s["motion"] for s in allshots), reverse=True)
    p2 = client.get("/api/shots?limit=2&offset=4", headers=H).json()
    assert p2["total"] == 5 and len(p2["items"]) == 1
    names = {m["name"] for m in client.get("/api/metrics", headers=H).json()}
    assert {"motion", "brightness", "sharpness", "duration"} <= names and "start_frame" not in names


def test_bad_requests_are_clear_4xx_and_change_nothing(client, built):
    before = snapshot(built[0])
    bad = [
        ("get", "/api/shots?min_nonsense=1", 400, "unknown filter"),
        ("get", "/api/shots?min_motion=abc", 400, "needs a number"),
        ("get", "/api/shots?min_motion=nan", 400, "finite"),
        ("get", "/api/shots?order=shot_id;DROP TABLE shots", 400, "cannot order"),
        ("get", "/api/shots?min_motion=1;DELETE FROM shots", 400, "needs a number"),
        ("get", "/api/shots?limit=0", 400, "limit"),
        ("get", "/api/shots?limit=100000", 400, "limit"),
        ("get", "/api/videos?limit=x", 422, "limit"),
        ("get", "/api/videos?offset=-1", 422, "offset"),
        ("get", "/api/shots/doesnotexist", 404, "no shot"),
        ("get", "/api/videos/doesnotexist", 404, "no video"),
        ("get", "/api/shots/doesnotexist/clip", 404, "no shot"),
        ("get", "/api/runs/nope", 404, "no run"),
        ("post", "/api/runs/nope/cancel", 404, "no run"),
        ("post", "/api/runs", 400, "paths"),
        ("post", "/api/export", 400, "format"),
    ]
    for method, path, status, words in bad:
        kw = {"json": {"format": "zip"}} if path == "/api/export" else ({"json": {"paths": "x"}} if path == "/api/runs" else {})
        r = getattr(client, method)(path, headers=H, **kw)
        assert r.status_code == status, (path, r.status_code, r.text)
        assert words in r.json()["error"], (path, r.json())
    r = client.post("/api/export", headers=H, json={"name": "../../escape", "format": "opensora"})
    assert r.status_code == 400 and "name" in r.json()["error"]
    assert client.post("/api/runs", headers=H, content=b"{not json", ).status_code == 422
    assert snapshot(built[0]) == before


def test_shot_detail_has_metrics_keyframes_transitions(client, built):
    cat, _, truth = built
    three = [p for p in truth if p.endswith("three_cuts.mp4")][0]
    vid = Catalog(cat).query("SELECT video_id FROM videos WHERE path = ?", [three])[1][0][0]
    video = client.get(f"/api/videos/{vid}", headers=H).json()
    assert [(s["start_frame"], s["end_frame"]) for s in video["shots"]] == truth[three]["shots"]
    assert [(t["kind"], t["start_frame"], t["end_frame"]) for t in video["transitions"]] == truth[three]["transitions"]
    middle = video["shots"][1]
    s = client.get(f"/api/shots/{middle['shot_id']}", headers=H).json()
    assert s["motion"] == pytest.approx(middle["motion"]) and s["caption"] is None
    assert [(t["kind"], t["side"]) for t in s["transitions"]] == [("cut", "in"), ("cut", "out")]
    assert s["prev_shot_id"] == video["shots"][0]["shot_id"] and s["next_shot_id"] == video["shots"][2]["shot_id"]
    assert len(s["keyframes"]) == 1 and 20 <= s["keyframes"][0]["frame"] <= 39
    fade = [p for p in truth if p.endswith("dissolve.mp4")][0]
    fid = Catalog(cat).query("SELECT shot_id FROM shots s JOIN videos v USING (video_id) WHERE v.path = ? AND start_frame = 28", [fade])[1][0][0]
    assert [(t["kind"], t["side"]) for t in client.get(f"/api/shots/{fid}", headers=H).json()["transitions"]] == [("dissolve", "in")]


# -- media -------------------------------------------------------------------------------------
def test_clip_is_the_shot_and_ranges_are_exact(client, built, tmp_path):
    cat, _, truth = built
    rows = Catalog(cat).query_dicts("SELECT shot_id, num_frames FROM shots ORDER BY shot_id")
    for row in rows:
        r = client.get(f"/api/shots/{row['shot_id']}/clip", headers=H)
        assert r.status_code == 200 and r.headers["content-type"] == "video/mp4"
        assert r.headers["accept-ranges"] == "bytes"
        f = tmp_path / f"{row['shot_id']}.mp4"
        f.write_bytes(r.content)
        with av.open(str(f)) as c:
            assert sum(1 for _ in c.decode(c.streams.video[0])) == row["num_frames"]
    sid = rows[0]["shot_id"]
    full = client.get(f"/api/shots/{sid}/clip", headers=H).content
    n = len(full)
    for rng, (a, b) in {"bytes=0-99": (0, 99), "bytes=100-": (100, n - 1), "bytes=-50": (n - 50, n - 1),
                        f"bytes=17-{n + 500}": (17, n - 1)}.items():
        r = client.get(f"/api/shots/{sid}/clip", headers={**H, "Range": rng})
        assert r.status_code == 206, rng
        assert r.content == full[a:b + 1], rng
        assert r.headers["content-range"] == f"bytes {a}-{b}/{n}"
        assert int(r.headers["content-length"]) == b - a + 1
    assert client.get(f"/api/shots/{sid}/clip", headers={**H, "Range": f"bytes={n + 10}-"}).status_code == 416
    thumb = client.get(f"/api/shots/{sid}/thumbnail", headers=H)
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    img = cv2.imdecode(np.frombuffer(thumb.content, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None and img.shape[:2] == (64, 96)
    part = client.get(f"/api/shots/{sid}/thumbnail", headers={**H, "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == thumb.content[:10]


def test_thumbnail_without_keyframes_is_decoded_from_the_source(built):
    cat, media, _ = built
    sid = Catalog(cat).query("SELECT shot_id FROM shots ORDER BY shot_id LIMIT 1")[1][0][0]
    with Catalog(cat).write() as con:
        saved = con.execute("SELECT * FROM keyframes WHERE shot_id = ?", [sid]).fetchall()
        con.execute("DELETE FROM keyframes WHERE shot_id = ?", [sid])
    try:
        with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
            r = c.get(f"/api/shots/{sid}/thumbnail", headers=H)
        assert r.status_code == 200
        assert cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR) is not None
        assert os.path.exists(os.path.join(cat, "cache", "thumbs", f"{sid}.jpg"))
    finally:
        with Catalog(cat).write() as con:
            con.executemany("INSERT INTO keyframes VALUES (?, ?, ?, ?, ?, ?, ?)", saved)


def test_paths_outside_the_catalog_or_media_root_are_refused(tmp_path):
    cat, media, truth = build_catalog(str(tmp_path / "own"))
    secret = tmp_path / "secret.jpg"
    cv2.imwrite(str(secret), np.full((8, 8, 3), 200, np.uint8))
    shots = Catalog(cat).query("SELECT shot_id FROM shots ORDER BY shot_id")[1]
    s_abs, s_trav, s_link, s_src = (r[0] for r in shots[:4])
    link = os.path.join(cat, "keyframes", "link.jpg")
    os.symlink(secret, link)
    with Catalog(cat).write() as con:
        con.execute("UPDATE keyframes SET path = ? WHERE shot_id = ?", [str(secret), s_abs])            # absolute path out
        con.execute("UPDATE keyframes SET path = ? WHERE shot_id = ?", ["../../secret.jpg", s_trav])     # traversal
        con.execute("UPDATE keyframes SET path = ? WHERE shot_id = ?", ["keyframes/link.jpg", s_link])   # symlink out
    outside = tmp_path / "outside.mp4"
    os.replace([p for p in truth if p.endswith("three_cuts.mp4")][0], outside)
    with Catalog(cat).write() as con:
        con.execute("UPDATE videos SET path = ? WHERE video_id = (SELECT video_id FROM shots WHERE shot_id = ?)",
                    [str(outside), s_src])
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        for sid in (s_abs, s_trav, s_link):
            r = c.get(f"/api/shots/{sid}/thumbnail", headers=H)
            assert r.status_code == 403, (sid, r.status_code)
            assert "outside the catalog" in r.json()["error"]
        src_shot = Catalog(cat).query("SELECT shot_id FROM shots WHERE video_id = (SELECT video_id FROM shots WHERE shot_id = ?)", [s_src])[1][0][0]
        r = c.get(f"/api/shots/{src_shot}/clip", headers=H)
        assert r.status_code == 403 and "outside --media-root" in r.json()["error"]
        os.symlink(tmp_path, os.path.join(media, "escape"))
        for p in ("../outside.mp4", "/etc", str(tmp_path), "escape/outside.mp4", "sub/../../outside.mp4"):
            r = c.post("/api/runs", headers=H, json={"paths": [p]})
            assert r.status_code == 403, (p, r.text)
        assert c.get("/api/runs", headers=H).json() == []
        # URL-level traversal never reaches a file either
        for p in ("/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/auth.py", "/static/app.py"):
            assert c.get(p, headers=H).status_code == 404, p


def test_runs_need_media_root(built):
    cat, _, _ = built
    with TestClient(create_app(cat, TOKEN)) as c:
        r = c.post("/api/runs", headers=H, json={"paths": ["x.mp4"]})
        assert r.status_code == 403 and "--media-root" in r.json()["error"]
        assert c.post("/api/errors/retry", headers=H).status_code == 403
        assert c.get("/api/status", headers=H).json()["runs_allowed"] is False


def test_search_answers_from_the_search_index(tmp_path):
    """Before indexing: []. After `index_catalog` (BM25 over on-screen text): the matching shot."""
    search = pytest.importorskip("videoforge.search")
    cat, media, truth = build_catalog(str(tmp_path))
    target = Catalog(cat).query("SELECT shot_id FROM shots ORDER BY shot_id LIMIT 1")[1][0][0]
    with Catalog(cat).write() as con:
        con.execute("UPDATE shots SET ocr_text = 'GRAND OPENING SALE' WHERE shot_id = ?", [target])
        con.execute("UPDATE shots SET ocr_text = 'weather report' WHERE shot_id != ?", [target])
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        assert c.get("/api/search?q=sale", headers=H).json() == []   # not indexed yet
        search.index_catalog(cat, embedders=["bm25"])
        hits = c.get("/api/search?q=opening%20sale&k=3", headers=H).json()
        assert hits and hits[0]["shot_id"] == target
        assert {"video", "shot_id", "start_time", "end_time", "score", "branches"} <= set(hits[0])
        assert c.get("/api/search", headers=H).json() == []          # no query: []
        assert c.get("/api/search?q=sale&k=0", headers=H).status_code == 422


def test_empty_catalog_answers_every_list_route(tmp_path):
    cat = str(tmp_path / "empty")
    Catalog(cat).create()
    with TestClient(create_app(cat, TOKEN)) as c:
        for p in api_get_routes(c.app):
            r = c.get(p, headers=H)
            assert r.status_code == 200, (p, r.text)
            assert finite(json.loads(r.text))
        assert c.get("/api/videos", headers=H).json() == {"items": [], "total": 0, "limit": 50, "offset": 0}
        assert c.get("/api/status", headers=H).json()["shots"] == 0


def test_sql_in_requests_cannot_read_server_files(client, built, tmp_path):
    """`where` fragments run in DuckDB: its file functions are off in the server's process."""
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cr3t-4242")
    before = snapshot(built[0])
    for where in (f"CAST((SELECT content FROM read_text('{secret}')) AS INTEGER) > 0",
                  f"shot_id IN (SELECT content FROM read_text('{secret}'))"):
        r = client.post("/api/export", headers=H, json={"name": "leak", "format": "opensora", "where": where})
        assert 400 <= r.status_code < 500, r.text
        assert "s3cr3t" not in r.text
    assert snapshot(built[0]) == before


def test_run_of_a_folder_skips_symlinks_out_of_media_root(built, tmp_path):
    cat = built[0]
    media = tmp_path / "media"
    media.mkdir()
    outside = tmp_path / "outside.mp4"
    outside.write_bytes(b"\0" * 64)
    os.symlink(outside, media / "link.mp4")
    with TestClient(create_app(cat, TOKEN, media_root=str(media))) as c:
        r = c.post("/api/runs", headers=H, json={"paths": ["."]})
        assert r.status_code == 404, r.text    # the only file is the link out: nothing to run
        assert c.get("/api/runs", headers=H).json() == []
