"""Per-shot stages after the analysis: suitability, the gate, captions, visual embedding.

They run on the catalog once the engine has written its shots, in the plan's own process.
Their cost scales with shots, which the planner cannot count before the run: it forecasts
them (shots per second of video, from the registry's `forecast/shots_per_second`, which every
run refines) and, for gated stages, the share of shots the suitability gate keeps
(`forecast/suitable_fraction`). Cheap gates expensive: with `gate/suitable` only the shots
whose suitability score passes the cascade's threshold are captioned and embedded.
"""

from __future__ import annotations

import itertools
import time

from videoforge.plan.costs import InputInfo, Timer, suitability_frame_cpu
from videoforge.plan.registry import GATE_THRESHOLD, POST_STAGES, Variant, available, caption_endpoint

OFF = {"caption": "off", "embed": "off", "gate": "all", "suitability": "off"}


def post_chains(reg: dict[str, Variant]) -> list[dict[str, str]]:
    """Every sensible combination of the post stages; the first is everything off.
    A gate needs a suitability score and something to gate (a caption or an embedding)."""
    names = sorted(POST_STAGES)
    opts = {s: [v.variant for v in reg.values() if v.stage == s and available(v)] for s in names}
    out = [dict(OFF)]
    for combo in itertools.product(*(opts[s] for s in names)):
        ch = dict(zip(names, combo))
        if ch == OFF:
            continue
        if ch["gate"] == "suitable" and (ch["suitability"] == "off" or (ch["caption"] == "off" and ch["embed"] == "off")):
            continue
        out.append(ch)
    return out


def forecast(reg: dict[str, Variant], name: str) -> float:
    return reg[f"forecast/{name}"].cpu_seconds


def shots_of(info: InputInfo, no_detector: bool, reg: dict[str, Variant]) -> float:
    """Forecast shots in one input: one when no detector runs, else the per-second rate."""
    if no_detector:
        return 1.0
    if info.shots_sampled is not None:   # the plan's sample of this very input (costs.sample_decode)
        return max(1.0, info.shots_sampled)
    return max(1.0, forecast(reg, "shots_per_second") * info.duration)


def gated_share(ch: dict[str, str], reg: dict[str, Variant]) -> float:
    return forecast(reg, "suitable_fraction") if ch.get("gate") == "suitable" else 1.0


def usd_per_call(reg: dict[str, Variant]) -> float:
    """USD of one OpenAI-compatible caption call: forecast tokens x the configured prices."""
    ep = caption_endpoint()
    if not ep:
        return reg["caption/openai"].usd
    return (forecast(reg, "openai_prompt_tokens") * ep["price_input"]
            + forecast(reg, "openai_completion_tokens") * ep["price_output"]) / 1e6


def post_cost(info: InputInfo, ch: dict[str, str], no_detector: bool, reg: dict[str, Variant]) -> float:
    """Per-shot CPU of a post chain on one input (no loading)."""
    n = shots_of(info, no_detector, reg)
    g = gated_share(ch, reg)
    suit = reg[f"suitability/{ch['suitability']}"]
    cpu = suit.cpu_seconds * n
    if ch["suitability"] == "default":   # the lite model decodes no frame
        cpu += suitability_frame_cpu(info, n, reg)
    cpu += n * g * (reg[f"caption/{ch['caption']}"].cpu_seconds + reg[f"embed/{ch['embed']}"].cpu_seconds)
    return cpu


def post_usd(info: InputInfo, ch: dict[str, str], no_detector: bool, reg: dict[str, Variant]) -> float:
    if ch["caption"] != "openai":
        return 0.0
    return shots_of(info, no_detector, reg) * gated_share(ch, reg) * usd_per_call(reg)


def post_fixed_keys(ch: dict[str, str], reg: dict[str, Variant]) -> list[str]:
    """Loading this chain needs, each paid once per plan: its variants' own (model, embedder,
    client) and the shared components they load (`load/...`: paid once whichever stages use
    them; the planner's loading variables take the union over the plan's chains)."""
    keys = [f"{s}/{v}" for s, v in sorted(ch.items()) if reg[f"{s}/{v}"].fixed_cpu_seconds > 0]
    shared = sorted({k for s, v in ch.items() for k in reg[f"{s}/{v}"].loads if k in reg and reg[k].fixed_cpu_seconds > 0})
    return keys + shared


def post_quality(ch: dict[str, str], reg: dict[str, Variant], goal: str | None = None) -> dict[str, float]:
    """Quality figures of a post chain. What the gate costs depends on the goal: a dataset is
    filtered by the same suitability threshold, so a shot the gate leaves out is one the
    dataset drops anyway (no loss); for search and a catalog every shot should be findable
    and described, so the gated stages count only the share of shots the gate keeps
    (`forecast/suitable_fraction`, measured on the user's footage by every run)."""
    keep = 1.0
    if ch["gate"] == "suitable" and goal != "dataset":
        keep = forecast(reg, "suitable_fraction")
    q = dict(reg[f"suitability/{ch['suitability']}"].quality)
    q.update({k: v * keep for k, v in reg[f"caption/{ch['caption']}"].quality.items()})
    q.update({k: v * keep for k, v in reg[f"embed/{ch['embed']}"].quality.items()})
    return q


# -- execution ----------------------------------------------------------------------------------
def _where(video_ids: list[str]) -> str:
    return "video_id IN (" + ", ".join("'" + v.replace("'", "''") + "'" for v in video_ids) + ")"


def run_post(catalog, ch: dict[str, str], video_ids: list[str], caption_cfg: dict | None = None) -> dict:
    """Run one post chain over the shots of `video_ids`; returns per-stage CPU, shots and
    what the gate kept, for the report and the feedback."""
    out: dict = {"chain": ch, "videos": len(video_ids), "stages": {}}
    if not video_ids or ch == OFF:
        return out
    where = _where(video_ids)
    shots = catalog.query(f"SELECT count(*) FROM shots WHERE {where}")[1][0][0]
    out["shots"] = int(shots)

    def timed(name: str, fn):
        c0, w0 = Timer.tree_cpu(), time.perf_counter()
        res = fn()
        out["stages"][name] = {"cpu_seconds": Timer.tree_cpu() - c0, "wall_seconds": time.perf_counter() - w0,
                               "result": res}
        return res

    def suitability():
        from videoforge.curate.suitability import load_model, score_catalog
        from videoforge.plan.registry import SUIT_LITE_MODEL

        return score_catalog(catalog, load_model(SUIT_LITE_MODEL if ch["suitability"] == "lite" else None), where=where)

    if ch["suitability"] in ("default", "lite"):   # imports inside the timed part: they are the stage's loading
        timed("suitability", suitability)
        out["suitable"] = int(catalog.query(
            f"SELECT count(*) FROM shots WHERE {where} AND suitability >= {GATE_THRESHOLD}")[1][0][0])
    gated = ch["gate"] == "suitable"
    out["gate_kept"] = out.get("suitable", shots) if gated else int(shots)
    if ch["caption"] != "off":
        c0 = Timer.tree_cpu()
        from videoforge.curate.caption_run import caption_catalog
        from videoforge.curate.cascade import CascadePolicy

        policy = CascadePolicy(min_suitability=GATE_THRESHOLD if gated else None, skip_duplicates=False,
                               skip_unscored=gated)
        if ch["caption"] == "metadata":
            from videoforge.curate.captions.metadata import MetadataCaptioner

            captioner = MetadataCaptioner()
        else:
            import os

            from videoforge.curate.captions.openai import OpenAICaptioner

            cfg = caption_cfg or caption_endpoint()
            if not cfg:
                raise ValueError("the plan uses caption/openai but no endpoint is configured "
                                 "(VIDEOFORGE_CAPTION_URL and VIDEOFORGE_CAPTION_MODEL)")
            captioner = OpenAICaptioner(cfg["base_url"], cfg["model"], api_key=os.environ.get("VIDEOFORGE_CAPTION_KEY"),
                                        price_input=cfg.get("price_input", 0.0), price_output=cfg.get("price_output", 0.0))
        imports = Timer.tree_cpu() - c0
        try:
            timed("caption", lambda: caption_catalog(catalog, captioner, policy, where=where))
            out["stages"]["caption"]["cpu_seconds"] += imports
        finally:
            if hasattr(captioner, "close"):
                captioner.close()
    if ch["embed"] != "off":
        timed("embed", lambda: embed_shots(catalog, video_ids, gated, ch["embed"]))
    return out


def embed_shots(catalog, video_ids: list[str], gated: bool, name: str = "visual") -> dict:
    """The visual index over the plan's shots (only those the gate keeps when gated).

    The index holds what the plans that built it chose: a shot a later, gated plan leaves
    out keeps its vector only if it is in the same call, so each call indexes the union of
    the catalog's shots that are either outside these videos (kept as they are) or kept here."""
    import os

    from videoforge.search import store
    from videoforge.search.build import IndexParams, _index_vectors
    from videoforge.search.embedders import get_embedder
    from videoforge.search.sources import load_shots

    shots = load_shots(catalog)
    mine = set(video_ids)
    if gated:
        rows = catalog.query(f"SELECT shot_id FROM shots WHERE {_where(video_ids)} AND suitability >= {GATE_THRESHOLD}")[1]
        keep = {r[0] for r in rows}
        shots = [s for s in shots if s.video_id not in mine or s.shot_id in keep]
    from videoforge.plan.registry import embed_model

    params = {} if name == "visual" else {"model": embed_model(name)}
    if name != "visual" and not params["model"]:
        raise ValueError(f"the plan uses embed/{name} but no local model folder is configured")
    folder = store.embedder_dir(catalog.root, name)
    os.makedirs(folder, exist_ok=True)
    summary = _index_vectors(folder, catalog, shots, get_embedder(name, **params), "mean", IndexParams(), None)
    summary["shots_indexed"] = sum(1 for s in shots if s.video_id in mine)
    return summary
