"""The general quality measures (curate/quality_features.py) on tiny real videos: a real photograph
under a moving camera, encoded with H.264, and copies with a known defect of each kind."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from videoforge.curate.bootstrap import auc_ci, median_ci
from videoforge.curate.quality_features import QUALITY_FEATURES, frames_features, read_frames, shot_quality_features
from videoforge.io.encode import write_video
from videoforge.synth import footage as ft

W, H, N = 160, 96, 40


def _pan(photo: np.ndarray, still: bool = False) -> list[np.ndarray]:
    """A camera panning ~1.5 px per frame across a real photograph (or holding still)."""
    big = cv2.resize(photo, (2 * W, 2 * H), interpolation=cv2.INTER_AREA)
    return [big[20:20 + H, (0 if still else int(1.5 * t)) + 10:(0 if still else int(1.5 * t)) + 10 + W].copy()
            for t in range(N)]


def _features(tmp_path, name, frames, crf=20):
    p = str(tmp_path / f"{name}.mp4")
    write_video(p, frames, fps=25, crf=crf)
    got = shot_quality_features([{"path": p, "start_frame": 0, "end_frame": len(frames) - 1}])[0]
    return dict(zip(QUALITY_FEATURES, got))


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("quality")
    clean = _pan(ft.load_photo("skimage:astronaut.png", min_side=300))
    f32 = [f.astype(np.float32) for f in clean]
    idx = np.clip(np.arange(N) + np.tile([0, 3, -3, 0, 3], N // 5 + 1)[:N], 0, N - 1)
    small = (W // 5, H // 5)
    videos = {
        "clean": (clean, 20),
        "blur": ([cv2.GaussianBlur(f, (0, 0), 3.0) for f in clean], 20),
        # a blocky low-resolution picture (nearest-neighbour upscale), then a high CRF
        "blocky": ([cv2.resize(cv2.resize(f, small, interpolation=cv2.INTER_AREA), (W, H), interpolation=cv2.INTER_NEAREST)
                    for f in clean], 38),
        "overexposed": ([np.clip(f * 2.6, 0, 255).astype(np.uint8) for f in f32], 20),
        "washed_out": ([np.clip(f * 0.35 + 150, 0, 255).astype(np.uint8) for f in f32], 20),
        # dropped frames: each picture held three frames
        "held": ([clean[(t // 3) * 3] for t in range(N)], 20),
        # time running back and forth
        "back_and_forth": ([clean[int(i)] for i in idx], 20),
        "still": (_pan(ft.load_photo("skimage:astronaut.png", min_side=300), still=True), 20),
    }
    return {k: _features(tmp, k, fr, crf) for k, (fr, crf) in videos.items()}


def test_blur_lowers_edge_steepness_and_raises_the_blur_measure(measured):
    c, b = measured["clean"], measured["blur"]
    assert b["q_edge_steep"] < 0.75 * c["q_edge_steep"]
    assert b["q_blur"] > c["q_blur"] + 0.1


def test_blocking_is_found_on_any_grid(measured):
    assert measured["blocky"]["q_grid"] > measured["clean"]["q_grid"] + 0.2


def test_exposure_measures(measured):
    c = measured["clean"]
    assert measured["overexposed"]["q_bright_frac"] > c["q_bright_frac"] + 0.2
    assert measured["washed_out"]["q_black_level"] > c["q_black_level"] + 0.3


def test_motion_measures_find_held_and_reversed_frames_not_a_still_camera(measured):
    c = measured["clean"]
    assert c["q_dup_frac"] < 0.1 and c["q_reversal"] < 0.1
    assert measured["held"]["q_dup_frac"] > 0.5 and measured["held"]["q_step_irreg"] > c["q_step_irreg"] + 1
    assert measured["back_and_forth"]["q_reversal"] > 0.3
    # a still camera is not a stutter: nothing moves, so the motion measures say 0
    s = measured["still"]
    assert s["q_dup_frac"] == 0 and s["q_reversal"] == 0 and s["q_step_irreg"] == 0


def test_unreadable_video_gives_missing_values(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    got = shot_quality_features([{"path": str(bad), "start_frame": 0, "end_frame": 10},
                                 {"path": str(tmp_path / "absent.mp4"), "start_frame": 0, "end_frame": 10}])
    assert np.isnan(got).all()
    assert read_frames(str(bad), 0, 10) == []
    assert np.isnan(frames_features([])).all()


def test_source_bootstrap_is_wider_than_shot_bootstrap_when_copies_share_a_source():
    rng = np.random.default_rng(1)
    # 30 sources, each a clean shot and 3 degraded copies that score nearly alike (one defect, three
    # copies): 90 degraded shots but only 30 independent scores, which resampling shots ignores
    src = np.repeat(np.arange(30), 4)
    y = np.tile([1, 0, 0, 0], 30).astype(bool)
    s = np.where(y, rng.normal(0.8, 1, len(y)), rng.normal(0, 1, 30)[src] + rng.normal(0, 0.05, len(y)))
    shots, sources = auc_ci(y, s), auc_ci(y, s, groups=src)
    assert shots["auc"] == sources["auc"] and sources["n_groups"] == 30
    assert sources["lo"] <= sources["auc"] <= sources["hi"]
    assert (sources["hi"] - sources["lo"]) > (shots["hi"] - shots["lo"])
    assert auc_ci(y, s, groups=src) == sources          # seeded
    m = median_ci(s[y], groups=src[y])
    assert m["lo"] <= m["median"] <= m["hi"] and m["n_groups"] == 30


# ---------------------------------------------------------------- change pattern (holds and jumps)
def _steps_of(tmp_path, name, frames, crf=20):
    from videoforge.curate.quality_features import STEP_FEATURES

    p = str(tmp_path / f"{name}.mp4")
    write_video(p, frames, fps=25, crf=crf)
    got = shot_quality_features([{"path": p, "start_frame": 0, "end_frame": len(frames) - 1}], steps=True)[0]
    assert len(got) == len(QUALITY_FEATURES) + len(STEP_FEATURES)
    return dict(zip(QUALITY_FEATURES + STEP_FEATURES, got))


@pytest.fixture(scope="module")
def patterns(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("steps")
    photo = ft.load_photo("skimage:coffee.png", min_side=300)
    n = 60
    big = cv2.resize(photo, (3 * W, 2 * H), interpolation=cv2.INTER_AREA)
    pan = [big[20:20 + H, int(2 * t):int(2 * t) + W].copy() for t in range(n)]
    still = [big[20:20 + H, 40:40 + W].copy()] * n
    rng = np.random.default_rng(3)
    u = np.arange(n) / (n - 1)
    eased = [big[20:20 + H, int(round(110 * e)):int(round(110 * e)) + W].copy() for e in u * u * (3 - 2 * u)]
    return {
        # a slideshow: the moving picture held 12 frames at a time, then a jump to where it is now
        "slideshow": _steps_of(tmp, "slideshow", [pan[(t // 12) * 12] for t in range(n)]),
        # a still camera on a grainy picture: changes a little every frame, never jumps
        "noisy_still": _steps_of(tmp, "noisy_still", [np.clip(f + rng.normal(0, 12, f.shape), 0, 255).astype(np.uint8)
                                                       for f in still]),
        "still": _steps_of(tmp, "still", still),
        "pan": _steps_of(tmp, "pan", pan),
        # smooth motion that starts and stops (smoothstep): slow steps at the ends are not holds
        "eased_pan": _steps_of(tmp, "eased_pan", eased),
    }


def test_a_slideshow_is_not_a_still_shot(patterns):
    sl, ns, st = patterns["slideshow"], patterns["noisy_still"], patterns["still"]
    # the old motion measures call both "does not move" (the diagnosis of issue 19's slideshow failure)
    assert sl["q_dup_frac"] == 0 and ns["q_dup_frac"] == 0
    # the change-pattern measures do not
    assert sl["q_hold_frac"] > 0.7 and ns["q_hold_frac"] == 0 and st["q_hold_frac"] == 0
    assert 0.05 <= sl["q_jump_rate"] <= 0.12 and ns["q_jump_rate"] == 0 and st["q_jump_rate"] == 0
    assert sl["q_frozen_run"] > 0.12 and ns["q_frozen_run"] == 0
    assert sl["q_jump_ratio"] > 3 and ns["q_jump_ratio"] < 1.5 and st["q_jump_ratio"] < 1.5


def test_smooth_motion_has_no_holds_or_jumps(patterns):
    for k in ("pan", "eased_pan"):
        m = patterns[k]
        assert m["q_hold_frac"] == 0 and m["q_jump_rate"] == 0 and m["q_frozen_run"] == 0, k
        assert m["q_jump_ratio"] < 2, k


def test_step_pattern_on_known_steps():
    from videoforge.curate.quality_features import step_pattern

    holds = np.r_[[0.05] * 9, 6.0, [0.05] * 9, 6.0, [0.05] * 9]
    hold, rate, run, ratio = step_pattern(holds)
    assert hold == pytest.approx(27 / 29) and rate == pytest.approx(2 / 29) and run == pytest.approx(9 / 29)
    assert ratio == pytest.approx(np.log2(6.25 / 0.3))
    # a smooth move peaking in the middle: no jump, so no holds counted either
    assert step_pattern(np.r_[np.linspace(0.01, 4, 15), np.linspace(4, 0.01, 15)])[:3] == [0.0, 0.0, 0.0]
    assert np.isnan(step_pattern(np.array([1.0, 2.0]))).all()
