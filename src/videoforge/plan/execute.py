"""`run --plan`: execute a plan document through the engine, measure it, feed the costs back.

Each distinct chain in the plan is one engine call (`run_videos` with the chain's switches
on AnalysisConfig) over the inputs the plan gave it. `actual.cpu_seconds` is the user +
system CPU of this whole process tree: start-up and imports included (getrusage of this
process from its start, plus every child the engine started and joined), the catalog
commits and the feedback write included.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from videoforge.catalog import Catalog
from videoforge.catalog.transaction import transaction
from videoforge.plan.costs import (InputInfo, Timer, chain_cost, fixed_costs, paid_loading, probe_input, reap_children,
                                   suitability_frame_cpu, workers_for)
from videoforge.plan.feedback import SHIFT, observe_group
from videoforge.plan.post import OFF, run_post
from videoforge.plan.registry import ENGINE_STAGES, POST_STAGES, apply_to_config
from videoforge.plan.store import _row, fold, insert_rows, load_registry

REQUIRED = ("goal", "inputs", "budget", "stages", "predicted")


class PlanFileError(Exception):
    """The plan document is unreadable or not a plan; the message names the file and the problem."""


def read_plan(path: str) -> dict:
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise PlanFileError(f"{path}: cannot read plan ({e.strerror or e})") from e
    except ValueError as e:
        raise PlanFileError(f"{path}: not a JSON plan ({e})") from e
    if not isinstance(doc, dict):
        raise PlanFileError(f"{path}: not a plan document (expected a JSON object)")
    missing = [k for k in REQUIRED if k not in doc]
    if missing:
        raise PlanFileError(f"{path}: not a plan document (missing {', '.join(missing)})")
    return doc


def chains_of(doc: dict, reg: dict) -> dict[tuple, list[str]]:
    """(engine chain as sorted (stage, variant) pairs) -> inputs, from the document's `stages`
    (inputs the plan leaves out, `coverage/skip`, are in no group)."""
    return layout(doc, reg)["engine"]


def layout(doc: dict, reg: dict) -> dict:
    """What the plan runs: engine groups, post groups (post chain -> inputs), the pool, the
    inputs it leaves out. A plan from before post stages (version 1) runs none of them."""
    per_input: dict[str, dict[str, str]] = {p: {} for p in doc["inputs"]}
    post: dict[str, dict[str, str]] = {p: dict(OFF) for p in doc["inputs"]}
    skipped: list[str] = []
    pool = doc.get("pool") or "parallel"
    for entry in doc["stages"]:
        key = f"{entry.get('stage')}/{entry.get('variant')}"
        if key not in reg:
            raise PlanFileError(f"plan names an unknown stage variant {key!r}")
        stage = entry["stage"]
        for p in entry.get("applies_to") or []:
            if p not in per_input:
                raise PlanFileError(f"plan stage {key} applies to {p!r}, which is not among its inputs")
            if stage in ENGINE_STAGES:
                per_input[p][stage] = entry["variant"]
            elif stage == "frames":   # a sparse frame mode (session 10) is part of the engine chain
                per_input[p][stage] = entry["variant"]
            elif stage in POST_STAGES:
                post[p][stage] = entry["variant"]
            elif stage == "coverage" and entry["variant"] == "skip":
                skipped.append(p)
            elif stage == "pool":
                pool = entry["variant"]
    groups: dict[tuple, list[str]] = {}
    post_groups: dict[tuple, list[str]] = {}
    for p, chain in per_input.items():
        if p in skipped:
            continue
        groups.setdefault(tuple(sorted(chain.items())), []).append(p)
        post_groups.setdefault(tuple(sorted(post[p].items())), []).append(p)
    return {"engine": groups, "post": post_groups, "pool": pool, "skipped": skipped}


def execute(doc: dict, catalog_dir: str, progress: bool = False, whole_process: bool = True, timer: Timer | None = None,
            on_event=None) -> dict:
    """Run the plan; returns the document with `actual` (and `run`: the engine summaries).

    `whole_process`: count CPU from this process's start (the CLI); otherwise from `timer`
    (or from this call), for callers that run several plans in one process."""
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos

    timer = timer or Timer().start()
    if whole_process:
        timer.cpu0 = 0.0
    catalog = Catalog(catalog_dir)
    with catalog.hold():   # one connection for both (session 12: each opening costs ~0.02-0.03 CPU-s)
        catalog.create()
        reg = load_registry(catalog)
    lay = layout(doc, reg)
    groups, inline = lay["engine"], lay["pool"] == "inline"
    info_by_path = {d["path"]: InputInfo(**{k: d.get(k) for k in ("path", "duration", "frames", "width", "height",
                                                                   "decode_cpu_per_mpx", "text_pass",
                                                                   "suit_luma_cpu_per_frame",
                                                                   "suit_quality_cpu_per_frame", "shots_sampled", "keyframes")})
                    for d in doc.get("inputs_info", []) if isinstance(d, dict) and "path" in d}
    summaries, engine_cpu, observed = [], 0.0, {}
    # one-video calls run here and share this process's loading: price each call in order
    fixed = fixed_costs([(dict(ch), len(ps)) for ch, ps in groups.items()], reg, inline=inline)
    # the loading each call pays, by stage: inside the engine's stage timings, out of the work split
    loading = paid_loading([(dict(ch), len(ps)) for ch, ps in groups.items()], reg, inline=inline)
    for (chain_items, paths), call_fixed, call_loading in zip(groups.items(), fixed, loading):
        chain = dict(chain_items)
        config = apply_to_config(AnalysisConfig(), chain)
        k = len(paths)
        before = Timer.tree_cpu()
        if inline:   # pool/inline: every video in this process, one after another
            s = run_videos(paths, catalog.root, workers=1, engine="inline", config=config, progress=progress,
                           on_event=on_event)
        else:
            s = run_videos(paths, catalog.root, workers=None if k <= 1 else workers_for(k), config=config,
                           progress=progress, on_event=on_event)
        reap_children()
        cpu = Timer.tree_cpu() - before
        engine_cpu += cpu
        infos = [info_by_path.get(p) or probe_input(p) for p in paths]
        # what the registry (as loaded here) predicts for this call: per-unit work, the call's
        # fixed costs, the per-video part (a diagnosis of which part of a plan misses); chain_cost
        # holds overhead/video already (BASE_STAGES), so it is not added again
        call_pred = call_fixed + sum(chain_cost(i, chain, reg) for i in infos)
        summaries.append({"chain": chain, "inputs": paths, "cpu_seconds": cpu, "predicted_cpu_seconds": call_pred,
                          **s.to_dict()})
        # only a call that analysed every one of its inputs is a clean measurement of the chain
        if s.analyzed == k and not s.failed:
            observed.update(observe_group(reg, chain, infos, cpu, s.timings, "measured: run --plan", call_fixed,
                                          inline=inline, loading=call_loading))
    # the per-shot stages, on the shots the engine just wrote (cheap gates expensive); their ~10
    # catalog jobs within a second or so share one connection while they follow each other closely
    # (Catalog.hold; session 12: ~0.25 CPU-s of openings on a 3-video plan), none starts a process
    post_runs: list[dict] = []
    with catalog.hold():
        _post_phase(doc, catalog, reg, lay, groups, info_by_path, post_runs, observed)
    usd = sum(float((r["stages"].get("caption", {}).get("result") or {}).get("cost_usd") or 0.0) for r in post_runs)
    predicted = doc.get("predicted", {})
    analysed_all = (all(g["analyzed"] == len(g["inputs"]) and not g["failed"] for g in summaries)
                    and not any("error" in r for r in post_runs))
    run_id = uuid.uuid4().hex[:12]
    pre_write = timer.cpu()
    # the fed-back registry and the run's row in one connection and transaction (the catalog was
    # created above: session 11, each connection costs ~0.02 CPU-s and the registry's rows went
    # in one statement each)
    with catalog.write() as con, transaction(con):   # a failure rolls back (nothing half-written)
        insert_rows(con, reg)
        con.execute("INSERT INTO plan_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [run_id, doc.get("goal"), json.dumps(doc), float(predicted.get("cpu_seconds") or 0.0), usd,
                     pre_write, usd, timer.wall(), datetime.now(timezone.utc).replace(tzinfo=None)])
    actual = {"cpu_seconds": timer.cpu(), "usd": usd, "wall_seconds": timer.wall()}
    if analysed_all:
        # what is neither an engine call nor a post stage: start-up, imports, the plan's own work
        # and the catalog commits above (session 9: folded before them, the commits - ~0.2 CPU-s -
        # were never learnt and every fed-back plan came out ~10 % low)
        # (session 12: less the per-shot stages' own timings, not the whole post phase - its queries
        # outside the stages and the held connection's closing are the run's, as the shipped figure
        # benchmarks/plan_fixed_costs.py measures counts them; else nothing learnt them)
        stages_cpu = sum(float(st.get("cpu_seconds") or 0.0) for r in post_runs for st in r["stages"].values())
        rest = max(actual["cpu_seconds"] - engine_cpu - stages_cpu, 0.0)
        v = reg["overhead/run"]
        if v.cpu_seconds > 0 and rest > 0 and max(v.cpu_seconds, rest) / min(v.cpu_seconds, rest) > SHIFT:
            v.samples = 0   # far off (another machine, a registry 3x off): restart, as engine calls do
        fold(v, rest, 1.0, "measured: run --plan")
    with catalog.write() as con:   # the final figure, the commit above included
        con.execute("UPDATE plan_runs SET actual_cpu_seconds = ?, actual_wall_seconds = ? WHERE run_id = ?",
                    [actual["cpu_seconds"], actual["wall_seconds"], run_id])
        if analysed_all:   # the one row folded after the registry was written (same transaction as the update)
            con.execute("INSERT OR REPLACE INTO stages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        _row(reg["overhead/run"]))
    out = dict(doc)
    out["actual"] = actual
    out["run_id"] = run_id
    out["catalog"] = catalog.root
    out["feedback"] = {"folded": analysed_all, "observed_cpu_per_unit": observed}
    out["run"] = [{k: g[k] for k in ("chain", "inputs", "cpu_seconds", "predicted_cpu_seconds", "total", "analyzed", "skipped", "failed",
                                     "shots", "frames", "seconds", "errors")} for g in summaries]
    out["post"] = [{k: (v if k != "stages" else {n: {kk: vv for kk, vv in st.items() if kk != "result"}
                                                  for n, st in v.items()})
                    for k, v in r.items()} for r in post_runs]
    out["not_analysed"] = lay["skipped"]
    pred = float(predicted.get("cpu_seconds") or 0.0)
    out["actual"]["cpu_vs_predicted"] = actual["cpu_seconds"] / pred if pred > 0 else None
    return out


def _post_phase(doc: dict, catalog, reg: dict, lay: dict, groups: dict, info_by_path: dict, post_runs: list,
                observed: dict) -> None:
    """Each post chain over the shots of its inputs (appended to `post_runs`), and what it costs
    folded into `reg` (feedback; the observed per-unit figures into `observed`)."""
    vid_of = dict(catalog.query("SELECT path, video_id FROM videos")[1]) if lay["post"] else {}
    loaded: set[str] = set()
    for post_items, paths in lay["post"].items():
        ch = dict(post_items)
        ids = [vid_of[p] for p in paths if p in vid_of]
        try:
            res = run_post(catalog, ch, ids, doc.get("caption_endpoint"))
        except Exception as e:   # noqa: BLE001 - a failed post stage is recorded, the run goes on
            res = {"chain": ch, "videos": len(ids), "stages": {}, "error": f"{type(e).__name__}: {e}"}
        res["inputs"] = paths
        post_runs.append(res)
        if "error" not in res:
            from videoforge.plan.feedback import observe_post

            detected = {p for ch_items, ps in groups.items() if dict(ch_items).get("shots") != "none" for p in ps}
            pinfos = [info_by_path.get(p) or probe_input(p) for p in paths]
            frame_cpu = None
            if ch.get("suitability", "off") == "default":   # the lite model decodes no frame
                # the features' decoding at the shots actually found (the sample's per-frame costs)
                per_video = dict(catalog.query("SELECT v.path, count(*) FROM shots s JOIN videos v USING (video_id) "
                                               "GROUP BY v.path")[1])
                frame_cpu = sum(suitability_frame_cpu(i, float(per_video.get(i.path, 1)), reg) for i in pinfos)
            observed.update(observe_post(reg, res, [i.duration for i in pinfos], all(p in detected for p in paths),
                                         loaded, "measured: run --plan", mpx=sum(i.mpx for i in pinfos),
                                         suit_frame_cpu=frame_cpu))


def plan_runs(catalog, limit: int = 50) -> list[dict]:
    """Executed plans with predicted and actual cost, newest first (the API and the page).
    `catalog`: a folder, a Catalog, or the server's ReadGate."""
    import duckdb

    if isinstance(catalog, str):
        catalog = Catalog(catalog)
    if isinstance(catalog, Catalog) and not catalog.exists():
        return []
    try:
        with catalog.read() as con:
            cur = con.execute(
                "SELECT run_id, goal, predicted_cpu_seconds, predicted_usd, actual_cpu_seconds, actual_usd, "
                "actual_wall_seconds, finished_at FROM plan_runs ORDER BY finished_at DESC LIMIT ?", [int(limit)])
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    except duckdb.CatalogException:   # a catalog from before migration 5
        return []
    for r in rows:
        r["finished_at"] = r["finished_at"].isoformat() if r["finished_at"] else None
    return rows


__all__ = ["PlanFileError", "execute", "plan_runs", "read_plan"]
