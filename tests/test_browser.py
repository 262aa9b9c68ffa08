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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    cat, media, truth = build_catalog(str(tmp_path_factory.mktemp("browser")))
    for k in range(3):
        write_video(os.path.join(media, "incoming", f"i{k}.mp4"), gradient_clip(30, seed=500 + k), fps=25)
    for k in range(10):   # enough work to cancel midway
        write_video(os.path.join(media, "big", f"b{k}.mp4"), gradient_clip(250, w=160, h=96, seed=600 + k), fps=25)
    port = free_port()
    env = dict(os.environ, VIDEOFORGE_TOKEN=TOKEN)
    proc = subprocess.Popen([sys.executable, "-m", "videoforge", "serve", cat, "--port", str(port), "--media-root", media,
                             "--detector", "none", "--no-ocr", "--workers", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            if httpx.get(base + "/login", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"server did not start: {proc.stderr.read() if proc.poll() is not None else 'timeout'}")
        time.sleep(0.2)
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
        page.wait_for_function("[...document.querySelectorAll('#timeline img')].every(i => i.complete && i.naturalWidth > 0)")
        page.screenshot(path=os.path.join(shots_dir, "video_timeline.png"), full_page=True)

        # video -> shot: the clip loads and plays
        page.locator("#timeline .shot-card").nth(1).click()
        page.wait_for_selector("video#clip")
        page.wait_for_function("document.getElementById('clip').readyState >= 2", timeout=20000)
        page.evaluate("document.getElementById('clip').play()")
        page.wait_for_function("document.getElementById('clip').currentTime > 0.1", timeout=20000)
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
        page.wait_for_function("location.hash.includes('min_motion')")
        page.wait_for_function(f"document.querySelectorAll('.timeline .shot-card').length < {total}")
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
        page.wait_for_function("['finished','cancelled','failed'].includes(document.getElementById('run-status').textContent)", timeout=120000)
        assert page.locator("#run-status").text_content() == "finished"
        assert page.locator("#run-progress").text_content() == "3/3"
        page.screenshot(path=os.path.join(shots_dir, "run.png"), full_page=True)

        # a longer run, cancelled from the page once it has committed a video
        page.click("#nav-runs")
        page.fill("#run-paths", "big")
        page.click("#run-form button[type=submit]")
        page.wait_for_function("/^[1-9]/.test(document.getElementById('run-progress')?.textContent || '')", timeout=120000)
        page.click("#cancel-run")
        page.wait_for_function("['finished','cancelled','failed'].includes(document.getElementById('run-status').textContent)", timeout=120000)
        assert page.locator("#run-status").text_content() == "cancelled"
        done, total = map(int, page.locator("#run-progress").text_content().split("/"))
        assert 1 <= done < total == 10

        # errors page with a retry button
        page.click("#nav-errors")
        page.wait_for_selector("#errors tbody tr")
        assert "broken.mp4" in page.locator("#errors").text_content()
        page.click("#retry")
        page.wait_for_selector("#run-status")
        page.wait_for_function("document.getElementById('run-status').textContent !== 'starting' && document.getElementById('run-status').textContent !== 'running'", timeout=120000)
        assert "failed" in page.locator("main").text_content()   # the file is still broken: recorded again
        page.screenshot(path=os.path.join(shots_dir, "errors_retry.png"), full_page=True)
        browser.close()
