"""Decision center (issue 25), session 8: shared loading between per-shot stages, the lite
suitability variant (no frame decoding), and the enhancement stages' registry rows."""

from __future__ import annotations

import glob
import os

import numpy as np
import pytest

from videoforge.plan.costs import InputInfo
from videoforge.plan.planner import Assignment, Problem
from videoforge.plan.post import OFF, post_cost, post_fixed_keys
from videoforge.plan.registry import SUIT_LITE_MODEL, available, shipped_registry


def _reg(common: float = 0.5):
    """Shipped registry, loading known: suitability 0.2 + captions 0.1 of their own, both
    needing the shared component `load/post_common` (`common` CPU-s)."""
    reg = shipped_registry()
    for v in reg.values():
        v.fixed_cpu_seconds = 0.0
    reg["load/post_common"].fixed_cpu_seconds = common
    reg["suitability/default"].fixed_cpu_seconds = 0.2
    reg["suitability/lite"].fixed_cpu_seconds = 0.2
    reg["caption/metadata"].fixed_cpu_seconds = 0.1
    return reg


def _ins():
    return [InputInfo("/a.mp4", 30.0, 750, 640, 360), InputInfo("/b.mp4", 12.0, 300, 320, 180)]


def test_shared_loading_is_paid_once_whichever_stages_use_it():
    reg = _reg()
    both = {**OFF, "suitability": "default", "caption": "metadata"}
    keys = post_fixed_keys(both, reg)
    assert "load/post_common" in keys and keys.count("load/post_common") == 1
    p = Problem("dataset", _ins(), reg, None, None, {}, allow_skip=False, prune=False)
    q_both = p.post.index(both)
    q_suit = p.post.index({**OFF, "suitability": "default"})
    q_cap = p.post.index({**OFF, "caption": "metadata"})
    e0 = p.evaluate(Assignment("inline", [0, 0], [0, 0]))["cpu_seconds"]
    base = e0
    # one input with suitability, the other with captions: the shared part once (0.5), each
    # stage's own loading once, plus the per-shot work of each
    per = sum(post_cost(i, ch, False, reg) for i, ch in zip(_ins(), [p.post[q_suit], p.post[q_cap]]))
    mixed = p.evaluate(Assignment("inline", [0, 0], [q_suit, q_cap]))["cpu_seconds"]
    assert mixed - base == pytest.approx(per + 0.5 + 0.2 + 0.1)
    per2 = sum(post_cost(i, p.post[q_both], False, reg) for i in _ins())
    assert p.evaluate(Assignment("inline", [0, 0], [q_both, q_both]))["cpu_seconds"] - base == pytest.approx(
        per2 + 0.5 + 0.2 + 0.1)


@pytest.mark.parametrize("goal", ["dataset", "catalog"])
def test_milp_equals_the_oracle_with_a_shared_loading_term(goal):
    reg = _reg(common=1.5)     # large enough to change which chains win
    ins = _ins()
    top = Problem(goal, ins, reg, None, None, {})
    full = top.evaluate(top.best_unconstrained())["cpu_seconds"]
    for frac in (None, 0.7, 0.45):
        p = Problem(goal, ins, reg, None if frac is None else full * frac, None, {})
        a, o = p.solve(), p.oracle()
        assert (a is None) == (o is None)
        if a is not None:
            assert p.evaluate(a)["quality"]["goal"] == pytest.approx(p.evaluate(o)["quality"]["goal"], abs=1e-9)
            assert p.evaluate(a)["cpu_seconds"] <= p.cap_cpu() + 1e-9


def test_feedback_folds_the_shared_component_once_with_the_first_stage():
    from videoforge.plan.feedback import observe_post

    reg = _reg(common=0.6)
    for k in ("suitability/default", "caption/metadata", "load/post_common"):
        reg[k].samples = 0
    reg["suitability/default"].cpu_seconds = 0.05
    reg["caption/metadata"].cpu_seconds = 0.01
    ch = {**OFF, "suitability": "default", "caption": "metadata"}
    # measured: suitability paid its own 0.2 + the shared 0.6 + 10 x 0.05; captions after it only
    # their own 0.1 + 10 x 0.01 (what session 7 saw: captions far cheaper after suitability)
    res = {"chain": ch, "shots": 10, "gate_kept": 10, "suitable": 5,
           "stages": {"suitability": {"cpu_seconds": 0.2 + 0.6 + 0.5}, "caption": {"cpu_seconds": 0.1 + 0.1}}}
    loaded: set = set()
    observe_post(reg, res, [40.0], True, loaded, "test")
    assert "load/post_common" in loaded
    assert reg["caption/metadata"].fixed_cpu_seconds == pytest.approx(0.1)
    assert reg["caption/metadata"].cpu_seconds == pytest.approx(0.01)
    assert reg["load/post_common"].fixed_cpu_seconds == pytest.approx(0.6)
    assert reg["suitability/default"].fixed_cpu_seconds == pytest.approx(0.2)


def test_lite_suitability_decodes_no_frame_and_is_priced_per_shot_only():
    reg = shipped_registry()
    lite = reg["suitability/lite"]
    assert os.path.exists(SUIT_LITE_MODEL) and available(lite)
    # its quality is a measured figure from frozen set v2, below the default model's on the same shots
    assert 0.5 < lite.quality["suitability_auc"] < 1.0 and "frozen set v2" in lite.quality_source
    from videoforge.curate.suitability import load_model

    m = load_model(SUIT_LITE_MODEL)
    assert m.features and not any(f.startswith(("fr_", "q_")) for f in m.features)
    info = InputInfo("/x.mp4", 60.0, 1500, 1280, 720)
    d = post_cost(info, {**OFF, "suitability": "default"}, False, reg)
    li = post_cost(info, {**OFF, "suitability": "lite"}, False, reg)
    n = reg["forecast/shots_per_second"].cpu_seconds * info.duration
    assert li == pytest.approx(n * lite.cpu_seconds) and li < d


def test_lite_suitability_scores_a_real_catalog(tiny_videos, tmp_path):
    from videoforge.catalog import Catalog
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos
    from videoforge.plan.post import run_post

    path = sorted(glob.glob(os.path.join(tiny_videos, "*.mp4")))[0]
    cat = str(tmp_path / "c")
    run_videos([path], cat, config=AnalysisConfig(ocr=False), progress=False)
    c = Catalog(cat)
    vid = c.query("SELECT video_id FROM videos")[1][0][0]
    res = run_post(c, {**OFF, "suitability": "lite"}, [vid])
    assert res["stages"]["suitability"]["result"]["shots"] == res["shots"] > 0
    s = np.array([r[0] for r in c.query("SELECT suitability FROM shots")[1]], float)
    assert np.isfinite(s).all() and ((s >= 0) & (s <= 1)).all()


def test_enhancement_stages_are_listed_with_measured_costs_but_not_planned():
    from videoforge.plan.planner import chains
    from videoforge.plan.post import post_chains

    reg = shipped_registry()
    for key in ("enhance/sr_x4", "enhance/sr_x2", "matte/default"):
        v = reg[key]
        assert v.cpu_seconds > 0 and v.unit in ("mpx", "frame") and v.quality and v.quality_source
        assert "plan_enhance_costs.py" in v.cost_source
        assert not available(v)
    assert reg["enhance/sr_x4"].cpu_seconds > reg["enhance/sr_x2"].cpu_seconds * 0.5
    used = {s for ch in chains(reg) + post_chains(reg) for s in ch}
    assert not used & {"enhance", "matte"}
