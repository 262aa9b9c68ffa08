"""`videoforge distill TEACHER --steps 4 --out STUDENT`: step + guidance distillation.

1. Teacher trajectories (pairs.py) on the training prompts and metric values of a manifest
   (the teacher's training data: no held-out prompt is seen), each with guidance scales drawn
   around `generate`'s defaults (half exactly the defaults, half uniform in a range), so the
   student learns the scales as an input.
2. The student (student.py: the teacher's weights + zero-initialised guidance embedders)
   is trained on them, one of two ways (`method`):
   - "segment": on the teacher's state at each student time t_i, predict the velocity that
     takes it to the teacher's state at t_(i+1) in one Euler step (trajectory-segment
     regression: the student's Euler step reproduces the teacher's many steps over that
     interval, guidance included);
   - "reflow": rectified-flow reflow on the teacher's (noise, sample) pairs: on the straight
     line between them, at the student's times, predict noise - sample.
   Both can add "rollout" inputs: a fraction of the batch starts from the student's OWN state
   at t_i (its earlier steps, no gradient) so it learns to correct its own drift.
3. The student is written as a generator checkpoint with a `distill` entry (student.py).
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import time
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass
class DistillConfig:
    steps: int = 4                 # student steps (1 evaluation each)
    teacher_steps: int = 25        # the teacher's steps (generate's default)
    cfg_text: float = 4.0          # generate's defaults: the scales half the pairs use
    cfg_metric: float = 2.0
    cfg_text_range: tuple[float, float] = (1.0, 7.0)
    cfg_metric_range: tuple[float, float] = (0.0, 4.0)
    default_fraction: float = 0.5  # pairs at exactly the default scales
    no_metric_fraction: float = 0.1   # pairs with the metric left out (generate without --motion)
    pairs: int = 320               # teacher trajectories (the measured demo run: docs/benchmarks/scale.md)
    pair_batch: int = 64
    method: str = "segment"        # "segment" | "reflow"
    rollout_fraction: float = 0.25 # share of a batch started from the student's own state
    train_steps: int = 300
    batch_size: int = 32
    lr: float = 1e-4
    warmup: int = 20
    seed: int = 0

    def to_dict(self):
        return asdict(self)


def _log(msg, progress):
    if progress:
        print(f"[distill {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def read_conditions(manifest: str, metric_names: list[str]) -> list[tuple[str, dict]]:
    """(caption, {metric: raw value}) rows of a training manifest (`text` or `caption` column)."""
    out = []
    try:
        with open(manifest, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise ValueError(f"{manifest}: cannot read the manifest ({e})") from e
    for r in rows:
        text = (r.get("text") or r.get("caption") or "").strip()
        if not text:
            continue
        m = {}
        for n in metric_names:
            try:
                v = float(r.get(n) or "nan")
            except ValueError:
                v = float("nan")
            if math.isfinite(v):
                m[n] = v
        out.append((text, m))
    if not out:
        raise ValueError(f"{manifest}: no captioned rows (a `text` or `caption` column) to distil on")
    return out


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def make_pairs(pipe, conditions, cfg: DistillConfig, progress: bool = True) -> dict:
    """The teacher's states at the student's times for cfg.pairs draws of (condition, scales, noise)."""
    from videoforge.distill.pairs import teacher_states
    from videoforge.distill.student import student_time_grid
    from videoforge.models.autoencoder import valid_frames

    rng = np.random.default_rng(cfg.seed)
    idx = rng.integers(len(conditions), size=cfg.pairs)
    prompts = [conditions[i][0] for i in idx]
    mets = [({} if rng.random() < cfg.no_metric_fraction else conditions[i][1]) for i in idx]
    default = rng.random(cfg.pairs) < cfg.default_fraction
    gt = np.where(default, cfg.cfg_text, rng.uniform(*cfg.cfg_text_range, cfg.pairs))
    gm = np.where(default, cfg.cfg_metric, rng.uniform(*cfg.cfg_metric_range, cfg.pairs))
    ae = pipe.ae.cfg
    T = valid_frames(16, ae.temporal_factor)          # generate's default length (16 frames)
    Tl = 1 + (T - 1) // ae.temporal_factor
    pt = int(pipe.gen.stdit.patch[0])
    Tl = -(-Tl // pt) * pt
    shape = (ae.latent_channels, Tl, pipe.video["height"] // ae.spatial_factor, pipe.video["width"] // ae.spatial_factor)
    g = torch.Generator().manual_seed(cfg.seed)
    noise = torch.randn((cfg.pairs, *shape), generator=g)
    at = student_time_grid(cfg.steps)
    states = []
    t0 = time.time()
    for s in range(0, cfg.pairs, cfg.pair_batch):
        e = min(cfg.pairs, s + cfg.pair_batch)
        y, mask = pipe.gen.encode_text(prompts[s:e])
        m = pipe.scaler.normalize(mets[s:e])
        states.append(teacher_states(pipe.gen.stdit, noise[s:e], y, mask, m, torch.tensor(gt[s:e], dtype=torch.float32),
                                     torch.tensor(gm[s:e], dtype=torch.float32), cfg.teacher_steps, at))
        _log(f"teacher trajectories {e}/{cfg.pairs} ({time.time() - t0:.0f} s)", progress)
    return {"states": torch.cat(states), "prompts": prompts, "metrics": mets,
            "guidance": torch.tensor(np.stack([gt, gm], 1), dtype=torch.float32), "times": at}


def train_student(pipe, pairs: dict, cfg: DistillConfig, progress: bool = True):
    """A GuidedSTDiT started from the teacher, trained on `pairs` (cfg.method); returns it (eval mode)."""
    from videoforge.distill.student import build_student

    torch.manual_seed(cfg.seed)
    teacher = pipe.gen.stdit
    student = build_student(teacher.cfg).load_teacher(teacher.state_dict())
    student.train()
    # the condition drop of training is off: the student always gets what it is given
    student.cfg.text_drop_prob = 0.0
    if student.metric_embedder is not None:
        student.metric_embedder.drop_prob = 0.0
    X, G, ts = pairs["states"], pairs["guidance"], pairs["times"]
    N, K = X.shape[0], X.shape[1] - 1
    with torch.no_grad():
        uniq = sorted(set(pairs["prompts"]))
        y_all, m_all = pipe.gen.encode_text(uniq)
        pos = {p: i for i, p in enumerate(uniq)}
        yi = torch.tensor([pos[p] for p in pairs["prompts"]])
        met = pipe.scaler.normalize(pairs["metrics"])
    opt = torch.optim.AdamW([p for p in student.parameters() if p.requires_grad], lr=cfg.lr, weight_decay=0.0)
    gen = torch.Generator().manual_seed(cfg.seed + 1)
    t0, hist = time.time(), []
    for step in range(cfg.train_steps):
        lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup) * 0.5 * (1 + math.cos(math.pi * step / cfg.train_steps))
        for gp in opt.param_groups:
            gp["lr"] = lr
        n = torch.randint(N, (cfg.batch_size,), generator=gen)
        i = torch.randint(K, (cfg.batch_size,), generator=gen)
        t, t_next = ts[i], ts[i + 1]
        y, mask = y_all[yi[n]], m_all[yi[n]]
        m, g = met[n], G[n]
        if cfg.method == "segment":
            x_in = X[n, i]
            target_next = X[n, i + 1]
        elif cfg.method == "reflow":
            z, x0 = X[n, 0], X[n, K]
            tt = t.view(-1, 1, 1, 1, 1)
            x_in = (1 - tt) * x0 + tt * z
            target_next = x_in + (t_next - t).view(-1, 1, 1, 1, 1) * (z - x0)   # the line at t_next
        else:
            raise ValueError(f"method must be 'segment' or 'reflow', not {cfg.method!r}")
        n_roll = int(round(cfg.rollout_fraction * cfg.batch_size))
        if n_roll:
            # the student's own state at t_i: its Euler steps from the same noise, no gradient
            with torch.no_grad():
                student.eval()
                xr = X[n[:n_roll], 0].clone()
                for k in range(int(i[:n_roll].max())):
                    live = i[:n_roll] > k
                    if not live.any():
                        break
                    v = student(xr[live], ts[k].expand(int(live.sum())), y[:n_roll][live], mask[:n_roll][live],
                                m[:n_roll][live], guidance=g[:n_roll][live])
                    xr[live] = xr[live] + (ts[k + 1] - ts[k]) * v
                student.train()
            x_in = torch.cat([xr, x_in[n_roll:]])
        dt = (t_next - t).view(-1, 1, 1, 1, 1)
        target_v = (target_next - x_in) / dt
        v = student(x_in, t, y, mask, m, guidance=g)
        loss = F.mse_loss(v, target_v)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
        opt.step()
        hist.append(float(loss.detach()))
        if progress and (step % 50 == 0 or step == cfg.train_steps - 1):
            _log(f"step {step + 1}/{cfg.train_steps} loss {np.mean(hist[-50:]):.4f} ({time.time() - t0:.0f} s)", progress)
    student.eval()
    return student, hist


def distill(teacher_path: str, out: str, manifest: str | None = None, cfg: DistillConfig | None = None,
            progress: bool = True, pairs_cache: str | None = None) -> dict:
    """Distil the generator checkpoint `teacher_path` into a student checkpoint at `out`; returns a summary."""
    from videoforge.models.pipeline import Pipeline
    from videoforge.models.safeload import load_tensors

    cfg = cfg or DistillConfig()
    torch.manual_seed(cfg.seed)
    t_start = time.time()
    ck = load_tensors(teacher_path, "checkpoint")
    if ck.get("distill"):
        raise ValueError(f"{teacher_path}: already a distilled student; distil its teacher instead")
    if ck.get("quantization"):
        raise ValueError(f"{teacher_path}: an int8 checkpoint; distil the float teacher")
    pipe = Pipeline(ck)
    if manifest is None:
        guess = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(teacher_path))), "train_manifest.csv")
        if not os.path.exists(guess):
            raise ValueError(f"{teacher_path}: no --manifest given and no train_manifest.csv beside its folder: "
                             f"the prompts to distil on come from the teacher's training manifest")
        manifest = guess
    conditions = read_conditions(manifest, pipe.scaler.names)
    pairs = None
    if pairs_cache and os.path.exists(pairs_cache):
        pairs = torch.load(pairs_cache, weights_only=True)
        if pairs.get("key") != _pairs_key(teacher_path, cfg):
            pairs = None
    if pairs is None:
        _log(f"{cfg.pairs} teacher trajectories ({cfg.teacher_steps} steps x 3 passes) on {len(conditions)} "
             f"training conditions from {manifest}", progress)
        pairs = make_pairs(pipe, conditions, cfg, progress)
        if pairs_cache:
            torch.save({**pairs, "key": _pairs_key(teacher_path, cfg)}, pairs_cache + ".tmp")
            os.replace(pairs_cache + ".tmp", pairs_cache)
    t_pairs = time.time()
    _log(f"training the {cfg.steps}-step student ({cfg.method}, {cfg.train_steps} steps)", progress)
    student, hist = train_student(pipe, pairs, cfg, progress)
    t_train = time.time()
    from videoforge.distill.student import GUIDANCE_MAX

    doc = dict(ck)
    doc["stdit"] = {"config": ck["stdit"]["config"], "state": {k: v.detach().clone() for k, v in student.state_dict().items()}}
    doc["distill"] = {"method": cfg.method, "steps": cfg.steps, "teacher_sha256": _sha256(teacher_path),
                      "teacher_steps": cfg.teacher_steps, "cfg_text": cfg.cfg_text, "cfg_metric": cfg.cfg_metric,
                      "guidance_max": GUIDANCE_MAX, "config": {k: list(v) if isinstance(v, tuple) else v
                                                               for k, v in cfg.to_dict().items()}}
    os.makedirs(os.path.dirname(os.path.abspath(out)) or ".", exist_ok=True)
    tmp = out + ".tmp"
    torch.save(doc, tmp)
    os.replace(tmp, out)
    return {"student": os.path.abspath(out), "teacher": os.path.abspath(teacher_path), "manifest": manifest,
            "method": cfg.method, "steps": cfg.steps, "pairs": int(pairs["states"].shape[0]),
            "train_steps": cfg.train_steps, "final_loss": float(np.mean(hist[-50:])) if hist else None,
            "seconds": {"pairs": round(t_pairs - t_start, 1), "train": round(t_train - t_pairs, 1),
                        "total": round(time.time() - t_start, 1)}}


def _pairs_key(teacher_path: str, cfg: DistillConfig) -> str:
    return "|".join(str(x) for x in (_sha256(teacher_path), cfg.steps, cfg.teacher_steps, cfg.pairs, cfg.cfg_text,
                                     cfg.cfg_metric, cfg.cfg_text_range, cfg.cfg_metric_range, cfg.default_fraction,
                                     cfg.no_metric_fraction, cfg.seed))
