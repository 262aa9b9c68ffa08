"""Run an iso-compute sweep resumably and score every run on one fixed validation set.

    DIR/train_manifest.csv   the training rows (the validation rows taken out)
    DIR/val.pt               validation latents, captions, metric values, the fixed noise and timestep grid
    DIR/runs/<run_id>/       each run's training folder (train() resumes from its last.pt)
    DIR/runs.jsonl           one line per finished run (appended; a re-run skips the ones there)

Validation losses are comparable across runs because every run sees the same clips, the same
noise (one seeded draw stored in val.pt) and the same timesteps (quantiles of the training
logit-normal, so the grid weighs t as training does); no random caption or metric dropping.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch

from videoforge.scale.grid import Run, plan_runs

RUNS_FILE = "runs.jsonl"


def log(msg: str):
    print(f"[scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _ae_checkpoint(path: str) -> dict:
    from videoforge.models.pipeline import FORMAT
    from videoforge.train.tasks import load_checkpoint

    ck = load_checkpoint(path)
    return ck["autoencoder"] if ck.get("format") == FORMAT else ck


def _is_val(row: dict, fraction: float, seed: int) -> bool:
    """Deterministic split by the row's identity, so a re-run picks the same validation clips."""
    ident = str(row.get("shot_id") or row.get("path") or row.get("_src"))
    h = int(hashlib.sha1(f"{seed}|{ident}".encode()).hexdigest()[:8], 16)
    return h / 0xFFFFFFFF < fraction


def logit_normal_grid(k: int) -> list[float]:
    """k timesteps at the mid-quantiles of sigmoid(N(0, 1)), the training distribution of t."""
    from statistics import NormalDist

    nd = NormalDist()
    return [1 / (1 + math.exp(-nd.inv_cdf((i + 0.5) / k))) for i in range(k)]


def prepare(cfg, out: str, val_fraction: float = 0.1, val_timesteps: int = 8, seed: int = 0,
            max_val: int = 64) -> dict:
    """Split the manifest, encode the validation clips once and fix their noise; idempotent."""
    from videoforge.models.pipeline import autoencoder_from
    from videoforge.train.data import ClipSet, read_manifest
    from videoforge.train.tasks import _to_video

    os.makedirs(out, exist_ok=True)
    man_path, val_path = os.path.join(out, "train_manifest.csv"), os.path.join(out, "val.pt")
    if os.path.exists(man_path) and os.path.exists(val_path):
        return torch.load(val_path, weights_only=True)
    if not cfg.data.manifest.endswith(".csv"):
        raise ValueError(f"{cfg.data.manifest}: scale sweep splits an Open-Sora CSV manifest; "
                         "WebDataset shards are not supported here")
    if not cfg.autoencoder_checkpoint:
        raise ValueError("the config names no autoencoder_checkpoint (the sweep trains STDiT on its latents)")
    rows = read_manifest(cfg.data)
    val_rows = [r for r in rows if _is_val(r, val_fraction, seed)][:max_val]
    train_rows = [r for r in rows if not _is_val(r, val_fraction, seed)]
    if len(val_rows) < 2 or len(train_rows) < 2:
        raise ValueError(f"{cfg.data.manifest}: {len(rows)} rows give {len(train_rows)} training and "
                         f"{len(val_rows)} validation clips; need at least 2 of each (raise --val-fraction?)")
    ae_ck = _ae_checkpoint(cfg.autoencoder_checkpoint)
    ae = autoencoder_from(ae_ck)
    scale = float(ae_ck["latent_scale"])
    # validation clips at the largest-frames bucket only, so all latents share one shape
    bucket = max(cfg.data.buckets, key=lambda b: b[0])
    clips = ClipSet(val_rows, [bucket], cfg.data.cache_dir or os.path.join(out, "cache"))
    with torch.no_grad():
        z = torch.cat([ae.encode(_to_video(clips.clip(i)[None]))[0:1] * scale for i in range(len(clips))])
    ts = logit_normal_grid(val_timesteps)
    g = torch.Generator().manual_seed(seed + 12345)
    noise = torch.randn((len(ts), *z.shape), generator=g)
    metrics = {n: [float(r[n]) if r.get(n) not in (None, "") else float("nan") for r in clips.rows]
               for n in cfg.data.metrics}
    val = {"latents": z, "captions": [r["caption"] for r in clips.rows], "metrics": metrics,
           "timesteps": torch.tensor(ts), "noise": noise, "bucket": list(bucket),
           "rows": [str(r.get("shot_id") or r.get("path")) for r in clips.rows]}
    cols = [c for c in rows[0] if not c.startswith("_") and c != "caption"]
    with open(man_path + ".tmp", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in train_rows:
            w.writerow({**r, "path": r["_src"]})
    os.replace(man_path + ".tmp", man_path)
    torch.save(val, val_path + ".tmp")
    os.replace(val_path + ".tmp", val_path)
    log(f"validation: {len(clips)} clips x {len(ts)} timesteps; training rows: {len(train_rows)}")
    return val


@torch.no_grad()
def validation_loss(ckpt: dict | str, val: dict, batch: int = 32) -> tuple[float, list[float]]:
    """Mean flow MSE of a generator checkpoint on the fixed validation set, and its value per timestep."""
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt) if isinstance(ckpt, str) else Pipeline(ckpt)
    gen = pipe.gen.eval()
    rows = [{n: v[i] for n, v in val["metrics"].items()} for i in range(len(val["captions"]))]
    met = pipe.scaler.normalize(rows)
    x0 = val["latents"]
    per_t = []
    for k, t in enumerate(val["timesteps"].tolist()):
        tot = 0.0
        for s in range(0, len(x0), batch):
            xb, nb = x0[s:s + batch], val["noise"][k, s:s + batch]
            xt = (1 - t) * xb + t * nb
            v = gen(xt, torch.full((len(xb),), t), val["captions"][s:s + batch], met[s:s + batch])
            tot += float(((v.float() - (nb - xb)) ** 2).mean(dim=(1, 2, 3, 4)).sum())
        per_t.append(tot / len(x0))
    return float(np.mean(per_t)), per_t


def read_runs(out: str, status: str | None = "done") -> list[dict]:
    path = os.path.join(out, RUNS_FILE)
    if not os.path.exists(path):
        return []
    recs = []
    with open(path) as f:
        for ln in f:
            if ln.strip():
                try:
                    r = json.loads(ln)
                except json.JSONDecodeError:      # a line cut by an interruption: skip it
                    continue
                if status is None or r.get("status") == status:
                    recs.append(r)
    return recs


def _append(out: str, rec: dict):
    with open(os.path.join(out, RUNS_FILE), "a") as f:
        f.write(json.dumps(rec) + "\n")
        f.flush()
        os.fsync(f.fileno())


def run_config(base, run: Run, out: str):
    """The training config of one run: the base config's model and optimiser, this run's size, LR,
    batch and steps, on the training split, no EMA (a short run's EMA lags its weights)."""
    cfg = copy.deepcopy(base)
    cfg.out_dir = os.path.join(out, "runs", run.run_id)
    cfg.data.manifest = os.path.join(out, "train_manifest.csv")
    cfg.data.where = None
    cfg.data.cache_dir = base.data.cache_dir or os.path.join(out, "cache")
    sd = {k: v for k, v in cfg.stdit.items() if k != "size"}
    sd.update(hidden_size=run.hidden, depth=run.depth, num_heads=run.heads)
    cfg.stdit = sd
    frac = base.warmup_steps / max(1, base.steps)       # keep the base schedule's warm-up share
    cfg.steps, cfg.batch_size, cfg.lr = run.steps, run.batch, run.lr
    cfg.warmup_steps = max(1, int(round(frac * run.steps)))
    cfg.grad_accum, cfg.ema_decay, cfg.keep_steps = 1, 0.0, ()
    cfg.log_every = max(1, run.steps // 4)
    cfg.ckpt_every = max(1, run.steps // 4)             # an interrupted run loses at most a quarter
    return cfg


def execute(base, run: Run, out: str, val: dict) -> dict:
    """Train one run (resuming its folder), score it, append its record; failures are recorded, not raised."""
    from videoforge.train.loop import train

    cfg = run_config(base, run, out)
    t0 = time.time()
    try:
        path = train(cfg)
        vloss, per_t = validation_loss(path, val)
        train_loss = None
        with open(os.path.join(cfg.out_dir, "log.jsonl")) as f:
            lines = [json.loads(ln) for ln in f if ln.strip()]
        if lines:
            train_loss = lines[-1]["loss"]
        rec = {**run.to_dict(), "status": "done", "val_loss": vloss, "val_loss_by_t": per_t,
               "train_loss": train_loss, "seconds": round(time.time() - t0, 2),
               "threads": torch.get_num_threads()}
        last = os.path.join(cfg.out_dir, "last.pt")
        if os.path.exists(last):
            os.remove(last)          # optimiser state is no longer needed; the exported weights stay
    except Exception as e:   # noqa: BLE001 - one bad run is recorded and the sweep goes on
        rec = {**run.to_dict(), "status": "failed", "error": f"{type(e).__name__}: {e}",
               "seconds": round(time.time() - t0, 2)}
    _append(out, rec)
    return rec


def latent_geometry(base) -> tuple[tuple[int, int, int], int]:
    """(latent T, H, W) of the largest-frames bucket, and the latent channels, from the autoencoder's config."""
    from videoforge.models.autoencoder import AutoencoderConfig

    ae = _ae_checkpoint(base.autoencoder_checkpoint)
    acfg = AutoencoderConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in ae["config"].items()})
    f, h, w = max(base.data.buckets, key=lambda b: b[0])
    T = 1 + (f - 1) // acfg.temporal_factor
    return (T, h // acfg.spatial_factor, w // acfg.spatial_factor), acfg.latent_channels


def sweep(base, out: str, budgets, sizes, lrs, batches, val_fraction=0.1, val_timesteps=8, seed=0,
          min_steps: int = 4, dry_run: bool = False) -> list[dict]:
    """Plan, then train and score every run not yet in DIR/runs.jsonl; returns all finished records."""
    from videoforge.train.tasks import _text_dim

    (T, H, W), C = latent_geometry(base)
    text_dim = _text_dim(dict(base.text_encoder))
    runs, skipped = plan_runs(budgets, sizes, lrs, batches, (T, H, W), base.stdit, C, text_dim,
                              base.data.metrics, min_steps)
    for s in skipped:
        log(f"skipped {s}")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "plan.json"), "w") as f:
        json.dump({"runs": [r.to_dict() for r in runs], "skipped": skipped, "latent_thw": [T, H, W],
                   "budgets": list(budgets), "lrs": list(lrs), "batches": list(batches),
                   "sizes": [[s.hidden, s.depth, s.heads] for s in sizes]}, f, indent=1)
    if dry_run:
        return [r.to_dict() for r in runs]
    val = prepare(base, out, val_fraction, val_timesteps, seed)
    done = {r["run_id"] for r in read_runs(out)}
    todo = [r for r in runs if r.run_id not in done]
    log(f"{len(runs)} runs planned, {len(runs) - len(todo)} already done, {len(todo)} to train")
    for i, run in enumerate(todo):
        rec = execute(base, run, out, val)
        what = f"val {rec['val_loss']:.4f}" if rec["status"] == "done" else f"FAILED {rec['error']}"
        log(f"run {i + 1}/{len(todo)} {run.run_id}: N={run.params} D={run.tokens} C={run.flops:.3g} "
            f"steps={run.steps}: {what} ({rec['seconds']} s)")
    return read_runs(out)


def clean_run_dirs(out: str):
    """Remove every run folder (records in runs.jsonl stay)."""
    shutil.rmtree(os.path.join(out, "runs"), ignore_errors=True)


def _cell(r: dict) -> tuple:
    return tuple(r.get(k) for k in ("budget", "hidden", "depth", "heads", "batch"))


def lr_edge_cells(runs: list[dict], attempted: set | None = None) -> list[tuple[dict, float]]:
    """(a run of the cell, next LR to try) for every (budget, size, batch) cell whose best LR is an edge
    of the LRs tried there: the top edge gets twice the top LR, the bottom edge half the bottom one.
    A cell tried at one LR only is left alone (its grid was chosen that way). Diverged runs (non-finite
    loss) do not count as tried LRs' results; a (cell, LR) in `attempted` (e.g. a run that failed) is
    not proposed again."""
    import math

    cells: dict = {}
    for r in runs:
        if math.isfinite(float(r.get("val_loss", float("nan")))):
            cells.setdefault(_cell(r), []).append(r)
    out = []
    for key, rs in cells.items():
        lrs = sorted({r["lr"] for r in rs})
        if len(lrs) < 2:
            continue
        best = min(rs, key=lambda r: r["val_loss"])["lr"]
        nxt = None
        if best == lrs[-1]:
            nxt = float(f"{lrs[-1] * 2:.3g}")
        elif best == lrs[0]:
            nxt = float(f"{lrs[0] / 2:.3g}")
        if nxt is not None and (key, nxt) not in (attempted or set()):
            out.append((rs[0], nxt))
    # cheapest cells first, so an interrupted extension has fixed the most cells
    return sorted(out, key=lambda x: x[0]["flops"] / x[0]["flops_per_sample"] * x[0]["params"])


def extend_lr(base, out: str, rounds: int = 2, val_fraction=0.1, val_timesteps=8, seed=0,
              dry_run: bool = False) -> list[dict]:
    """Until every cell's best LR is interior (or `rounds` extra LRs per cell were tried): train each
    edge cell at the next LR beyond its edge. Works on DIR/runs.jsonl as `sweep` left it."""
    from videoforge.scale.grid import Size
    from videoforge.train.tasks import _text_dim

    (T, H, W), C = latent_geometry(base)
    text_dim = _text_dim(dict(base.text_encoder))
    planned = []
    for k in range(rounds):
        # a (cell, LR) already tried and failed is not retried round after round
        attempted = {(_cell(r), r.get("lr")) for r in read_runs(out, status=None)}
        todo = lr_edge_cells(read_runs(out), attempted)
        if not todo:
            break
        if dry_run:
            return [{"run_id": r["run_id"], "next_lr": lr} for r, lr in todo]
        val = prepare(base, out, val_fraction, val_timesteps, seed)
        log(f"LR extension round {k + 1}/{rounds}: {len(todo)} cells have their best LR at an edge")
        for r, lr in todo:
            size = Size(r["hidden"], r["depth"], r["heads"])
            runs, _ = plan_runs([r["budget"]], [size], [lr], [r["batch"]], (T, H, W), base.stdit, C, text_dim,
                                base.data.metrics, 1)
            rec = execute(base, runs[0], out, val)
            planned.append(rec)
            what = f"val {rec['val_loss']:.4f}" if rec["status"] == "done" else f"FAILED {rec['error']}"
            log(f"{runs[0].run_id}: {what} ({rec['seconds']} s)")
    return read_runs(out)
