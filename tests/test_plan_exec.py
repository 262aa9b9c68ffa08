"""Decision center (issue 25): executing plans with every kind of stage: per-shot gating
(suitability gates a paid captioner and the visual index), an OpenAI-compatible captioner's
USD and tokens (a real local HTTP server), the inline pool, inputs left out, the lean OCR
switch, and what each run feeds back."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest

from conftest import gradient_clip
from curate_helpers import FakeOpenAI
from videoforge.io.encode import write_video
from videoforge.plan.costs import probe_input
from videoforge.plan.execute import execute
from videoforge.plan.planner import Assignment, Problem, document
from videoforge.plan.post import OFF
from videoforge.plan.registry import shipped_registry


@pytest.fixture(scope="module")
def mixed_videos(tmp_path_factory):
    """Three H.264 files; the first cuts from moving texture to a flat, frozen grey picture
    (a shot the suitability model rejects), so the gate has something to leave out."""
    d = tmp_path_factory.mktemp("mixed")
    grey = [np.full((64, 96, 3), 118, np.uint8)] * 40
    write_video(d / "a.mp4", gradient_clip(40, seed=11) + grey + gradient_clip(40, seed=12), fps=25)
    write_video(d / "b.mp4", gradient_clip(36, seed=13), fps=25)
    write_video(d / "c.mp4", gradient_clip(30, seed=14), fps=25)
    return [str(d / f) for f in ("a.mp4", "b.mp4", "c.mp4")]


def test_gated_paid_captions_inline_pool_and_skipped_input(mixed_videos, tmp_path, monkeypatch):
    with FakeOpenAI() as srv:   # usage: 100 prompt + 20 completion tokens per call
        monkeypatch.setenv("VIDEOFORGE_CAPTION_URL", srv.base_url)
        monkeypatch.setenv("VIDEOFORGE_CAPTION_MODEL", "llava-test")
        monkeypatch.setenv("VIDEOFORGE_CAPTION_PRICE_INPUT", "5")
        monkeypatch.setenv("VIDEOFORGE_CAPTION_PRICE_OUTPUT", "15")
        reg = shipped_registry()
        p = Problem("dataset", [probe_input(v) for v in mixed_videos], reg, None, None, {}, prune=False)
        eng = {"metrics": "quarter", "ocr": "lean", "shots": "videoforge"}
        eng2 = {"metrics": "none", "ocr": "off", "shots": "none"}
        post = {"caption": "openai", "embed": "visual", "gate": "suitable", "suitability": "default"}
        post2 = {**OFF, "caption": "metadata", "suitability": "default"}
        a = Assignment("inline", [p.chains.index(eng), p.chains.index(eng2), p.skip],
                       [p.post.index(post), p.post.index(post2), 0])
        doc = document(p, a)
        assert doc["not_analysed"] == [mixed_videos[2]] and doc["chains"][0]["workers"] == 0
        assert doc["predicted"]["usd"] > 0 and doc["caption_endpoint"]["model"] == "llava-test"
        doc = json.loads(json.dumps(doc))   # what a plan file holds
        cat = tmp_path / "cat"
        out = execute(doc, str(cat), whole_process=False)
        calls = len(srv.requests)
    assert out["not_analysed"] == [mixed_videos[2]] and out["feedback"]["folded"]
    con = duckdb.connect(str(cat / "catalog.duckdb"), read_only=True)
    try:
        vids = dict(con.execute("SELECT path, analysis_params FROM videos").fetchall())
        assert set(vids) == set(mixed_videos[:2]), "the skipped input is not analysed"
        pa, pb = json.loads(vids[mixed_videos[0]]), json.loads(vids[mixed_videos[1]])
        assert pa["ocr"] and pa["scorer_params"]["text"]["frames_per_ocr"] == 250 and not pb["ocr"]
        rows = con.execute("SELECT v.path, s.suitability, s.caption_backend FROM shots s JOIN videos v USING (video_id)").fetchall()
        a_rows = [r for r in rows if r[0] == mixed_videos[0]]
        kept = [r for r in a_rows if r[1] >= 0.3]
        assert len(a_rows) >= 2 and 0 < len(kept) < len(a_rows), a_rows   # the gate has a real decision to make
        assert all((r[2] == "openai") == (r[1] >= 0.3) for r in a_rows), "only the shots the gate keeps are captioned"
        assert calls == len(kept)
        b_rows = [r for r in rows if r[0] == mixed_videos[1]]
        assert len(b_rows) == 1 and b_rows[0][2] == "metadata" and b_rows[0][1] is not None
        reg_rows = {f"{s}/{v}": (c, n) for s, v, c, n in con.execute(
            "SELECT stage, variant, cpu_seconds, samples FROM stages").fetchall()}
    finally:
        con.close()
    # money: what the replies' usage says, at the configured prices
    assert out["actual"]["usd"] == pytest.approx(calls * (100 * 5 + 20 * 15) / 1e6)
    # the visual index holds exactly the kept shots of the gated input
    emb = [r for r in out["post"] if r["chain"]["embed"] == "visual"][0]
    assert emb["gate_kept"] == len(kept) and emb["stages"]["embed"]["cpu_seconds"] > 0
    # feedback: tokens per call from the replies, the gate's pass rate, per-shot costs
    assert reg_rows["forecast/openai_prompt_tokens"][0] == pytest.approx(100.0)
    assert reg_rows["forecast/suitable_fraction"][1] >= 1 and reg_rows["suitability/default"][1] >= 1
    assert reg_rows["caption/openai"][1] >= 1
