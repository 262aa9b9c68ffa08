"""Hostile inputs against the server, the SQL filters, the token checks and file loading (#20).

    nice -n 5 python benchmarks/hostile_inputs.py [--no-browser] > table.md

Tries each input on the real code and prints one Markdown table row per try with the
outcome observed (status code / exit code / whether script ran), so the reliability doc
reports what happened, not what should happen. Pages are tried in Debian's chromium through
Playwright against a real `videoforge serve` process (skipped with --no-browser or without
chromium); the API parts use the same app in-process (FastAPI's TestClient); CLI parts run
the real `videoforge` command. Loopback only; a few minutes on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import pickle
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))   # the server tests' catalog with known truth

TOKEN = "Hx8-Wq3nZt6-Pv2mKs9r"
H = {"Authorization": f"Bearer {TOKEN}"}
VF = [sys.executable, "-m", "videoforge"]
CHROMIUM = "/usr/bin/chromium"
rows: list[tuple[str, str, str]] = []


def row(kind: str, what: str, outcome: str) -> None:
    rows.append((kind, what.replace("|", "\\|").replace("\n", " "), outcome.replace("|", "\\|")))
    print(f"{kind:8} {what[:70]!r:75} {outcome}", file=sys.stderr)


def cli(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([*VF, *map(str, args)], capture_output=True, text=True, env=dict(os.environ, **(env or {})),
                          timeout=300)


def first_line(s: str, n: int = 90) -> str:
    s = s.strip().splitlines()[-1] if s.strip() else ""
    return s if len(s) <= n else s[:n] + "…"


def filters(cat: str, media: str, tmp: str) -> None:
    from fastapi.testclient import TestClient

    from videoforge.serve.app import create_app

    hostile = [
        "TRUE))) AS s; SET memory_limit='1MB'; SELECT * FROM (SELECT 1 AS path, 1 AS start_frame) AS v, (SELECT 1 WHERE ((TRUE",
        "TRUE; SET memory_limit='1MB'", "TRUE) OR (TRUE", "1 FROM shots", "TRUE UNION SELECT 1", "TRUE ORDER BY 1",
        "motion > 0, TRUE", "TRUE)) AS s --", "(SELECT content FROM read_text('/etc/passwd')) <> ''",
        "(SELECT count(*) FROM range(1000000000000)) > 0",
    ]
    with TestClient(create_app(cat, TOKEN, media_root=media, query_timeout=2.0)) as c:
        for w in hostile:
            t0 = time.monotonic()
            r = c.post("/api/export", headers=H, json={"name": "h", "format": "opensora", "where": w})
            msg = r.json().get("error", "") if r.headers.get("content-type", "").startswith("application/json") else ""
            reason = ("not one expression" if "one SQL condition" in msg else "time limit" if "ran longer" in msg
                      else "file access off" if "external" in msg.lower() or "disabled" in msg.lower() else first_line(msg, 60))
            row("filter", f"POST /api/export where={w}", f"{r.status_code} ({reason}; {time.monotonic() - t0:.1f} s)")
        started = len(c.get("/api/runs", headers=H).json())
        row("filter", "export jobs started by the tries above", str(started))
    for w in hostile[:2]:
        r = cli("export", cat, "--out", os.path.join(tmp, "out"), "--format", "opensora", "--where", w)
        row("filter", f"videoforge export --where {w}", f"exit {r.returncode}: {first_line(r.stderr, 70)}")


def tokens(cat: str, media: str) -> None:
    from fastapi.testclient import TestClient

    from videoforge.serve.app import create_app
    from videoforge.serve.auth import SESSION_COOKIE

    for t in ["short", "aaaaaaaaaaaaaaaaaaaa", "abababababababababab", "password12345678", "1234567890123456",
              "P4ssw0rd!P4ssw0rd!", "test-token-0123456789", "qwertyuiopasdfghjkl", "videoforge-token-2024"]:
        r = cli("serve", cat, "--port", "1", env={"VIDEOFORGE_TOKEN": t})
        row("token", f"VIDEOFORGE_TOKEN={t} videoforge serve", f"exit {r.returncode}: {first_line(r.stderr, 80)}")
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        codes = []
        for i in range(25):
            codes.append(c.get("/api/videos", headers={"Authorization": f"Bearer guess-{i:04d}-abcdefgh"}).status_code)
        row("token", "25 wrong bearer tokens in a row", ", ".join(f"{k}: {codes.count(k)}" for k in sorted(set(codes))))
        row("token", "the right token right after", str(c.get("/api/videos", headers=H).status_code))
        r = c.post("/login", data={"token": TOKEN}, follow_redirects=False)
        row("token", "login form with the right token while locked", f"{r.status_code} -> {r.headers.get('location')}")
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        c.post("/login", data={"token": TOKEN})
        cookie = c.cookies[SESSION_COOKIE]
        c.post("/logout")
        c.cookies.clear()
        r = c.get("/api/videos", headers={"Cookie": f"{SESSION_COOKIE}={cookie}"})
        row("token", "session cookie copied before logout, used after", str(r.status_code))
        for hdr in ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"}):
            r = c.post("/api/runs", headers={**H, **hdr}, json={"paths": ["sub"]})
            row("token", f"POST /api/runs with a valid token and {hdr}", str(r.status_code))
        r = c.post("/login", headers={"Origin": "https://evil.example"}, data={"token": TOKEN}, follow_redirects=False)
        row("token", "login CSRF: POST /login from another origin", str(r.status_code))
        r = c.get(f"/api/videos?token={TOKEN}")
        row("token", "token in the query string", str(r.status_code))


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def files(cat: str, media: str, tmp: str) -> None:
    import torch
    from fastapi.testclient import TestClient

    from videoforge.serve.app import create_app

    marker = os.path.join(tmp, "code-ran")
    evil = os.path.join(tmp, "evil.pt")
    torch.save({"format": "videoforge-generator/1", "payload": _RunsCode(marker)}, evil)
    r = cli("generate", evil, "a prompt", "--out", os.path.join(tmp, "x.mp4"))
    row("file", "generate with a checkpoint carrying a pickled os.system call",
        f"exit {r.returncode}, code ran: {os.path.exists(marker)}: {first_line(r.stderr, 70)}")
    from videoforge.train.tasks import load_checkpoint

    try:
        load_checkpoint(evil)
        outcome = "loaded"
    except pickle.UnpicklingError:
        outcome = "refused (UnpicklingError)"
    row("file", "training's load_checkpoint on the same file", f"{outcome}, code ran: {os.path.exists(marker)}")

    many = os.path.join(media, "many-" + "x" * 60)
    os.makedirs(many, exist_ok=True)
    for i in range(3000):
        with open(os.path.join(many, f"clip-{i:05d}-with-a-long-descriptive-file-name.mp4"), "wb") as f:
            f.write(b"not a video %d" % i)
    with TestClient(create_app(cat, TOKEN, media_root=media)) as c:
        r = c.post("/api/runs", headers=H, json={"paths": [os.path.basename(many)]})
        total = None
        if r.status_code == 202:
            rid = r.json()["run_id"]
            deadline = time.time() + 120
            while time.time() < deadline:
                run = c.get(f"/api/runs/{rid}", headers=H).json()
                if run["total"] is not None or not run["active"]:
                    total = run["total"]
                    break
                time.sleep(0.2)
            c.post(f"/api/runs/{rid}/cancel", headers=H)
        row("file", "API run of a folder of 3000 files (paths > 128 KiB)", f"{r.status_code}, run total {total}")
        for p in (["../../etc"], ["/etc/passwd"], ["sub/../../"]):
            r = c.post("/api/runs", headers=H, json={"paths": p})
            row("file", f"POST /api/runs paths={p}", f"{r.status_code}: {first_line(r.json().get('error', ''), 60)}")
        r = c.post("/api/export", headers=H, json={"name": "../../escape", "format": "opensora"})
        row("file", "POST /api/export name=../../escape", str(r.status_code))
        time.sleep(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pages(tmp: str) -> None:
    import httpx
    from playwright.sync_api import sync_playwright

    from conftest import gradient_clip
    from test_serve_support import build_catalog, result_for
    from videoforge.catalog import Catalog
    from videoforge.catalog.commit import commit_video, record_error
    from videoforge.io.encode import write_video

    xss = '"><img src=x onerror=window.__xss=1><script>window.__xss=2</script>'
    attr = "' onmouseover='window.__xss=3' x='"
    cat, media, _ = build_catalog(os.path.join(tmp, "pages"))
    bad = os.path.join(media, 'x"><img src=x onerror=window.__xss=4>.mp4')
    write_video(bad, gradient_clip(20, seed=77), fps=25)
    catalog = Catalog(cat)
    with catalog.write() as con:
        commit_video(con, result_for(bad, {"shots": [(0, 19)], "transitions": []}, catalog.root))
        record_error(con, os.path.join(media, "<script>window.__xss=5</script>.mp4"), "probe", xss + attr)
    port = free_port()
    proc = subprocess.Popen([*VF, "serve", cat, "--port", str(port), "--media-root", media, "--detector", "none", "--no-ocr"],
                            env=dict(os.environ, VIDEOFORGE_TOKEN=TOKEN), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        for p in ("/login", "/"):
            csp = httpx.get(base + p, follow_redirects=False).headers.get("content-security-policy", "")
            row("page", f"GET {p}: Content-Security-Policy", csp.split(";")[1].strip() if csp else "none")
        probe = """() => ({xss: window.__xss ?? null, imgs: document.querySelectorAll('img[src="x"]').length,
            handlers: [...document.querySelectorAll('*')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
            scripts: [...document.scripts].filter((s) => !s.src).length})"""
        routes = []
        for v, name in ((xss, "markup"), (attr, "attribute")):
            routes += [(f"#/shots?min_motion={v}&min_motion=0", f"{name} in min_motion (first of two)"),
                       (f"#/shots?min_motion=0&min_motion={v}", f"{name} in min_motion (last of two)"),
                       (f"#/shots?order={v}", f"{name} in order"), (f"#/?offset={v}", f"{name} in videos offset"),
                       (f"#/video/{v}", f"{name} as video id"), (f"#/shot/{v}", f"{name} as shot id"),
                       (f"#/run/{v}", f"{name} as run id"), (f"#/errors?offset={v}", f"{name} in errors offset"),
                       (f"#/search?q={v}", f"{name} as search text")]
        routes += [("#/", "hostile file name in the catalog (videos list)"),
                   ("#/errors", "hostile path and message in errors")]
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"], headless=True)
            page = browser.new_page()
            page.goto(base + "/login")
            page.fill("#token", TOKEN)
            page.click("#submit")
            page.wait_for_selector("#videos tbody tr")
            for r, what in routes:
                page.goto("about:blank")
                page.goto(base + "/" + r)
                page.wait_for_load_state("networkidle")
                got = page.evaluate(probe)
                ran = got["xss"] is not None
                row("page", what, f"script ran: {'YES' if ran else 'no'}; injected img/handlers/inline scripts: "
                                  f"{got['imgs']}/{got['handlers']}/{got['scripts']}")
            page.evaluate("""() => { const d = document.createElement('div');
                d.innerHTML = '<img src="/static/none.png" onerror="window.__xss=9">'; document.body.appendChild(d); }""")
            page.wait_for_timeout(500)
            row("page", "inline handler planted into the DOM directly (a missed escape)",
                f"script ran: {'YES' if page.evaluate('window.__xss ?? null') is not None else 'no (CSP)'}")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    from test_serve_support import build_catalog

    with tempfile.TemporaryDirectory(prefix="vf-hostile-") as tmp:
        cat, media, _ = build_catalog(os.path.join(tmp, "api"))
        if not args.no_browser and os.path.exists(CHROMIUM):
            pages(tmp)
        filters(cat, media, tmp)
        tokens(cat, media)
        files(cat, media, tmp)
    print("| kind | input | outcome |\n|---|---|---|")
    for k, w, o in rows:
        print(f"| {k} | `{w}` | {o} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
