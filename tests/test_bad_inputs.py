"""Bad input, nothing lost: `videoforge run` over a folder of broken and awkward files plus one good video.

Each case either processes correctly (its values checked) or lands in `errors` with a message
naming the file and the problem; the good video's rows are complete; the run exits 0 and says
how many failed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import run_cli
from videoforge.catalog import Catalog
from videoforge.synth.bad_inputs import BAD_INPUTS, good, make_bad_inputs, source_frames, uhd_4k

# case -> words the error message must contain (besides the file's path)
MUST_FAIL = {
    "zero_byte.mp4": "empty",
    "truncated.mp4": "not a video container",
    "text_file.mp4": "not a video container",
    "audio_only.mp4": "no video stream",
}


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    made = make_bad_inputs(d / "in")
    r = run_cli("run", d / "in", "--catalog", d / "cat", "--workers", "2", "-q", timeout=900)
    cat = Catalog(d / "cat")
    videos = {os.path.basename(v["path"]): v for v in cat.query_dicts("SELECT * FROM videos")}
    errors = {os.path.basename(e["path"]): e for e in cat.query_dicts("SELECT * FROM errors")}
    shots: dict[str, list[dict]] = {}
    for s in cat.query_dicts("SELECT s.*, v.path AS vpath FROM shots s JOIN videos v USING (video_id) ORDER BY start_frame"):
        shots.setdefault(os.path.basename(s["vpath"]), []).append(s)
    return made, r, cat, videos, errors, shots


def test_run_completes_and_counts_failures(bad_run):
    made, r, _, videos, errors, _ = bad_run
    assert r.returncode == 0, r.stderr
    assert f"{len(errors)} video(s) failed" in r.stderr
    # every file is accounted for exactly once: analysed or recorded as an error
    assert set(videos) | set(errors) == set(made)
    assert not set(videos) & set(errors)


@pytest.mark.parametrize("name", sorted(MUST_FAIL))
def test_unreadable_files_land_in_errors_naming_file_and_problem(bad_run, name):
    made, _, _, _, errors, _ = bad_run
    e = errors[name]
    assert e["path"] == os.path.abspath(made[name]) or os.path.abspath(e["path"]) == os.path.abspath(made[name])
    assert made[name] in e["message"] or os.path.abspath(made[name]) in e["message"]
    assert MUST_FAIL[name] in e["message"]
    assert e["stage"] and e["logged_at"] is not None


def check_shots_tile(shots: list[dict], frames: int) -> None:
    """Shots lie inside the video, in order, without overlap; their times follow their frames."""
    assert shots
    prev_end = -1
    for s in shots:
        assert prev_end < s["start_frame"] <= s["end_frame"] < frames
        assert s["end_time"] > s["start_time"]
        prev_end = s["end_frame"]


def test_awkward_files_process_with_correct_values(bad_run):
    _, _, _, videos, errors, shots = bad_run
    ok = {n: v for n, v in videos.items()}
    for name in ("one_frame.mp4", "odd_641x359.mp4", "rotated_phone.mp4", "ten_bit.mp4", "vfr.mp4", "uhd_4k.mp4"):
        assert name in ok, f"{name} failed: {errors.get(name, {}).get('message')}"
        check_shots_tile(shots[name], ok[name]["frames"])
    v = ok["one_frame.mp4"]
    assert v["frames"] == 1 and [(s["start_frame"], s["end_frame"]) for s in shots["one_frame.mp4"]] == [(0, 0)]
    assert v["duration"] == pytest.approx(0.04)
    v = ok["odd_641x359.mp4"]
    assert (v["width"], v["height"], v["frames"]) == (641, 359, 10)
    v = ok["rotated_phone.mp4"]                     # stored 128x72, display matrix 90 degrees
    assert (v["width"], v["height"], v["rotation"]) == (72, 128, 90)
    assert all((s["width"], s["height"]) == (72, 128) for s in shots["rotated_phone.mp4"])
    v = ok["ten_bit.mp4"]
    assert v["bit_depth"] == 10 and v["frames"] == 25 and "10" in v["pix_fmt"]
    v = ok["vfr.mp4"]   # 20 steps of 1/30 s and 20 of 1/15 s: 2.0 s, 20 frames/s on average
    assert v["vfr"] is True and v["frames"] == 40
    assert v["duration"] == pytest.approx(2.0, abs=1e-3) and v["frames"] / v["duration"] == pytest.approx(20.0, abs=0.01)
    import av   # fps is the rate the stream states (FFmpeg's average_rate), not a timestamp average (#18)

    with av.open(v["path"]) as c:
        assert v["fps"] == pytest.approx(float(c.streams.video[0].average_rate), abs=1e-9)
    assert ok["good.mp4"]["vfr"] is False
    v = ok["uhd_4k.mp4"]
    assert (v["width"], v["height"], v["frames"]) == (3840, 2160, 40)


@pytest.mark.parametrize("name", ["good.mp4", "ten_bit.mp4", "odd_641x359.mp4", "rotated_phone.mp4", "vfr.mp4",
                                  "one_frame.mp4"])
def test_pixels_are_read_right(bad_run, name):
    """Each shot's brightness matches the mean luma of the frames that were encoded into it: a
    10-bit plane read as 8-bit, a misaligned odd-width row or a wrong rotation would not."""
    import cv2
    import numpy as np

    shots = bad_run[5][name]
    frames = source_frames(name)
    for s in shots:
        want = np.mean([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY).mean() / 255
                        for f in frames[s["start_frame"]: s["end_frame"] + 1]])
        assert s["brightness"] == pytest.approx(want, abs=0.02), (name, s["start_frame"])


def test_rotated_keyframes_are_upright(bad_run):
    import cv2

    _, _, cat, videos, _, _ = bad_run
    rows = cat.query_dicts("SELECT path, width, height FROM keyframes WHERE video_id = ?",
                           [videos["rotated_phone.mp4"]["video_id"]])
    assert rows
    for r in rows:
        img = cv2.imread(os.path.join(cat.root, r["path"]))
        assert img.shape[0] > img.shape[1] and (r["width"], r["height"]) == (img.shape[1], img.shape[0])


def test_damaged_files_keep_what_decodes_or_say_why(bad_run):
    made, _, _, videos, errors, shots = bad_run
    # truncated 'faststart' MP4: its index lists 50 frames, about the first 20 survive the cut
    v = videos["truncated_faststart.mp4"]
    assert 0 < v["frames"] < 50
    check_shots_tile(shots["truncated_faststart.mp4"], v["frames"])
    # stream cut 7 frames into a GOP: decoding starts at the next keyframe (frame 20 of the
    # original, PTS 0.8 s); frame 0 is that keyframe and times stay the file's own
    v = videos["mid_gop_start.mp4"]
    assert v["frames"] == 40
    assert shots["mid_gop_start.mp4"][0]["start_time"] == pytest.approx(0.8)
    check_shots_tile(shots["mid_gop_start.mp4"], v["frames"])
    # corrupt AVI: either analysed from the packets that decode, or an error naming it
    if "corrupt.avi" in errors:
        assert made["corrupt.avi"] in errors["corrupt.avi"]["message"]
    else:
        v = videos["corrupt.avi"]
        assert 0 < v["frames"] <= 60 and v["codec"] == "mpeg4"
        check_shots_tile(shots["corrupt.avi"], v["frames"])


def test_good_video_rows_are_complete(bad_run):
    from videoforge.metrics.base import get_scorer, scorer_names

    _, _, cat, videos, _, shots = bad_run
    v = videos["good.mp4"]
    for col in ("video_id", "path", "fingerprint", "duration", "fps", "vfr", "frames", "width", "height",
                "codec", "has_audio", "analysis_version", "analyzed_at"):
        assert v[col] is not None, col
    assert (v["frames"], v["width"], v["height"], v["has_audio"]) == (50, 96, 64, True)
    assert [(s["start_frame"], s["end_frame"]) for s in shots["good.mp4"]] == [(0, 49)]
    produced = {c for n in scorer_names() for c in get_scorer(n).columns} - {"ocr_text"}
    for s in shots["good.mp4"]:
        missing = [c for c in produced if s.get(c) is None]
        assert not missing, f"good video's shot lacks {missing}"


def test_rerun_retries_errors_and_does_not_double_rows(bad_run, tmp_path):
    made, _, cat, videos, errors, _ = bad_run
    n_shots = cat.query("SELECT count(*) FROM shots")[1][0][0]
    r = run_cli("run", os.path.dirname(made["good.mp4"]), "--catalog", cat.root, "--workers", "2", "-q", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["skipped"] == len(videos) and doc["failed"] == len(errors)
    assert cat.query("SELECT count(*) FROM shots")[1][0][0] == n_shots
    assert cat.query("SELECT count(*) FROM errors")[1][0][0] == len(errors)


_PEAK_GROWTH = """
import sys
from videoforge.engine.analyze import analyze_video

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) * 1024

analyze_video(sys.argv[1], sys.argv[3])      # warm up: imports, models, first-use buffers
for path in sys.argv[1:3]:
    before = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                         # reset the peak-RSS mark (VmHWM)
    analyze_video(path, sys.argv[3])
    print(status("VmHWM") - before)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/clear_refs"), reason="needs Linux peak-RSS reset")
def test_4k_analysis_memory_is_bounded(tmp_path):
    """Analysing 40 4K frames must not hold them: as RGB they are 1 GB. The peak RSS growth while
    analysing the 4K file stays far below that (decoder buffers plus a few transient frames)."""
    small = good(str(tmp_path / "small.mp4"), n=40)
    big = uhd_4k(str(tmp_path / "big.mp4"), n=40)
    out = subprocess.run([sys.executable, "-c", _PEAK_GROWTH, small, big, str(tmp_path / "kf")],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    small_growth, big_growth = map(int, out.stdout.split()[-2:])
    all_frames = 40 * 3840 * 2160 * 3
    print(f"peak RSS growth: 96x64 {small_growth >> 20} MiB, 4K {big_growth >> 20} MiB (all frames: {all_frames >> 20} MiB)")
    assert big_growth < 0.4 * all_frames


def test_every_bad_case_is_in_the_folder(bad_run):
    made = bad_run[0]
    assert set(BAD_INPUTS) | {"good.mp4"} == set(made)
    assert os.path.getsize(made["zero_byte.mp4"]) == 0


def test_export_of_every_analysed_awkward_file(bad_run, tmp_path):
    """Every shot of every analysed file (odd size, rotated, 10-bit, VFR, 4K, damaged) exports to
    a clip that decodes to its manifest's frame count, upright, at the source's size."""
    import pandas as pd

    from videoforge.export import export_catalog
    from videoforge.io.probe import probe

    _, _, cat, videos, _, shots = bad_run
    s = export_catalog(cat.root, tmp_path / "out", "opensora", workers=2)
    assert s.failed == 0, s.errors
    assert s.exported == sum(len(v) for v in shots.values())
    df = pd.read_csv(s.manifest, keep_default_na=False)
    for row in df.to_dict("records"):
        name = os.path.basename(row["source_path"])
        v = videos[name]
        assert (row["width"], row["height"]) == (v["width"], v["height"]), name
        with av_open(os.path.join(tmp_path / "out", row["path"])) as c:
            vs = c.streams.video[0]
            n = sum(1 for _ in c.decode(vs))
            pix = vs.codec_context.pix_fmt
        assert n == row["num_frames"], name
        info = probe(os.path.join(tmp_path / "out", row["path"]))      # displayed size, rotation applied
        assert (info.width, info.height) == (v["width"], v["height"]), name
        if name == "ten_bit.mp4":
            assert "10" in pix


def av_open(path):
    import av

    return av.open(str(path))
