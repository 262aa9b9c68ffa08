"""The decision-center page (/plans) in a real headless browser (Playwright driving Debian's
chromium, as tests/test_browser.py): log in, plan a run within a budget, see the predicted
stages, then plan and run it, and see its actual cost next to the prediction."""

from __future__ import annotations

import os
import re

import pytest

from conftest import gradient_clip
from test_browser import ARGS, CHROMIUM, start_server, wait_js
from videoforge.catalog import Catalog
from videoforge.io.encode import write_video

TOKEN = "Pz8rWq3-Hk5mXv2c-plans"

pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"{CHROMIUM} not installed (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("planweb")
    media = root / "media"
    for k in range(2):
        write_video(media / "incoming" / f"i{k}.mp4", gradient_clip(30, seed=700 + k), fps=25)
    Catalog(str(root / "cat")).create()
    proc, base = start_server(root / "cat", media, TOKEN)
    yield base
    proc.terminate()
    proc.wait(10)


def test_plans_page_plans_runs_and_shows_predicted_vs_actual(server, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(base + "/")
        page.fill("#token", TOKEN)
        page.click("#submit")
        page.wait_for_url(re.compile(r".*/(#.*)?$"))
        page.goto(base + "/plans")
        expect(page.locator("#plans-status")).to_have_text("no plan has been run on this catalog yet")

        # a budget below anything: the page says what the cheapest plan needs
        page.fill("#plan-paths", "incoming")
        page.select_option("#plan-goal", "catalog")
        page.fill("#plan-budget", "0.0000001")
        page.click("#plan-predict")
        # generous timeouts: planning samples the inputs and solves two ILPs (seconds on a loaded box)
        expect(page.locator("#plan-status")).to_contain_text("cheapest plan needs", timeout=60000)

        # plan only: the stages and the prediction, nothing run
        page.fill("#plan-budget", "")
        page.click("#plan-predict")
        expect(page.locator("#plan-status")).to_have_text("planned (not run)", timeout=60000)
        stages = page.locator("#plan-stages tbody tr")
        assert stages.count() >= 6
        assert page.locator("#plan-stages tbody tr", has_text="shots").count() >= 1
        expect(page.locator("#plan-predicted")).to_contain_text("CPU-s")

        # plan and run: follow the job, then the actual cost sits next to the prediction
        page.click("#plan-execute")
        expect(page.locator("#plan-status")).to_have_text("plan run finished", timeout=240000)
        txt = page.locator("#plan-actual").inner_text()
        m = re.search(r"actual: ([0-9.]+) CPU-s \(predicted ([0-9.]+), ratio ([0-9.]+)\)", txt)
        assert m, txt
        assert float(m.group(1)) > 0 and float(m.group(2)) > 0
        wait_js(page, "document.querySelectorAll('#plans-table tbody tr').length === 1")
        row = [c.inner_text() for c in page.locator("#plans-table tbody tr td").all()]
        assert row[1] == "catalog" and float(row[2]) == pytest.approx(float(m.group(2)), abs=0.01)
        assert float(row[3]) == pytest.approx(float(m.group(1)), abs=0.01)
        page.screenshot(path=os.path.join(os.environ.get("VIDEOFORGE_SCREENSHOTS") or str(tmp_path), "plans.png"),
                        full_page=True)
        browser.close()
