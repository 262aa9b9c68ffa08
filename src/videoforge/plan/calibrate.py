"""`videoforge calibrate CATALOG --sample N`: re-measure every variant's cost on the user's footage.

A sample of the catalog's videos is analysed into a scratch catalog (the user's own rows are
never touched) once per calibration chain: the default chain, then each other variant swapped
in one at a time. Each engine call is measured (process-tree CPU) and folded into the
registry like a real run (plan/feedback.py). Fixed costs are measured directly in fresh
processes: a spawned worker's imports, a model's loading, an engine call with nothing to do.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tempfile

from videoforge.catalog import Catalog
from videoforge.plan.costs import InputInfo, Timer, probe_input, reap_children, sample_decode, sample_suitability
from videoforge.plan.feedback import observe_group
from videoforge.plan.registry import ENGINE_STAGES, Variant, apply_to_config, available
from videoforge.plan.store import fold, load_registry, save_registry

BASE_CHAIN = {"metrics": "full", "ocr": "on", "shots": "videoforge"}


def calibration_chains(reg: dict[str, Variant], skip: tuple = ()) -> list[dict[str, str]]:
    out = [dict(BASE_CHAIN)]
    for v in reg.values():
        if (v.stage in ENGINE_STAGES and available(v) and BASE_CHAIN.get(v.stage) != v.variant
                and v.key not in skip):
            out.append({**BASE_CHAIN, v.stage: v.variant})
    return out


def _child_cpu(code: str, *args: str) -> float:
    """Process-tree CPU of a fresh interpreter running `code`."""
    before = Timer.tree_cpu()
    subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True)
    return Timer.tree_cpu() - before


CHEAPEST = {"metrics": "none", "ocr": "off", "shots": "none"}
_ANALYSE = ("import json, sys\n"
            "from videoforge.engine.analyze import analyze_video\n"
            "from videoforge.engine.config import AnalysisConfig\n"
            "from videoforge.plan.registry import apply_to_config\n"
            "analyze_video(sys.argv[1], sys.argv[2], apply_to_config(AnalysisConfig(), json.loads(sys.argv[3])))\n")


def _probe_clip(folder: str) -> str:
    """A near-empty clip (24 small frames) with large text on it, so that every component
    loads what it loads on real footage (the OCR model loads only once the text gate passes)."""
    import cv2
    import numpy as np

    from videoforge.io.encode import write_video

    frames = []
    for i in range(24):
        f = np.full((180, 320, 3), 40, np.uint8)
        cv2.putText(f, "CALIBRATE", (12, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 4)
        f[:, :8] = (i * 10) % 255
        frames.append(f)
    path = os.path.join(folder, "probe.mp4")
    write_video(path, frames, fps=24)
    return path


def measure_fixed(reg: dict[str, Variant], skip: tuple = ()) -> dict[str, float]:
    """Per-process fixed costs, each in fresh processes analysing a near-empty clip: the
    cheapest chain gives what any analysing process pays (interpreter, engine imports:
    `overhead/worker`); each variant swapped in adds its own loading (`fixed_cpu_seconds`).
    The minimum of two tries: noise from a busy machine only ever adds."""
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="vf-fixed-") as tmp:
        clip = _probe_clip(tmp)

        def cost(chain: dict) -> float:
            import json

            return min(_child_cpu(_ANALYSE, clip, tmp, json.dumps(chain)) for _ in range(2))

        base = cost(CHEAPEST)
        out["overhead/worker"] = base
        fold(reg["overhead/worker"], base, 1.0, "measured: calibrate")
        for v in reg.values():
            if v.stage not in ENGINE_STAGES or not available(v) or v.key in skip or CHEAPEST.get(v.stage) == v.variant:
                continue
            extra = max(cost({**CHEAPEST, v.stage: v.variant}) - base, 0.0)
            v.fixed_cpu_seconds = extra
            out[v.key + ":fixed"] = extra
    return out


def sample_paths(catalog: Catalog, n: int, seed: int = 0) -> list[str]:
    rows = catalog.query("SELECT path FROM videos ORDER BY path")[1]
    paths = [r[0] for r in rows if r[0] and os.path.exists(r[0])]
    random.Random(seed).shuffle(paths)
    return sorted(paths[:n])


def calibrate(catalog_dir: str | None, sample: list[str] | int = 3, progress: bool = False, save: bool = True,
              rounds: int = 1, skip: tuple = ()) -> dict:
    """Measure; fold into the registry; save it to the catalog (`save`). Returns a report.
    `skip`: variant keys ("shots/transnetv2") not to measure (they keep their figures)."""
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos

    catalog = Catalog(catalog_dir) if catalog_dir else None
    reg = load_registry(catalog)
    if isinstance(sample, int):
        if catalog is None or not catalog.exists():
            raise ValueError("calibrate needs a catalog with videos (or explicit sample paths)")
        paths = sample_paths(catalog, sample)
    else:
        paths = [os.path.abspath(p) for p in sample]
    if not paths:
        raise ValueError(f"{catalog_dir}: no readable videos to calibrate on (run `videoforge run` first)")
    infos: list[InputInfo] = [probe_input(p) for p in paths]
    bad = [i for i in infos if i.error]
    infos = [i for i in infos if not i.error]
    for i in infos:   # decoding is measured directly (the engine's timings cannot see its thread)
        sample_decode(i, seconds=1e9, max_frames=300)
        sample_suitability(i)
    # the OCR figures measured below are at this footage's text-gate pass rate: the reference
    passes = [(i.text_pass, i.duration) for i in infos if i.text_pass is not None]
    if passes and sum(d for _, d in passes) > 0:
        ref = sum(p * d for p, d in passes) / sum(d for _, d in passes)
        g = reg["forecast/ocr_gate_pass"]
        g.cpu_seconds, g.samples, g.cost_source = max(ref, 1e-3), 1, "measured: calibrate"
    report = {"sample": [i.path for i in infos], "skipped": [{"path": i.path, "error": i.error} for i in bad],
              "fixed": measure_fixed(reg, tuple(skip)), "calls": []}
    with tempfile.TemporaryDirectory(prefix="vf-calibrate-") as scratch:
        for _ in range(rounds):
            for chain in calibration_chains(reg, tuple(skip)):
                cat = os.path.join(scratch, "c")
                config = apply_to_config(AnalysisConfig(), chain)
                before = Timer.tree_cpu()
                s = run_videos([i.path for i in infos], cat, workers=None if len(infos) <= 1 else min(len(infos), os.cpu_count() or 1),
                               force=True, config=config, progress=progress)
                reap_children()
                cpu = Timer.tree_cpu() - before
                if s.analyzed != len(infos):
                    report["calls"].append({"chain": chain, "cpu_seconds": cpu, "error": "not every sample video analysed"})
                    continue
                obs = observe_group(reg, chain, infos, cpu, s.timings, "measured: calibrate", scale_fixed=False)
                report["calls"].append({"chain": chain, "cpu_seconds": cpu, "per_unit": obs})
            # an engine call with nothing to do (all skipped): the call's own fixed cost
            before = Timer.tree_cpu()
            run_videos([i.path for i in infos], cat, workers=1, config=config, progress=False)
            reap_children()
            group = Timer.tree_cpu() - before
            fold(reg["overhead/group"], group, 1.0, "measured: calibrate")
            # one near-empty video, cheapest chain, in this warm process: the per-video part
            clip = _probe_clip(scratch)
            before = Timer.tree_cpu()
            run_videos([clip], os.path.join(scratch, "v"), workers=1, force=True,
                       config=apply_to_config(AnalysisConfig(), CHEAPEST), progress=False)
            reap_children()
            fold(reg["overhead/video"], max(Timer.tree_cpu() - before - group, 0.0), 1.0, "measured: calibrate")
        # the per-shot stages, on the scratch catalog's shots (the last chain analysed the sample)
        report["post"] = measure_post(Catalog(cat), reg, [i.duration for i in infos], skip=tuple(skip),
                                      mpx=sum(i.mpx for i in infos), infos=infos)
    fold_suit_forecast(reg, infos, "measured: calibrate")
    # a `run --plan` process's own start-up: interpreter, CLI and engine imports
    run_cpu = _child_cpu("import videoforge.cli, videoforge.cli.run, videoforge.engine.run, videoforge.plan.execute")
    # (in-process engine calls pay no imports of their own: they are this start-up's, which a fresh
    # process analysing a near-empty clip - the cheapest chain, `overhead/worker` - measures with
    # its catalog work; the larger of the two)
    run_cpu = max(run_cpu, float(report["fixed"].get("overhead/worker", 0.0)))
    fold(reg["overhead/run"], run_cpu, 1.0, "measured: calibrate")
    report["overhead_run"] = run_cpu
    if save and catalog is not None:
        save_registry(catalog, reg)
    report["registry"] = {k: {"cpu_seconds": v.cpu_seconds, "fixed_cpu_seconds": v.fixed_cpu_seconds, "unit": v.unit,
                              "samples": v.samples} for k, v in reg.items()}
    return report


# -- per-shot stages (plan/post.py) ----------------------------------------------------------------
_BARE = "import videoforge.plan.execute, videoforge.engine.run"
_ONE_STAGE = (_BARE + "\nimport json, sys\nfrom videoforge.catalog import Catalog\nfrom videoforge.plan.post import run_post\n"
              "res = run_post(Catalog(sys.argv[1]), json.loads(sys.argv[2]), [sys.argv[3]])\n"
              "assert not res.get('error')\n")


def _suit_frames(catalog: Catalog, infos: list[InputInfo], reg: dict[str, Variant], only: str | None = None) -> float:
    """The suitability features' decoding CPU predicted for the catalog's shots of `infos`
    (all, or the video `only`) from each input's sampled per-frame costs."""
    from videoforge.plan.costs import suitability_frame_cpu

    rows = catalog.query("SELECT v.video_id, v.path, count(*) FROM shots s JOIN videos v USING (video_id) "
                         "GROUP BY v.video_id, v.path")[1]
    by_path = {i.path: i for i in infos}
    return sum(suitability_frame_cpu(by_path[p], float(n), reg) for vid, p, n in rows
               if p in by_path and (only is None or vid == only))


def measure_post(catalog: Catalog, reg: dict[str, Variant], durations: list[float], skip: tuple = (),
                 mpx: float = 0.0, infos: list[InputInfo] | None = None) -> dict:
    """Per-shot CPU of suitability, metadata captions and the visual embedder on a catalog's
    shots, their loading, the shots found per second and the share the suitability gate keeps.

    A stage's loading is what a fresh `run --plan`-like process (plan executor and engine
    imported) spends running it on one video beyond that video's per-shot share: imports,
    the model, the catalog writes' machinery (minimum of two tries, each on a fresh copy of
    the catalog so nothing is cached). The catalog is written to: pass a scratch one."""
    import json
    import shutil

    from videoforge.plan.post import OFF, run_post

    out: dict = {}
    ids = [r[0] for r in catalog.query("SELECT video_id FROM videos ORDER BY video_id")[1]]
    if not ids:
        return out
    chain = {"suitability": "default", "gate": "all", "caption": "metadata", "embed": "visual"}
    if "caption/metadata" in skip:
        chain["caption"] = "off"
    res = run_post(catalog, chain, ids)
    shots = max(res.get("shots", 0), 1)
    per: dict[str, float] = {}
    units: dict[str, float] = {}
    frames_all = _suit_frames(catalog, infos, reg) if infos else 0.0
    stage_keys = []
    for stage, st in res["stages"].items():
        key = f"{stage}/{chain[stage]}"
        units[key] = mpx if reg[key].unit == "mpx" else float(shots)
        work = st["cpu_seconds"] - (frames_all if stage == "suitability" else 0.0)
        per[key] = max(work, 0.0) / max(units[key], 1e-9)   # loading included; corrected below
        stage_keys.append((stage, chain[stage]))
    # the lite suitability model (no frame decoding), after the default: its imports are paid
    from videoforge.plan.registry import available

    if available(reg["suitability/lite"]) and "suitability/lite" not in skip:
        lres = run_post(catalog, {**OFF, "suitability": "lite"}, ids)
        st = lres["stages"].get("suitability")
        if st:
            units["suitability/lite"] = float(shots)
            per["suitability/lite"] = st["cpu_seconds"] / shots
            stage_keys.append(("suitability", "lite"))
        # the default's scores stay the catalog's (the gate's share below is the default's)
        run_post(catalog, {**OFF, "suitability": "default"}, ids) if "suitability" in res["stages"] else None
    one = ids[0]
    one_shots = catalog.query(f"SELECT count(*) FROM shots WHERE video_id = '{one}'")[1][0][0]
    one_row = catalog.query(f"SELECT frames, width, height FROM videos WHERE video_id = '{one}'")[1]
    one_mpx = float(one_row[0][0] or 0) * float(one_row[0][1] or 0) * float(one_row[0][2] or 0) / 1e6 if one_row else 0.0
    bare = min(_child_cpu(_BARE) for _ in range(2))
    with tempfile.TemporaryDirectory(prefix="vf-post-fixed-") as tmp:
        for stage, variant in sorted(stage_keys):
            key = f"{stage}/{variant}"
            if key not in per or key in skip:
                continue
            only = {**OFF, stage: variant}   # ungated: the stage alone
            tries = []
            for t in range(2):
                copy = os.path.join(tmp, f"{stage}_{variant}{t}")
                shutil.copytree(catalog.root, copy, ignore=shutil.ignore_patterns("index", "*.lock"))
                tries.append(_child_cpu(_ONE_STAGE, copy, json.dumps(only), one))
            extra = max(min(tries) - bare, 0.0)
            one_units = one_mpx if reg[key].unit == "mpx" else one_shots
            one_frames = (_suit_frames(catalog, infos, reg, only=one)
                          if infos and stage == "suitability" and variant == "default" else 0.0)   # lite decodes no frames
            load = max(extra - per[key] * one_units - one_frames, 0.0)
            # per unit over the whole sample, less the loading the in-process run also paid once
            # (the first stage of the in-process run paid the shared loading too; the ones after
            # it did not: its own part only is taken off the others)
            shared = sum(reg[k].fixed_cpu_seconds for k in reg[key].loads if k in reg)
            first = stage_keys and (stage, variant) == stage_keys[0]
            paid_in_run = load if first else max(load - shared, 0.0)
            per[key] = max(per[key] * units[key] - paid_in_run, 0.0) / max(units[key], 1e-9)
            # a fresh process paid the shared component too: the variant's own loading is the rest
            load = max(load - shared, 0.0)
            reg[key].fixed_cpu_seconds = load
            out[key + ":fixed"] = load
    for key, v in per.items():
        fold(reg[key], v, units[key], "measured: calibrate")
        out[key] = v
    dur = sum(durations)
    if dur > 0:
        fold(reg["forecast/shots_per_second"], res.get("shots", 0) / dur, dur, "measured: calibrate")
        out["forecast/shots_per_second"] = res.get("shots", 0) / dur
    if res.get("shots") and res.get("suitable") is not None:
        fold(reg["forecast/suitable_fraction"], res["suitable"] / res["shots"], float(res["shots"]), "measured: calibrate")
        out["forecast/suitable_fraction"] = res["suitable"] / res["shots"]
    return out


def fold_suit_forecast(reg: dict[str, Variant], infos: list[InputInfo], source: str) -> dict[str, float]:
    """The fallback per-frame price of the suitability features' decoding (inputs a plan did
    not sample) from sampled inputs: least squares of CPU per frame on megapixels per frame
    when the sizes differ, else the per-megapixel part at the registry's per-frame figure."""
    import numpy as np

    pts = [(i.width * i.height / 1e6, (i.suit_luma_cpu_per_frame + i.suit_quality_cpu_per_frame) / 2)
           for i in infos if i.suit_luma_cpu_per_frame is not None and i.suit_quality_cpu_per_frame is not None]
    if not pts:
        return {}
    px, cpf = np.array(pts).T
    a = reg["forecast/suit_cpu_per_frame"].cpu_seconds
    if len(pts) >= 2 and np.ptp(px) > 0.05:
        b, a_fit = np.polyfit(px, cpf, 1)
        if a_fit >= 0 and b > 0:
            a = float(a_fit)
    b = max(float(np.mean((cpf - a) / px)), 0.0)
    for key, val in (("forecast/suit_cpu_per_frame", a), ("forecast/suit_cpu_per_mpx", b)):
        v = reg[key]
        v.cpu_seconds, v.samples, v.cost_source = val, v.samples + 1, source
    return {"forecast/suit_cpu_per_frame": a, "forecast/suit_cpu_per_mpx": b}
