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
                           "keep_steps=[]"])
    # every word of the grammar gets a token: "yellow" is a known (untrained) word, not <unk>
    dit_cfg.text_encoder["vocab"] = TinyTextEncoder.build_vocab(all_captions())
    path = os.path.join(dit_cfg.out_dir, "stdit.pt")
    if not os.path.exists(path):
        log(f"base STDiT ({dit_steps} steps, domain A)")
        path = train(dit_cfg)
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--stage", choices=["base", "all"], default="all", help="base: data + base model only")
    p.add_argument("--per-combo", type=int, default=8)
    p.add_argument("--ae-steps", type=int, default=200)
    p.add_argument("--dit-steps", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1)
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
    raise SystemExit("adapt stage: not written yet")


if __name__ == "__main__":
    sys.exit(main())
