"""Test support for the server tests (no tests here): a small catalog with known truth.

`build_catalog` encodes real H.264 videos with known shot boundaries (two cuts in one, a
dissolve in the other), measures simple metrics on the decoded frames, writes keyframe
JPEGs decoded from the files, and commits the rows through the engine's own per-video
commit, so the server is tested on real media without depending on any detector.
"""

from __future__ import annotations

import os

import av
import cv2
import numpy as np

from conftest import gradient_clip
from videoforge.catalog import Catalog
from videoforge.catalog.commit import commit_video, record_error
from videoforge.engine.analyze import VideoResult
from videoforge.io.fingerprint import fingerprint, shot_id_for, video_id_for
from videoforge.io.encode import write_video

FPS = 25


def _dissolve(a: list, b: list, n: int) -> list:
    return [np.clip(a[-1] * (1 - (i + 1) / (n + 1)) + b[0] * ((i + 1) / (n + 1)), 0, 255).astype(np.uint8) for i in range(n)]


def make_videos(media: str) -> dict[str, dict]:
    """Write the test videos; returns path -> {"shots": [(start, end)], "transitions": [(kind, start, end)]}."""
    os.makedirs(media, exist_ok=True)
    a, b, c = gradient_clip(20, seed=11, speed=1.0), gradient_clip(20, seed=12, speed=3.0), gradient_clip(20, seed=13, speed=0.0)
    three = os.path.join(media, "three_cuts.mp4")
    write_video(three, [*a, *b, *c], fps=FPS)
    d, e = gradient_clip(20, seed=21, speed=2.0), gradient_clip(20, seed=22, speed=1.0)
    fade = os.path.join(media, "sub", "dissolve.mp4")
    write_video(fade, [*d, *_dissolve(d, e, 8), *e], fps=FPS)
    return {
        three: {"shots": [(0, 19), (20, 39), (40, 59)], "transitions": [("cut", 20, 20), ("cut", 40, 40)]},
        fade: {"shots": [(0, 19), (28, 47)], "transitions": [("dissolve", 20, 27)]},
    }


def _decode(path: str) -> tuple[list[np.ndarray], list[float]]:
    frames, pts = [], []
    with av.open(path) as cont:
        for f in cont.decode(cont.streams.video[0]):
            frames.append(f.to_ndarray(format="bgr24"))
            pts.append(float(f.time))
    return frames, pts


def result_for(path: str, truth: dict, catalog_root: str) -> VideoResult:
    frames, pts = _decode(path)
    step = 1.0 / FPS
    fp = fingerprint(path)
    vid = video_id_for(fp)
    h, w = frames[0].shape[:2]
    shots, kfs = [], []
    kf_dir = os.path.join(catalog_root, "keyframes", vid)
    os.makedirs(kf_dir, exist_ok=True)
    for i, (s, e) in enumerate(truth["shots"]):
        luma = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY).astype(np.float32) for f in frames[s:e + 1]]
        motion = float(np.mean([np.abs(x - y).mean() for x, y in zip(luma[1:], luma[:-1])])) if len(luma) > 1 else 0.0
        sid = shot_id_for(vid, s)
        shots.append({
            "shot_id": sid, "video_id": vid, "shot_index": i, "start_frame": s, "end_frame": e,
            "start_time": pts[s], "end_time": pts[e] + step, "num_frames": e - s + 1, "duration": pts[e] + step - pts[s],
            "width": w, "height": h, "fps": float(FPS), "motion": motion,
            "brightness": float(np.mean(luma) / 255.0), "contrast": float(np.mean([x.std() for x in luma]) / 255.0),
            "sharpness": float(np.mean([cv2.Laplacian(x, cv2.CV_32F).var() for x in luma])),
        })
        mid = (s + e) // 2
        rel = os.path.join("keyframes", vid, f"{mid:06d}.jpg")
        cv2.imwrite(os.path.join(catalog_root, rel), frames[mid])
        kfs.append({"shot_id": sid, "video_id": vid, "frame": mid, "pts_time": pts[mid], "path": rel, "width": w, "height": h})
    trans = [{"video_id": vid, "kind": k, "start_frame": s, "end_frame": e, "start_time": pts[s],
              "end_time": pts[e] + step, "confidence": 0.9} for k, s, e in truth["transitions"]]
    video = {"video_id": vid, "path": os.path.abspath(path), "fingerprint": fp, "size_bytes": os.path.getsize(path),
             "duration": len(frames) / FPS, "fps": float(FPS), "vfr": False, "frames": len(frames), "width": w, "height": h,
             "rotation": 0, "codec": "h264", "pix_fmt": "yuv420p", "bit_depth": 8, "has_audio": False,
             "num_shots": len(shots), "analysis_version": "test", "analysis_params": "{}"}
    return VideoResult(video=video, shots=shots, transitions=trans, keyframes=kfs)


def build_catalog(root: str) -> tuple[str, str, dict]:
    """(catalog dir, media dir, truth) with two committed videos and one error row."""
    media, cat = os.path.join(root, "media"), os.path.join(root, "catalog")
    truth = make_videos(media)
    catalog = Catalog(cat).create()
    for path, t in truth.items():
        with catalog.write() as con:
            commit_video(con, result_for(path, t, catalog.root))
    bad = os.path.join(media, "broken.mp4")
    with open(bad, "wb") as f:
        f.write(b"this is not a video" * 20)
    with catalog.write() as con:
        record_error(con, bad, "probe", f"{bad}: not a video container FFmpeg can read")
    return cat, media, truth


CATALOG_TABLES = {
    "videos": "SELECT * EXCLUDE (analyzed_at) FROM videos",
    "shots": "SELECT * FROM shots",
    "transitions": "SELECT * FROM transitions",
    "keyframes": "SELECT * FROM keyframes",
    "errors": "SELECT path, stage, fingerprint FROM errors",
}


def catalog_rows(cat: str) -> dict[str, list]:
    """Every row of the catalog tables, sorted, timestamps dropped, the catalog's own folder masked."""
    c = Catalog(cat)
    out = {}
    for t, sql in CATALOG_TABLES.items():
        rows = [tuple(v.replace(c.root, "<CAT>") if isinstance(v, str) else v for v in r) for r in c.query(sql)[1]]
        out[t] = sorted(rows, key=repr)
    out["keyframe_files"] = sorted(
        os.path.relpath(os.path.join(d, f), c.keyframe_dir) for d, _, fs in os.walk(c.keyframe_dir) for f in fs)
    return out


def same_rows(a, b) -> bool:
    """catalog_rows equality where floats agree to 1e-7 relative: runs in processes with different
    OpenCV thread counts (a Ray worker gets OMP_NUM_THREADS=1) may round DIS flow's motion
    columns differently on some CPUs (engine/segments.py says why)."""
    import math

    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_rows(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same_rows(x, y) for x, y in zip(a, b))
    return a == b
