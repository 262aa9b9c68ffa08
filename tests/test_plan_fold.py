"""How one observation folds into a shipped cost figure (plan/store.py fold)."""

from __future__ import annotations

import pytest

from videoforge.plan.registry import shipped_registry
from videoforge.plan.store import fold


def _fresh(key: str):
    v = shipped_registry()[key]
    assert v.samples == 0 and v.cost_source.startswith("shipped")
    return v


def test_a_near_run_observation_is_averaged_with_the_shipped_figure():
    v = _fresh("ocr/on")
    shipped = v.cpu_seconds
    fold(v, shipped * 1.5, 1.0, "measured: run --plan")
    assert v.cpu_seconds == pytest.approx(shipped * 1.25)


def test_zero_fixed_costs_agree_so_the_average_still_applies():
    # keyframes have no fixed cost: 0 shipped and 0 observed is agreement, not missing evidence
    v = _fresh("keyframes/default")
    shipped = v.cpu_seconds
    assert shipped > 0 and v.fixed_cpu_seconds == 0
    fold(v, shipped * 1.5, 1.0, "measured: run --plan", fixed=0.0)
    assert v.cpu_seconds == pytest.approx(shipped * 1.25)


def test_calibrate_replaces_the_shipped_figure():
    v = _fresh("overhead/group")
    shipped = v.cpu_seconds
    fold(v, shipped * 1.9, 1.0, "measured: calibrate")
    assert v.cpu_seconds == pytest.approx(shipped * 1.9)


def test_a_far_observation_replaces_the_shipped_figure():
    v = _fresh("ocr/on")
    shipped = v.cpu_seconds
    fold(v, shipped * 3.0, 1.0, "measured: run --plan")
    assert v.cpu_seconds == pytest.approx(shipped * 3.0)


def test_a_probe_that_cannot_run_says_why(tmp_path):
    from videoforge.plan.costs import InputInfo
    from videoforge.plan.probe import run_probe

    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video")
    info = InputInfo(path=str(bad), duration=4.0, frames=100, width=64, height=48)
    report = run_probe(info, "catalog", shipped_registry())
    assert "broken.mp4" in report["error"]
