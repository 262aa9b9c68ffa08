"""Fine-tune a trained generator on new footage: LoRA, OFT (through `peft`) or every weight.

    adapter = finetune(FinetuneConfig(method="lora", rank=4, replay=0.25), base_path, data=manifest,
                       replay_data=base_domain_manifest)
    save_adapter("a.safetensors", adapter)

What is trained:
    lora / oft   adapters on STDiT's attention (q, kv, proj of the spatial, temporal and
                 cross attentions) and MLP (fc1, fc2) linear layers; everything else frozen
    full         every weight of STDiT and of a trainable text encoder (the baseline)

Two ways to keep the base domain (against catastrophic forgetting):
    replay R     a fraction R of each batch is base-domain clips (`replay_data`, an export of
                 footage like the base's), so the flow loss keeps covering them
    lwf W        Learning without Forgetting: W x the MSE between the model's velocity and the
                 frozen base's on the new clips' noisy latents, under the null caption (what
                 classifier-free guidance subtracts) and, when given, under base-domain prompts
                 (`lwf_prompts`, text only: no base footage needed). Not under the new clips'
                 own captions: those are what the fine-tune must change.

Data come as for training (`videoforge export` output, Open-Sora CSV or WebDataset), at the
base's clip size, encoded to latents by the base's own autoencoder (cached on disk). Every
random draw of step s is a function of (seed, step), like the training loop's.
"""

from __future__ import annotations

import copy
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field

import torch
import torch.nn.functional as F

from videoforge.adapt.adapters import Adapter, check_oft_rank, peft_config
from videoforge.io.fingerprint import full_hash
from videoforge.models.stdit import ADAPTER_TARGETS

# per-method learning rates (the demo's base trains at 1e-3): adapters start at the base and
# need a larger step to move in few steps; every weight at once needs a smaller one
DEFAULT_LR = {"lora": 3e-3, "oft": 3e-3, "full": 5e-4}


@dataclass
class FinetuneConfig:
    method: str = "lora"                  # lora | oft | full
    rank: int = 4                         # LoRA rank; OFT block size
    alpha: float | None = None            # LoRA alpha (default: = rank, i.e. scaling 1)
    targets: tuple[str, ...] = ADAPTER_TARGETS
    steps: int = 300
    batch_size: int = 16
    lr: float | None = None               # default DEFAULT_LR[method]
    warmup_steps: int = 20
    min_lr_ratio: float = 0.1
    grad_clip: float = 1.0
    replay: float = 0.0                   # fraction of each batch drawn from replay_data
    lwf: float = 0.0                      # weight of the distillation-to-base loss
    seed: int = 0
    threads: int | None = None
    log_every: int = 25
    losses: list = field(default_factory=list)   # filled: (step, loss, lwf term) every log_every

    def check(self):
        if self.method not in ("lora", "oft", "full"):
            raise ValueError(f"method must be lora, oft or full, not {self.method!r}")
        if self.method != "full" and self.rank < 1:
            raise ValueError(f"rank must be >= 1, not {self.rank}")
        if not 0.0 <= self.replay < 1.0:
            raise ValueError(f"replay must be a fraction in [0, 1), not {self.replay}")
        if self.lwf < 0:
            raise ValueError(f"lwf must be >= 0, not {self.lwf}")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError("steps and batch_size must be >= 1")


def data_task(base_path: str, manifest: str, cache_dir: str, seed: int, batch_size: int,
              captions: str | None = None, where: str | None = None):
    """A DiffusionTask over `manifest` with the base's weights, scaler, vocabulary and clip size:
    batches of its latents (encoded by the base's autoencoder) and captions."""
    from videoforge.models.safeload import load_tensors
    from videoforge.train.config import DataConfig, TrainConfig
    from videoforge.train.tasks import DiffusionTask

    ck = load_tensors(base_path, "checkpoint")
    vid = ck.get("video") or {}
    frames = int(vid.get("frames") or 17)
    data = DataConfig(manifest=os.path.abspath(manifest), where=where, captions=captions,
                      metrics=list(ck["metrics"]["names"]), buckets=[[frames, int(vid["height"]), int(vid["width"])]],
                      cache_dir=cache_dir)
    cfg = TrainConfig(task="stdit", out_dir=cache_dir, data=data, stdit=dict(ck["stdit"]["config"]),
                      text_encoder=dict(ck["text_encoder"]["spec"]), autoencoder_checkpoint=base_path,
                      init_from=base_path, batch_size=batch_size, seed=seed, device="cpu")
    task = DiffusionTask(cfg, torch.device("cpu"))
    empty = sum(1 for r in task.data.rows if not r["caption"])
    if empty == len(task.data.rows):
        raise ValueError(f"{manifest}: no row has a caption (fill `text`, or pass captions=JSON)")
    return task


def _lr(step: int, cfg: FinetuneConfig, lr: float) -> float:
    if step < cfg.warmup_steps:
        return lr * (step + 1) / cfg.warmup_steps
    prog = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return lr * (cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(prog, 1.0))))


def prepare_model(gen, cfg: FinetuneConfig) -> list[torch.nn.Parameter]:
    """Freeze what the method does not train; inject peft adapters (named "default"); the trainable params."""
    if cfg.method == "full":
        gen.requires_grad_(True)
        if not getattr(gen.text_encoder, "trainable", False):
            gen.text_encoder.requires_grad_(False)
        return [p for p in gen.parameters() if p.requires_grad]
    from peft import inject_adapter_in_model

    if cfg.method == "oft":
        check_oft_rank(gen.stdit, cfg.rank, cfg.targets)
    gen.requires_grad_(False)
    inject_adapter_in_model(peft_config(cfg.method, cfg.rank, cfg.alpha, cfg.targets), gen.stdit, adapter_name="default")
    return [p for p in gen.stdit.parameters() if p.requires_grad]


def finetune(cfg: FinetuneConfig, base_path: str, data: str, replay_data: str | None = None,
             lwf_prompts: list[str] | None = None, cache_dir: str | None = None, captions: str | None = None,
             replay_captions: str | None = None, progress: bool = True) -> Adapter:
    """Fine-tune the generator checkpoint `base_path` on the export `data`; returns the adapter."""
    cfg.check()
    if cfg.replay > 0 and not replay_data:
        raise ValueError("replay > 0 needs replay_data: an export of base-domain footage")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    from videoforge.models.flow import flow_loss, sample_t

    cache_dir = cache_dir or os.path.join(os.path.dirname(os.path.abspath(data)), ".finetune-cache")
    n_rep = int(round(cfg.replay * cfg.batch_size)) if cfg.replay > 0 else 0
    if cfg.replay > 0 and n_rep == 0:
        n_rep = 1
    n_new = cfg.batch_size - n_rep
    if n_new < 1:
        raise ValueError(f"replay {cfg.replay} leaves no new clips in a batch of {cfg.batch_size}")
    task = data_task(base_path, data, cache_dir, cfg.seed, n_new, captions)
    rep_task = data_task(base_path, replay_data, cache_dir, cfg.seed + 1, n_rep, replay_captions) if n_rep else None
    if lwf_prompts is None and cfg.lwf > 0 and replay_data:
        # the base domain's captions, read from the replay export (no clip is decoded for this)
        from videoforge.train.config import DataConfig
        from videoforge.train.data import read_manifest

        rows = read_manifest(DataConfig(manifest=os.path.abspath(replay_data), captions=replay_captions))
        lwf_prompts = sorted({r["caption"] for r in rows if r["caption"]})
    gen = task.model
    teacher = copy.deepcopy(gen).eval().requires_grad_(False) if cfg.lwf > 0 else None
    params = prepare_model(gen, cfg)
    n_train = sum(p.numel() for p in params)
    n_total = sum(p.numel() for n, p in gen.named_parameters() if "lora_" not in n and "oft_" not in n)
    lr = cfg.lr or DEFAULT_LR[cfg.method]
    decay = [p for p in params if p.dim() >= 2]
    opt = torch.optim.AdamW([{"params": decay}, {"params": [p for p in params if p.dim() < 2]}],
                            lr=lr, betas=(0.9, 0.99), weight_decay=0.0)

    t0 = time.time()
    cfg.losses = []
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, desc=f"finetune {cfg.method}", file=sys.stderr, leave=False)
    gen.train()
    for step in range(cfg.steps):
        torch.manual_seed(cfg.seed * 1_000_003 + step * 7919)
        for g in opt.param_groups:
            g["lr"] = _lr(step, cfg, lr)
        b = task.batch(step, 0, 1)
        x0, prompts, metrics = b["x0"], list(b["prompts"]), b["metrics"]
        if rep_task is not None:
            r = rep_task.batch(step, 0, 1)
            x0, prompts, metrics = torch.cat([x0, r["x0"]]), prompts + list(r["prompts"]), torch.cat([metrics, r["metrics"]])

        def velocity(xt, t, y_unused, mask_unused, m):
            return gen(xt, t, prompts, m)

        loss = flow_loss(velocity, x0, None, None, metrics)
        lwf_term = torch.zeros(())
        if teacher is not None:
            lwf_term = _lwf_loss(gen, teacher, b["x0"], b["metrics"], lwf_prompts, cfg.seed, step, sample_t)
            loss = loss + cfg.lwf * lwf_term
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_(params, cfg.grad_clip)
        opt.step()
        if (step + 1) % cfg.log_every == 0 or step == 0 or step + 1 == cfg.steps:
            cfg.losses.append([step + 1, round(loss.item(), 5), round(lwf_term.item(), 6)])
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.4f}")
    if bar is not None:
        bar.close()
    seconds = time.time() - t0
    gen.eval()

    if cfg.method == "full":
        tensors = {**{f"stdit.{k}": v.detach().clone() for k, v in gen.stdit.state_dict().items()}}
        if getattr(gen.text_encoder, "trainable", False):
            tensors.update({f"text_encoder.{k}": v.detach().clone() for k, v in gen.text_encoder.state_dict().items()})
    else:
        from peft import get_peft_model_state_dict

        tensors = {k: v.detach().clone() for k, v in get_peft_model_state_dict(gen.stdit, adapter_name="default").items()}
    info = {"base_file": os.path.basename(base_path), "data": os.path.abspath(data),
            "replay_data": os.path.abspath(replay_data) if replay_data else None,
            "rows": len(task.data), "replay_rows": len(rep_task.data) if rep_task else 0,
            "lwf_prompts": len(lwf_prompts or []), "trainable_params": n_train, "total_params": n_total,
            "trainable_fraction": n_train / n_total, "seconds": round(seconds, 2), "lr": lr,
            "config": {k: v for k, v in asdict(cfg).items() if k != "losses"}, "losses": cfg.losses}
    return Adapter(method=cfg.method, tensors=tensors, base_sha256=full_hash(base_path), rank=cfg.rank,
                   alpha=cfg.alpha, targets=tuple(cfg.targets), info=info)


def _lwf_loss(gen, teacher, x0, metrics, prompts, seed, step, sample_t) -> torch.Tensor:
    """MSE between the model's and the frozen base's velocity on noisy new-domain latents: half the
    rows under the null caption, half under base-domain prompts (all null when none are given)."""
    B = x0.shape[0]
    t = sample_t(B, x0.device)
    noise = torch.randn_like(x0)
    xt = (1 - t.view(B, 1, 1, 1, 1)) * x0 + t.view(B, 1, 1, 1, 1) * noise
    rng = random.Random(seed * 1_000_003 + step)
    if prompts:
        drop = torch.tensor([i % 2 == 0 for i in range(B)])
        texts = [rng.choice(prompts) for _ in range(B)]
    else:
        drop = torch.ones(B, dtype=torch.bool)
        texts = ["" for _ in range(B)]
    with torch.no_grad():
        y_t, m_t = teacher.encode_text(texts)
        v_t = teacher.stdit(xt, t, y_t, m_t, metrics, drop_text=drop)
    # the student's text/metric dropout is off for this term (eval mode) so both see the same condition
    was = gen.training
    gen.eval()
    y_s, m_s = gen.encode_text(texts)
    v_s = gen.stdit(xt, t, y_s, m_s, metrics, drop_text=drop)
    gen.train(was)
    return F.mse_loss(v_s.float(), v_t.float())
