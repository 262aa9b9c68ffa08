"""Adaptation without forgetting (issue 22, part 1): one base model, five ways to teach it a new domain.

    nice -n 5 .venv/bin/python benchmarks/adapt_experiment.py --out /tmp/adapt_exp

1. Data (synthetic, from our shapes generator, through the data engine as any user's footage:
   `videoforge run` + `videoforge export --format opensora`, captions joined by source_path):
   - domain A, the base's: red / green / blue circles and squares moving in 4 directions
     (24 triples); a training export and a separate validation export (other render seeds);
   - domain B, the new one: the colour word "yellow" (never in A) on circles and squares.
     Fine-tuning sees 6 of its 8 triples; the other 2 are held out (scored apart).
2. The base: the demo's causal autoencoder and STDiT configs, trained on A only. Its text
   encoder's vocabulary lists every word of the shapes grammar, so "yellow" has a token (an
   untrained embedding) instead of <unk>.
3. Each method (`videoforge.adapt.finetune`, what `videoforge finetune` runs) on the B export:
   full fine-tuning (every weight of STDiT and the text encoder), LoRA, LoRA + replay (a
   fraction of each batch is A clips), LoRA + LwF (distillation to the frozen base on the B
   clips' noisy latents, under the null caption and under A's captions: a prompt list, no A
   footage) and OFT, all with the same steps, batch, learning rate and seed.
4. Scores, each method's adapter merged onto the base: prompt accuracy (the checker of
   synth/shapes.py reads colour, direction and shape back from generated clips) on B prompts
   (gain over the base) and on A prompts (drop from the base), with 95 % bootstrap intervals;
   A's validation flow loss at fixed times and noise (rise from the base); trainable
   parameters (share of the generator's); wall time. Prompt accuracy is colour AND direction
   (the demo's first score); shape is reported beside it: the demo's generator reads shapes
   right < 50 % even on its own domain (docs/benchmarks/train.md), so it would bury the effect.
5. results.json, and the learning-forgetting frontier (gain on B vs drop on A) as a PNG.

Re-running with the same --out resumes: data, base and finished methods are kept.
The machine these figures came from was shared (other jobs running): times are indicative.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

A_COLOURS = ("red", "green", "blue")
B_COLOUR = "yellow"
SHAPES_USED = ("circle", "square")
DIRECTIONS = ("down", "left", "right", "up")
B_HELD_OUT = [("yellow", "circle", "up"), ("yellow", "square", "left")]
RADIUS = 0.25      # the demo's shape size (train/demo.py DEMO_RADIUS)


def log(msg: str):
    print(f"[adapt-exp {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def domain_a() -> list[tuple[str, str, str]]:
    return [(c, s, d) for c in A_COLOURS for s in SHAPES_USED for d in DIRECTIONS]


def domain_b() -> list[tuple[str, str, str]]:
    return [(B_COLOUR, s, d) for s in SHAPES_USED for d in DIRECTIONS]


def make_data(out: str, per_combo: int, seed: int) -> dict:
    """Three exports through the data engine: A-train, A-val, B-train (B's held-out triples excluded)."""
    from videoforge.train.demo import prepare_data

    sets = {"a_train": (domain_a(), per_combo, seed + 1),
            "a_val": (domain_a(), 2, seed + 2),
            "b_train": ([c for c in domain_b() if c not in B_HELD_OUT], per_combo, seed + 3)}
    out_paths = {}
    for name, (combos, n, s) in sets.items():
        log(f"data {name}: {len(combos)} triples x {n} clips")
        manifest, info = prepare_data(os.path.join(out, "data", name), n, [], s, combos, RADIUS)
        out_paths[name] = {"manifest": manifest, **info}
    return out_paths


def all_captions() -> list[str]:
    from videoforge.synth import shapes

    return [shapes.caption_for(*c, f) for c in shapes.combos() for f in (False, True)]


def train_base(out: str, data: dict, ae_steps: int, dit_steps: int) -> str:
    """AE then STDiT on domain A only (the demo's configs); returns the generator checkpoint."""
    from videoforge.models.text import TinyTextEncoder
    from videoforge.train.config import load_config
    from videoforge.train.demo import CONFIG_DIR
    from videoforge.train.loop import train

    man = data["a_train"]["manifest"]
    cache = os.path.join(out, "cache")
    ae_cfg = load_config(os.path.join(CONFIG_DIR, "demo_autoencoder.toml"),
                         [f"data.manifest={man}", f"out_dir={os.path.join(out, 'base', 'autoencoder')}",
                          f"data.cache_dir={cache}", f"steps={ae_steps}"])
    ae_path = os.path.join(ae_cfg.out_dir, "autoencoder.pt")
    if not os.path.exists(ae_path):
        log(f"base autoencoder ({ae_steps} steps, domain A)")
        ae_path = train(ae_cfg)
    dit_cfg = load_config(os.path.join(CONFIG_DIR, "demo_stdit.toml"),
                          [f"data.manifest={man}", f"out_dir={os.path.join(out, 'base', 'stdit')}",
                           f"data.cache_dir={cache}", f"steps={dit_steps}", f"autoencoder_checkpoint={ae_path}",
                           "keep_steps=[]", "stdit.hidden_size=96"])   # the base the published figures used
    # every word of the grammar gets a token: "yellow" is a known (untrained) word, not <unk>
    dit_cfg.text_encoder["vocab"] = TinyTextEncoder.build_vocab(all_captions())
    path = os.path.join(dit_cfg.out_dir, "stdit.pt")
    if not os.path.exists(path):
        log(f"base STDiT ({dit_steps} steps, domain A)")
        path = train(dit_cfg)
    return path


METHODS = {   # name -> (FinetuneConfig fields, uses A's clips for replay, uses A's prompts for LwF)
    "full": (dict(method="full"), False, False),
    "lora": (dict(method="lora", rank=2), False, False),
    "lora_replay": (dict(method="lora", rank=2, replay=0.25), True, False),
    "lora_lwf": (dict(method="lora", rank=2, lwf=1.0), False, True),
    "oft": (dict(method="oft", rank=8), False, False),
}


def generate_hits(pipe, combos, seeds, mid, kw, batch: int = 32) -> dict:
    """Per-clip hits (colour, direction, shape, colour and direction) of generated clips, in a fixed
    order of (combo, seed); the sampling noise depends only on that order, so two models' hits pair up."""
    from videoforge.synth import shapes

    jobs = [(c, s) for c in combos for s in seeds]
    reads = []
    for i in range(0, len(jobs), batch):
        part = jobs[i:i + batch]
        prompts = [shapes.caption_for(c[0], c[1], c[2], False) for c, _ in part]
        clips = pipe.generate(prompts, metrics=mid, frames=16, seed=part[0][1] * 1000 + i, **kw)
        reads += [shapes.read_clip(v) for v in clips]
    col = np.array([r.colour == c[0] for (c, _), r in zip(jobs, reads)])
    dirn = np.array([r.direction == c[2] for (c, _), r in zip(jobs, reads)])
    shp = np.array([r.shape == c[1] for (c, _), r in zip(jobs, reads)])
    return {"colour": col, "direction": dirn, "shape": shp, "prompt": col & dirn,
            "combo": [list(c) for c, _ in jobs], "read_colour": [r.colour for r in reads]}


def val_losses(gen, task, n_t: int = 4, seed: int = 123) -> np.ndarray:
    """Per-clip flow loss of `gen` on the validation clips at fixed times and noise (same draws for every model)."""
    import torch

    out = []
    g = torch.Generator().manual_seed(seed)
    gen.eval()
    with torch.no_grad():
        for i in range(len(task.data)):
            x0 = task.latent(i)[None]
            prompt = [task.data.rows[i]["caption"]]
            m = task.metrics[i:i + 1]
            y, mask = gen.encode_text(prompt)
            ls = []
            for k in range(n_t):
                t = torch.tensor([(k + 0.5) / n_t])
                noise = torch.randn(x0.shape, generator=g)
                xt = (1 - t) * x0 + t * noise
                v = gen.stdit(xt, t, y, mask, m)
                ls.append(float(((v - (noise - x0)) ** 2).mean()))
            out.append(np.mean(ls))
    return np.array(out)


def boot_ci(values, n_boot: int = 2000, seed: int = 0) -> list[float]:
    v = np.asarray(values, dtype=np.float64)
    idx = np.random.default_rng(seed).integers(0, len(v), size=(n_boot, len(v)))
    means = v[idx].mean(1)
    return [float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))]


def score(pipe, val_task, seeds_a, seeds_b, kw) -> dict:
    from videoforge.synth import shapes  # noqa: F401

    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    mid = {pipe.scaler.names[0]: (lo + hi) / 2}
    t0 = time.time()
    a = generate_hits(pipe, domain_a(), seeds_a, mid, kw)
    b = generate_hits(pipe, domain_b(), seeds_b, mid, kw)
    vl = val_losses(pipe.gen, val_task)
    return {"a": a, "b": b, "val_loss_a": vl, "eval_seconds": time.time() - t0}


def summarise(name, s, base, info=None) -> dict:
    """Figures of one model against the base: accuracies, paired differences with bootstrap intervals."""
    held = np.array([tuple(c) in B_HELD_OUT for c in s["b"]["combo"]])
    d = {"name": name}
    for dom in ("a", "b"):
        for k in ("prompt", "colour", "direction", "shape"):
            h = s[dom][k].astype(float)
            d[f"{dom}_{k}"] = float(h.mean())
            d[f"{dom}_{k}_ci95"] = boot_ci(h)
        d[f"n_{dom}"] = int(len(s[dom]["prompt"]))
    d["b_prompt_held_out"] = float(s["b"]["prompt"][held].mean())
    d["b_prompt_seen"] = float(s["b"]["prompt"][~held].mean())
    d["val_loss_a"] = float(s["val_loss_a"].mean())
    d["n_val_a"] = int(len(s["val_loss_a"]))
    if base is not None:
        gain = s["b"]["prompt"].astype(float) - base["b"]["prompt"].astype(float)
        drop = base["a"]["prompt"].astype(float) - s["a"]["prompt"].astype(float)
        rise = s["val_loss_a"] - base["val_loss_a"]
        d.update(gain_b=float(gain.mean()), gain_b_ci95=boot_ci(gain), drop_a=float(drop.mean()),
                 drop_a_ci95=boot_ci(drop), val_loss_rise_a=float(rise.mean()), val_loss_rise_a_ci95=boot_ci(rise),
                 val_loss_rise_a_rel=float(rise.mean() / base["val_loss_a"].mean()))
    if info:
        d.update(trainable_params=info["trainable_params"], total_params=info["total_params"],
                 trainable_fraction=info["trainable_fraction"], train_seconds=info["seconds"], lr=info["lr"],
                 final_loss=info["losses"][-1][1])
    d["eval_seconds"] = round(s["eval_seconds"], 1)
    return d


def ratio_ci(s_m, s_full, base, n_boot: int = 2000, seed: int = 0) -> tuple[float, list[float]]:
    """gain_B(method) / gain_B(full) with a paired bootstrap over B's clips."""
    bm, bf, b0 = (x["b"]["prompt"].astype(float) for x in (s_m, s_full, base))
    rng = np.random.default_rng(seed)
    rs = []
    for _ in range(n_boot):
        i = rng.integers(0, len(b0), len(b0))
        gf = (bf[i] - b0[i]).mean()
        if gf > 0:
            rs.append((bm[i] - b0[i]).mean() / gf)
    g = (bf - b0).mean()
    ci = [float(np.percentile(rs, 2.5)), float(np.percentile(rs, 97.5))] if rs else [float("nan")] * 2
    return float((bm - b0).mean() / g) if g else float("nan"), ci


def frontier_png(rows: list[dict], path: str):
    """Gain on B (x) against accuracy lost on A (y), one labelled point per method with both intervals."""
    from PIL import Image, ImageDraw

    W, H, L, R, T, B = 900, 520, 80, 230, 40, 70
    img = Image.new("RGB", (W, H), "white")
    dr = ImageDraw.Draw(img)
    xs = [v for r in rows for v in r["gain_b_ci95"]] + [1.0]
    ys = [v for r in rows for v in r["drop_a_ci95"]] + [0.0, 0.1]
    x0, x1 = min(xs) - 0.05, max(xs) + 0.05
    y0, y1 = min(ys) - 0.03, max(ys) + 0.03
    px = lambda v: L + (v - x0) / (x1 - x0) * (W - L - R)          # noqa: E731
    py = lambda v: H - B - (v - y0) / (y1 - y0) * (H - T - B)      # noqa: E731
    dr.rectangle([L, T, W - R, H - B], outline="black")
    for k in range(6):
        vx = x0 + k * (x1 - x0) / 5
        vy = y0 + k * (y1 - y0) / 5
        dr.line([px(vx), H - B, px(vx), H - B + 5], fill="black")
        dr.text((px(vx) - 14, H - B + 8), f"{100 * vx:.0f}", fill="black")
        dr.line([L - 5, py(vy), L, py(vy)], fill="black")
        dr.text((L - 40, py(vy) - 6), f"{100 * vy:.0f}", fill="black")
    dr.line([L, py(0.02), W - R, py(0.02)], fill=(200, 120, 120))      # the 2-point forgetting budget
    dr.text((W - R - 150, py(0.02) - 14), "2 points lost on A", fill=(200, 120, 120))
    dr.line([L, py(0.0), W - R, py(0.0)], fill=(190, 190, 190))
    colours = {"full": (0, 0, 0), "lora": (30, 90, 220), "lora_replay": (20, 160, 60), "lora_lwf": (220, 120, 0),
               "oft": (170, 40, 170)}
    for i, r in enumerate(rows):
        c = colours.get(r["name"], (0, 0, 0))
        x, y = px(r["gain_b"]), py(r["drop_a"])
        dr.line([px(r["gain_b_ci95"][0]), y, px(r["gain_b_ci95"][1]), y], fill=c, width=1)
        dr.line([x, py(r["drop_a_ci95"][0]), x, py(r["drop_a_ci95"][1])], fill=c, width=1)
        dr.ellipse([x - 5, y - 5, x + 5, y + 5], fill=c)
        dr.text((x + 10, y - 22 + 11 * i), f"{r['name']} ({100 * r.get('trainable_fraction', 0):.1f} % params)", fill=c)
    dr.text((L, 12), "Learning vs forgetting: gain on B (yellow) vs accuracy lost on A, points (95 % bootstrap)", fill="black")
    dr.text((L + 160, H - 35), "gain in prompt accuracy on B prompts (points)", fill="black")
    dr.text((8, T - 20), "lost on A (points)", fill="black")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    img.save(path)


def run_methods(out: str, base: str, data: dict, args) -> dict:
    from videoforge.adapt.adapters import apply_adapters, load_adapter, save_adapter
    from videoforge.adapt.finetune import FinetuneConfig, data_task, finetune
    from videoforge.models.pipeline import Pipeline
    from videoforge.synth import shapes

    cache = os.path.join(out, "cache")
    val_task = data_task(base, data["a_val"]["manifest"], cache, 0, 1)
    kw = dict(steps=args.sample_steps, cfg_text=4.0, cfg_metric=2.0)
    seeds_a, seeds_b = list(range(args.seeds_a)), list(range(args.seeds_b))
    scores = {}
    path = os.path.join(out, "scores", "base.npz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    scores["base"] = _cached_score(path, lambda: score(Pipeline.load(base), val_task, seeds_a, seeds_b, kw))
    log(f"base: A prompt {scores['base']['a']['prompt'].mean():.3f}, B prompt {scores['base']['b']['prompt'].mean():.3f}")
    a_prompts = sorted({shapes.caption_for(*c, f) for c in domain_a() for f in (False, True)})
    infos = {}
    for name in args.methods:
        fields, replay, lwf = METHODS[name]
        ad_path = os.path.join(out, "adapters", f"{name}.safetensors")
        if not os.path.exists(ad_path):
            cfg = FinetuneConfig(steps=args.steps, batch_size=args.batch_size, seed=args.seed, **fields)
            log(f"{name}: fine-tuning ({args.steps} steps, batch {args.batch_size})")
            ad = finetune(cfg, base, data["b_train"]["manifest"], cache_dir=cache,
                          replay_data=data["a_train"]["manifest"] if replay else None,
                          lwf_prompts=a_prompts if lwf else None, progress=False)
            save_adapter(ad_path, ad)
        ad = load_adapter(ad_path)
        infos[name] = ad.info
        pipe = Pipeline.load(base)
        apply_adapters(pipe.gen, [ad])
        pipe.gen.eval()
        scores[name] = _cached_score(os.path.join(out, "scores", f"{name}.npz"),
                                     lambda: score(pipe, val_task, seeds_a, seeds_b, kw))
        log(f"{name}: A prompt {scores[name]['a']['prompt'].mean():.3f}, B prompt {scores[name]['b']['prompt'].mean():.3f}, "
            f"train {ad.info['seconds']:.0f} s")
    return scores, infos


def _cached_score(path, fn) -> dict:
    """A model's per-clip scores, kept in an .npz so a re-run does not sample again."""
    if os.path.exists(path):
        z = np.load(path, allow_pickle=False)
        return {"a": {k: z[f"a_{k}"] for k in ("prompt", "colour", "direction", "shape")} | {"combo": z["a_combo"].tolist()},
                "b": {k: z[f"b_{k}"] for k in ("prompt", "colour", "direction", "shape")} | {"combo": z["b_combo"].tolist()},
                "val_loss_a": z["val_loss_a"], "eval_seconds": float(z["eval_seconds"])}
    s = fn()
    np.savez(path, **{f"{d}_{k}": s[d][k] for d in ("a", "b") for k in ("prompt", "colour", "direction", "shape")},
             a_combo=np.array(s["a"]["combo"]), b_combo=np.array(s["b"]["combo"]),
             val_loss_a=s["val_loss_a"], eval_seconds=s["eval_seconds"])
    return s


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--stage", choices=["base", "all"], default="all", help="base: data + base model only")
    p.add_argument("--per-combo", type=int, default=8)
    p.add_argument("--ae-steps", type=int, default=200)
    p.add_argument("--dit-steps", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--steps", type=int, default=100, help="fine-tuning steps per method (same for every method)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--seeds-a", type=int, default=2, help="samples per A triple (24 triples)")
    p.add_argument("--seeds-b", type=int, default=6, help="samples per B triple (8 triples, 2 held out of fine-tuning)")
    p.add_argument("--sample-steps", type=int, default=20)
    p.add_argument("--png", default="docs/benchmarks/adapt_frontier.png", help="the frontier plot ('' for none)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    t0 = time.time()
    data = make_data(out, args.per_combo, args.seed)
    t_data = time.time()
    base = train_base(out, data, args.ae_steps, args.dit_steps)
    log(f"base: {base} (data {t_data - t0:.0f} s, base {time.time() - t_data:.0f} s)")
    with open(os.path.join(out, "base.json"), "w") as f:
        json.dump({"base": base, "data": data, "seconds_data": round(t_data - t0, 1),
                   "seconds_base": round(time.time() - t_data, 1)}, f, indent=1)
    if args.stage == "base":
        print(base)
        return 0
    scores, infos = run_methods(out, base, data, args)
    rows = [summarise("base", scores["base"], None)]
    rows += [summarise(n, scores[n], scores["base"], infos[n]) for n in args.methods]
    res = {"base": base, "data": {k: {kk: vv for kk, vv in v.items() if kk != "manifest"} for k, v in data.items()},
           "methods": rows, "settings": {k: v for k, v in vars(args).items()},
           "load_average": os.getloadavg()}
    if "full" in scores:
        for n in args.methods:
            if n != "full":
                r, ci = ratio_ci(scores[n], scores["full"], scores["base"])
                next(x for x in rows if x["name"] == n).update(gain_ratio_to_full=r, gain_ratio_to_full_ci95=ci)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(res, f, indent=1)
    if args.png:
        frontier_png([r for r in rows if r["name"] != "base"], args.png)
    hdr = f"{'method':12} {'B prompt':>9} {'gain B':>22} {'A prompt':>9} {'drop A':>22} {'val rise A':>11} {'params':>8} {'train s':>8}"
    print(hdr)
    for r in rows:
        if r["name"] == "base":
            print(f"{'base':12} {r['b_prompt']:9.3f} {'':>22} {r['a_prompt']:9.3f} {'':>22} {r['val_loss_a']:11.4f}")
            continue
        print(f"{r['name']:12} {r['b_prompt']:9.3f} {r['gain_b']:+7.3f} [{r['gain_b_ci95'][0]:+.3f},{r['gain_b_ci95'][1]:+.3f}] "
              f"{r['a_prompt']:9.3f} {r['drop_a']:+7.3f} [{r['drop_a_ci95'][0]:+.3f},{r['drop_a_ci95'][1]:+.3f}] "
              f"{r['val_loss_rise_a']:+11.4f} {100 * r['trainable_fraction']:7.2f}% {r['train_seconds']:8.0f}"
              + (f"  gain/full {r['gain_ratio_to_full']:.2f} [{r['gain_ratio_to_full_ci95'][0]:.2f}, "
                 f"{r['gain_ratio_to_full_ci95'][1]:.2f}]" if "gain_ratio_to_full" in r else ""))
    print(os.path.join(out, "results.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
