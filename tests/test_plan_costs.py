"""Decision center (issue 25): the suitability stage priced per decoded frame from a sample of
each input, older registry rows in another unit, and the weights-based embedders' registry rows."""

from __future__ import annotations

import glob
import os

from videoforge.catalog import Catalog
from videoforge.plan.costs import (SUIT_LUMA_MAX, SUIT_QUALITY_MAX, InputInfo, probe_input, sample_suitability,
                                   suitability_frame_cpu)
from videoforge.plan.post import post_chains, post_cost
from videoforge.plan.registry import available, shipped_registry
from videoforge.plan.store import load_registry, save_registry


def test_suitability_features_are_priced_per_decoded_frame_from_the_inputs_sample(tiny_videos):
    reg = shipped_registry()
    path = sorted(glob.glob(os.path.join(tiny_videos, "*.mp4")))[-1]
    info = probe_input(path)
    sample_suitability(info, frames=24)
    # real decoding of a real H.264 file: both per-frame figures measured (CPU can read 0 on a
    # 24-frame sample with a coarse clock, never negative)
    assert info.suit_luma_cpu_per_frame is not None and info.suit_luma_cpu_per_frame >= 0
    assert info.suit_quality_cpu_per_frame is not None and info.suit_quality_cpu_per_frame >= 0
    # the per-shot frame limits: a shot decodes all its frames (<= 600) for the flash series and
    # its first 72 for the quality measures
    long = InputInfo("/x.mp4", 100.0, 2500, 640, 360, suit_luma_cpu_per_frame=0.002, suit_quality_cpu_per_frame=0.003)
    one = suitability_frame_cpu(long, 1.0, reg)
    assert abs(one - (SUIT_LUMA_MAX * 0.002 + SUIT_QUALITY_MAX * 0.003)) < 1e-12
    ten = suitability_frame_cpu(long, 10.0, reg)
    assert abs(ten - 10 * (250 * 0.002 + 72 * 0.003)) < 1e-12
    # not sampled: the registry's per-frame + per-megapixel fallback, dearer for larger frames
    small = InputInfo("/s.mp4", 10.0, 250, 320, 180)
    big = InputInfo("/b.mp4", 10.0, 250, 1920, 1080)
    assert suitability_frame_cpu(big, 3.0, reg) > suitability_frame_cpu(small, 3.0, reg) > 0
    # the post stage's price is that decoding plus the per-shot rest
    ch = {"suitability": "default", "gate": "all", "caption": "off", "embed": "off"}
    n = reg["forecast/shots_per_second"].cpu_seconds * long.duration
    want = suitability_frame_cpu(long, n, reg) + n * reg["suitability/default"].cpu_seconds
    assert abs(post_cost(long, ch, False, reg) - want) < 1e-9


def test_a_row_measured_in_another_unit_keeps_the_shipped_figure(tmp_path):
    cat = Catalog(str(tmp_path / "c")).create()
    reg = shipped_registry()
    shipped = reg["suitability/default"].cpu_seconds
    old = reg["suitability/default"]
    old.unit, old.cpu_seconds, old.samples, old.cost_source = "mpx", 0.0101, 3, "measured: run --plan"
    reg["ocr/on"].cpu_seconds, reg["ocr/on"].samples = 0.05, 2
    save_registry(cat, reg)
    back = load_registry(cat)
    assert back["suitability/default"].cpu_seconds == shipped   # per megapixel is not per shot
    assert back["ocr/on"].cpu_seconds == 0.05                   # same unit: the measured row wins


def test_weights_based_embedders_are_listed_but_need_a_local_model(tmp_path, monkeypatch):
    reg = shipped_registry()
    for name, env in (("clip", "VIDEOFORGE_CLIP_MODEL"), ("siglip", "VIDEOFORGE_SIGLIP_MODEL")):
        v = reg[f"embed/{name}"]
        assert v.cpu_seconds > 0 and v.fixed_cpu_seconds > 0       # measured cost (random-weight architecture)
        assert v.quality == {} and "not measured" in v.quality_source
        monkeypatch.delenv(env, raising=False)
        assert not available(v)
        assert all(ch["embed"] != name for ch in post_chains(reg))
        monkeypatch.setenv(env, str(tmp_path))
        assert available(v)
        assert any(ch["embed"] == name for ch in post_chains(reg))
