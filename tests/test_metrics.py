"""Per-shot metrics on tiny real videos (libx264 via PyAV) whose truth the test knows."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from videoforge.metrics.measure import measure_video
from videoforge.io.encode import write_video

W, H, N = 160, 96, 40


def texture(h: int, w: int, seed: int = 0, cell: int = 6) -> np.ndarray:
    """Smooth random colour blobs: texture in every direction for the optical flow."""
    r = np.random.default_rng(seed)
    base = r.integers(0, 255, (h // cell + 2, w // cell + 2, 3), dtype=np.uint8)
    return cv2.resize(base, ((w // cell + 2) * cell, (h // cell + 2) * cell), interpolation=cv2.INTER_CUBIC)[:h, :w]


BIG = texture(H * 3, W * 3, seed=3)
CX, CY = BIG.shape[1] / 2, BIG.shape[0] / 2


def view(cx: float, cy: float, scale: float = 1.0, src: np.ndarray = BIG) -> np.ndarray:
    """A W x H camera view of `src` centred on (cx, cy), magnified by `scale`."""
    m = np.float32([[scale, 0, W / 2 - scale * cx], [0, scale, H / 2 - scale * cy]])
    return cv2.warpAffine(src, m, (W, H), flags=cv2.INTER_LINEAR)


def measure(tmp_path, name, frames, scorers, **kw):
    path = write_video(tmp_path / f"{name}.mp4", frames, fps=25, **kw)
    return measure_video(str(path), scorers, str(tmp_path / "cat"), video_id=name).rows[0]


@pytest.fixture(scope="module")
def camera_rows(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("camera")
    rng = np.random.default_rng(1)
    clips = {
        "still": [view(CX, CY) for _ in range(N)],
        "pan_left": [view(CX - 2 * i, CY) for i in range(N)],     # camera turns left: content moves right
        "tilt_down": [view(CX, CY + 2 * i) for i in range(N)],    # camera turns down: content moves up
        "zoom_in": [view(CX, CY, 1.0 + 0.015 * i) for i in range(N)],
        "shaky": [view(CX + rng.normal(0, 2.5), CY + rng.normal(0, 2.5)) for _ in range(N)],
    }
    return {k: measure(tmp, k, v, ["motion", "camera"]) for k, v in clips.items()}


def test_motion_orders_still_below_moving(camera_rows):
    still, pan = camera_rows["still"]["motion"], camera_rows["pan_left"]["motion"]
    assert still < 1.0
    # 2 px/frame at 25 fps on a 160x96 frame = 50 px/s = 27 % of the diagonal per second
    assert 20 < pan < 35
    assert camera_rows["shaky"]["motion"] > still


SUBJECT = texture(96, 96, seed=9, cell=4)


def _subject_over_still_background(side: int, px_per_frame: int) -> list[np.ndarray]:
    """A textured square subject of `side` px crossing a still background at `px_per_frame`."""
    bg = view(CX, CY)
    frames = []
    for i in range(N):
        f = bg.copy()
        x = (10 + px_per_frame * i) % (W - side)
        f[(H - side) // 2:(H + side) // 2, x:x + side] = SUBJECT[:side, :side]
        frames.append(f)
    return frames


def test_motion_peak_follows_the_subject_speed_not_its_size(tmp_path, camera_rows):
    rows = {(side, v): measure(tmp_path, f"s{side}_{v}", _subject_over_still_background(side, v), ["motion"])
            for side, v in [(32, 4), (64, 1), (32, 2), (64, 2)]}
    # a small fast subject vs a large slow one: the frame mean ranks them the wrong way round
    # (4x the area at 1/4 the speed), the peak ranks them by speed
    assert rows[64, 1]["motion"] > rows[32, 4]["motion"]
    assert rows[32, 4]["motion_peak"] > 1.8 * rows[64, 1]["motion_peak"]
    # same speed, 4x the area: the mean grows with the area, the peak much less
    assert rows[64, 2]["motion"] > 3.0 * rows[32, 2]["motion"]
    assert rows[64, 2]["motion_peak"] < 1.6 * rows[32, 2]["motion_peak"]
    # 2 px/frame at 25 fps on 160x96 = 27 % of the diagonal per second; a large subject reads it
    assert 20 < rows[64, 2]["motion_peak"] < 35
    # a whole-frame pan moves every pixel alike: peak and mean agree; a still shot has neither
    pan = camera_rows["pan_left"]
    assert 0.8 * pan["motion"] < pan["motion_peak"] < 1.6 * pan["motion"]
    assert camera_rows["still"]["motion_peak"] < 2.0


def test_camera_move_names_pan_tilt_zoom_static_shaky(camera_rows):
    assert {k: r["camera_move"] for k, r in camera_rows.items()} == {
        "still": "static", "pan_left": "pan", "tilt_down": "tilt", "zoom_in": "zoom", "shaky": "shaky"}
    # directions and sizes: 2 px/frame = 31 % of the width / 52 % of the height per second
    assert camera_rows["pan_left"]["camera_pan"] == pytest.approx(-31.25, rel=0.15)
    assert camera_rows["tilt_down"]["camera_tilt"] == pytest.approx(-52.1, rel=0.15)
    assert camera_rows["zoom_in"]["camera_zoom"] > 10
    assert abs(camera_rows["pan_left"]["camera_tilt"]) < 3 and abs(camera_rows["tilt_down"]["camera_pan"]) < 3
    assert camera_rows["shaky"]["camera_shake"] > 5 * camera_rows["pan_left"]["camera_shake"]


def test_sharpness_orders_blurred_below_sharp(tmp_path):
    sharp = [view(CX + i, CY) for i in range(20)]
    for k, f in enumerate(sharp):   # hard edges, as real footage has
        cv2.rectangle(f, (20 + k, 20), (70 + k, 70), (255, 255, 255), 2)
        cv2.line(f, (100, 10), (150 - k, 85), (0, 0, 0), 1)
    soft = [cv2.GaussianBlur(f, (0, 0), 2.0) for f in sharp]
    a = measure(tmp_path, "sharp", sharp, ["sharpness"])["sharpness"]
    b = measure(tmp_path, "soft", soft, ["sharpness"])["sharpness"]
    assert a > 3 * b > 0


def test_exposure_dark_vs_bright(tmp_path):
    base = [view(CX + i, CY) for i in range(20)]
    dark = measure(tmp_path, "dark", [(f * 0.12).astype(np.uint8) for f in base], ["exposure"])
    bright = measure(tmp_path, "bright", [np.clip(f * 0.5 + 150, 0, 255).astype(np.uint8) for f in base], ["exposure"])
    flat = measure(tmp_path, "flat", [np.full((H, W, 3), 128, np.uint8)] * 20, ["exposure"])
    assert dark["brightness"] < 0.1 < 0.6 < bright["brightness"] <= 1.0
    assert dark["clip_dark"] > 0.3 and bright["clip_dark"] == 0.0
    assert bright["clip_bright"] > 0.05 and dark["clip_bright"] == 0.0
    assert flat["brightness"] == pytest.approx(128 / 255, abs=0.02)
    assert flat["contrast"] < 0.01 < dark["contrast"]


def test_black_and_frozen_ratios(tmp_path):
    moving = [view(CX + 2 * i, CY) for i in range(30)]
    # 10 black frames, then 20 moving ones: black_ratio = 1/3
    r = measure(tmp_path, "black", [np.zeros((H, W, 3), np.uint8)] * 10 + moving[:20], ["black_frozen"])
    assert r["black_ratio"] == pytest.approx(10 / 30, abs=0.04)
    # 15 moving frames, then the last one held for 15 frames: 15 of 29 pairs repeat
    held = moving[:15] + [moving[14]] * 15
    r = measure(tmp_path, "frozen", held, ["black_frozen"])
    assert r["frozen_ratio"] == pytest.approx(15 / 29, abs=0.07)
    assert r["black_ratio"] == 0.0
    r = measure(tmp_path, "live", moving, ["black_frozen"])
    assert r["frozen_ratio"] == 0.0


@pytest.mark.parametrize("kind", ["letterbox", "pillarbox", "full"])
def test_border_ratio(tmp_path, kind):
    w, h = 320, 180   # analysis frames are 160x90: bars are measured after the downscale
    frames = []
    for i in range(20):
        f = np.zeros((h, w, 3), np.uint8)
        pic = cv2.resize(view(CX + 2 * i, CY), (w, h))
        if kind == "letterbox":      # 30-px bars top and bottom: 60/180 of the area
            f[30:150] = pic[30:150]
        elif kind == "pillarbox":    # 40-px bars left and right: 80/320 of the area
            f[:, 40:280] = pic[:, 40:280]
        else:
            f = pic
        frames.append(f)
    r = measure(tmp_path, kind, frames, ["border"])["border_ratio"]
    assert r == pytest.approx({"letterbox": 1 / 3, "pillarbox": 0.25, "full": 0.0}[kind], abs=0.03)


def test_ocr_reads_rendered_text(tmp_path):
    w, h = 320, 180
    frames = []
    for i in range(25):
        f = np.full((h, w, 3), 60, np.uint8)
        f[:, :, 2] = 40 + i   # a slowly changing background
        cv2.putText(f, "VIDEO 42", (40, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 3, cv2.LINE_AA)
        frames.append(f)
    r = measure(tmp_path, "text", frames, ["text"])
    # PP-OCR's recogniser does not always keep the space between words, and Hershey's O and 0
    # are nearly the same oval
    assert "VIDEO42" in r["ocr_text"].upper().replace(" ", "").replace("E0", "EO")
    assert 0.05 < r["text_area"] < 0.5   # the words cover roughly 250x45 px of 320x180
    plain = measure(tmp_path, "notext", [view(CX + i, CY) for i in range(25)], ["text"])
    assert plain["text_area"] == 0.0 and plain["ocr_text"] == ""


def test_audio_tone_silence_and_no_audio(tmp_path):
    frames = [view(CX + i, CY) for i in range(25)]
    tone = measure(tmp_path, "tone", frames, ["audio"], audio_tone_hz=440)
    # a "tone" of 1e-9 Hz is 0.3 * sin(~0): digital silence on a real AAC track
    silent = measure(tmp_path, "silent", frames, ["audio"], audio_tone_hz=1e-9)
    none = measure(tmp_path, "none", frames, ["audio"])
    # 0.3 * sine: RMS = 0.3 / sqrt(2) = -13.5 dBFS, peak -10.5 dBFS
    assert tone["audio_rms_db"] == pytest.approx(-13.5, abs=1.5)
    assert tone["audio_peak_db"] == pytest.approx(-10.5, abs=1.5)
    assert tone["audio_silence_ratio"] < 0.1
    assert silent["audio_rms_db"] < -60 and silent["audio_silence_ratio"] > 0.9
    assert none == {"audio_rms_db": None, "audio_peak_db": None, "audio_silence_ratio": None}


def _captioned(n: int, caption: str | None, seed: int) -> list[np.ndarray]:
    """n frames of a moving scene (320x180) with a lower-third caption burnt in."""
    src = cv2.resize(texture(H * 3, W * 3, seed=seed), (W * 6, H * 6))
    out = []
    for i in range(n):
        f = np.ascontiguousarray(src[:180, 2 * i: 2 * i + 320])
        if caption:
            cv2.rectangle(f, (0, 130), (320, 170), (20, 20, 20), -1)
            cv2.putText(f, caption, (12, 160), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 2, cv2.LINE_AA)
        out.append(f)
    return out


def test_ocr_budget_never_leaves_a_texted_shot_unread(tmp_path):
    from videoforge.metrics.text import TextScorer
    from videoforge.shots.base import Shot

    # three shots (different scenes), the first two carry the same caption, the third another
    frames = _captioned(25, "NEWS 24", 1) + _captioned(25, "NEWS 24", 2) + _captioned(25, "WEATHER", 3)
    path = str(write_video(tmp_path / "caps.mp4", frames, fps=25))
    shots = [Shot(0, 24), Shot(25, 49), Shot(50, 74)]

    tiny = TextScorer(frames_per_ocr=10_000, max_events_per_shot=0)   # budget: a single OCR call, no event reads
    rows = measure_video(path, [tiny], str(tmp_path / "cat"), shots=shots, video_id="caps").rows
    # the budget limits extra reads, never the first read of a shot that shows text-like strokes
    assert tiny.calls == 3
    texts = [r["ocr_text"] for r in rows]
    assert all(t is not None for t in texts)
    assert "NEWS" in texts[0].upper() and "NEWS" in texts[1].upper() and "WEATHER" in texts[2].upper()
    assert "WEATHER" not in texts[1].upper()   # a caption read for one shot never stands in for another's
    assert all(0.02 < r["text_area"] < 0.4 for r in rows)