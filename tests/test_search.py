"""Search end to end on a hand-made catalog of real H.264 videos: text, image, fusion, filters, errors."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from videoforge.catalog import Catalog
from videoforge.cli import main as cli
from videoforge.io.decode import decode_frames
from videoforge.io.fingerprint import fingerprint, shot_id_for, video_id_for
from videoforge.search import index_catalog, search
from videoforge.search.errors import IndexCorruptError, SearchError
from search_helpers import build_catalog as hand_catalog
from search_helpers import degrade

TEXTS = [(11, {0: "HELLO WORLD"}), (12, {1: "Big Sale Today"}), (13, {2: "Weather Report 2024"}), (14, {})]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("cat") / "catalog")
    cat, truth = hand_catalog(root, TEXTS)
    index_catalog(root)
    return root, truth


@pytest.fixture()
def fresh(built, tmp_path):
    """A private copy of the built catalog that a test may change."""
    root = str(tmp_path / "catalog")
    shutil.copytree(built[0], root)
    return root, built[1]


def _sid(t):
    return shot_id_for(video_id_for(fingerprint(t.video)), t.start_frame)


def test_text_query_finds_rendered_text_with_its_timestamps(built):
    root, truth = built
    for t in (t for t in truth if t.text):
        query = t.text.split()[1].upper() if len(t.text.split()) > 1 else t.text
        hits = search(root, text=query.swapcase(), k=3)   # case must not matter
        assert hits, query
        top = hits[0]
        assert top.shot_id == _sid(t)
        assert top.video == t.video
        assert top.start_time == pytest.approx(t.start_time, abs=1e-6)
        assert top.end_time == pytest.approx(t.end_time, abs=1e-6)
        assert t.start_time <= top.keyframe_time < t.end_time
        assert top.branches == ["bm25"]


def test_cropped_reencoded_frame_finds_its_shot(built):
    root, truth = built
    rng = np.random.default_rng(5)
    by_video = {}
    for t in truth:
        by_video.setdefault(t.video, []).append(t)
    found, total = 0, 0
    for video, shots in by_video.items():
        frames = {f.index: f.bgr() for f in decode_frames(video)}
        for t in shots:
            idx = int(rng.integers(t.start_frame, t.end_frame + 1))   # any frame, not only keyframes
            q = degrade(frames[idx], rng, crop=0.9)
            hits = search(root, image=q, k=5)
            total += 1
            found += hits[0].shot_id == _sid(t)
            assert hits[0].branches == ["visual:image"]
            if hits[0].shot_id == _sid(t):
                assert t.start_time <= hits[0].keyframe_time < t.end_time
    assert found / total >= 0.9, (found, total)


def test_text_and_image_fuse_and_where_filters(built, tmp_path):
    root, truth = built
    t = next(t for t in truth if t.text == "Big Sale Today")
    img = next(f.bgr() for f in decode_frames(t.video) if f.index == t.start_frame + 3)
    path = str(tmp_path / "q.png")
    import cv2

    cv2.imwrite(path, degrade(img, np.random.default_rng(1)))
    hits = search(root, text="sale", image=path, k=5)
    assert hits[0].shot_id == _sid(t)
    assert set(hits[0].branches) == {"bm25", "visual:image"}
    assert hits[0].score > hits[1].score
    # The filter removes the matching shot: it must not come back, whatever the branches say.
    hits = search(root, text="sale", image=path, k=5, where=f"shot_index <> {t.shot_index}")
    assert all(h.shot_id != _sid(t) for h in hits)
    assert len(hits) == 5
    cols, rows = Catalog(root).query(f"SELECT shot_id FROM shots WHERE shot_index <> {t.shot_index}")
    assert {h.shot_id for h in hits} <= {r[0] for r in rows}
    with pytest.raises(SearchError, match="not a valid filter"):
        search(root, text="sale", where="no_such_column > 1")
    assert cli(["search", root, "sale", "--where", "no_such_column > 1"]) == 2


def test_incremental_add_delete_and_noop(fresh):
    root, truth = fresh
    again = index_catalog(root)
    assert all(s.get("unchanged") for s in again)
    # A new video arrives: only its shots are embedded.
    hand_catalog(root, [(15, {0: "Zebra Crossing"})])
    s = {d["embedder"]: d for d in index_catalog(root)}
    assert s["visual"]["added"] == 3 and s["visual"]["removed"] == 0 and s["visual"]["shots"] == 15
    assert search(root, text="zebra", k=1)[0].start_time == 0.0
    # A video leaves the catalog: its shots leave the index too.
    gone = truth[0]
    vid = video_id_for(fingerprint(gone.video))
    with Catalog(root).write() as con:
        con.execute("DELETE FROM shots WHERE video_id = ?", [vid])
        con.execute("DELETE FROM keyframes WHERE video_id = ?", [vid])
    s = {d["embedder"]: d for d in index_catalog(root)}
    assert s["visual"]["removed"] == 3 and s["visual"]["shots"] == 12
    assert search(root, text="hello", k=5) == []
    frames = [f.bgr() for f in decode_frames(gone.video) if f.index == 4]
    assert all(h.video != gone.video for h in search(root, image=frames[0], k=12))


def test_caption_column_is_searched_when_present(fresh):
    root, truth = fresh
    t = truth[4]
    with Catalog(root).write() as con:  # a catalog from before curation: no caption column
        con.execute("DROP INDEX IF EXISTS shots_video")  # DuckDB cannot alter a table with an index
        con.execute("ALTER TABLE shots DROP COLUMN IF EXISTS caption")
    index_catalog(root)
    assert search(root, text="hello", k=1)[0].branches == ["bm25"]
    assert search(root, text="kite", k=3) == []
    with Catalog(root).write() as con:  # as the curation migration adds it
        con.execute("ALTER TABLE shots ADD COLUMN caption VARCHAR")
        con.execute("UPDATE shots SET caption = 'a red kite over the dunes' WHERE shot_id = ?", [_sid(t)])
    index_catalog(root)
    hits = search(root, text="Kite", k=3)
    assert [h.shot_id for h in hits] == [_sid(t)]


def test_every_shot_is_searchable(built):
    root, truth = built
    n = Catalog(root).query("SELECT count(*) FROM shots")[1][0][0]
    img = next(f.bgr() for f in decode_frames(truth[0].video) if f.index == 0)
    hits = search(root, image=img, k=100)
    assert len(hits) == n == len(truth)


def test_cli_json_contract_and_table(built, capsys):
    root, truth = built
    assert cli(["search", root, "weather", "--json", "--k", "2"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, list) and 1 <= len(doc) <= 2
    assert set(doc[0]) == {"video", "shot_id", "start_time", "end_time", "keyframe_time", "score", "branches"}
    t = next(t for t in truth if t.text and "Weather" in t.text)
    assert doc[0]["video"] == t.video and doc[0]["start_time"] == pytest.approx(t.start_time)
    assert cli(["search", root, "weather"]) == 0
    out = capsys.readouterr().out
    assert "shot_id" in out and _sid(t) in out


def test_cli_usage_error_without_query(built, capsys):
    assert cli(["search", built[0]]) == 2
    assert "text query" in capsys.readouterr().err


def test_empty_catalog_is_a_clear_error(tmp_path, capsys):
    root = str(tmp_path / "empty")
    Catalog(root).create()
    with pytest.raises(SearchError, match="no shots"):
        index_catalog(root)
    with pytest.raises(SearchError, match="no shots"):
        search(root, text="anything")
    assert cli(["index", root]) == 1
    assert "no shots" in capsys.readouterr().err
    assert cli(["search", str(tmp_path / "missing"), "x"]) == 1
    assert "no catalog" in capsys.readouterr().err


def test_query_before_indexing_is_a_clear_error(tmp_path, capsys):
    root = str(tmp_path / "c")
    hand_catalog(root, [(21, {0: "Apple"})], shots=1)
    with pytest.raises(SearchError, match="videoforge index"):
        search(root, text="apple")
    assert cli(["search", root, "apple", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "no search index yet" in captured.err


@pytest.mark.parametrize("target,damage", [
    ("visual/shots.faiss", "garbage"),      # same size, unreadable
    ("visual/keyframes.vec.npy", "truncate"),
    ("bm25/bm25.shots.json", "garbage"),
    ("visual/manifest.json", "garbage"),
])
def test_corrupt_index_file_is_a_clear_error(fresh, capsys, target, damage):
    root, _ = fresh
    path = os.path.join(root, "index", target)
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        if damage == "truncate":
            f.truncate(size // 2)
        else:
            f.write(b"\x07not an index\x00" * (size // 14 + 1))
            f.truncate(size)
    with pytest.raises(IndexCorruptError) as e:
        search(root, text="sale", image=np.zeros((64, 64, 3), np.uint8))
    assert path in str(e.value) and "--rebuild" in str(e.value)
    assert cli(["search", root, "sale"]) == 1
    assert "corrupt search index" in capsys.readouterr().err
    # Rebuilding repairs it.
    assert cli(["index", root, "--rebuild", "--json"]) == 0
    capsys.readouterr()
    assert search(root, text="sale", k=1)[0].branches == ["bm25"]


def test_temporal_pooling_index_rebuilds_and_still_finds_shots(fresh):
    root, truth = fresh
    (s,) = index_catalog(root, ["visual"], pooling="temporal")
    assert s["added"] == len(truth) and not s.get("unchanged")   # a pooling change re-embeds everything
    t = truth[5]
    img = next(f.bgr() for f in decode_frames(t.video) if f.index == t.start_frame + 2)
    hit = search(root, image=degrade(img, np.random.default_rng(3)), k=1)[0]
    assert hit.shot_id == _sid(t)


def test_shot_without_keyframes_is_indexed_from_its_source_video(fresh):
    root, truth = fresh
    t = truth[2]
    with Catalog(root).write() as con:
        con.execute("DELETE FROM keyframes WHERE shot_id = ?", [_sid(t)])
    s = {d["embedder"]: d for d in index_catalog(root, ["visual"])}
    assert s["visual"]["added"] == 1 and s["visual"]["shots"] == len(truth)
    img = next(f.bgr() for f in decode_frames(t.video) if f.index == (t.start_frame + t.end_frame) // 2)
    hit = search(root, image=degrade(img, np.random.default_rng(4)), k=1)[0]
    assert hit.shot_id == _sid(t)
    assert t.start_time <= hit.keyframe_time < t.end_time   # the decoded middle frame's time


def test_index_kind_change_rebuilds_without_re_embedding(fresh):
    from videoforge.search.vector_index import IndexParams

    root, truth = fresh
    (s,) = index_catalog(root, ["visual"], params=IndexParams(kind="hnsw"))
    assert s["added"] == 0 and s["kind"] == "exact"   # 12 shots: too few to train PQ, stays exact and says so
    t = truth[7]
    img = next(f.bgr() for f in decode_frames(t.video) if f.index == t.start_frame + 1)
    assert search(root, image=degrade(img, np.random.default_rng(6)), k=1)[0].shot_id == _sid(t)
