"""`export --matte`: one alpha clip per exported shot, next to its clip, listed in the manifest."""

from __future__ import annotations

import csv
import os
import tarfile
from types import SimpleNamespace

import av
import cv2
import pytest

pytest.importorskip("torch")

from videoforge.catalog import Catalog  # noqa: E402
from videoforge.cli import main as cli_main  # noqa: E402
from videoforge.enhance import sr_data  # noqa: E402
from videoforge.io.encode import write_video  # noqa: E402

from test_export import add_video  # noqa: E402

TREE = os.path.join(sr_data.OPENCV_DATA, "tree.avi")
pytestmark = pytest.mark.skipif(not os.path.exists(TREE), reason="opencv-doc not installed")


@pytest.fixture(scope="module")
def real_catalog(tmp_path_factory):
    """A small real file (tree.avi's first 30 frames at 160x120, H.264) with two shots."""
    d = tmp_path_factory.mktemp("matte_export")
    frames = []
    with av.open(TREE) as c:
        for f in c.decode(video=0):
            frames.append(cv2.resize(f.to_ndarray(format="rgb24"), (160, 120), interpolation=cv2.INTER_AREA))
            if len(frames) == 30:
                break
    src = write_video(d / "tree.mp4", frames, fps=15, gop=10)
    cat = Catalog(d / "cat").create()
    shots = add_video(cat, src, [(0, 11), (15, 29)], motion=1.0)
    return SimpleNamespace(root=cat.root, shots={s["shot_id"]: s for s in shots})


def _frames(path):
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        return [f for f in c.decode(st)], st.codec_context.name


def test_opensora_export_with_matte(real_catalog, tmp_path, capsys):
    out = tmp_path / "ds"
    assert cli_main(["export", str(real_catalog.root), "--out", str(out), "--format", "opensora", "--matte", "-q"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2
    for r in rows:
        clip, alpha = out / r["path"], out / r["matte_path"]
        assert alpha.name == f"{r['shot_id']}.alpha.mkv" and alpha.parent == clip.parent
        cframes, _ = _frames(clip)
        aframes, codec = _frames(alpha)
        assert codec == "ffv1" and len(aframes) == len(cframes) == int(r["num_frames"])
        a = aframes[0].to_ndarray(format="gray")
        assert a.shape == (int(r["height"]), int(r["width"]))
    # without --matte the manifest keeps its columns exactly
    plain = tmp_path / "plain"
    assert cli_main(["export", str(real_catalog.root), "--out", str(plain), "--format", "opensora", "-q"]) == 0
    with open(plain / "manifest.csv", newline="") as f:
        assert "matte_path" not in next(csv.reader(f))


def test_webdataset_sample_carries_its_matte(real_catalog, tmp_path):
    out = tmp_path / "wds"
    assert cli_main(["export", str(real_catalog.root), "--out", str(out), "--format", "webdataset", "--matte", "-q"]) == 0
    with tarfile.open(out / "shard-000000.tar") as t:
        names = t.getnames()
    for sid in real_catalog.shots:
        assert {f"{sid}.mp4", f"{sid}.alpha.mkv", f"{sid}.json"} <= set(names)


def test_a_failed_matte_keeps_the_row_and_names_the_clip(real_catalog, tmp_path, monkeypatch):
    from videoforge.enhance import matte
    from videoforge.export import export_catalog
    from videoforge.io.errors import VideoError

    real = matte.matte_video
    first = sorted(real_catalog.shots)[0]

    def flaky(clip, alpha, **kw):
        if first in os.path.basename(clip):
            raise VideoError(clip, "decoder gave up", stage="matte")
        return real(clip, alpha, **kw)

    monkeypatch.setattr(matte, "matte_video", flaky)
    s = export_catalog(real_catalog.root, tmp_path / "x", "opensora", workers=1, matte=True)
    assert s.exported == 2 and s.matted == 1 and s.failed == 0
    assert len(s.errors) == 1 and first in s.errors[0]["message"] and "matte failed" in s.errors[0]["message"]


def test_cancel_during_matting_stops_before_the_next_clip(real_catalog, tmp_path, monkeypatch):
    import threading

    from videoforge.enhance import matte
    from videoforge.export import export_catalog

    real, stop, calls = matte.matte_video, threading.Event(), []

    def then_cancel(clip, alpha, **kw):
        calls.append(clip)
        res = real(clip, alpha, **kw)
        stop.set()              # the user cancels while the first clip is being matted
        return res

    monkeypatch.setattr(matte, "matte_video", then_cancel)
    s = export_catalog(real_catalog.root, tmp_path / "x", "opensora", workers=1, matte=True, cancel=stop)
    assert s.exported == 2 and s.matted == 1 and len(calls) == 1
