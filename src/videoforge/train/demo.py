"""`python -m videoforge.train.demo --out DIR`: the CPU demo that measurably learns, end to end.

1. render captioned moving-shape clips (synth/shapes.py); held out of training: two
   (colour, shape), two (shape, direction) and two (colour, direction) pairs, i.e. every
   triple containing one of them (16 of 48), so each attribute of a test prompt meets a
   partner it never appeared with;
2. run them through the data engine: `videoforge run` (shots, metrics) then
   `videoforge export --format opensora`;
3. join the captions back onto the export by its lineage column `source_path` (the
   export's `text` is empty until a captioner fills `shots.caption`);
4. train the causal autoencoder, then STDiT with the engine's `motion_peak` as the AdaLN metric;
5. score generated clips with the automatic checker (colour, shape, direction and joint
   accuracy on the held-out triples with 95 % bootstrap intervals, motion control Spearman,
   AE PSNR, the checker's own accuracy on ground truth and on AE reconstructions) into
   DIR/results.json.

The last line printed is the path of the self-contained generator checkpoint.
Re-running with the same --out resumes: existing videos, catalog rows and checkpoints are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

CONFIG_DIR = os.path.join(os.path.dirname(__file__), "configs")
# The demo's shape radius (fraction of the side). At 1/7 (synth/shapes.py's default) a shape is
# 9 pixels across at the 32 x 32 training size, about two cells of the x4 latent: the latent's
# 4x4 block means read back circle / square / triangle right 44 % of the time, so no generator on
# it can follow the shape word. At 1/4 (16 pixels, 4 latent cells) they read back 97 %.
DEMO_RADIUS = 0.25


def log(msg: str):
    print(f"[demo {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _cli(*args: str):
    """Run a videoforge command in a subprocess (the real CLI, as a user would)."""
    cmd = [sys.executable, "-m", "videoforge", *args]
    log(" ".join(cmd[2:]))
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"`videoforge {' '.join(args)}` failed ({r.returncode}): {r.stderr[-2000:]}")
    return r.stdout


def prepare_data(out: str, per_combo: int, held_out: list, seed: int, train_combos: list | None = None,
                 radius: float | None = None, extra_combos: list | None = None,
                 extra_per_combo: int = 0) -> tuple[str, dict]:
    """Videos -> catalog -> Open-Sora export -> training manifest with captions; returns (manifest, info).

    `extra_combos` (training-only colours, `shapes.extra_colour_combos`): `extra_per_combo` more clips
    of each, rendered after the demo's own from their own seed, so the demo's clips stay the same."""
    from videoforge.synth import shapes

    vid_dir, cat_dir, exp_dir = (os.path.join(out, d) for d in ("videos", "catalog", "export"))
    captions_path = os.path.join(out, "captions.json")
    if not os.path.exists(captions_path):
        clips = shapes.sample_clips(per_combo, exclude=held_out, seed=seed, include=train_combos,
                                    radius=radius or shapes.DEFAULT_RADIUS)
        if extra_combos and extra_per_combo > 0:
            clips += shapes.sample_clips(extra_per_combo, seed=seed + 11, include=extra_combos,
                                         radius=radius or shapes.DEFAULT_RADIUS)
        log(f"rendering {len(clips)} clips ({len(held_out)} combinations held out)")
        paths = shapes.write_clips(clips, vid_dir, frames=17, size=64, fps=8.0)
        with open(captions_path + ".tmp", "w") as f:
            json.dump({os.path.abspath(p): c.caption for p, c in zip(paths, clips)}, f, indent=0)
        os.replace(captions_path + ".tmp", captions_path)
    _cli("run", vid_dir, "--catalog", cat_dir, "--no-ocr", "-q", "--json")
    if not os.path.exists(os.path.join(exp_dir, "manifest.csv")):
        _cli("export", cat_dir, "--out", exp_dir, "--format", "opensora", "-q", "--json")

    # captions: the export's `text` stays empty until shots have captions, so join by source_path
    from videoforge.train.config import DataConfig, load_config
    from videoforge.train.data import read_manifest

    rows = read_manifest(DataConfig(manifest=os.path.join(exp_dir, "manifest.csv"), captions=captions_path))
    # the conditioning metric (the STDiT config names it) comes from the engine's catalog,
    # as for any user's export
    metric = load_config(os.path.join(CONFIG_DIR, "demo_stdit.toml")).data.metrics[0]
    # `subject_travel` (train/subject_travel.py): the subject's travel as a fraction of the side, a
    # motion key whose scale does not depend on the shape (the engine's `motion_peak` grows with the
    # moving area); measured on the exported clips at the training size, next to the engine's columns
    from videoforge.train.data import decode_rgb
    from videoforge.train.subject_travel import add_column

    bucket = load_config(os.path.join(CONFIG_DIR, "demo_stdit.toml")).data.buckets[0]
    for err in add_column(rows, lambda r: decode_rgb(r["_src"], bucket[0], bucket[1], bucket[2])):
        log(f"subject_travel: {err}")
    info = {"rows": len(rows), "captioned": sum(1 for r in rows if r.get("text")),
            "metric": metric, "metric_from_engine": sum(1 for r in rows if r.get(metric) not in (None, ""))}
    manifest = os.path.join(out, "train_manifest.csv")
    import csv

    cols = [c for c in rows[0] if not c.startswith("_") and c != "caption"]
    with open(manifest, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({**r, "path": r["_src"]})
    return manifest, info


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m videoforge.train.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output folder (re-running resumes)")
    p.add_argument("--per-combo", type=int, default=13, help="clips per seen (colour, shape, direction), speeds drawn over the whole range")
    p.add_argument("--held-out-pairs", type=int, default=2,
                   help="pairs of each kind, (colour, shape), (shape, direction), (colour, direction), kept out: "
                        "every triple containing one is held out (default 2 of each: 16 of 48 triples)")
    p.add_argument("--held-out", type=int, default=6,
                   help="with --held-out-pairs 0: hold out this many (colour, shape, direction) triples instead")
    p.add_argument("--ae-steps", type=int, default=None, help="override the autoencoder config's steps")
    p.add_argument("--dit-steps", type=int, default=None, help="override the STDiT config's steps")
    p.add_argument("--eval-seeds", type=int, default=6, help="samples per held-out combination")
    p.add_argument("--shape-radius", type=float, default=DEMO_RADIUS,
                   help="the shapes' radius as a fraction of the side (default 1/4: at the 32 x 32 training size "
                        "a 16-pixel shape, 4 cells of the x4 latent; the original 1/7 is 9 pixels, which the "
                        "latent cannot keep apart: docs/notes/train.md)")
    p.add_argument("--extra-colours", type=int, default=0,
                   help="add clips of this many training-only colours (synth/shapes.py EXTRA_COLOURS, never in a "
                        "test prompt) with every shape and direction, minus held-out (shape, direction) pairs, so "
                        "each shape is trained with many colours (docs/notes/train.md, session 11); default 0")
    p.add_argument("--extra-per-combo", type=int, default=5,
                   help="with --extra-colours: clips per training-only (colour, shape, direction)")
    p.add_argument("--quick", action="store_true", help="a few steps of everything (tests)")
    p.add_argument("--eval-only", action="store_true", help="only re-run the evaluation of OUT/stdit/stdit.pt")
    p.add_argument("--checkpoint", default=None,
                   help="with --eval-only: evaluate this generator checkpoint instead (e.g. a kept "
                        "OUT/stdit/stdit-step1000.pt snapshot); results go to OUT/results-<name>-cfg....json")
    p.add_argument("--cfg-text", type=float, default=4.0, help="text guidance scale used in the evaluation")
    p.add_argument("--cfg-metric", type=float, default=2.0, help="metric guidance scale used in the evaluation")
    p.add_argument("--cfg-contrast", type=float, default=0.0,
                   help="contrast guidance scale in the evaluation (models/flow.py euler_sample): pushes along "
                        "what the --contrast-word changes against its alternatives; 0 = off. Choose it on "
                        "training triples (benchmarks/train_contrast_select.py), never on the held-out ones")
    p.add_argument("--contrast-word", default="shape", choices=("colour", "shape", "direction"),
                   help="the attribute word that contrast guidance follows (default shape)")
    p.add_argument("--compose", type=float, nargs=3, default=None, metavar=("W_COLOUR", "W_SHAPE", "W_DIRECTION"),
                   help="composable sampling in the evaluation (models/flow.py euler_sample): adds w x (v(word alone) "
                        "- v(no text)) for the prompt's colour, shape and direction words; for a model trained with "
                        "caption_one_slot. Choose the weights on training triples (benchmarks/train_compose_select.py)")
    p.add_argument("--stdit-set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a key of the STDiT config (demo_stdit.toml), as `videoforge train --set`; "
                        "repeatable. Issue 19's recipe (docs/notes/train.md, session 11; `make demo-train-full`): "
                        "--extra-colours 8 --extra-per-combo 5 --dit-steps 6000 --stdit-set text_encoder.depth=0 "
                        "--stdit-set 'data.metrics=[\"subject_travel\"]'. --dit-steps and --quick's "
                        "small batch win over the same keys given here")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads (default: all cores, or 1 when the machine is already loaded: "
                        "on a shared 2-core box one thread ran matmuls ~6x faster than two)")
    args = p.parse_args(argv)

    import torch

    from videoforge.synth import shapes
    from videoforge.train.config import load_config
    from videoforge.train.loop import train

    cores = os.cpu_count() or 1
    threads = args.threads or (1 if os.getloadavg()[0] >= cores else cores)
    torch.set_num_threads(threads)
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    t_start = time.time()
    if not 0 <= args.extra_colours <= len(shapes.EXTRA_COLOURS):
        p.error(f"--extra-colours must be 0-{len(shapes.EXTRA_COLOURS)} (synth/shapes.py EXTRA_COLOURS)")
    if args.quick:
        args.per_combo, args.ae_steps, args.dit_steps, args.eval_seeds = 1, args.ae_steps or 3, args.dit_steps or 3, 1
        args.extra_per_combo = min(args.extra_per_combo, 1)
    if args.held_out_pairs > 0:
        pairs = shapes.held_out_pairs(args.held_out_pairs, seed=args.seed)
        train_combos, held_out = shapes.split_combos(pairs)
    else:
        pairs, train_combos, held_out = None, None, shapes.held_out_combos(args.held_out, seed=args.seed)
    args.pairs = pairs
    if args.eval_only:
        ckpt = os.path.abspath(args.checkpoint) if args.checkpoint else os.path.join(out, "stdit", "stdit.pt")
        t0 = time.time()
        results = evaluate_demo(out, ckpt, held_out, args)
        results.update(checkpoint=ckpt, held_out=[list(c) for c in held_out], eval_seconds=round(time.time() - t0, 1),
                       shape_radius=args.shape_radius,
                       held_out_pairs={k: [list(p) for p in v] for k, v in (pairs or {}).items()})
        tag = os.path.splitext(os.path.basename(args.checkpoint))[0] + "-" if args.checkpoint else ""
        ctag = f"-contrast{args.contrast_word}{args.cfg_contrast:g}" if args.cfg_contrast else ""
        if args.compose:
            ctag += "-compose" + "_".join(f"{w:g}" for w in args.compose)
        name = f"results-{tag}cfg{args.cfg_text:g}-{args.cfg_metric:g}{ctag}.json"
        with open(os.path.join(out, name), "w") as f:
            json.dump(results, f, indent=1)
        log(json.dumps({k: results[k] for k in ("held_out_accuracy", "motion_control", "ae_psnr_db")}))
        print(ckpt)
        return 0
    # a re-run resumes OUT (its captions, its STDiT's last.pt): refuse one whose recipe differs, which
    # would otherwise mix two recipes' data or resume a generator under other settings silently
    recipe = {"seed": args.seed, "per_combo": args.per_combo, "held_out_pairs": args.held_out_pairs,
              "held_out": args.held_out, "shape_radius": args.shape_radius, "extra_colours": args.extra_colours,
              "extra_per_combo": args.extra_per_combo if args.extra_colours else 0, "stdit_set": args.stdit_set}
    recipe_path = os.path.join(out, "recipe.json")
    if os.path.exists(recipe_path):
        with open(recipe_path) as f:
            before = json.load(f)
        if before != recipe:
            diff = {k: (before.get(k), v) for k, v in recipe.items() if before.get(k) != v}
            raise SystemExit(f"{out} was made with another recipe ({diff}, before -> now); "
                             "use a new --out or remove that folder")
    else:
        with open(recipe_path, "w") as f:
            json.dump(recipe, f, indent=1)
    extra = (shapes.extra_colour_combos(list(shapes.EXTRA_COLOURS)[: args.extra_colours], pairs)
             if args.extra_colours > 0 else None)
    manifest, data_info = prepare_data(out, args.per_combo, held_out, args.seed, train_combos, args.shape_radius,
                                       extra, args.extra_per_combo)
    t_data = time.time()

    def stage_config(toml: str, sub: str, steps: int | None, quick: list[str], extra: tuple[str, ...] = ()):
        """A stage's shipped config with this run's data, folders and step count."""
        over = [f"data.manifest={manifest}", f"out_dir={os.path.join(out, sub)}",
                f"data.cache_dir={os.path.join(out, 'cache')}", *extra]
        if steps:
            over.append(f"steps={steps}")
        if args.quick:
            over += quick
        return load_config(os.path.join(CONFIG_DIR, toml), over)

    ae_cfg = stage_config("demo_autoencoder.toml", "autoencoder", args.ae_steps, ["batch_size=2", "warmup_steps=1"])
    log(f"training the autoencoder ({ae_cfg.steps} steps)")
    ae_path = train(ae_cfg)
    t_ae = time.time()

    dit_cfg = stage_config("demo_stdit.toml", "stdit", args.dit_steps, ["batch_size=4", "warmup_steps=1"],
                           (f"autoencoder_checkpoint={ae_path}", *args.stdit_set))
    log(f"training STDiT ({dit_cfg.steps} steps)")
    ckpt = train(dit_cfg)
    t_dit = time.time()

    log("evaluating")
    results = evaluate_demo(out, ckpt, held_out, args)
    results.update(data=data_info, held_out=[list(c) for c in held_out], checkpoint=ckpt,
                   held_out_pairs={k: [list(p) for p in v] for k, v in (pairs or {}).items()},
                   seconds={"data": round(t_data - t_start, 1), "autoencoder": round(t_ae - t_data, 1),
                            "stdit": round(t_dit - t_ae, 1), "eval": round(time.time() - t_dit, 1),
                            "total": round(time.time() - t_start, 1)},
                   steps={"autoencoder": ae_cfg.steps, "stdit": dit_cfg.steps}, shape_radius=args.shape_radius,
                   recipe=recipe,
                   torch_threads=torch.get_num_threads())
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    log(json.dumps({k: results[k] for k in ("held_out_accuracy", "motion_control", "ae_psnr_db")}))
    print(ckpt)
    return 0


def evaluate_demo(out: str, ckpt: str, held_out: list, args) -> dict:
    import torch

    from videoforge.models.autoencoder import psnr
    from videoforge.models.pipeline import Pipeline
    from videoforge.synth import shapes
    from videoforge.train import evaluate
    from videoforge.train.data import decode_rgb

    pipe = Pipeline.load(ckpt)
    H = pipe.video["height"]
    pairs = getattr(args, "pairs", None)
    # fresh clips of the held-out combinations (seeds no training clip used), through the real
    # codec at the training size: the checker's own accuracy on truth, and on the autoencoder's
    # reconstructions of them (can the latent carry the shape at all?) + AE PSNR
    rng = np.random.default_rng(args.seed + 99)
    radius = getattr(args, "shape_radius", None) or shapes.DEFAULT_RADIUS
    speeds = shapes.speeds_for(radius)
    gt = []
    for c in held_out:
        for sp in ("slow", "fast"):
            gt.append(shapes.ShapeClip(c[0], c[1], c[2], sp, float(rng.uniform(*speeds[sp])),
                                       shapes.caption_for(c[0], c[1], c[2], False), int(rng.integers(2**31)), radius))
    paths = shapes.write_clips(gt, os.path.join(out, "heldout_videos"), frames=17, size=64, fps=8.0)
    frames = [decode_rgb(p, 17, H, H) for p in paths]
    with torch.no_grad():
        x = torch.from_numpy(np.stack(frames)).permute(0, 4, 1, 2, 3).float() / 127.5 - 1
        rec = torch.cat([pipe.ae.decode(pipe.ae.encode(x[i:i + 16])) for i in range(0, len(x), 16)])
    ae_psnr = psnr(rec, x)
    rec_frames = ((rec.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 4, 1).numpy()

    metric = pipe.scaler.names[0]                  # the one conditioning metric (motion_peak)
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])   # its 1st / 99th percentile in training
    mid = {metric: (lo + hi) / 2}
    kw = dict(steps=20 if not args.quick else 2, cfg_text=args.cfg_text, cfg_metric=args.cfg_metric)
    cfg_contrast = float(getattr(args, "cfg_contrast", 0.0) or 0.0)
    word = getattr(args, "contrast_word", "shape")
    if cfg_contrast:
        kw["cfg_contrast"] = cfg_contrast
    ckw = dict(contrast=word) if cfg_contrast else {}
    compose = list(getattr(args, "compose", None) or [])
    if compose and any(compose):
        kw["compose_weights"] = compose
    seeds = list(range(args.eval_seeds))
    held = evaluate.prompt_accuracy(pipe, held_out, seeds, 16, mid, pairs=pairs, **ckw, **kw)
    seen_all = [c for c in shapes.combos() if c not in held_out]
    n_seen = min(len(seen_all), 8)
    seen = [seen_all[i] for i in np.random.default_rng(args.seed + 5).choice(len(seen_all), n_seen, replace=False)]
    seen_acc = evaluate.prompt_accuracy(pipe, seen, seeds[:4], 16, mid, **ckw, **kw)
    levels = list(np.linspace(lo, hi, 5))
    mc_combos = held_out[::max(1, len(held_out) // 6)][:6] + seen[:2]
    mc_prompts = [shapes.caption_for(*c, False) for c in mc_combos]
    mc_contrast = [evaluate.contrast_captions(c, word) for c in mc_combos] if cfg_contrast else None
    mkw = dict(kw, compose_prompts=[evaluate.compose_captions(c) for c in mc_combos]) if "compose_weights" in kw else kw
    mc = evaluate.motion_control(pipe, mc_prompts, levels, seeds[:4] if not args.quick else [0], 16, metric=metric,
                                 contrast_prompts=mc_contrast, **mkw)
    # a few clips to look at
    from videoforge.io.encode import write_video

    samples = os.path.join(out, "samples")
    for c in held_out[:4]:
        prompt = shapes.caption_for(*c, False)
        v = pipe.generate(prompt, metrics=mid, frames=16, seed=0,
                          contrast_prompts=evaluate.contrast_captions(c, word) if cfg_contrast else None,
                          **(dict(kw, compose_prompts=evaluate.compose_captions(c)) if "compose_weights" in kw else kw))
        write_video(os.path.join(samples, prompt.replace(" ", "_") + ".mp4"), list(v), fps=8.0)
    return {"held_out_accuracy": held, "seen_accuracy": seen_acc, "motion_control": mc, "ae_psnr_db": ae_psnr,
            "checker_on_ground_truth": evaluate.checker_accuracy(gt, frames),
            "checker_on_ae_reconstructions": evaluate.checker_accuracy(gt, list(rec_frames)),
            "sampler": {**kw, **({"contrast_word": word} if cfg_contrast else {})}}


if __name__ == "__main__":
    sys.exit(main())
