"""The speed paths of `videoforge run` give exactly what the plain paths give (issue 18).

Each faster path here replaced a simpler one; these tests compare the two on real data.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import gradient_clip
from videoforge.io.encode import write_video


def test_kth_smallest_equals_partition_on_flow_like_values():
    """motion_peak's k-th value: the same number as np.partition, on arrays that are mostly
    exact zeros (still background), all zeros, all distinct, tied, tiny, and where the strided
    subsample misjudges the threshold (the fallback)."""
    from videoforge.metrics.flow import PEAK_QUANTILE, _kth_smallest

    rng = np.random.default_rng(0)
    cases = []
    for zeros in (0.0, 0.3, 0.6, 0.95, 1.0):
        v = rng.gamma(1.0, 2.0, 14400).astype(np.float32)
        v[rng.random(v.size) < zeros] = 0.0
        cases.append(v)
    cases.append(np.round(rng.random(14400) * 4).astype(np.float32))            # heavy ties
    cases.append(rng.random(7).astype(np.float32))                                 # tiny
    skew = np.zeros(14400, np.float32)
    skew[1::16] = 5.0                                                             # the subsample sees none of the top values
    skew[3::16] = rng.random(900).astype(np.float32)
    cases.append(skew)
    for v in cases:
        for q in (PEAK_QUANTILE, 0.5, 0.0, 1.0):
            k = min(v.size - 1, int(q * v.size))
            assert _kth_smallest(v, k) == float(np.partition(v, k)[k])


def test_prefetched_yields_every_item_in_order_and_raises_after_them():
    from videoforge.io.decode import _prefetched

    def gen(n, fail=False):
        yield from range(n)
        if fail:
            raise ValueError("boom")

    for n in (0, 1, 3, 4, 5, 9, 17):
        for depth in (1, 2, 4, 8):
            assert list(_prefetched(gen(n), depth)) == list(range(n))
    got = []
    with pytest.raises(ValueError, match="boom"):
        for x in _prefetched(gen(6, fail=True), 4):
            got.append(x)
    assert got == list(range(6))
    # a consumer that stops early: the producer thread ends, the source is closed
    closed = []

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(True)

    it = _prefetched(endless(), 4)
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    it.close()
    assert closed == [True]


def test_decode_with_and_without_prefetch_gives_the_same_frames(tmp_path):
    from videoforge.io.decode import DecodeStats, decode_frames

    path = tmp_path / "clip.mp4"
    write_video(path, gradient_clip(37, seed=5), fps=25, audio_tone_hz=440)
    runs = []
    for prefetch in (0, 1, 4):
        stats, audio = DecodeStats(), []
        frames = [(f.index, f.pts_time, f.small.copy(), f.full_luma().copy())
                  for f in decode_frames(path, stats=stats, prefetch=prefetch, on_audio=lambda af: audio.append(af.pts))]
        runs.append((frames, stats.pts, audio))
    for frames, pts, audio in runs[1:]:
        assert len(frames) == len(runs[0][0]) == 37
        assert pts == runs[0][1] and audio == runs[0][2] and audio
        for a, b in zip(frames, runs[0][0]):
            assert a[0] == b[0] and a[1] == b[1]
            assert np.array_equal(a[2], b[2]) and np.array_equal(a[3], b[3])


def test_decode_prefetch_is_not_part_of_the_analysis_signature():
    from videoforge.engine.config import AnalysisConfig

    a, b = AnalysisConfig(), AnalysisConfig(decode_prefetch=0, decode_threads=3, segment_workers=2)
    assert a.signature() == b.signature() and "decode_prefetch" not in a.to_json()


def test_multi_row_insert_keeps_every_row_and_value(tmp_path):
    """The commit's INSERT in chunks of many rows: rows beyond one chunk, NULLs next to values,
    keys that are not columns left out - the same rows as one INSERT per row."""
    import duckdb

    from videoforge.catalog import commit

    con = duckdb.connect(str(tmp_path / "t.duckdb"))
    con.execute("CREATE TABLE t (a INTEGER, b DOUBLE, c VARCHAR)")
    rows = [{"a": i, "b": (None if i % 3 == 0 else i / 7), "c": (f"x{i}" if i % 2 else None), "junk": 1}
            for i in range(commit._ROWS_PER_INSERT * 2 + 5)]
    rows[1] = {"c": "only c"}   # a row with fewer keys
    commit._insert(con, "t", rows)
    got = con.execute("SELECT a, b, c FROM t ORDER BY rowid").fetchall()
    assert got == [(r.get("a"), r.get("b"), r.get("c")) for r in rows]
    assert commit._table_columns(con, ("t",)) == {"t": ["a", "b", "c"]}


def _zscore_head_by_loop(d: np.ndarray, w: int):
    """The first rows' median / MAD as the 3-sigma rule defined them: np.median per prefix."""
    d = d.astype(np.float32)
    med, mad = [], []
    for t in range(1, min(len(d), w + 1)):
        m = np.median(d[:t])
        med.append(m)
        mad.append(np.median(np.abs(d[:t] - m)))
    return np.asarray(med, np.float32), np.asarray(mad, np.float32)


def test_prefix_median_mad_equals_np_median_per_prefix():
    from videoforge.shots.features import SIGMA_WINDOW, _prefix_median_mad

    rng = np.random.default_rng(5)
    cases = [rng.random(40, dtype=np.float32), np.zeros(35, np.float32),
             np.round(rng.random(31) * 4).astype(np.float32) / 4,     # many ties
             (rng.random(30) ** 6).astype(np.float32), rng.random(7).astype(np.float32),
             np.array([0.5, np.nan, 0.1, 0.3], np.float32)]           # NaN: the plain way
    for d in cases:
        head = min(len(d), SIGMA_WINDOW + 1)
        med, mad = _prefix_median_mad(d[:head - 1])
        want_med, want_mad = _zscore_head_by_loop(d, SIGMA_WINDOW)
        np.testing.assert_array_equal(med, want_med)
        np.testing.assert_array_equal(mad, want_mad)
        assert med.dtype == np.float32 and mad.dtype == np.float32


def test_shot_features_of_a_real_clip_are_unchanged_by_the_prefix_medians(tmp_path):
    """Feature rows of an encoded video with a cut (every 3-sigma column included) are
    bit-identical to those computed with the per-prefix np.median loop, also for short
    pieces whose rows all sit in the head window."""
    import videoforge.shots.features as F
    from videoforge.io.decode import decode_frames

    path = str(tmp_path / "g.mp4")
    write_video(path, gradient_clip(50, seed=3) + gradient_clip(40, seed=4, speed=5.0), fps=25)
    buf = F.SignatureBuffer()
    for fr in decode_frames(path):
        buf.add(fr.small)
    arrays = buf.arrays()
    assert len(arrays[1]) == 90
    for sl in (slice(0, 90), slice(0, 10), slice(0, 40), slice(20, 90), slice(45, 60)):
        piece = tuple(a[sl] for a in arrays)
        np.testing.assert_array_equal(F.features(piece), _features_with_loop(F, piece))


def _features_with_loop(F, arrays):
    orig = F._prefix_median_mad
    try:
        F._prefix_median_mad = lambda d: _zscore_head_by_loop(np.append(d, np.float32(0)), len(d))
        return F.features(arrays)
    finally:
        F._prefix_median_mad = orig
