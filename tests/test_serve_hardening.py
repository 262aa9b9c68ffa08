"""Nobody gets in (#20): CSP on every page, one-expression SQL filters with a time limit and a
locked configuration, token strength, a server-wide limit on wrong tokens, same-origin checks
on state-changing requests, logout that ends the session, and API runs of thousands of files."""

from __future__ import annotations

import os
import re
import time

import duckdb
import pytest
from fastapi.testclient import TestClient

from conftest import run_cli
from test_serve_support import build_catalog
from videoforge.catalog import Catalog
from videoforge.catalog.sqlfilter import SQLFilterError, parse_filter
from videoforge.catalog.store import NO_EXTERNAL_ACCESS_ENV
from videoforge.export.select import SelectionError, select_shots
from videoforge.serve.app import create_app
from videoforge.serve.auth import SESSION_COOKIE, WeakTokenError, token_weakness

TOKEN = "Hx8-Wq3nZt6-Pv2mKs9r"
H = {"Authorization": f"Bearer {TOKEN}"}
# The statement-stacking filter of issue #20: closes our parentheses, changes a setting, reopens.
STACKED = ("TRUE))) AS s; SET memory_limit='1MB'; SELECT * FROM (SELECT 1 AS path, 1 AS start_frame) AS v, "
           "(SELECT 1 WHERE ((TRUE")
HOSTILE_FILTERS = [
    STACKED,
    "TRUE; SET memory_limit='1MB'",
    "TRUE) OR (TRUE",
    "1 FROM shots",
    "TRUE UNION SELECT 1",
    "TRUE ORDER BY 1",
    "motion > 0, TRUE",
    "TRUE)) AS s --",
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build_catalog(str(tmp_path_factory.mktemp("hardening")))


@pytest.fixture()
def client(built):
    cat, media, _ = built
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        yield c


# -- pages: Content-Security-Policy -------------------------------------------------------
def test_every_response_carries_a_strict_csp(client):
    responses = {
        "login page": client.get("/login"),
        "login page with error": client.get("/login?error=%22%3E%3Cscript%3Ealert(1)%3C/script%3E"),
        "login redirect": client.get("/", follow_redirects=False),
        "401": client.get("/api/videos"),
        "page": client.get("/", headers=H),
        "script": client.get("/static/app.js", headers=H),
        "login script": client.get("/static/login.js"),
        "api": client.get("/api/videos", headers=H),
    }
    for what, r in responses.items():
        csp = r.headers.get("content-security-policy", "")
        directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
        assert directives.get("script-src") == "'self'", (what, csp)
        assert directives.get("default-src") == "'none'" and directives.get("object-src") == "'none'", what
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, what
        assert directives.get("frame-ancestors") == "'none'", what
    # the error text on the login page is one of ours, never the query string
    assert "<script>" not in responses["login page with error"].text


def test_pages_have_no_inline_script_style_or_handlers(client):
    for name in ("/login", "/"):
        html = client.get(name, headers=H).text
        scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, flags=re.S | re.I)
        assert scripts and all("src=" in attrs and not body.strip() for attrs, body in scripts), name
        assert not re.search(r"<style\b|\sstyle\s*=|\son[a-z]+\s*=", html, flags=re.I), name
    js = client.get("/static/app.js", headers=H).text
    assert not re.search(r"""\sstyle=["$]|\son[a-z]+=|javascript:""", js), "app.js writes inline styles or handlers"


def test_docs_pages_allow_only_their_own_inline_script(client):
    r = client.get("/docs", headers=H)
    assert r.status_code == 200 and "swagger" in r.text.lower()
    csp = r.headers["content-security-policy"]
    script_src = next(d for d in csp.split(";") if d.strip().startswith("script-src"))
    assert "'sha256-" in script_src and "unsafe-inline" not in script_src
    assert client.get("/docs", follow_redirects=False).status_code == 303   # still behind the login


# -- SQL filters -------------------------------------------------------------------------
def test_parse_filter_accepts_one_expression_only():
    assert parse_filter("motion > 1 AND v.height >= 720") == "motion > 1 AND v.height >= 720"
    assert parse_filter("caption ILIKE '%a;b%'") == "caption ILIKE '%a;b%'"        # ';' inside a string is data
    assert parse_filter("motion > (SELECT avg(motion) FROM shots)")                # a subquery is one expression
    assert parse_filter("  ") is None and parse_filter(None) is None
    for bad in HOSTILE_FILTERS:
        if bad.endswith("--"):
            continue   # parses (the comment is dropped): the rendered text has no comment, see below
        with pytest.raises(SQLFilterError):
            parse_filter(bad)
    assert "--" not in (parse_filter("motion > 0 --)) AS s") or "")


def test_stacked_statements_are_refused_and_config_is_locked(built, monkeypatch):
    cat = Catalog(built[0])
    monkeypatch.setenv(NO_EXTERNAL_ACCESS_ENV, "1")   # the server's connections
    with pytest.raises(SelectionError, match="exactly one SQL condition"):
        select_shots(cat, STACKED, limit=1)
    with cat.read() as con:
        before = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET memory_limit='1MB'")
        assert con.execute("SELECT current_setting('memory_limit')").fetchone()[0] == before
    # a valid filter still selects exactly what it says
    rows = select_shots(cat, "motion >= 0 AND v.width = 96")
    assert len(rows) == 5


def test_api_export_rejects_hostile_filters_with_the_reason(client, built):
    for where in HOSTILE_FILTERS[:-1]:
        r = client.post("/api/export", headers=H, json={"name": "x", "format": "opensora", "where": where})
        assert r.status_code == 400, (where, r.status_code, r.text)
        assert "one SQL condition" in r.json()["error"], r.text
    assert client.get("/api/runs", headers=H).json() == []   # no job was started
    # a good filter is still accepted
    r = client.post("/api/export", headers=H, json={"name": "ok", "format": "opensora", "where": "motion >= 0"})
    assert r.status_code == 202, r.text


@pytest.mark.timeout(120)
def test_a_slow_filter_is_interrupted(built):
    cat, media, _ = built
    slow = "(SELECT count(*) FROM range(1000000000000)) > 0"   # hours of work as one expression
    with TestClient(create_app(cat, TOKEN, media_root=media, query_timeout=1.0)) as c:
        t0 = time.monotonic()
        r = c.post("/api/export", headers=H, json={"name": "slow", "format": "opensora", "where": slow})
        assert r.status_code == 400 and "ran longer than 1 s" in r.json()["error"], r.text
        assert time.monotonic() - t0 < 60
        assert c.get("/api/videos", headers=H).status_code == 200   # the server is still answering


def test_cli_export_rejects_a_stacked_filter_with_exit_2(built, tmp_path):
    r = run_cli("export", built[0], "--out", tmp_path / "out", "--format", "opensora", "--where", STACKED)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "exactly one SQL condition" in r.stderr and not (tmp_path / "out").exists()


# -- tokens -------------------------------------------------------------------------------
WEAK = ["short", "aaaaaaaaaaaaaaaaaaaa", "abababababababababab", "password12345678", "1234567890123456",
        "P4ssw0rd!P4ssw0rd!", "test-token-0123456789", "qwertyuiopasdfghjkl", "videoforge-token-2024"]


def test_weak_tokens_are_refused_with_the_reason(built):
    for t in WEAK:
        assert token_weakness(t), t
        with pytest.raises(WeakTokenError):
            create_app(built[0], t)
    assert token_weakness(TOKEN) is None
    r = run_cli("serve", built[0], env={"VIDEOFORGE_TOKEN": "password12345678"})
    assert r.returncode == 2 and "VIDEOFORGE_TOKEN is too weak" in r.stderr and "common words" in r.stderr
    r = run_cli("serve", built[0], env={"VIDEOFORGE_TOKEN": "aaaaaaaaaaaaaaaaaaaaaaaa"})
    assert r.returncode == 2 and "distinct characters" in r.stderr


def test_wrong_tokens_are_limited_server_wide(client):
    # 20 wrong tries (from any mix of clients, bearer or login form) lock token checking
    for i in range(10):
        assert client.get("/api/videos", headers={"Authorization": f"Bearer guess-{i}-xxxxxxxxxxxx"}).status_code == 401
        r = client.post("/login", data={"token": f"guess-{i}-yyyyyyyyyyyy"}, follow_redirects=False)
        assert "error=1" in r.headers["location"]
    locked = client.get("/api/videos", headers=H)          # even the right token is not checked now
    assert locked.status_code == 429 and "too many failed logins" in locked.json()["error"]
    r = client.post("/login", data={"token": TOKEN}, follow_redirects=False)
    assert "error=locked" in r.headers["location"] and SESSION_COOKIE not in client.cookies
    assert "Too many failed logins" in client.get(r.headers["location"]).text
    # the window passes: the right token works again
    client.app.state.auth.failures.window = 0.2
    time.sleep(0.3)
    assert client.get("/api/videos", headers=H).status_code == 200


def test_state_changing_requests_must_come_from_this_server(client):
    evil = [{"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
            {"Sec-Fetch-Site": "same-site"}, {"Origin": "http://testserver.evil.example"}]
    for extra in evil:
        for path, kw in (("/api/runs", {"json": {"paths": ["sub"]}}), ("/api/export", {"json": {"name": "e"}}),
                         ("/api/errors/retry", {}), ("/login", {"data": {"token": TOKEN}}), ("/logout", {})):
            r = client.post(path, headers={**H, **extra}, follow_redirects=False, **kw)
            assert r.status_code == 403 and "cross-site request refused" in r.json()["error"], (path, extra, r.text)
    assert client.get("/api/runs", headers=H).json() == []
    # the page's own requests pass; reads are never refused for their origin
    same = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    r = client.post("/login", data={"token": TOKEN}, headers=same, follow_redirects=False)
    assert r.status_code == 303 and SESSION_COOKIE in client.cookies
    assert client.get("/api/videos", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 200


def test_logout_ends_the_session_for_every_copy_of_the_cookie(built):
    cat, media, _ = built
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        c.post("/login", data={"token": TOKEN})
        cookie = c.cookies[SESSION_COOKIE]
        assert c.get("/api/videos").status_code == 200
        other = {"Cookie": f"{SESSION_COOKIE}={cookie}"}   # e.g. a copy in another browser
        assert c.get("/api/videos", headers=other).status_code == 200
        c.post("/logout")
        c.cookies.clear()
        assert c.get("/api/videos", headers=other).status_code == 401
        # a second login is a new session; the old cookie stays dead
        c.post("/login", data={"token": TOKEN})
        assert c.get("/api/videos").status_code == 200
        c.cookies.clear()
        assert c.get("/api/videos", headers=other).status_code == 401


# -- large API runs ------------------------------------------------------------------------
@pytest.mark.timeout(300)
def test_api_run_of_thousands_of_files_starts(built, tmp_path):
    cat = built[0]
    media = tmp_path / "media"
    many = media / ("a-folder-with-a-rather-long-name-" + "x" * 40)
    many.mkdir(parents=True)
    n = 3000
    for i in range(n):   # not videos: the point is the size of the request, each fails fast if reached
        (many / f"clip-number-{i:05d}-with-a-long-descriptive-file-name.mp4").write_bytes(b"not a video %d" % i)
    total_bytes = sum(len(str(p)) + 1 for p in many.iterdir())
    assert total_bytes > 128 * 1024   # more than one command-line argument may hold (MAX_ARG_STRLEN)
    with TestClient(create_app(cat, TOKEN, media_root=str(media))) as c:
        r = c.post("/api/runs", headers=H, json={"paths": [many.name]})
        assert r.status_code == 202, r.text
        run_id = r.json()["run_id"]
        deadline = time.time() + 120
        while time.time() < deadline:
            run = c.get(f"/api/runs/{run_id}", headers=H).json()
            if run["total"] is not None or not run["active"]:
                break
            time.sleep(0.2)
        assert run["total"] == n, run.get("message")
        c.post(f"/api/runs/{run_id}/cancel", headers=H)
        while c.get(f"/api/runs/{run_id}", headers=H).json()["active"] and time.time() < deadline + 60:
            time.sleep(0.2)
    leftovers = [f for f in os.listdir(os.environ.get("TMPDIR", "/tmp")) if f.startswith(f"videoforge-run-{run_id}")]
    assert leftovers == []   # the request file is removed


def test_every_command_with_a_where_takes_one_expression_only(built):
    from videoforge.search.errors import FilterError
    from videoforge.search.query import _allowed_shots

    r = run_cli("caption", built[0], "--backend", "metadata", "--where", STACKED)
    assert r.returncode == 2 and "exactly one SQL condition" in r.stderr, r.stderr
    with Catalog(built[0]).read() as con:
        with pytest.raises(FilterError, match="exactly one SQL condition"):
            _allowed_shots(con, STACKED)
        assert len(_allowed_shots(con, "motion >= 0")) == 5
    from videoforge.curate.features import load_features

    with pytest.raises(SQLFilterError):
        load_features(Catalog(built[0]), ["motion"], where=STACKED)


@pytest.mark.timeout(120)
def test_server_requests_are_time_limited(built):
    from videoforge.catalog.sqlfilter import QueryTimeout
    from videoforge.serve.readgate import ReadGate

    gate = ReadGate(Catalog(built[0]), query_timeout=0.5)
    try:
        with pytest.raises(QueryTimeout, match="ran longer than 0.5 s"):
            with gate.read() as cur:
                cur.execute("SELECT count(*) FROM range(1000000000000)").fetchall()
        with gate.read() as cur:   # the shared connection is still usable
            assert cur.execute("SELECT count(*) FROM shots").fetchone()[0] == 5
    finally:
        gate.close()


def test_a_guesser_cannot_lock_out_other_clients(built):
    # Past the server-wide limit, the guessing address is locked but an address that never sent
    # a wrong token is still checked: the right token works, a wrong one counts against it.
    app = create_app(built[0], TOKEN)
    guesser, other = TestClient(app, client=("203.0.113.7", 5000)), TestClient(app, client=("198.51.100.2", 5000))
    for i in range(20):
        assert guesser.get("/api/videos", headers={"Authorization": f"Bearer guess-{i}-xxxxxxxxxxxx"}).status_code == 401
    assert guesser.get("/api/videos", headers=H).status_code == 429
    assert other.get("/api/videos", headers=H).status_code == 200
    assert other.get("/api/videos", headers={"Authorization": "Bearer guess-x-xxxxxxxxxxxx"}).status_code == 401
    assert other.get("/api/videos", headers=H).status_code == 429   # now it guessed wrong too, under the lock
