"""The web page in a real headless browser (Playwright driving Debian's chromium).

Logs in, clicks videos list -> video timeline -> shot, checks the clip really plays,
moves a metric slider, starts and follows a run, retries from the errors page, and saves
screenshots (to a temporary folder; set VIDEOFORGE_SCREENSHOTS=docs/screenshots to refresh
the ones in the docs).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
import pytest

from conftest import gradient_clip
from test_serve_support import build_catalog
from videoforge.io.encode import write_video

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TOKEN = "Gd4kPz9-Vt2qMx7r-web"
SHOTS_DIR = os.environ.get("VIDEOFORGE_SCREENSHOTS")  # None: a temporary folder, so tests leave the tree clean

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed (apt-get install chromium)")


def wait_js(page, expression: str, timeout: float = 30000) -> None:
    """Poll a JS expression until it is truthy. Not page.wait_for_function: its in-page polling
    evaluates strings, which the page's Content-Security-Policy (no 'unsafe-eval') refuses."""
    deadline = time.time() + timeout / 1000
    while not page.evaluate(expression):
        if time.time() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(cat: str, media: str, token: str, *args: str) -> tuple[subprocess.Popen, str]:
    """`videoforge serve CAT --media-root MEDIA ARGS` on a free port, waited for until /login answers."""
    port = free_port()
    env = dict(os.environ, VIDEOFORGE_TOKEN=token)
    proc = subprocess.Popen([sys.executable, "-m", "videoforge", "serve", str(cat), "--port", str(port),
                             "--media-root", str(media), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError(f"server did not start: {proc.stderr.read() if proc.poll() is not None else 'timeout'}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cat, media, truth = build_catalog(str(tmp_path_factory.mktemp("browser")))
    for k in range(3):
        write_video(os.path.join(media, "incoming", f"i{k}.mp4"), gradient_clip(30, seed=500 + k), fps=25)
    for k in range(10):   # enough work to cancel midway
        write_video(os.path.join(media, "big", f"b{k}.mp4"), gradient_clip(250, w=160, h=96, seed=600 + k), fps=25)
    proc, base = start_server(cat, media, TOKEN, "--detector", "none", "--no-ocr", "--workers", "1")
    yield base, cat, media, truth
    proc.terminate()
    proc.wait(10)


def test_click_through_and_play(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, cat, media, truth = server
    shots_dir = SHOTS_DIR or str(tmp_path)
    os.makedirs(shots_dir, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        # unauthenticated: the page sends us to the login form
        page.goto(base + "/")
        assert "/login" in page.url
        page.fill("#token", "wrong-token-value")
        page.click("#submit")
        expect(page.locator("#err")).to_have_text("Wrong token.")
        page.fill("#token", TOKEN)
        page.click("#submit")
        page.wait_for_selector("#videos tbody tr")
        assert page.locator("#videos tbody tr").count() == 2
        page.screenshot(path=os.path.join(shots_dir, "videos.png"), full_page=True)

        # list -> video: the timeline shows thumbnails and the cuts between shots
        page.click("text=three_cuts.mp4")
        page.wait_for_selector("#timeline .shot-card")
        assert page.locator("#timeline .shot-card").count() == 3
        assert page.locator("#timeline .transition[data-kind=cut]").count() == 2
        wait_js(page, "[...document.querySelectorAll('#timeline img')].every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=os.path.join(shots_dir, "video_timeline.png"), full_page=True)

        # video -> shot: the clip loads and plays
        page.locator("#timeline .shot-card").nth(1).click()
        page.wait_for_selector("video#clip")
        wait_js(page, "document.getElementById('clip').readyState >= 2", timeout=20000)
        page.evaluate("document.getElementById('clip').play()")
        wait_js(page, "document.getElementById('clip').currentTime > 0.1", timeout=20000)
        info = page.evaluate("(() => { const v = document.getElementById('clip'); return {w: v.videoWidth, h: v.videoHeight, d: v.duration, err: v.error && v.error.code}; })()")
        assert info["err"] is None and (info["w"], info["h"]) == (96, 64)
        assert abs(info["d"] - 0.8) < 0.1   # 20 frames at 25 fps: exactly the shot
        assert page.locator("text=into this shot").count() == 1 and page.locator("text=out of this shot").count() == 1
        page.evaluate("document.getElementById('clip').pause()")
        page.screenshot(path=os.path.join(shots_dir, "shot.png"), full_page=True)

        # metric filter sliders narrow the shot list
        page.click("#nav-shots")
        page.wait_for_selector("#filters input[data-metric=motion]")
        total = page.locator(".timeline .shot-card").count()
        assert total == 5
        slider = page.locator("#filters input[data-metric=motion][data-bound=min]")
        slider.evaluate("(el) => { el.value = (Number(el.min) + Number(el.max)) / 2; el.dispatchEvent(new Event('input', {bubbles: true})); }")
        page.click("#filters button[type=submit]")
        wait_js(page, "location.hash.includes('min_motion')")
        wait_js(page, f"document.querySelectorAll('.timeline .shot-card').length < {total}")
        page.screenshot(path=os.path.join(shots_dir, "shots_filtered.png"), full_page=True)

        # search box (no index in this catalog): a clear empty answer, no error
        page.fill("#search-box", "red car")
        page.press("#search-box", "Enter")
        page.wait_for_selector("text=Search needs an index")

        # runs: start one on a folder under the media root and follow it to the end
        page.click("#nav-runs")
        page.fill("#run-paths", "incoming")
        page.click("#run-form button[type=submit]")
        page.wait_for_selector("#run-status")
        wait_js(page, "['finished','cancelled','failed'].includes(document.getElementById('run-status').textContent)", timeout=120000)
        assert page.locator("#run-status").text_content() == "finished"
        assert page.locator("#run-progress").text_content() == "3/3"
        page.screenshot(path=os.path.join(shots_dir, "run.png"), full_page=True)

        # a longer run, cancelled from the page once it has committed a video
        page.click("#nav-runs")
        page.fill("#run-paths", "big")
        page.click("#run-form button[type=submit]")
        wait_js(page, "/^[1-9]/.test(document.getElementById('run-progress')?.textContent || '')", timeout=120000)
        page.click("#cancel-run")
        wait_js(page, "['finished','cancelled','failed'].includes(document.getElementById('run-status').textContent)", timeout=120000)
        assert page.locator("#run-status").text_content() == "cancelled"
        done, total = map(int, page.locator("#run-progress").text_content().split("/"))
        assert 1 <= done < total == 10

        # errors page with a retry button
        page.click("#nav-errors")
        page.wait_for_selector("#errors tbody tr")
        assert "broken.mp4" in page.locator("#errors").text_content()
        page.click("#retry")
        page.wait_for_selector("#run-status")
        wait_js(page, "document.getElementById('run-status').textContent !== 'starting' && document.getElementById('run-status').textContent !== 'running'", timeout=120000)
        assert "failed" in page.locator("main").text_content()   # the file is still broken: recorded again
        page.screenshot(path=os.path.join(shots_dir, "errors_retry.png"), full_page=True)
        browser.close()


# -- hostile values (#20): nothing from the URL or the catalog becomes markup or runs ------------
XSS = '"><img src=x onerror=window.__xss=1><script>window.__xss=2</script>'
XSS_ATTR = "' onmouseover='window.__xss=3' x='"
INJECTED_JS = """() => ({
  xss: window.__xss ?? null,
  imgs: document.querySelectorAll('img[src="x"]').length,
  scripts: [...document.scripts].map((s) => s.getAttribute('src') || 'inline'),
  handlers: [...document.querySelectorAll('*')].flatMap((el) => [...el.attributes].filter((a) => a.name.startsWith('on')).map((a) => el.tagName + '@' + a.name)),
  text: document.getElementById('view').textContent,
})"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """A server whose catalog holds hostile file names and error messages."""
    from test_serve_support import result_for
    from videoforge.catalog import Catalog
    from videoforge.catalog.commit import commit_video, record_error

    cat, media, truth = build_catalog(str(tmp_path_factory.mktemp("hostile")))
    bad_name = os.path.join(media, 'x"><img src=x onerror=window.__xss=4>.mp4')
    write_video(bad_name, gradient_clip(20, seed=77), fps=25)
    catalog = Catalog(cat)
    with catalog.write() as con:
        commit_video(con, result_for(bad_name, {"shots": [(0, 19)], "transitions": []}, catalog.root))
        record_error(con, os.path.join(media, "<script>window.__xss=5</script>.mp4"), "probe", XSS + XSS_ATTR)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "videoforge", "serve", cat, "--port", str(port), "--media-root", media,
                             "--detector", "none", "--no-ocr", "--workers", "1"],
                            env=dict(os.environ, VIDEOFORGE_TOKEN=TOKEN), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.2)
    yield base, cat
    proc.terminate()
    proc.wait(10)


def test_hostile_values_in_every_route_never_become_markup(hostile_server):
    from playwright.sync_api import sync_playwright

    base, cat = hostile_server
    from videoforge.catalog import Catalog

    shot = Catalog(cat).query("SELECT shot_id FROM shots s JOIN videos v USING (video_id) WHERE v.path LIKE '%onerror%'")[1][0][0]
    routes = []
    for v in (XSS, XSS_ATTR):
        routes += [f"#/?offset={v}", f"#/video/{v}", f"#/shot/{v}", f"#/run/{v}", f"#/runs?x={v}",
                   f"#/errors?offset={v}", f"#/search?q={v}",
                   f"#/shots?min_motion={v}&min_motion=0",     # issue #20's case: first value hostile
                   f"#/shots?min_motion=0&min_motion={v}",     # last value hostile: the server's 400 is shown
                   f"#/shots?order={v}", f"#/shots?max_duration={v}&offset={v}"]
    routes += ["#/", "#/errors", f"#/shot/{shot}", "#/shots"]   # hostile names and messages from the catalog
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page()
        violations = []
        page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(base + "/login")
        page.fill("#token", TOKEN)
        page.click("#submit")
        page.wait_for_selector("#videos tbody tr")
        for r in routes:
            page.goto("about:blank")
            page.goto(base + "/" + r)
            page.wait_for_load_state("networkidle")
            wait_js(page, "!document.getElementById('view').textContent.includes('Loading')")
            got = page.evaluate(INJECTED_JS)
            assert got["xss"] is None and got["imgs"] == 0 and got["handlers"] == [], (r, got)
            assert got["scripts"] == ["/static/app.js"], (r, got["scripts"])
            if r.startswith("#/errors") and "offset" not in r:
                assert "<script>window.__xss=5</script>.mp4" in got["text"] and "onerror" in got["text"]   # shown as text
        # both readers of a repeated parameter agree: the slider shows what the server filtered on
        page.goto("about:blank")
        page.goto(base + "/#/shots?min_motion=999&min_motion=0")
        page.wait_for_selector("#filters input[data-metric=motion]")
        assert page.locator("#filters input[data-metric=motion][data-bound=min]").input_value() != "999"
        assert page.locator(".timeline .shot-card").count() == 6   # min_motion=0: every shot
        # defence in depth: markup that did get in would still not run (CSP: no inline handlers/script)
        page.evaluate("""() => { const d = document.createElement('div');
            d.innerHTML = '<img src="/static/none.png" onerror="window.__xss=9">';
            document.body.appendChild(d); const s = document.createElement('script');
            s.textContent = 'window.__xss = 10'; document.body.appendChild(s); }""")
        page.wait_for_timeout(500)
        assert page.evaluate("window.__xss ?? null") is None
        assert violations, "the browser reported no CSP refusal for the planted inline code"
        # the login page itself runs under the same policy
        page.goto(base + "/login?next=%22%3E%3Cimg%20src%3Dx%20onerror%3Dwindow.__xss%3D1%3E&error=%3Cb%3E")
        got = page.evaluate("() => ({xss: window.__xss ?? null, imgs: document.querySelectorAll('img').length, next: document.getElementById('next').value, err: document.getElementById('err').innerHTML})")
        assert got == {"xss": None, "imgs": 0, "next": "/", "err": "Wrong token."}, got
        browser.close()
