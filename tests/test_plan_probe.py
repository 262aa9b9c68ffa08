"""Decision center (issue 25), session 9: a plan without a catalog corrects the shipped fixed
costs by a real run on a sample of its inputs (plan/probe.py), and forecasts each input's shots
from its own sample (costs.sample_decode)."""

from __future__ import annotations

import glob
import os

from videoforge.io.probe import probe
from videoforge.plan.costs import probe_input, sample_decode
from videoforge.plan.post import shots_of
from videoforge.plan.probe import apply_probe, cut_sample, factor, fixed_keys, needs_probe
from videoforge.plan.registry import shipped_registry


def test_probe_factors_scale_fixed_costs_only_per_side():
    reg = shipped_registry()
    before = {k: (v.cpu_seconds, v.fixed_cpu_seconds) for k, v in reg.items()}
    report = {"rest": {"actual": 1.0, "per_unit": 0.0, "fixed": 0.5},                # measured 2x the shipped start-up
              "engine": {"actual": 0.6, "per_unit": 0.2, "fixed": 0.8},               # loading half the shipped
              "post": {"actual": 0.01, "per_unit": 0.0, "fixed": 0.01}}               # too small to tell: untouched
    used = apply_probe(reg, report)
    assert set(used) == {"rest", "engine"} and abs(used["rest"] - 2.0) < 1e-9 and abs(used["engine"] - 0.5) < 1e-9
    keys = fixed_keys(reg)
    assert abs(reg["overhead/run"].cpu_seconds - 2.0 * before["overhead/run"][0]) < 1e-9
    assert abs(reg["overhead/worker"].cpu_seconds - 2.0 * before["overhead/worker"][0]) < 1e-9
    assert abs(reg["overhead/video"].cpu_seconds - 0.5 * before["overhead/video"][0]) < 1e-9
    assert abs(reg["ocr/on"].fixed_cpu_seconds - 0.5 * before["ocr/on"][1]) < 1e-9
    assert "ocr/on" in keys["engine"] and "load/post_common" in keys["post"]
    for k, v in reg.items():
        if not k.startswith("overhead/"):   # per-unit figures are the samples' business
            assert v.cpu_seconds == before[k][0], k
        if k in keys["post"]:
            assert v.fixed_cpu_seconds == before[k][1], k
    # clamped: a wild probe (a load spike) cannot move the registry further than 0.4-2.5x
    assert factor({"actual": 100.0, "per_unit": 0.0, "fixed": 1.0}) == 2.5
    assert factor({"actual": 0.0, "per_unit": 0.5, "fixed": 1.0}) == 0.4
    # a catalog whose runs measured the start-up needs no probe
    assert needs_probe(shipped_registry())
    reg["overhead/run"].samples = 1
    assert not needs_probe(reg)


def test_sample_counts_the_inputs_shots_and_the_cut_sample_is_the_inputs_start(tmp_path):
    from videoforge.synth.transitions import GenSettings, generate

    path = str(tmp_path / "four.mp4")
    generate(path, seed=9700, settings=GenSettings(width=160, height=96, shots=4, footage="synthetic",
                                                   sequence=["cut"]))
    info = probe_input(path)
    sample_decode(info)   # the whole input fits the sample: the detector's exact count (4 shots, 3 hard cuts)
    assert info.shots_sampled == 4.0
    assert shots_of(info, False, shipped_registry()) == info.shots_sampled
    assert shots_of(info, True, shipped_registry()) == 1.0
    # only the first seconds of a longer input: extrapolated from its cuts, at least one shot
    part = probe_input(path)
    sample_decode(part, shots_seconds=2.0)
    assert part.shots_sampled is not None and part.shots_sampled >= 1.0
    out = str(tmp_path / "sample.mp4")
    assert cut_sample(path, out, seconds=2.0)
    got = probe(out)
    assert 1.5 <= float(got.duration) <= 2.6 and (got.width, got.height) == (160, 96)


def test_plan_without_catalog_runs_the_probe_and_reports_it(tiny_videos):
    from videoforge.plan.api import PlanRequest, make_plan

    doc = make_plan(PlanRequest(inputs=[tiny_videos], goal="catalog"))
    pr = doc["probe"]
    # a real run --plan on the sample, in its own process: CPU measured, each side's factor in range
    assert pr["actual_cpu_seconds"] > 0 and pr["predicted_cpu_seconds"] > 0
    assert set(pr["factors"]) <= {"rest", "engine", "post"} and "rest" in pr["factors"]
    assert all(0.4 <= f <= 2.5 for f in pr["factors"].values())
    assert os.path.basename(pr["sample"]["path"]) in {os.path.basename(p) for p in glob.glob(os.path.join(tiny_videos, "*"))}
    assert any("probe run" in s for s in doc["cost_sources"])
    # switched off: no probe, the shipped fixed figures
    doc2 = make_plan(PlanRequest(inputs=[tiny_videos], goal="catalog", probe=False))
    assert "probe" not in doc2 and not any("probe run" in s for s in doc2["cost_sources"])
