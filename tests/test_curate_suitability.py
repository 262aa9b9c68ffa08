"""Training suitability: labels, the tabular model through `videoforge run / train-scorer /
score` on degraded real videos, the packaged default model, and the TSA network."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest

from conftest import run_cli
from videoforge.catalog import Catalog
from videoforge.curate.evaluate import ThresholdRule, precision_at_recall, roc_auc
from videoforge.curate.labels import LabelError, read_labels
from videoforge.curate.suitability import (DEFAULT_MODEL, FORMAT_VERSION, ModelFileError, fit_model, load_model,
                                           normalise_labels)
from videoforge.synth.degrade import generate_set


def _rows_catalog(tmp_path):
    cat = Catalog(tmp_path / "cat").create()
    with cat.write() as con:
        con.execute("INSERT INTO videos (video_id, path, fingerprint) VALUES ('v1', '/data/a.mp4', 'f1'), ('v2', '/data/b.mp4', 'f2')")
        for sid, vid, a, b in [("s1", "v1", 0, 49), ("s2", "v1", 50, 99), ("s3", "v2", 0, 30)]:
            con.execute("INSERT INTO shots (shot_id, video_id, start_frame, end_frame) VALUES (?, ?, ?, ?)", [sid, vid, a, b])
    return cat


def _write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        for r in rows:
            w.writerow(r)
    return str(path)


def test_labels_by_shot_id_path_and_frame_range(tmp_path):
    cat = _rows_catalog(tmp_path)
    p = _write(tmp_path / "l.csv", [["shot_id", "path", "start_frame", "end_frame", "label"],
                                    ["s1", "", "", "", "1"], ["", "/data/a.mp4", "45", "120", "0"],
                                    ["", "b.mp4", "", "", "1"], ["", "/data/zzz.mp4", "", "", "1"]])
    lab = read_labels(p, cat)
    got = dict(zip(lab.shot_ids, lab.labels))
    assert got == {"s1": 1.0, "s2": 0.0, "s3": 1.0}   # frames 45-120 cover s2 fully, s1 only 5 frames
    assert len(lab.unmatched) == 1 and "zzz.mp4" in lab.unmatched[0]
    with pytest.raises(LabelError, match="label"):
        read_labels(_write(tmp_path / "bad.csv", [["shot_id", "score"], ["s1", "1"]]), cat)
    with pytest.raises(LabelError, match=":2: label 'good' is not a number"):
        read_labels(_write(tmp_path / "bad2.csv", [["shot_id", "label"], ["s1", "good"]]), cat)


def test_label_scales():
    assert normalise_labels([0, 1, 1])[1] == "binary"
    y, kind = normalise_labels([1, 3, 5])
    assert kind == "graded" and y.tolist() == [0.0, 0.5, 1.0]
    with pytest.raises(ValueError, match="0/1 or 1-5"):
        normalise_labels([0, 7])


def test_metrics_helpers_match_definitions():
    y = np.array([1, 1, 0, 0, 1, 0], bool)
    assert roc_auc(y, np.array([6, 5, 4, 3, 2, 1])) == pytest.approx(7 / 9)
    assert precision_at_recall(y, np.array([6, 5, 4, 3, 2, 1]), 0.6) == 1.0   # top 2 are both positive
    rule = ThresholdRule(q=0.0).fit(np.array([[10.0], [20.0]]), ["sharpness"])
    assert rule.score(np.array([[5.0], [15.0], [np.nan]]), ["sharpness"]).tolist() == [0.0, 1.0, 1.0]


@pytest.fixture(scope="module")
def degraded_catalog(tmp_path_factory):
    """A small labelled set through the real engine: 5 clean shots and 4 degraded copies each."""
    d = tmp_path_factory.mktemp("suit")
    generate_set(str(d / "videos"), "train", clean=5, per_clean=4, seed=3, width=128, height=72, length=(30, 44))
    cat = str(d / "cat")
    r = run_cli("run", str(d / "videos"), "--catalog", cat, "--workers", "2", "-q")
    assert r.returncode == 0, r.stderr
    return str(d), cat


def test_train_scorer_and_score_end_to_end(degraded_catalog):
    d, cat = degraded_catalog
    model = os.path.join(d, "m.npz")
    r = run_cli("train-scorer", os.path.join(d, "videos", "labels.csv"), "--catalog", cat, "--out", model,
                "--suitable-from", "5", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["kind"] == "graded" and doc["labelled_shots"] >= 25 and doc["unmatched_rows"] == 0
    r = run_cli("score", cat, "--model", model, "--json")
    assert r.returncode == 0, r.stderr
    rows = Catalog(cat).query_dicts("SELECT s.suitability, v.path FROM shots s JOIN videos v USING (video_id)")
    s = np.array([x["suitability"] for x in rows])
    clean = np.array([x["path"].endswith("_clean.mp4") for x in rows])
    assert np.all((s >= 0) & (s <= 1))
    assert roc_auc(clean, s) > 0.9   # fitted on these very shots: the model must at least separate them
    # a 0/1 label file fits a classifier
    lab = os.path.join(d, "binary.csv")
    with open(os.path.join(d, "videos", "labels.csv")) as f:
        _write(lab, [["path", "label"]] + [[r["path"], int(r["degraded"] == "0")] for r in csv.DictReader(f)])
    r = run_cli("train-scorer", lab, "--catalog", cat, "--out", model, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["kind"] == "binary"


def test_model_errors_are_usage_errors(degraded_catalog, tmp_path):
    _, cat = degraded_catalog
    r = run_cli("score", cat, "--model", str(tmp_path / "nope.joblib"))
    assert r.returncode == 2 and "nope.joblib" in r.stderr
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a model")
    r = run_cli("score", cat, "--model", str(bad))
    assert r.returncode == 1 and "not a readable suitability model" in r.stderr


@pytest.mark.skipif(not os.path.exists(DEFAULT_MODEL), reason="packaged model not built yet")
def test_packaged_model_ranks_unseen_degradations(tmp_path):
    """The shipped model on footage it never saw: the frozen split's sources, camera path and
    degradation variant (a new seed, so not the frozen test set itself), through the real engine.
    One label per generated video: its longest detected shot (as the benchmark scores it)."""
    from videoforge.synth.suitability_set import generate

    generate(str(tmp_path / "v"), "frozen", clean=6, per_clean=2, seed=11, combo_every=0,
             families=("generated", "skimage", "opencv_img"),
             kinds=("blur", "noise", "static", "dark", "compression", "text"))
    cat = str(tmp_path / "cat")
    assert run_cli("run", str(tmp_path / "v"), "--catalog", cat, "--workers", "2", "-q").returncode == 0
    r = run_cli("score", cat, "--json")
    assert r.returncode == 0, r.stderr
    rows = Catalog(cat).query_dicts("SELECT s.suitability, v.path, s.end_frame - s.start_frame AS n "
                                    "FROM shots s JOIN videos v USING (video_id) ORDER BY n DESC")
    best: dict[str, float] = {}
    for x in rows:
        best.setdefault(x["path"], x["suitability"])
    s = np.array(list(best.values()))
    clean = np.array([p.endswith("_clean.mp4") for p in best])
    assert clean.sum() == 6 and len(s) == 18
    assert roc_auc(clean, s) > 0.8
    m = load_model()
    assert m.meta.get("n_train", 0) > 500 and m.calibration is not None
    with open(DEFAULT_MODEL, "rb") as f:
        assert f.read(4) == b"PK\x03\x04"            # a NumPy .npz archive of arrays, not a pickle


def _toy_fit(n=240, seed=0, **kw):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    x[rng.random((n, 5)) < 0.15] = np.nan          # missing values take the learned NaN branch
    x[:, 4] = np.nan                                # an all-missing column is dropped from the trees
    y = (np.nan_to_num(x[:, 0]) - 0.5 * np.nan_to_num(x[:, 3]) + rng.normal(0, 0.7, n) > 0).astype(int)
    names = ["sharpness", "motion", "contrast", "text_area", "audio_rms_db"]
    return x, y, names, fit_model(x, y, names, params=dict(max_iter=60), **kw)


def test_model_file_is_arrays_and_reproduces_the_fitted_scores(tmp_path):
    import zipfile

    x, y, names, m = _toy_fit()
    # the array form computes exactly what scikit-learn's fitted estimator computes
    assert np.array_equal(m.trees.proba(m.columns(x)), m.estimator.predict_proba(m.columns(x))[:, 1])
    m.calibration = (0.8, -0.1)
    p = str(tmp_path / "model.joblib")             # any name: the file is written exactly there
    m.save(p)
    with zipfile.ZipFile(p) as z:
        assert all(n.endswith(".npy") for n in z.namelist())
    with np.load(p, allow_pickle=False) as z:       # readable without unpickling anything
        assert "header" in z.files and "threshold" in z.files
    got = load_model(p)
    assert got.used == ["sharpness", "motion", "contrast", "text_area"] and got.calibration == (0.8, -0.1)
    assert np.array_equal(got.predict(x), m.predict(x))
    assert roc_auc(y == 1, got.predict(x)) > 0.8


def _rewrite(src, dst, **changes):
    import io
    import json

    with np.load(src, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    head = json.loads(bytes(d["header"]).decode())
    for k, v in changes.items():
        if k in head:
            head[k] = v
        else:
            d[k] = v
    d["header"] = np.frombuffer(json.dumps(head).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez(buf, **d)
    open(dst, "wb").write(buf.getvalue())
    return str(dst)


def test_old_other_version_and_tampered_model_files_are_refused(tmp_path, degraded_catalog):
    import joblib

    x, y, names, m = _toy_fit()
    good = m.save(str(tmp_path / "good.npz"))
    old = str(tmp_path / "old.joblib")              # what videoforge wrote before (format version 1)
    joblib.dump({"format": "videoforge-suitability/1", "features": names, "estimator": m.estimator}, old, compress=3)
    with pytest.raises(ModelFileError, match="old pickled .*format version 1.*retrain"):
        load_model(old)
    joblib.dump({"format": "videoforge-suitability/1"}, str(tmp_path / "raw.joblib"))   # uncompressed pickle
    with pytest.raises(ModelFileError, match="old pickled"):
        load_model(str(tmp_path / "raw.joblib"))
    newer = _rewrite(good, tmp_path / "newer.npz", format_version=FORMAT_VERSION + 1)
    with pytest.raises(ModelFileError, match=f"format version {FORMAT_VERSION + 1}.*reads format version {FORMAT_VERSION}"):
        load_model(newer)
    left = np.array(m.trees.left)
    left[np.flatnonzero(~m.trees.is_leaf.astype(bool))[0]] = 10 ** 6
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(_rewrite(good, tmp_path / "tampered.npz", left=left))
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(_rewrite(good, tmp_path / "short.npz", value=m.trees.value[:-1]))
    # through the CLI: a clear message naming the file, nothing scored
    _, cat = degraded_catalog
    r = run_cli("score", cat, "--model", old)
    assert r.returncode == 1 and "old.joblib" in r.stderr and "retrain" in r.stderr


def test_score_tsa_is_selectable_or_says_why_not(degraded_catalog):
    from videoforge.curate.tsa import SHIPPED_TSA

    _, cat = degraded_catalog
    r = run_cli("score", cat, "--model", "tsa", "--json")
    if os.path.exists(SHIPPED_TSA):
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["model"] == "tsa"
    else:
        assert r.returncode == 2 and "not shipped" in r.stderr and "curate.md" in r.stderr


def test_tsa_weights_round_trip_as_arrays(tmp_path):
    from videoforge.curate.tsa import TSAConfig, TSAModel, load_npz, save_npz

    m = TSAModel(TSAConfig(n_metrics=3, frames=4, size=16), ["a", "b", "c"], np.zeros(3), np.ones(3))
    rng = np.random.default_rng(0)
    f = rng.random((5, 4, 3, 16, 16)).astype(np.float32)
    x = rng.normal(size=(5, 3))
    p = save_npz(m, str(tmp_path / "tsa.npz"))
    assert np.array_equal(load_npz(p).predict(f, x), m.predict(f, x))
    with pytest.raises(ValueError, match="not a readable TSA model"):
        load_npz(str(tmp_path / "nope.npz"))


def test_bootstrap_intervals():
    from videoforge.curate.bootstrap import auc_ci, median_ci

    rng = np.random.default_rng(0)
    y = np.r_[np.ones(60), np.zeros(60)].astype(bool)
    s = np.r_[rng.normal(1, 1, 60), rng.normal(0, 1, 60)]
    a = auc_ci(y, s)
    assert a["lo"] < a["auc"] < a["hi"] and a["n"] == 120 and a["n_pos"] == 60
    assert 0.6 < a["auc"] < 0.9 and a["hi"] - a["lo"] < 0.25
    assert auc_ci(y, s) == a                        # seeded: the same interval every time
    med = median_ci(s[:60])
    assert med["lo"] <= med["median"] <= med["hi"]


def test_suitability_set_splits_share_no_source_and_degrade_every_kind(tmp_path):
    from videoforge.synth import suitability_set as ss

    for fam in ("skimage", "opencv_img", "opencv_clip"):
        assert not set(ss.SOURCES["train"][fam]) & set(ss.SOURCES["frozen"][fam]), fam
    assert "opencv:Megamind_bugy.avi" not in ss.TRAIN_CLIPS + ss.FROZEN_CLIPS
    assert not set(ss.SEVERITIES["train"]) & set(ss.SEVERITIES["frozen"])
    assert not set(ss.SIZES["train"]) & set(ss.SIZES["frozen"])
    rng = np.random.default_rng(0)
    pic = cv2_picture(rng)
    for split in ("train", "frozen"):
        clean = ss._camera_frames(split, pic, 96, 64, 24, rng, still=False, sprites=1)
        assert np.abs(clean[0].astype(int) - clean[-1].astype(int)).mean() > 1   # the camera moves
        for kind in ss.DEGRADATIONS:
            out, crf = ss.degrade(clean, kind, 0.8, ss.VARIANT[split], rng)
            changed = len(out) != len(clean) or crf > 30 or any(
                np.abs(a.astype(int) - b.astype(int)).mean() > 0.5 for a, b in zip(out, clean))
            assert changed, (split, kind)
    samples = ss.generate(str(tmp_path / "f"), "frozen", clean=4, per_clean=1, seed=1, families=("generated", "skimage"))
    assert {s.family for s in samples} == {"generated", "skimage"}
    assert {s.source for s in samples if s.family == "skimage"} <= set(ss.FROZEN_SKIMAGE)
    assert sum(s.label for s in samples) == 4 and all(s.variant == "b" for s in samples)
    assert os.path.exists(tmp_path / "f" / "labels.csv")


def cv2_picture(rng):
    import cv2

    return cv2.GaussianBlur(rng.integers(0, 255, (200, 300, 3)).astype(np.uint8), (0, 0), 3)


def test_tsa_network_learns_and_round_trips(tmp_path):
    import torch

    from videoforge.curate.tsa import TSAModel, fit_tsa, sample_shot_frames
    from videoforge.synth.degrade import CleanSource, degrade
    from videoforge.io.encode import write_video

    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    src = CleanSource("train", 96, 64, rng, real_clips=False)
    frames, y = [], []
    for i in range(8):
        clean, _ = src.make(24)
        for kind, label in (("", 1.0), ("static", 0.0), ("noise", 0.0)):
            f = clean if not kind else degrade(clean, kind, 1.0, "a", rng)[0]
            p = str(tmp_path / f"{i}_{kind or 'clean'}.mp4")
            write_video(p, f, crf=20)
            frames.append(sample_shot_frames(p, [(0, len(f) - 1)], n=6, size=32)[0])
            y.append(label)
    frames, y = np.stack(frames), np.array(y)
    x = np.c_[np.full(len(y), np.nan), rng.normal(size=len(y))]   # a missing metric and an uninformative one
    losses = []
    m = fit_tsa(frames, x, y, ["a", "b"], epochs=25, lr=3e-3, batch=8, log=lambda e, l: losses.append(l))
    assert losses[-1] < 0.7 * losses[0], losses
    p = m.predict(frames, x)
    assert roc_auc(y == 1, p) > 0.9, p
    m.save(str(tmp_path / "tsa.pt"))
    assert np.allclose(TSAModel.load(str(tmp_path / "tsa.pt")).predict(frames, x), p, atol=1e-6)


def test_ocr_free_text_bar_and_flash_measures():
    """The shot-level measures react to what they were made for, on pictures and series built here."""
    import cv2

    from videoforge.curate.frame_features import series_features
    from videoforge.curate.keyframe_features import stroke_map, symmetric_bars, text_band

    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(60, 200, (128, 224)).astype(np.uint8), (0, 0), 4)
    sub = base.copy()
    cv2.putText(sub, "the quick brown fox", (4, 120), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 0, 3, cv2.LINE_AA)
    cv2.putText(sub, "the quick brown fox", (4, 120), cv2.FONT_HERSHEY_SIMPLEX, 0.5, 255, 1, cv2.LINE_AA)
    assert text_band(stroke_map(sub.astype(np.float32))) > text_band(stroke_map(base.astype(np.float32))) + 0.05

    pillar = base.astype(np.float32).copy()
    pillar[:, :30], pillar[:, -30:] = 0, 0
    one_side = base.astype(np.float32).copy()
    one_side[:, :30] = 0            # a dark area on one side only is not a bar
    assert symmetric_bars(pillar) == pytest.approx(30 / 224, abs=0.01)
    assert symmetric_bars(one_side) == 0.0

    steady = 100 + np.cumsum(rng.normal(0, 0.5, 60))
    flash = steady.copy()
    flash[30] += 90
    assert series_features(flash)[0] > 5 * series_features(steady)[0]
    assert np.isnan(series_features(np.array([1.0, 2.0]))[0])
