"""End to end through the data engine: `videoforge run` -> `videoforge index` -> `videoforge search`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from videoforge.cli import main as cli
from videoforge.io.decode import decode_frames
from search_helpers import degrade, make_video


@pytest.mark.slow
def test_run_index_search_on_real_video(tmp_path, capsys):
    src = tmp_path / "src"
    truth = make_video(src / "a.mp4", 71, shots=3, frames_per_shot=25, size=(320, 180), texts={1: "SUMMER SALE"},
                       title_cards=True)
    truth += make_video(src / "b.mp4", 72, shots=2, frames_per_shot=25, size=(320, 180), texts={0: "WINTER GARDEN"},
                        title_cards=True)
    cat = str(tmp_path / "catalog")
    # PySceneDetect finds these hard cuts reliably; the search side is what this test checks.
    assert cli(["run", str(src), "--catalog", cat, "--engine", "inline", "--detector", "pyscenedetect", "-q"]) == 0
    capsys.readouterr()
    assert cli(["index", cat, "--json"]) == 0
    summary = {s["embedder"]: s for s in json.loads(capsys.readouterr().out)}
    assert summary["visual"]["shots"] == summary["bm25"]["shots"] >= 2

    # Text rendered on screen is found by a text query, with the shot's timestamps.
    for word, t in (("summer", truth[1]), ("Garden", truth[3])):
        assert cli(["search", cat, word, "--json", "--k", "3"]) == 0
        hits = json.loads(capsys.readouterr().out)
        assert hits, f"no hit for {word!r} (ocr_text empty?)"
        top = hits[0]
        assert top["video"] == t.video and "bm25" in top["branches"]
        assert top["start_time"] == pytest.approx(t.start_time, abs=0.041)
        assert top["end_time"] == pytest.approx(t.end_time, abs=0.041)

    # A re-encoded, 90 %-cropped frame finds its shot, and its keyframe time lies in the shot.
    rng = np.random.default_rng(0)
    for t in truth:
        frame = next(f.bgr() for f in decode_frames(t.video) if f.index == (t.start_frame + t.end_frame) // 2 + 3)
        q = tmp_path / f"q{t.shot_index}.jpg"
        import cv2

        cv2.imwrite(str(q), degrade(frame, rng, crop=0.9))
        assert cli(["search", cat, "--image", str(q), "--json", "--k", "1"]) == 0
        (hit,) = json.loads(capsys.readouterr().out)
        assert hit["video"] == t.video
        assert hit["start_time"] == pytest.approx(t.start_time, abs=0.041)
        assert t.start_time <= hit["keyframe_time"] < t.end_time
