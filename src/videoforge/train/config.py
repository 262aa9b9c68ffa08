"""Training configuration: typed dataclasses with defaults that run; a TOML/YAML file overrides them.

    cfg = load_config("stage2_video.toml", overrides=["steps=100", "data.manifest=ds/manifest.csv"])

Relative paths are relative to the working directory (configs ship inside the package, so
their own folder means nothing to a user); a path beginning with "$OUT/" is inside the
config's `out_dir`, which lets curriculum stages chain checkpoints.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field


@dataclass
class DataConfig:
    manifest: str = ""                  # Open-Sora CSV, or a .tar shard / folder of WebDataset shards
    where: str | None = None            # SQL over manifest columns (DuckDB), e.g. "suitability >= 0.7"
    caption_column: str = "text"
    captions: str | None = None         # JSON {source_path or video_id: caption} used where `text` is empty
    metrics: list[str] = field(default_factory=lambda: ["motion"])
    # (frames, height, width) buckets; frames = 1 is the image stage. Frames must be 1 + k*ft.
    buckets: list[list[int]] = field(default_factory=lambda: [[17, 256, 256]])
    crop_frames: int | None = None      # autoencoder: train on random causal-length crops of this size
    cache_dir: str | None = None        # decoded clips and latents are cached here (default: out_dir/cache)
    precompute_latents: bool = True


@dataclass
class TrainConfig:
    task: str = "stdit"                 # "autoencoder" or "stdit"
    out_dir: str = "runs/train"
    data: DataConfig = field(default_factory=DataConfig)
    autoencoder: dict = field(default_factory=dict)       # AutoencoderConfig fields
    stdit: dict = field(default_factory=dict)             # STDiTConfig fields; "size": "STDiT-S" picks a named size
    text_encoder: dict = field(default_factory=lambda: {"kind": "tiny", "dim": 128})
    autoencoder_checkpoint: str | None = None             # stdit task: the trained autoencoder (.pt)
    init_from: str | None = None                          # start weights from this checkpoint (curriculum stage)
    steps: int = 1000
    batch_size: int = 8                 # per process
    grad_accum: int = 1
    lr: float = 1e-4
    weight_decay: float = 0.0
    betas: tuple[float, float] = (0.9, 0.99)
    warmup_steps: int = 100
    min_lr_ratio: float = 0.1           # cosine decays to lr * min_lr_ratio
    grad_clip: float = 1.0
    ema_decay: float = 0.999            # 0 disables EMA
    export_ema: bool = True             # the exported checkpoint carries EMA weights
    precision: str = "auto"             # "auto" (bf16 autocast on GPUs that have it), "bf16", "fp32"
    grad_checkpointing: bool = False
    distributed: str = "ddp"            # under torchrun: "ddp" or "fsdp" (FSDP2 fully_shard)
    log_every: int = 10
    ckpt_every: int = 200
    # also keep the exported weights of these steps as out_dir/<task>-step<N>.pt (a learning
    # curve of the released model's own measures, e.g. the demo's accuracy against training length)
    keep_steps: tuple[int, ...] = ()
    # stdit task: extra flow-loss weight on latent positions that differ from the clip's median,
    # i.e. the moving subject rather than the static background (models/flow.py subject_weight);
    # 0 = plain MSE, the default, so older configs train as before
    subject_weight: float = 0.0
    # stdit task: extra flow-loss weight on the subject's outline, the cells whose 3 x 3 neighbourhood
    # spans background and subject (train/loss_weights.py boundary_weight; measured from the
    # autoencoder's shortcut channels when it has them); 0 = off. Adds to subject_weight.
    boundary_weight: float = 0.0
    # stdit task: each word of a training caption is dropped with this probability (drawn from
    # (seed, step), so a resumed run sees the same captions). A caption then often names the shape
    # without its colour and the colour without its shape, so each word has to carry its own
    # attribute: the demo's model otherwise ties a shape to the colours it was trained with and
    # draws the wrong shape for an unseen (colour, shape) pair (docs/notes/train.md, sessions 8-9).
    # 0 = off, the captions as written (older configs train as before).
    caption_word_drop: float = 0.0
    # with caption_word_drop: only these words may be dropped (empty = any word). Dropping a word
    # teaches the words left to predict what it named: dropping the shape word taught the demo's
    # colour words the shapes they were trained with (session 9), so the demo drops colours only.
    caption_drop_only: list[str] = field(default_factory=list)
    # stdit task: with this probability a training caption is replaced by the words of ONE of its
    # attributes alone ("red", "circle", "left"), the slot drawn uniformly among those the caption
    # has (`caption_slots`: one word list per attribute). Composable sampling (models/flow.py
    # euler_sample's `compose`) then adds one guidance term per attribute prompt; with the per-word
    # text encoder each attribute's embedding does not depend on the others, which is what the
    # composition needs (Liu et al. 2022). Unlike caption_word_drop the full captions stay whole.
    # 0 = off (older configs train as before).
    caption_one_slot: float = 0.0
    caption_slots: list[list[str]] = field(default_factory=list)
    seed: int = 0
    device: str = "auto"                # "auto", "cpu", "cuda"
    # GPU efficiency (train/efficiency.py; every one also runs on CPU). compile: torch.compile each
    # STDiT block in place (keys unchanged); fused_optimizer: "auto" = fused AdamW on CUDA, foreach
    # elsewhere, "on" / "off"; attention_backend: pin SDPA to "flash", "efficient", "math" or
    # "cudnn" ("auto": PyTorch picks); peak_tflops: the device's peak for the MFU in the log
    # (None: a known GPU's bf16 peak, none on CPU)
    compile: bool = False
    compile_backend: str = "inductor"
    fused_optimizer: str = "auto"
    attention_backend: str = "auto"
    peak_tflops: float | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def _read_file(path: str) -> dict:
    with open(path, "rb") as f:
        raw = f.read()
    if path.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError as e:
            raise ValueError(f"{path}: reading YAML needs PyYAML (pip install pyyaml)") from e
        return yaml.safe_load(raw) or {}
    if path.endswith(".json"):
        return json.loads(raw)
    import tomllib

    try:
        return tomllib.loads(raw.decode())
    except tomllib.TOMLDecodeError as e:
        raise ValueError(f"{path}: not valid TOML ({e})") from e


def _build(cls, d: dict, where: str):
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(d) - set(names)
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {sorted(unknown)}; known: {sorted(names)}")
    kw = {}
    for k, v in d.items():
        if k == "data" and isinstance(v, dict):
            v = _build(DataConfig, v, f"{where}[data]")
        elif k == "betas":
            v = tuple(v)
        kw[k] = v
    return cls(**kw)


def _parse_value(s: str):
    try:
        return json.loads(s)
    except json.JSONDecodeError:
        return s


def config_from_dict(d: dict, where: str = "config") -> TrainConfig:
    """TrainConfig from a nested dict (unknown keys are an error naming `where`)."""
    return _build(TrainConfig, d, where)


def load_config(path: str | None = None, overrides: list[str] = ()) -> TrainConfig:
    """Read a TOML/YAML/JSON config (or none), apply "a.b=value" overrides, resolve relative paths."""
    d = _read_file(path) if path else {}
    for o in overrides:
        if "=" not in o:
            raise ValueError(f"override {o!r} is not KEY=VALUE")
        key, val = o.split("=", 1)
        node = d
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        node[parts[-1]] = _parse_value(val)
    cfg = config_from_dict(d, path or "config")
    def resolve(p):
        if not p:
            return p
        if p.startswith("$OUT"):
            return os.path.join(cfg.out_dir, p[len("$OUT"):].lstrip("/"))
        return os.path.abspath(p)

    cfg.out_dir = os.path.abspath(cfg.out_dir)
    cfg.data.manifest = resolve(cfg.data.manifest)
    cfg.data.captions = resolve(cfg.data.captions)
    cfg.data.cache_dir = resolve(cfg.data.cache_dir)
    cfg.autoencoder_checkpoint = resolve(cfg.autoencoder_checkpoint)
    cfg.init_from = resolve(cfg.init_from)
    return cfg
