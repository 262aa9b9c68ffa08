"""`videoforge export`: every format read back with the reader a trainer uses; filters; errors."""

from __future__ import annotations

import csv
import json
import os
from types import SimpleNamespace

import av
import numpy as np
import pytest

from conftest import run_cli
from videoforge.catalog import Catalog
from videoforge.catalog.commit import commit_video
from videoforge.export import SelectionError, export_catalog
from videoforge.io.decode import DecodeStats, decode_frames
from videoforge.io.fingerprint import fingerprint, shot_id_for, video_id_for
from videoforge.io.probe import probe
from videoforge.synth.bad_inputs import moving_frames
from videoforge.io.encode import write_video

OPENSORA = ["path", "text", "num_frames", "height", "width", "aspect_ratio", "fps", "resolution"]


def add_video(cat: Catalog, path: str, ranges: list[tuple[int, int]], motion: float) -> list[dict]:
    """Commit `path` with shots at known frame ranges (frames between ranges: transitions)."""
    info, stats = probe(path), DecodeStats()
    for _ in decode_frames(path, stats=stats):
        pass
    fp = fingerprint(path)
    vid = video_id_for(fp)
    shots = [dict(shot_id=shot_id_for(vid, s), video_id=vid, shot_index=k, start_frame=s, end_frame=e,
                  start_time=stats.pts[s], end_time=stats.end_time(e), num_frames=e - s + 1,
                  duration=stats.end_time(e) - stats.pts[s], width=info.width, height=info.height,
                  fps=stats.average_fps, motion=motion + k, sharpness=100.0 * (k + 1))
             for k, (s, e) in enumerate(ranges)]
    video = dict(video_id=vid, path=os.path.abspath(path), fingerprint=fp, duration=stats.duration,
                 fps=stats.average_fps, frames=stats.frames, width=info.width, height=info.height,
                 rotation=info.rotation, codec=info.codec, has_audio=info.has_audio, num_shots=len(shots))
    with cat.write() as con:
        commit_video(con, SimpleNamespace(video=video, shots=shots, transitions=[], keyframes=[]))
    return shots


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    """Two sources: A (60 frames, keyframe every 12, tone; shots 0-11, 12-29, 35-59 with a
    5-frame transition between) and B (rotated phone video, 40 frames, one shot)."""
    d = tmp_path_factory.mktemp("export")
    a = write_video(d / "a.mp4", moving_frames(60, 96, 64, seed=31), fps=25, gop=12, audio_tone_hz=440)
    b = write_video(d / "b.mp4", moving_frames(40, 128, 72, seed=32), fps=30, rotation=90)
    cat = Catalog(d / "cat").create()
    shots = add_video(cat, a, [(0, 11), (12, 29), (35, 59)], motion=1.0)
    shots += add_video(cat, b, [(0, 39)], motion=5.0)
    return SimpleNamespace(root=cat.root, a=a, b=b, shots={s["shot_id"]: s for s in shots}, dir=d)


def decoded_count(path_or_bytes, tmp_path=None) -> int:
    if isinstance(path_or_bytes, bytes):
        p = os.path.join(tmp_path, "sample.mp4")
        with open(p, "wb") as f:
            f.write(path_or_bytes)
        path_or_bytes = p
    with av.open(str(path_or_bytes)) as c:
        return sum(1 for _ in c.decode(c.streams.video[0]))


def check_lineage(row: dict, catalog) -> None:
    shot = catalog.shots[row["shot_id"]]
    assert row["video_id"] == shot["video_id"]
    assert row["source_path"] in (catalog.a, catalog.b)
    assert abs(float(row["start_time"]) - shot["start_time"]) < 1e-6
    assert abs(float(row["end_time"]) - shot["end_time"]) < 1e-6
    assert int(row["num_frames"]) == shot["end_frame"] - shot["start_frame"] + 1


def test_opensora_csv_read_back_with_pandas(catalog, tmp_path):
    import pandas as pd

    out = tmp_path / "os"
    s = export_catalog(catalog.root, out, "opensora", workers=1)
    assert (s.selected, s.exported, s.failed) == (4, 4, 0)
    assert s.copied >= 2            # 0-11 and 12-29 start on keyframes of A
    with open(s.manifest, newline="") as f:
        header = next(csv.reader(f))
    assert header[:8] == OPENSORA
    assert header[-7:] == ["source_path", "video_id", "shot_id", "start_time", "end_time", "start_frame", "end_frame"]
    assert "motion" in header and "sharpness" in header
    df = pd.read_csv(s.manifest, keep_default_na=False)
    assert len(df) == 4 and set(df["shot_id"]) == set(catalog.shots)
    for row in df.to_dict("records"):
        check_lineage(row, catalog)
        assert row["text"] == ""                         # no captions yet
        assert not os.path.isabs(row["path"])            # relative to the CSV's folder
        clip = os.path.join(os.path.dirname(s.manifest), row["path"])
        assert decoded_count(clip) == row["num_frames"]
        assert row["aspect_ratio"] == pytest.approx(row["height"] / row["width"])
        assert row["resolution"] == row["height"] * row["width"]
        shot = catalog.shots[row["shot_id"]]
        assert float(row["motion"]) == shot["motion"]
        if row["source_path"] == catalog.b:                 # rotated source: upright portrait clip
            assert (row["width"], row["height"]) == (72, 128)
            assert row["fps"] == pytest.approx(30.0)
        else:
            assert (row["width"], row["height"]) == (96, 64)
            assert row["fps"] == pytest.approx(25.0)


def test_webdataset_shards_read_back_with_webdataset(catalog, tmp_path):
    import webdataset as wds

    s = export_catalog(catalog.root, tmp_path / "wds", "webdataset", workers=2, shard_size=3)
    assert len(s.shards) == 2 and s.exported == 4
    assert not os.path.exists(tmp_path / "wds" / ".clips-tmp")
    seen = []
    for sample in wds.WebDataset([str(p) for p in s.shards], shardshuffle=False):
        meta = json.loads(sample["json"])
        assert sample["__key__"] == meta["shot_id"]
        assert meta["path"] == f"{meta['shot_id']}.mp4"
        assert list(meta)[:8] == OPENSORA
        check_lineage(meta, catalog)
        assert decoded_count(sample["mp4"], tmp_path) == meta["num_frames"]
        seen.append(meta["shot_id"])
    assert sorted(seen) == sorted(catalog.shots)


def test_parquet_manifest_read_back_with_pyarrow(catalog, tmp_path):
    import pyarrow.parquet as pq

    s = export_catalog(catalog.root, tmp_path / "pq", "parquet", reencode=True, workers=1)
    assert s.reencoded == 4 and s.copied == 0
    table = pq.read_table(s.manifest)
    assert table.column_names[:8] == OPENSORA
    assert str(table.schema.field("num_frames").type) == "int64"
    assert str(table.schema.field("camera_pan").type) == "double"   # all NULL here, still typed as in the catalog
    rows = table.to_pylist()
    assert len(rows) == 4
    for row in rows:
        check_lineage(row, catalog)
        assert decoded_count(os.path.join(os.path.dirname(s.manifest), row["path"])) == row["num_frames"]


def test_where_min_seconds_limit_and_caption(catalog, tmp_path):
    import pandas as pd

    s = export_catalog(catalog.root, tmp_path / "w1", "opensora", where="motion >= 2 AND v.rotation = 0",
                       workers=1)
    assert s.selected == 2          # A's 2nd and 3rd shots (motion 2, 3); B is rotated
    s = export_catalog(catalog.root, tmp_path / "w2", "opensora", min_seconds=0.9, workers=1)
    df = pd.read_csv(s.manifest)
    assert sorted(df["num_frames"]) == [25, 40]   # 1.0 s and 1.33 s; the 0.48 s and 0.72 s shots drop
    s = export_catalog(catalog.root, tmp_path / "w3", "opensora", where="duration < 1", limit=1, workers=1)
    assert s.selected == 1
    with pytest.raises(SelectionError, match="no_such_column"):
        export_catalog(catalog.root, tmp_path / "w4", "opensora", where="no_such_column > 1")
    # a caption written by curation becomes Open-Sora's `text`
    sid = next(k for k, v in catalog.shots.items() if v["start_frame"] == 12)
    cat = Catalog(catalog.root)
    with cat.write() as con:
        con.execute("UPDATE shots SET caption = 'a drifting texture, dusk' WHERE shot_id = ?", [sid])
    try:
        events = []
        s = export_catalog(catalog.root, tmp_path / "w5", "opensora", workers=1, on_event=events.append)
        assert events[0]["event"] == "start" and events[-1] == {"event": "finished", "done": 4, "total": 4,
                                                                 "exported": 4, "failed": 0, "cancelled": False}
        df = pd.read_csv(s.manifest, keep_default_na=False).set_index("shot_id")
        assert df.loc[sid, "text"] == "a drifting texture, dusk"
        assert (df.drop(index=sid)["text"] == "").all()
    finally:
        with cat.write() as con:
            con.execute("UPDATE shots SET caption = NULL WHERE shot_id = ?", [sid])


def test_missing_source_is_an_export_error_and_the_rest_continue(tmp_path):
    a = write_video(tmp_path / "a.mp4", moving_frames(20, 64, 48, seed=41), fps=25)
    b = write_video(tmp_path / "b.mp4", moving_frames(20, 64, 48, seed=42), fps=25)
    cat = Catalog(tmp_path / "cat").create()
    add_video(cat, a, [(0, 19)], motion=1)
    add_video(cat, b, [(0, 9), (10, 19)], motion=1)
    os.remove(b)
    s = export_catalog(cat.root, tmp_path / "out", "opensora", workers=1)
    assert (s.exported, s.failed) == (1, 2)
    assert all("b.mp4" in e["message"] and "does not exist" in e["message"] for e in s.errors)
    rows = cat.query_dicts("SELECT path, stage, message FROM errors")
    assert [(r["path"], r["stage"]) for r in rows] == [(os.path.abspath(b), "export")]


def test_cli_export_and_exit_codes(catalog, tmp_path):
    out = tmp_path / "cli"
    r = run_cli("export", catalog.root, "--out", out, "--format", "opensora", "--min-seconds", "1", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["exported"] == 2 and doc["manifest"] == str(out / "manifest.csv")
    r = run_cli("export", catalog.root, "--out", tmp_path / "abs", "--format", "opensora", "--absolute-paths", "-q",
                "--workers", "1")
    assert r.returncode == 0, r.stderr
    with open(tmp_path / "abs" / "manifest.csv", newline="") as f:
        paths = [row["path"] for row in csv.DictReader(f)]
    assert len(paths) == 4 and all(os.path.isabs(p) and os.path.exists(p) for p in paths)
    assert not list((tmp_path / "abs").rglob("*.part"))
    r = run_cli("export", catalog.root, "--out", out, "--format", "opensora", "--where", "motion > AND")
    assert r.returncode == 2 and "Parser Error" in r.stderr
    r = run_cli("export", tmp_path / "nowhere", "--out", out, "--format", "parquet")
    assert r.returncode == 1 and "no catalog" in r.stderr
    r = run_cli("export", catalog.root, "--out", out, "--format", "csv")
    assert r.returncode == 2


def test_end_to_end_run_then_export_cli(tmp_path):
    """`videoforge run` (default detector) then `videoforge export`: every shot becomes a clip with
    exactly the shot's frames, and no clip holds a frame of a gradual transition."""
    import pandas as pd

    a = moving_frames(30, 128, 72, seed=51)
    b = moving_frames(30, 128, 72, seed=52)
    c = [np.ascontiguousarray(f[:, ::-1]) for f in moving_frames(30, 128, 72, seed=53)]
    dissolve = [((1 - w) * a[-1] + w * b[0]).astype(np.uint8) for w in np.linspace(0.1, 0.9, 10)]
    write_video(tmp_path / "in" / "edit.mp4", a + dissolve + b + c, fps=25, audio_tone_hz=330)
    r = run_cli("run", tmp_path / "in", "--catalog", tmp_path / "cat", "--no-ocr", "-q", "--workers", "1")
    assert r.returncode == 0, r.stderr
    cat = Catalog(tmp_path / "cat")
    shots = cat.query_dicts("SELECT shot_id, start_frame, end_frame FROM shots ORDER BY start_frame")
    gradual = cat.query_dicts("SELECT start_frame, end_frame FROM transitions WHERE kind <> 'cut'")
    assert shots
    r = run_cli("export", cat.root, "--out", tmp_path / "out", "--format", "opensora", "--json", "--workers", "1")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["exported"] == len(shots)
    df = pd.read_csv(tmp_path / "out" / "manifest.csv").set_index("shot_id")
    for s in shots:
        row = df.loc[s["shot_id"]]
        assert row["num_frames"] == s["end_frame"] - s["start_frame"] + 1
        assert decoded_count(tmp_path / "out" / row["path"]) == row["num_frames"]
        for t in gradual:
            assert s["end_frame"] < t["start_frame"] or s["start_frame"] > t["end_frame"]
        with av.open(str(tmp_path / "out" / row["path"])) as clip:
            assert clip.streams.audio     # the source's audio is kept


def test_decoder_and_packet_indices_disagree_cut_by_time(tmp_path):
    """A stream that starts mid-GOP: the decoder's frame 0 is the 14th packet. The catalog's
    indices are the decoder's, so the export must cut by time and still take exactly the shot's frames."""
    from videoforge.synth.bad_inputs import mid_gop_start

    p = mid_gop_start(str(tmp_path / "mid.mp4"))
    src = [f.small.astype(np.int16) for f in decode_frames(p)]
    cat = Catalog(tmp_path / "cat").create()
    add_video(cat, p, [(0, 9), (15, 39)], motion=1)
    s = export_catalog(cat.root, tmp_path / "out", "parquet", workers=1)
    assert s.exported == 2 and s.failed == 0
    import pyarrow.parquet as pq

    for row in pq.read_table(s.manifest).to_pylist():
        clip = [f.small.astype(np.int16) for f in decode_frames(tmp_path / "out" / row["path"])]
        want = src[row["start_frame"]: row["end_frame"] + 1]
        assert len(clip) == len(want) == row["num_frames"]
        for k, (c, w) in enumerate(zip(clip, want)):
            own = np.abs(c - w).mean()
            i = row["start_frame"] + k
            assert own < 8
            for j in (i - 1, i + 1):
                if 0 <= j < len(src):
                    assert own < 0.5 * np.abs(c - src[j]).mean()


def test_cancel_stops_between_videos_and_keeps_a_consistent_manifest(catalog, tmp_path):
    import threading

    import pandas as pd

    cancel = threading.Event()

    def on_event(e):
        if e["event"] == "clips_done":
            cancel.set()          # stop after the first source video

    s = export_catalog(catalog.root, tmp_path / "c", "opensora", workers=1, cancel=cancel, on_event=on_event)
    assert s.cancelled and s.exported == 3 and s.selected == 4     # a.mp4's three shots, not b.mp4's
    df = pd.read_csv(s.manifest)
    assert set(df["source_path"]) == {catalog.a} and len(df) == 3
