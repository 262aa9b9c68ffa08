"""Real footage we did not make (#18): OpenCV's sample videos from Debian's opencv-doc.

Megamind.avi (MPEG-4 Part 2 in AVI with packed B-frames: the decoder's frames carry each
other's timestamps), Megamind_bugy.avi (another encode of it at 30 fps, packed the same
way), vtest.avi (MS-MPEG-4 v3) and tree.avi (Cinepak; the header claims 444 frames, 68 are
stored, with timestamp gaps).
The truth each is held to is what a plain PyAV decode delivers: its frame count, and each
frame's presentation time = the i-th smallest timestamp (frames come out in presentation
order). `run` (the CLI), `shots` (the CLI, parallel segments allowed), `export` (the CLI)
and the server's clip route must all agree with it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil

import av
import cv2
import numpy as np
import pytest

from conftest import run_cli
from videoforge.catalog import Catalog

DATA = "/usr/share/doc/opencv-doc/examples/data"
NAMES = ("Megamind.avi", "Megamind_bugy.avi", "vtest.avi", "tree.avi")
_missing = [n for n in NAMES if not os.path.isfile(os.path.join(DATA, n))]
pytestmark = pytest.mark.skipif(bool(_missing), reason=f"Debian's opencv-doc sample videos are not in {DATA} "
                                                       f"(missing {_missing}); `make test` installs them with apt as root")
TOKEN = "Kq7vXr2-Lp9wTz4n-real"
H = {"Authorization": f"Bearer {TOKEN}"}


def plain_decode(path: str) -> dict:
    """A plain PyAV decode: frames (small grey pictures), presentation times, the stream's rate."""
    with av.open(path) as c:
        vs = c.streams.video[0]
        pics, labels, durations = [], [], []
        for f in c.decode(vs):
            pics.append(cv2.resize(f.to_ndarray(format="gray"), (64, 48), interpolation=cv2.INTER_AREA).astype(np.int16))
            labels.append(f.pts)
            durations.append(f.duration)
        tb, rate = vs.time_base, vs.average_rate or vs.guessed_rate
    times = [float(p * tb) for p in sorted(labels)]
    # the last frame (in presentation order) lasts its own duration, else one step
    own = durations[labels.index(max(labels))]
    last = float(own * tb) if own else times[-1] - times[-2]
    return {"pics": pics, "times": times, "labels": labels, "rate": float(rate), "frames": len(pics),
            "span": times[-1] + last - times[0]}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    d = tmp_path_factory.mktemp("real")
    paths = [os.path.join(DATA, n) for n in NAMES]
    r = run_cli("run", *paths, "--catalog", d / "cat", "-q", timeout=900)
    assert r.returncode == 0, r.stderr
    shots_json = {}
    for p in paths:
        s = run_cli("shots", p, "--json", "--workers", "2", timeout=600)
        assert s.returncode == 0, s.stderr
        shots_json[p] = json.loads(s.stdout)
    e = run_cli("export", d / "cat", "--out", d / "out", "--format", "opensora", timeout=900)
    assert e.returncode == 0, e.stderr
    with open(d / "out" / "manifest.csv", newline="") as f:
        manifest = list(csv.DictReader(f))
    cat = Catalog(d / "cat")
    videos = {os.path.basename(v["path"]): v for v in cat.query_dicts("SELECT * FROM videos")}
    return {"dir": d, "cat": cat, "videos": videos, "shots_json": shots_json, "manifest": manifest,
            "plain": {n: plain_decode(os.path.join(DATA, n)) for n in NAMES}}


def _shots(real, name: str) -> list[dict]:
    vid = real["videos"][name]["video_id"]
    return real["cat"].query_dicts("SELECT * FROM shots WHERE video_id = ? ORDER BY start_frame", [vid])


def test_the_files_are_the_hard_cases(real):
    """What makes these files hard, measured on the files themselves (else this test proves little)."""
    mm = real["plain"]["Megamind.avi"]["labels"]
    assert any(b < a for a, b in zip(mm, mm[1:]))          # timestamps on the wrong frames
    with av.open(os.path.join(DATA, "tree.avi")) as c:
        header = c.streams.video[0].frames
    assert header != real["plain"]["tree.avi"]["frames"]     # the header's count is not what decodes


@pytest.mark.parametrize("name", NAMES)
def test_frames_and_fps_are_the_decoders_and_the_streams(real, name):
    plain, video, doc = real["plain"][name], real["videos"][name], real["shots_json"][os.path.join(DATA, name)]
    assert video["frames"] == plain["frames"] == doc["frames"]
    assert video["fps"] == pytest.approx(plain["rate"], abs=1e-9) and doc["fps"] == pytest.approx(plain["rate"], abs=1e-9)
    if name.startswith("Megamind.avi"):
        assert video["frames"] == 270 and video["fps"] == pytest.approx(24000 / 1001, abs=1e-3)


@pytest.mark.parametrize("name", NAMES)
def test_times_follow_presentation_order(real, name):
    plain, video = real["plain"][name], real["videos"][name]
    times = plain["times"]
    shots = _shots(real, name)
    assert shots and shots[0]["start_frame"] == 0 and shots[-1]["end_frame"] <= plain["frames"] - 1
    for s in shots:
        assert s["start_time"] == pytest.approx(times[s["start_frame"]], abs=1e-6)
        if s["end_frame"] + 1 < len(times):
            assert s["end_time"] == pytest.approx(times[s["end_frame"] + 1], abs=1e-6)
    assert video["duration"] == pytest.approx(plain["span"], abs=1e-6)
    kfs = real["cat"].query_dicts("SELECT frame, pts_time FROM keyframes WHERE video_id = ?", [video["video_id"]])
    assert kfs
    for k in kfs:
        assert k["pts_time"] == pytest.approx(times[k["frame"]], abs=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_run_and_shots_give_identical_boundaries(real, name):
    doc = real["shots_json"][os.path.join(DATA, name)]
    got = [(s["start_frame"], s["end_frame"], round(s["start_time"], 9), round(s["end_time"], 9)) for s in doc["shots"]]
    want = [(s["start_frame"], s["end_frame"], round(s["start_time"], 9), round(s["end_time"], 9)) for s in _shots(real, name)]
    assert got == want


@pytest.mark.parametrize("name", NAMES)
def test_avi_is_not_split_into_segments(name):
    """AVI stores no presentation timestamps: a PTS cannot name a split point."""
    from videoforge.io.segments import plan_segments

    assert len(plan_segments(os.path.join(DATA, name), 8, min_frames=10)) == 1


def _assert_clip_is_the_shot(clip_path: str, plain: dict, start: int, end: int) -> None:
    with av.open(clip_path) as c:
        got = [cv2.resize(f.to_ndarray(format="gray"), (64, 48), interpolation=cv2.INTER_AREA).astype(np.int16)
               for f in c.decode(video=0)]
    assert len(got) == end - start + 1, clip_path
    src = plain["pics"]
    for k, g in enumerate(got):
        i = start + k
        own = np.abs(g - src[i]).mean()
        for j in (i - 1, i + 1):   # where the neighbour is clearly another picture, the clip frame is not it
            if 0 <= j < len(src) and np.abs(src[j] - src[i]).mean() > 4:
                assert own < 0.5 * np.abs(g - src[j]).mean(), (clip_path, i, j)


@pytest.mark.parametrize("name", NAMES)
def test_every_exported_clip_is_exactly_its_shot(real, name):
    vid = real["videos"][name]["video_id"]
    rows = [r for r in real["manifest"] if r["video_id"] == vid]
    assert sorted((int(r["start_frame"]), int(r["end_frame"])) for r in rows) == \
        [(s["start_frame"], s["end_frame"]) for s in _shots(real, name)]
    for r in rows:
        start, end = int(r["start_frame"]), int(r["end_frame"])
        assert int(r["num_frames"]) == end - start + 1
        _assert_clip_is_the_shot(str(real["dir"] / "out" / r["path"]), real["plain"][name], start, end)
    assert not real["cat"].query_dicts("SELECT * FROM errors WHERE stage = 'export'")


def test_server_serves_exact_clips_of_megamind(real, tmp_path):
    from fastapi.testclient import TestClient

    from videoforge.serve.app import create_app

    with TestClient(create_app(real["cat"].root, TOKEN, media_root=DATA)) as c:
        for s in _shots(real, "Megamind.avi"):
            r = c.get(f"/api/shots/{s['shot_id']}/clip", headers=H)
            assert r.status_code == 200, r.text
            out = tmp_path / f"{s['shot_id']}.mp4"
            out.write_bytes(r.content)
            _assert_clip_is_the_shot(str(out), real["plain"]["Megamind.avi"], s["start_frame"], s["end_frame"])


def test_a_file_that_cannot_be_cut_says_why(tmp_path):
    """Catalogued, then cut short on disk: export records an error naming the file and the
    reason; the clip route answers with that reason (422), not a bare 404."""
    from fastapi.testclient import TestClient

    from videoforge.export import export_catalog
    from videoforge.serve.app import create_app

    media = tmp_path / "media"
    media.mkdir()
    src = media / "Megamind.avi"
    shutil.copyfile(os.path.join(DATA, "Megamind.avi"), src)
    r = run_cli("run", src, "--catalog", tmp_path / "cat", "-q", timeout=600)
    assert r.returncode == 0, r.stderr
    with open(src, "r+b") as f:
        f.truncate(os.path.getsize(src) // 3)
    cat = Catalog(tmp_path / "cat")
    last = cat.query_dicts("SELECT * FROM shots ORDER BY start_frame DESC LIMIT 1")[0]
    s = export_catalog(cat.root, tmp_path / "out", "opensora", workers=1)
    assert s.failed >= 1
    errs = cat.query_dicts("SELECT * FROM errors WHERE stage = 'export'")
    assert len(errs) == 1 and errs[0]["path"] == str(src) and "Megamind.avi" in errs[0]["message"]
    assert "frames" in errs[0]["message"]     # why: the frames the shot needs do not decode
    with TestClient(create_app(cat.root, TOKEN, media_root=str(media))) as c:
        r = c.get(f"/api/shots/{last['shot_id']}/clip", headers=H)
    assert r.status_code == 422, r.text
    body = r.json()
    assert "Megamind.avi" in body["error"] and "frames" in body["error"] and body["path"] == str(src)
