"""Decision center (issue 25): registry, planner (real milp vs exhaustive oracle), run --plan, feedback."""

from __future__ import annotations

import json
import math

import duckdb
import pytest

from conftest import run_cli
from videoforge.plan.costs import InputInfo
from videoforge.plan.planner import GOALS, Infeasible, Problem, always_best_chain, plan, split_chain
from videoforge.plan.registry import Variant, shipped_registry
from videoforge.plan.store import RECENT, fold


def _reg():
    """The shipped registry with fixed, known costs (the planner's logic, not this machine's speed)."""
    reg = shipped_registry()
    per = {"decode/default": 0.004, "keyframes/default": 0.004, "shots/videoforge": 0.0002,
           "shots/pyscenedetect": 0.0009, "shots/transnetv2": 0.006, "shots/none": 0.0,
           "metrics/full": 0.012, "metrics/half": 0.007, "metrics/quarter": 0.004, "metrics/none": 0.0,
           "ocr/on": 0.06, "ocr/lean": 0.045, "ocr/lowres": 0.048, "ocr/off": 0.0, "overhead/run": 2.0,
           "overhead/video": 0.1,
           "overhead/worker": 0.8, "overhead/group": 0.05,
           # per shot; forecasts: shots per second, share the gate keeps, tokens per call
           "suitability/default": 0.05, "caption/metadata": 0.01, "caption/openai": 0.02, "embed/visual": 0.03,
           "forecast/shots_per_second": 0.2, "forecast/suitable_fraction": 0.4,
           "forecast/openai_prompt_tokens": 1000.0, "forecast/openai_completion_tokens": 200.0}
    for k, v in reg.items():
        v.cpu_seconds = per.get(k, 0.0)
        v.fixed_cpu_seconds = {"suitability/default": 0.3, "embed/visual": 0.4}.get(k, 0.0)
        if k.startswith("metrics/") and "metric_agreement" not in v.quality:
            v.quality["metric_agreement"] = {"half": 0.9, "quarter": 0.8}[v.variant]
    return reg


def _inputs():
    return [InputInfo("/a.mp4", 60.0, 1500, 640, 360), InputInfo("/b.mp4", 20.0, 600, 1280, 720),
            InputInfo("/c.mp4", 120.0, 2880, 320, 240)]


def test_registry_has_every_variant_with_quality_sources():
    reg = shipped_registry()
    for stage in ("shots", "metrics", "ocr"):
        vs = [v for v in reg.values() if v.stage == stage]
        assert len(vs) >= 2, stage
        for v in vs:
            assert v.quality and v.quality_source, v.key
    assert reg["shots/videoforge"].quality["shot_f1"] == pytest.approx(0.944)
    assert reg["shots/videoforge"].cpu_seconds > 0, "shipped costs are loaded"


@pytest.mark.parametrize("goal", sorted(GOALS))
def test_milp_matches_exhaustive_oracle_and_keeps_the_budget(goal):
    reg, ins = _reg(), _inputs()
    full = Problem(goal, ins, reg, None, None, {})
    top = full.evaluate(full.best_unconstrained())
    for frac in (1.2, 0.6, 0.35, 0.2):
        p = Problem(goal, ins, reg, top["cpu_seconds"] * frac, None, {})
        ilp, orc = p.solve(), p.oracle()
        assert (ilp is None) == (orc is None)
        assert frac > 1 or ilp is None or p.evaluate(ilp)["quality"]["goal"] < top["quality"]["goal"]
        if ilp is None:
            continue
        e_ilp, e_orc = p.evaluate(ilp), p.evaluate(orc)
        assert e_ilp["quality"]["goal"] == pytest.approx(e_orc["quality"]["goal"], abs=1e-9)
        assert e_ilp["cpu_seconds"] <= p.budget_cpu * (1 - p.margin) + 1e-9


def test_min_constraint_forces_the_expensive_variant():
    reg, ins = _reg(), _inputs()
    p = Problem("catalog", ins, reg, None, None, {})
    doc = plan(p)
    ocr = {s["variant"]: s["applies_to"] for s in doc["stages"] if s["stage"] == "ocr"}
    assert set(ocr) == {"off"}, "catalog quality ignores text: OCR is dropped"
    doc2 = plan(Problem("catalog", ins, reg, None, None, {"text_recall": 0.9}))
    assert doc2["predicted"]["quality"]["text_recall"] >= 0.9
    assert doc2["predicted"]["cpu_seconds"] > doc["predicted"]["cpu_seconds"]


def test_gating_per_input_under_a_tight_budget():
    """Between the cheapest and the best plan, the budget buys the expensive variants for some
    inputs, not all (a stage's variant applies to a strict subset); --full-coverage keeps
    every input in, with cheaper variants instead."""
    reg, ins = _reg(), _inputs()
    lo = Problem("search", ins, reg, None, None, {})
    cheap, best = lo.evaluate(lo.cheapest()), lo.evaluate(lo.best_unconstrained())
    budget = (cheap["cpu_seconds"] + best["cpu_seconds"]) / 2 / (1 - lo.margin)
    doc = plan(Problem("search", ins, reg, budget, None, {}))
    assert any(0 < len(s["applies_to"]) < len(ins) for s in doc["stages"]), doc["stages"]
    assert doc["predicted"]["cpu_seconds"] <= budget * (1 - doc["margin"]) + 1e-9
    assert set(doc) >= {"goal", "inputs", "budget", "stages", "predicted"}
    assert set(doc["budget"]) == {"cpu_hours", "usd"} and set(doc["predicted"]) >= {"cpu_seconds", "usd", "quality"}
    full = plan(Problem("search", ins, reg, budget, None, {}, allow_skip=False))
    assert not full["not_analysed"] and full["predicted"]["quality"]["coverage"] == pytest.approx(1.0)
    assert full["predicted"]["cpu_seconds"] <= budget * (1 - full["margin"]) + 1e-9
    ocr = {s["variant"] for s in full["stages"] if s["stage"] == "ocr"}
    assert ocr != {"on"}, "full coverage within the budget needs a cheaper OCR variant somewhere"


def test_half_budget_buys_a_plan_and_the_gate_saves_paid_calls(monkeypatch):
    """Half the unconstrained plan's cost still buys a plan (cheaper variants, footage left
    out), and a USD budget makes the suitability gate caption only the shots it keeps."""
    monkeypatch.setenv("VIDEOFORGE_CAPTION_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("VIDEOFORGE_CAPTION_MODEL", "m")
    monkeypatch.setenv("VIDEOFORGE_CAPTION_PRICE_INPUT", "5")
    monkeypatch.setenv("VIDEOFORGE_CAPTION_PRICE_OUTPUT", "15")
    reg, ins = _reg(), _inputs()
    for goal in sorted(GOALS):
        base = Problem(goal, ins, reg, None, None, {})
        top = base.evaluate(base.best_unconstrained())
        half = Problem(goal, ins, reg, top["cpu_seconds"] * 0.5, None, {})
        a = half.solve()
        assert a is not None and half.evaluate(a)["cpu_seconds"] <= top["cpu_seconds"] * 0.5 * (1 - half.margin) + 1e-9
        o = half.oracle()
        assert half.evaluate(a)["quality"]["goal"] == pytest.approx(half.evaluate(o)["quality"]["goal"], abs=1e-9)
    p = Problem("dataset", ins, reg, None, None, {}, prune=False)
    eng, post = split_chain(always_best_chain(reg, "dataset"))
    assert post["caption"] == "openai" and post["gate"] == "all"
    top = p.evaluate(p.uniform(eng, post))
    assert top["usd"] > 0, "always-best captions every shot with the paid model"
    p = Problem("dataset", ins, reg, None, top["usd"] * 0.6, {"caption_fields": 0.99})
    a = p.solve()
    doc = plan(p)
    gates = {s["variant"] for s in doc["stages"] if s["stage"] == "gate"}
    caps = {s["variant"] for s in doc["stages"] if s["stage"] == "caption"}
    assert "suitable" in gates and "openai" in caps, doc["stages"]
    assert doc["predicted"]["usd"] <= top["usd"] * 0.6 * (1 - p.margin) + 1e-12
    o = p.oracle()
    assert p.evaluate(a)["quality"]["goal"] == pytest.approx(p.evaluate(o)["quality"]["goal"], abs=1e-9)


def test_infeasible_says_what_the_budget_buys():
    reg, ins = _reg(), _inputs()
    with pytest.raises(Infeasible) as e:
        plan(Problem("search", ins, reg, 1.0, None, {}))
    assert "cheapest plan needs" in str(e.value)
    lo = Problem("search", ins, reg, None, None, {})
    budget = lo.evaluate(lo.cheapest())["cpu_seconds"] * 1.5
    with pytest.raises(Infeasible) as e:
        plan(Problem("search", ins, reg, budget, None, {"text_recall": 0.95}))
    assert "best_within_budget" in e.value.info and "budget buys instead" in str(e.value)


def test_always_best_is_the_best_variant_per_stage():
    chain = always_best_chain(_reg(), "catalog")
    assert chain["ocr"] == "on" and chain["metrics"] == "full"


def test_running_average_converges_and_follows_change():
    v = Variant("metrics", "full", "second", cpu_seconds=1.0)
    for _ in range(30):
        fold(v, 0.1, 10.0, "test")
    assert v.cpu_seconds == pytest.approx(0.1, rel=1e-6) and v.samples == 30
    for _ in range(4 * RECENT):
        fold(v, 0.05, 10.0, "test")
    assert math.isclose(v.cpu_seconds, 0.05, rel_tol=0.05), "a changed engine is followed within a few runs"


def test_cli_plan_run_feedback_end_to_end(tiny_videos, tmp_path):
    cat = tmp_path / "cat"
    r = run_cli("stages", "--json")
    assert r.returncode == 0, r.stderr
    keys = {(s["stage"], s["variant"]) for s in json.loads(r.stdout)["stages"]}
    assert ("shots", "videoforge") in keys and ("ocr", "on") in keys

    planfile = tmp_path / "plan.json"
    r = run_cli("plan", tiny_videos, "--goal", "catalog", "--json", "-o", planfile)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert len(doc["inputs"]) == 3 and doc["predicted"]["cpu_seconds"] > 0
    assert {(s["stage"], s["variant"]) for s in doc["stages"]} >= {("ocr", "off")}

    r = run_cli("run", "--plan", planfile, "--catalog", cat, "--json", "-q")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out["actual"]) >= {"cpu_seconds", "usd", "wall_seconds"}
    assert out["actual"]["cpu_seconds"] > 0 and out["feedback"]["folded"]
    con = duckdb.connect(str(cat / "catalog.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM videos").fetchone()[0] == 3
        params = {json.loads(p)["ocr"] for (p,) in con.execute("SELECT analysis_params FROM videos").fetchall()}
        assert params == {False}, "the plan's OCR-off switch reached the engine"
        samples = dict(con.execute("SELECT stage || '/' || variant, samples FROM stages").fetchall())
        assert samples["ocr/off"] >= 1 and samples["decode/default"] >= 1 and samples["overhead/run"] >= 1
        pr = con.execute("SELECT predicted_cpu_seconds, actual_cpu_seconds FROM plan_runs").fetchall()
        assert len(pr) == 1 and pr[0][1] == pytest.approx(out["actual"]["cpu_seconds"])
    finally:
        con.close()
    r = run_cli("stages", "--catalog", cat, "--json")
    rows = {(s["stage"], s["variant"]): s for s in json.loads(r.stdout)["stages"]}
    assert rows[("decode", "default")]["cost_source"].startswith("measured")

    # a plan with a budget below its cheapest chain: exit 1, and what it would take
    r = run_cli("plan", tiny_videos, "--goal", "search", "--budget-cpu-hours", "0.00001", "--json", "--no-probe")
    assert r.returncode == 1 and "cheapest plan needs" in r.stderr
    assert json.loads(r.stdout)["error"] == "infeasible"


def test_run_plan_rejects_bad_plan_files(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    r = run_cli("run", "--plan", bad, "--catalog", tmp_path / "c")
    assert r.returncode == 2 and "bad.json" in r.stderr
    bad.write_text(json.dumps({"goal": "search"}))
    r = run_cli("run", "--plan", bad, "--catalog", tmp_path / "c")
    assert r.returncode == 2 and "missing" in r.stderr


def test_calibrate_measures_on_the_catalogs_footage(tiny_videos, tmp_path):
    cat = tmp_path / "cat"
    r = run_cli("run", tiny_videos, "--catalog", cat, "-q", "--no-ocr")
    assert r.returncode == 0, r.stderr
    skip = [a for k in ("shots/transnetv2", "shots/pyscenedetect", "shots/none", "metrics/quarter", "metrics/none",
                                "ocr/lean", "ocr/lowres") for a in ("--skip", k)]
    r = run_cli("calibrate", cat, "--sample", "1", *skip, "--json", "-q")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert len(rep["sample"]) == 1 and len(rep["calls"]) == 3 and all(c["cpu_seconds"] > 0 for c in rep["calls"])
    con = duckdb.connect(str(cat / "catalog.duckdb"), read_only=True)
    try:
        rows = dict(con.execute("SELECT stage || '/' || variant, cost_source FROM stages WHERE samples > 0").fetchall())
        assert rows["metrics/half"] == "measured: calibrate" and rows["ocr/on"] == "measured: calibrate"
        # the per-shot stages and the forecasts, measured on the scratch catalog's shots
        for k in ("suitability/default", "caption/metadata", "embed/visual", "forecast/shots_per_second",
                  "forecast/suitable_fraction"):
            assert rows[k] == "measured: calibrate", k
        assert "shots/transnetv2" not in rows
        assert con.execute("SELECT count(*) FROM videos").fetchone()[0] == 3   # the user's rows are untouched
        assert {json.loads(p)["ocr"] for (p,) in con.execute("SELECT analysis_params FROM videos").fetchall()} == {False}
    finally:
        con.close()
    r = run_cli("calibrate", cat, "--skip", "shots/nope")
    assert r.returncode == 2 and "shots/nope" in r.stderr


def test_feedback_restarts_when_far_off_and_then_predicts_the_call():
    """A registry 3x too expensive: one measured call brings the prediction of the same call back."""
    from videoforge.plan.costs import chain_cost, group_fixed
    from videoforge.plan.feedback import observe_group

    reg = _reg()
    for v in reg.values():
        v.cpu_seconds *= 3
        v.samples = 5
    chain = {"metrics": "full", "ocr": "on", "shots": "videoforge"}
    infos = _inputs()[:2]

    def predicted():
        return (group_fixed(chain, 2, reg) + sum(chain_cost(i, chain, reg) for i in infos))

    truth = predicted() / 3
    timings = {"decode": 1.0, "keyframes": 0.5, "shots": 0.1, "motion": 0.5, "text": 3.0}
    observe_group(reg, chain, infos, truth, timings, "test")
    assert predicted() == pytest.approx(truth, rel=0.05)
    assert reg["ocr/on"].samples == 1   # restarted, not averaged with the wrong figure


def test_unmeasured_sibling_variants_follow_a_measured_ones_level():
    """ocr/lean never ran here: when ocr/on turns out 2x cheaper on this footage, lean follows,
    so the planner does not pick it for a saving that is not there."""
    from videoforge.plan.feedback import observe_group

    reg = _reg()
    for v in reg.values():
        v.samples = 3
    reg["ocr/lean"].samples = 0
    chain = {"metrics": "full", "ocr": "on", "shots": "videoforge"}
    infos = _inputs()[:2]
    lean0, on0 = reg["ocr/lean"].cpu_seconds, reg["ocr/on"].cpu_seconds
    from videoforge.plan.costs import chain_cost, group_fixed

    cpu = 0.7 * (group_fixed(chain, 2, reg) + sum(chain_cost(i, chain, reg) for i in infos))
    observe_group(reg, chain, infos, cpu, {"shots": 0.1, "motion": 0.5, "keyframes": 0.3, "text": 5.0}, "test")
    f = reg["ocr/on"].cpu_seconds / on0
    assert f < 0.99 and reg["ocr/lean"].cpu_seconds == pytest.approx(lean0 * f)
    assert reg["ocr/lean"].cost_source.startswith("scaled with ocr/on")


def test_post_stage_feedback_corrects_loading_and_per_unit_alike():
    """A per-shot stage priced 3x too dear (loading and per shot): one run brings its
    prediction back to what it measured."""
    from videoforge.plan.feedback import observe_post

    reg = _reg()
    v = reg["embed/visual"]
    v.cpu_seconds, v.fixed_cpu_seconds, v.samples = 0.09, 1.2, 0
    res = {"chain": {"suitability": "off", "gate": "all", "caption": "off", "embed": "visual"}, "shots": 10,
           "gate_kept": 10, "stages": {"embed": {"cpu_seconds": (0.4 + 0.03 * 10)}}}
    observe_post(reg, res, [30.0], True, set(), "test")
    assert v.fixed_cpu_seconds + v.cpu_seconds * 10 == pytest.approx(0.7)
    assert v.fixed_cpu_seconds == pytest.approx(0.4) and v.cpu_seconds == pytest.approx(0.03)
    assert reg["forecast/shots_per_second"].cpu_seconds == pytest.approx(10 / 30.0)   # a forecast: the observation


def test_a_shipped_figure_near_the_first_observation_damps_it_a_far_one_is_replaced():
    reg = shipped_registry()
    near, far, seen = reg["metrics/full"], reg["metrics/half"], reg["metrics/quarter"]
    a, b = near.cpu_seconds, far.cpu_seconds
    fold(near, 1.5 * a, 10.0, "test")           # within 2x: averaged with the shipped figure
    assert near.cpu_seconds == pytest.approx(1.25 * a) and near.samples == 1
    fold(far, b / 3.0, 10.0, "test")            # 3x off (another machine): the observation replaces it
    assert far.cpu_seconds == pytest.approx(b / 3.0)
    seen.samples, seen.cost_source = 0, "measured: run --plan"   # a restart: replaced, whatever the distance
    fold(seen, 1.5 * seen.cpu_seconds, 10.0, "test")
    assert seen.samples == 1 and seen.cost_source == "test"
