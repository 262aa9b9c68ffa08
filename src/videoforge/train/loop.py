"""The training loop, readable top to bottom (nanoGPT's train.py shape).

    AdamW (no decay on norms/biases/embeddings), linear warm-up then cosine decay,
    EMA of the weights, bf16 autocast where the device has it, gradient accumulation and
    clipping, DDP or FSDP2 (`fully_shard`) under torchrun, JSONL log, periodic checkpoint.

Exact resume: the batch and every random draw of step s are functions of (seed, step,
rank) alone, and the checkpoint holds model, EMA, optimiser and scheduler state, so a run
stopped and resumed at step s continues with the same losses a straight run would have.

Hooks let later work change the objective or the optimiser without editing the loop:
`Hooks.loss(task, model, batch, step) -> (loss, logs)`,
`Hooks.configure_optimizer(model, cfg) -> optimizer`, `Hooks.on_step_end(step, logs)`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.distributed as dist

from videoforge.train.config import TrainConfig
from videoforge.train.tasks import make_task


@dataclass
class Hooks:
    loss: Callable | None = None
    configure_optimizer: Callable | None = None
    on_step_end: Callable | None = None


def configure_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices only (not on norms, biases, embeddings' null vectors)."""
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    from videoforge.train.efficiency import optimizer_kwargs

    dev = next((p.device for p in params), torch.device("cpu"))
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas),
                             **optimizer_kwargs(dev, getattr(cfg, "fused_optimizer", "auto")))


def lr_factor(step: int, cfg: TrainConfig) -> float:
    """Multiplier on cfg.lr at `step`: linear warm-up, then cosine down to cfg.min_lr_ratio."""
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.steps - cfg.warmup_steps)
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def setup_device(cfg: TrainConfig):
    """(rank, world, device); starts the process group when launched by torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    use_cuda = torch.cuda.is_available() if cfg.device == "auto" else cfg.device == "cuda"
    if use_cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if use_cuda else "gloo")
    return rank, world, device


def autocast(cfg: TrainConfig, device):
    bf16 = cfg.precision == "bf16" or (
        cfg.precision == "auto" and device.type == "cuda" and torch.cuda.is_bf16_supported())
    return torch.autocast(device.type, dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def wrap(model, cfg: TrainConfig, world: int, device):
    """DDP or FSDP2 when world > 1; the bare model otherwise."""
    if world == 1:
        return model
    if cfg.distributed == "fsdp":
        from torch.distributed.fsdp import fully_shard

        blocks = getattr(getattr(model, "stdit", model), "blocks", [])
        for blk in blocks:   # one FSDP unit per transformer block: only one block is gathered at a time
            fully_shard(blk)
        fully_shard(model)
        if int(os.environ.get("RANK", "0")) == 0:
            print(f"[{cfg.task}] FSDP2: {len(blocks)} blocks + root sharded over {world} ranks", file=sys.stderr)
        return model
    from torch.nn.parallel import DistributedDataParallel as DDP

    # find_unused_parameters: a step where nothing is dropped leaves the null embeddings unused
    return DDP(model, device_ids=[device.index] if device.type == "cuda" else None, find_unused_parameters=True)


def _full_state(model) -> dict:
    """Full (unsharded) model state on CPU, from a bare, DDP or FSDP2 model (collective under FSDP)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))


def _renamed(name: str) -> str:
    # only the STDiT blocks' MLPs were renamed; the embedders' mlp.0 / mlp.2 keep their indices
    return re.sub(r"(blocks\.\d+\.mlp\.)([02])\.", lambda m: m.group(1) + ("fc1." if m.group(2) == "0" else "fc2."), name)


def _rename_old_keys(ck: dict) -> dict:
    """A last.pt written before STDiT's MLP layers were named (mlp.0 / mlp.2) resumes with its
    EMA and optimizer state intact: the model loads old keys itself, the EMA and the optimizer
    (full state dicts, keyed by parameter name) are renamed here."""
    ck["model"] = {_renamed(k): v for k, v in ck["model"].items()}
    if ck.get("ema"):
        ck["ema"] = {_renamed(k): v for k, v in ck["ema"].items()}
    o = ck.get("optimizer") or {}
    if isinstance(o.get("state"), dict):
        o["state"] = {_renamed(k) if isinstance(k, str) else k: v for k, v in o["state"].items()}
    for g in o.get("param_groups", []):
        g["params"] = [_renamed(p) if isinstance(p, str) else p for p in g.get("params", [])]
    return ck


def _ema_update(ema: dict, model, decay: float):
    with torch.no_grad():
        for name, p in model.named_parameters():
            name = name.removeprefix("module.")
            if name in ema:
                v = p.full_tensor() if hasattr(p, "full_tensor") else p
                ema[name].lerp_(v.detach().float().cpu(), 1 - decay)


def _save(obj, path: str):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(cfg: TrainConfig, hooks: Hooks | None = None) -> str:
    """Train cfg.task for cfg.steps optimiser steps; returns the path of the exported checkpoint."""
    hooks = hooks or Hooks()
    # a process group we start is also ours to close: left open, gloo's threads can abort the rank at
    # interpreter exit ("terminate called without an active exception") after a finished run
    owns_group = int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized()
    rank, world, device = setup_device(cfg)
    master = rank == 0
    os.makedirs(cfg.out_dir, exist_ok=True)
    torch.manual_seed(cfg.seed)
    task = make_task(cfg, device)
    model = task.model.to(device)
    if getattr(cfg, "compile", False):
        from videoforge.train.efficiency import compile_blocks

        compile_blocks(model, cfg.compile_backend)   # in place: state-dict keys and resume unchanged
    ema = {n: p.detach().float().cpu().clone() for n, p in model.named_parameters()} if cfg.ema_decay > 0 else None
    model_w = wrap(model, cfg, world, device)
    opt = (hooks.configure_optimizer or configure_optimizer)(model_w, cfg)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: lr_factor(s, cfg))
    loss_fn = hooks.loss or (lambda task_, m, batch, step: task_.loss(m, batch))

    # resume
    last = os.path.join(cfg.out_dir, "last.pt")
    start = 0
    if os.path.exists(last):
        from torch.distributed.checkpoint.state_dict import (StateDictOptions, set_model_state_dict,
                                                              set_optimizer_state_dict)

        ck = _rename_old_keys(torch.load(last, map_location="cpu", weights_only=True))   # data, not code
        opts = StateDictOptions(full_state_dict=True)
        set_model_state_dict(model_w, ck["model"], options=opts)
        set_optimizer_state_dict(model_w, opt, ck["optimizer"], options=opts)
        sched.load_state_dict(ck["scheduler"])
        if ema is not None and ck.get("ema"):
            ema = ck["ema"]
        start = ck["step"]
        if master:
            print(f"resuming {cfg.out_dir} at step {start}", file=sys.stderr)
    log_path = os.path.join(cfg.out_dir, "log.jsonl")
    if master:
        _truncate_log(log_path, start)
        with open(os.path.join(cfg.out_dir, "config.json"), "w") as f:
            json.dump(cfg.to_dict(), f, indent=1)

    model_w.train()
    t0, samples = time.time(), 0
    from videoforge.train.efficiency import attention_backend, peak_tflops, step_flops, step_tokens

    peak = getattr(cfg, "peak_tflops", None) or peak_tflops(device)
    flops_done, tokens_done = 0.0, 0
    for step in range(start, cfg.steps):
        for micro in range(cfg.grad_accum):
            torch.manual_seed((cfg.seed * 1_000_003 + step * 7919 + micro) * 64 + rank)
            batch = task.batch(step * cfg.grad_accum + micro, rank, world)
            sync = micro == cfg.grad_accum - 1 or not hasattr(model_w, "no_sync")
            with (contextlib.nullcontext() if sync else model_w.no_sync()), autocast(cfg, device), \
                    attention_backend(getattr(cfg, "attention_backend", "auto")):
                loss, logs = loss_fn(task, model_w, batch, step)
            x0 = batch.get("x0") if isinstance(batch, dict) else None
            flops_done += (step_flops(model, x0) or 0.0) * world
            tokens_done += (step_tokens(model, x0) or 0) * world
            # the pinned SDPA kernel also for activation checkpointing's recomputation in backward
            with attention_backend(getattr(cfg, "attention_backend", "auto")):
                (loss / cfg.grad_accum).backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model_w.parameters(), cfg.grad_clip) if cfg.grad_clip else None
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        if ema is not None:
            _ema_update(ema, model_w, cfg.ema_decay)
        samples += cfg.batch_size * cfg.grad_accum * world

        lv = loss.detach().float()
        if world > 1:
            dist.all_reduce(lv)
            lv /= world
        rec = {"step": step + 1, "loss": lv.item(), "lr": sched.get_last_lr()[0], **logs}
        if grad_norm is not None:
            gn = grad_norm.full_tensor() if hasattr(grad_norm, "full_tensor") else grad_norm
            rec["grad_norm"] = float(gn)
        if hooks.on_step_end:
            hooks.on_step_end(step, rec)
        if master and ((step + 1) % cfg.log_every == 0 or step + 1 == cfg.steps or step == start):
            dt = time.time() - t0
            rec.update(elapsed_s=round(dt, 2), samples_per_s=round(samples / max(dt, 1e-9), 3))
            if flops_done:   # STDiT: latent tokens/s and achieved TFLOP/s (MFU against a known peak)
                tflops = flops_done / max(dt, 1e-9) / 1e12
                rec.update(tokens_per_s=round(tokens_done / max(dt, 1e-9), 1), tflops=float(f"{tflops:.4g}"))
                if peak:
                    rec["mfu"] = float(f"{tflops / peak / max(world, 1):.4g}")
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
            print(f"[{cfg.task}] step {step + 1}/{cfg.steps} loss {rec['loss']:.4f} lr {rec['lr']:.2e} "
                  f"{rec['samples_per_s']} samples/s", file=sys.stderr)
        if (step + 1) % cfg.ckpt_every == 0 or step + 1 == cfg.steps:
            _checkpoint(last, model_w, opt, sched, ema, step + 1, cfg, master)
        if step + 1 in cfg.keep_steps and step + 1 < cfg.steps:
            _export(task, model_w, ema, cfg, os.path.join(cfg.out_dir, f"{cfg.task}-step{step + 1}.pt"), master)

    out = os.path.join(cfg.out_dir, f"{cfg.task}.pt")
    _export(task, model_w, ema, cfg, out, master)
    if world > 1:
        dist.barrier()
        if owns_group:
            dist.destroy_process_group()
    return out


def _export(task, model_w, ema, cfg, path, master):
    """EMA weights (or the raw ones) in the task's self-contained format."""
    state = _full_state(model_w)
    if master:
        if ema is not None and cfg.export_ema:
            state = {k: ema[k].to(v.dtype) if k in ema else v for k, v in state.items()}
        _save(task.export(state), path)


def _checkpoint(path, model_w, opt, sched, ema, step, cfg, master):
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
    model_state = _full_state(model_w)
    opt_state = get_optimizer_state_dict(model_w, opt, options=opts)
    if master:
        _save({"model": model_state, "optimizer": opt_state, "scheduler": sched.state_dict(), "ema": ema,
               "step": step, "config": cfg.to_dict()}, path)


def _truncate_log(path: str, start: int):
    """Drop log lines at or beyond `start` (a resumed run rewrites them)."""
    if not os.path.exists(path):
        return
    with open(path) as f:
        keep = [ln for ln in f if ln.strip() and json.loads(ln)["step"] <= start]
    with open(path, "w") as f:
        f.writelines(keep)
