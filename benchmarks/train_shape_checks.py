"""Issue 19's cheap shape checks for the training demo (docs/benchmarks/train.md, run 7).

    python benchmarks/train_shape_checks.py ceiling --radius 0.142857 0.2 0.25 0.3
        the checker on the x4 latent's shortcut alone (4x4 block means of 4 frames, nearest and
        bilinear upsampling) of 96 fresh clips per shape radius (all 48 triples x slow/fast,
        H.264, read at 32 x 32): can the latent carry the shape at that size at all?
    python benchmarks/train_shape_checks.py probe CKPT [--which held-out|seen|red-right] [--seeds N]
        [--frames F] [--cfg-text S]
        a quick accuracy probe of a generator checkpoint (e.g. a kept stdit-step1000.pt snapshot),
        on the demo's held-out triples, some seen ones, or the shape-only set ("a red <shape>
        moves right"); --steps sets the Euler steps (20 in the demo)
    python benchmarks/train_shape_checks.py denoise CKPT [--t 0.95 0.8 0.6 0.4 0.2]
        noise a real latent of 16 seen triples to level t, then sample from there to 0 (20 t
        Euler steps) under each of the three shape words: is the read shape the prompt's word,
        or the shape that was in the noisy input? (a good denoiser keeps the input's shape at
        small t; a model that follows the word changes it at large t)
    python benchmarks/train_shape_checks.py noise CKPT
        the checker on the generator's AE decoding real latents of 96 clips plus i.i.d. Gaussian
        noise (std 0 - 0.5, the latent's std is ~1): how precise must a latent be to keep the shape?
    python benchmarks/train_shape_checks.py textcos CKPT [--raw]
        cosine between captions that differ in one word (colour, shape or direction), pooled and
        at the differing word, after the STDiT's caption projection (--raw: the text encoder's
        own states)
    python benchmarks/train_shape_checks.py x0 CKPT [--t 0.9 0.7 0.5 0.2]
        the model's one-step clean-latent prediction x0 = z_t - t v under each shape word (and,
        as a control, each of two colour words), from a real latent noised to level t. Scenes are
        rendered three times with the same seed (same background, path) as circle / square /
        triangle, so the true latent difference between two shapes at that position is known.
        "gain" = the share of that true difference the prediction reproduces when only the word
        changes (1 = follows the word fully, 0 = ignores it); "nearest" = the true shape whose
        latent the prediction is closest to (word / input); "read" = the checker on the decoded
        prediction. Is the shape word used at all (high t), and is the outline kept (low t)?
    python benchmarks/train_shape_checks.py export LAST TEMPLATE OUT
        a generator checkpoint of a run's current training state (LAST = OUT_DIR/stdit/last.pt, its
        EMA weights, as the loop exports them) in the format of TEMPLATE (an exported snapshot of the
        same run, e.g. stdit-step1000.pt): probes at steps the config did not keep
    python benchmarks/train_shape_checks.py bind CKPT
        does the shape word's state depend on the colour word? Mean cosine of the shape word's state
        between captions with the same shape and another colour, and with the same colour and
        another shape (text encoder's states and after the STDiT's projection)
    python benchmarks/train_shape_checks.py guide CKPT [--w 0 4 8 16] [--kind colour_shape] [--seeds 4]
        a sampler probe: contrastive shape-word guidance, v + w (v(caption) - mean of v(caption with
        each other shape word)), on the held-out triples of one pair kind (a diagnostic: choosing w
        on these prompts makes it no held-out figure)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

from videoforge.synth import shapes
from videoforge.train import evaluate


def ceiling(radii: list[float], seed: int = 7) -> None:
    from videoforge.models.autoencoder import pool_shortcut, unpool_shortcut
    from videoforge.train.data import decode_rgb

    def bilinear(z, fs, ft):
        z = torch.cat([z[:, :, :1], z[:, :, 1:].repeat_interleave(ft, dim=2)], dim=2)
        B, C, T, H, W = z.shape
        return F.interpolate(z.reshape(B, C * T, H, W), scale_factor=fs, mode="bilinear",
                             align_corners=False).reshape(B, C, T, H * fs, W * fs)

    rng = np.random.default_rng(seed)
    for r in radii:
        speeds = shapes.speeds_for(r)
        clips = [shapes.ShapeClip(*c, sp, float(rng.uniform(*speeds[sp])), "", int(rng.integers(2**31)), r)
                 for c in shapes.combos() for sp in ("slow", "fast")]
        with tempfile.TemporaryDirectory() as d:
            frames = [decode_rgb(p, 17, 32, 32) for p in shapes.write_clips(clips, d, frames=17, size=64)]
        x = torch.from_numpy(np.stack(frames)).permute(0, 4, 1, 2, 3).float() / 127.5 - 1

        def read(rec):
            out = ((rec.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 4, 1).numpy()
            return evaluate.checker_accuracy(clips, list(out))

        z = pool_shortcut(x, 4, 4)
        res = {"radius": r, "n": len(clips), "truth": read(x),
               "block4_nearest": read(unpool_shortcut(z, 4, 4)), "block4_bilinear": read(bilinear(z, 4, 4))}
        print(json.dumps({k: (v if not isinstance(v, dict) else {a: v[a] for a in ("shape", "colour", "direction")})
                          for k, v in res.items()}), flush=True)


def probe(ckpt: str, which: str, seeds: int, frames: int, cfg_text: float, steps: int = 20) -> None:
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt)
    train, test = shapes.split_combos(shapes.held_out_pairs(2, seed=0))
    combos = {"held-out": test, "seen": train[::2], "red-right": [("red", s, "right") for s in shapes.SHAPES]}[which]
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    pairs = shapes.held_out_pairs(2, seed=0) if which == "held-out" else None
    r = evaluate.prompt_accuracy(pipe, combos, list(range(seeds)), frames, {pipe.scaler.names[0]: (lo + hi) / 2},
                                 steps=steps, cfg_text=cfg_text, cfg_metric=2.0, pairs=pairs)
    print(json.dumps({"checkpoint": ckpt, "which": which, **{k: r[k] for k in ("n", "colour", "shape", "direction", "joint")},
                      "ci95": r["ci95"], "confusion_shape": r["confusion_shape"],
                      # shape by the kind of held-out pair a triple contains (colour_shape: the binding)
                      **({"by_kind_shape": {k: v["shape"] for k, v in r["by_kind"].items()}} if "by_kind" in r else {})}))


def _real(radius: float, per: tuple[str, ...], seed: int = 7, combos=None):
    """Fresh ground-truth clips (H.264, read at 32 x 32) and their frames as a [-1, 1] tensor."""
    from videoforge.train.data import decode_rgb

    rng = np.random.default_rng(seed)
    speeds = shapes.speeds_for(radius)
    clips = [shapes.ShapeClip(*c, sp, float(rng.uniform(*speeds[sp])), "", int(rng.integers(2**31)), radius)
             for c in (combos or shapes.combos()) for sp in per]
    with tempfile.TemporaryDirectory() as d:
        frames = [decode_rgb(p, 17, 32, 32) for p in shapes.write_clips(clips, d, frames=17, size=64)]
    return clips, torch.from_numpy(np.stack(frames)).permute(0, 4, 1, 2, 3).float() / 127.5 - 1


def _u8(v):
    return ((v.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 4, 1).numpy()


@torch.no_grad()
def denoise(ckpt: str, levels: list[float], cfg_text: float, radius: float = 0.25) -> None:
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt)
    sc, st = pipe.latent_scale, pipe.gen.stdit
    train, _ = shapes.split_combos(shapes.held_out_pairs(2, seed=0))
    clips, x = _real(radius, ("slow",), seed=3, combos=train[::2])
    B = len(clips)
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    met = pipe.scaler.normalize([{pipe.scaler.names[0]: (lo + hi) / 2}] * B)
    x0 = pipe.ae.encode(x) * sc
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))
    no_text = torch.ones(B, dtype=torch.bool)
    for t in levels:
        follow, keep = [], []
        for s in shapes.SHAPES:
            y, m = pipe.gen.encode_text([shapes.caption_for(c.colour, s, c.direction, False) for c in clips])
            z = (1 - t) * x0 + t * noise
            ts = torch.linspace(t, 0, max(2, int(20 * t)) + 1)
            for i in range(len(ts) - 1):
                tt = torch.full((B,), float(ts[i]))
                vc, vu = st(z, tt, y, m, met), st(z, tt, y, m, met, drop_text=no_text)
                z = z + (ts[i + 1] - ts[i]) * (vu + cfg_text * (vc - vu))
            read = [shapes.read_clip(f).shape for f in _u8(pipe.ae.decode(z / sc))]
            follow += [r == s for r in read]
            keep += [r == c.shape for r, c in zip(read, clips)]
        print(json.dumps({"t": t, "n": len(follow), "read_is_prompt_word": float(np.mean(follow)),
                          "ci95_word": evaluate.bootstrap_ci(follow),
                          "read_is_input_shape": float(np.mean(keep)), "ci95_input": evaluate.bootstrap_ci(keep)}),
              flush=True)


@torch.no_grad()
def noise_check(ckpt: str, radius: float = 0.25) -> None:
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt)
    clips, x = _real(radius, ("slow", "fast"))
    z = pipe.ae.encode(x)
    g = torch.Generator().manual_seed(0)
    for s in (0.0, 0.1, 0.2, 0.3, 0.5):
        zn = z * pipe.latent_scale + s * torch.randn(z.shape, generator=g)
        r = evaluate.checker_accuracy(clips, list(_u8(pipe.ae.decode(zn / pipe.latent_scale))))
        print(json.dumps({"noise_std": s, "n": r["n"], "shape": r["shape"], "colour": r["colour"],
                          "direction": r["direction"], "ci95": r["ci95"]}), flush=True)


@torch.no_grad()
def textcos(ckpt: str, raw: bool) -> None:
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt)
    names = ("colour", "shape", "direction")
    pos = {"colour": 1, "shape": 2, "direction": 4}          # word index in "a red circle moves left"
    values = {"colour": list(shapes.COLOURS), "shape": list(shapes.SHAPES), "direction": list(shapes.DIRECTIONS)}
    out = {}
    for attr in names:
        k = names.index(attr)
        pooled, word = [], []
        for c in shapes.combos():
            if c[k] != values[attr][0]:
                continue
            alts = [tuple(v if i == k else c[i] for i in range(3)) for v in values[attr][1:]]
            y, _ = pipe.gen.encode_text([shapes.caption_for(*a, False) for a in [c] + alts])
            h = y if raw else pipe.gen.stdit.y_embedder(y)
            p = h.mean(1)
            for i in range(1, len(alts) + 1):
                pooled.append(float(torch.cosine_similarity(p[0], p[i], 0)))
                word.append(float(torch.cosine_similarity(h[0, pos[attr]], h[i, pos[attr]], 0)))
        out[attr] = {"pooled": round(float(np.mean(pooled)), 3), "at_word": round(float(np.mean(word)), 3),
                     "pairs": len(word)}
    print(json.dumps({"checkpoint": ckpt, "states": "text encoder" if raw else "STDiT projection", **out}))


@torch.no_grad()
def x0_check(ckpt: str, levels: list[float], cfg_text: float, radius: float = 0.25, seed: int = 11) -> None:
    from videoforge.models.pipeline import Pipeline
    from videoforge.train.data import decode_rgb

    pipe = Pipeline.load(ckpt)
    sc, st = pipe.latent_scale, pipe.gen.stdit
    cols, shp = list(shapes.COLOURS), list(shapes.SHAPES)
    rng = np.random.default_rng(seed)
    speeds = shapes.speeds_for(radius)
    scenes = [(c, d, float(rng.uniform(*speeds["slow"])), int(rng.integers(2**31)))
              for c in cols for d in shapes.DIRECTIONS]
    # per scene: the three shapes in its colour, then a circle in the next colour (colour control)
    clips = [shapes.ShapeClip(c, s, d, "slow", tr, "", sd, radius) for c, d, tr, sd in scenes for s in shp]
    clips += [shapes.ShapeClip(cols[(cols.index(c) + 1) % len(cols)], "circle", d, "slow", tr, "", sd, radius)
              for c, d, tr, sd in scenes]
    with tempfile.TemporaryDirectory() as tmp:
        frames = [decode_rgb(p, 17, 32, 32) for p in shapes.write_clips(clips, tmp, frames=17, size=64)]
    x = torch.from_numpy(np.stack(frames)).permute(0, 4, 1, 2, 3).float() / 127.5 - 1
    z = torch.cat([pipe.ae.encode(x[i:i + 16]) for i in range(0, len(x), 16)]) * sc
    N = len(scenes)
    zs = z[:3 * N].view(N, 3, *z.shape[1:])          # (scene, shape, C, T, H, W)
    zc = z[3 * N:]                                   # next colour, circle
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])

    def x0_hat(zt, t, prompts):
        B = len(prompts)
        y, m = pipe.gen.encode_text(prompts)
        met = pipe.scaler.normalize([{pipe.scaler.names[0]: (lo + hi) / 2}] * B)
        tt = torch.full((B,), float(t))
        vc = st(zt, tt, y, m, met, drop_metrics=torch.ones(B, dtype=torch.bool))
        vu = st(zt, tt, y, m, met, drop_text=torch.ones(B, dtype=torch.bool), drop_metrics=torch.ones(B, dtype=torch.bool))
        return zt - t * (vu + cfg_text * (vc - vu))

    def gain(pa, pb, ta, tb):   # share of the true difference ta - tb that pa - pb reproduces, per scene
        d_true, d_pred = (ta - tb).flatten(1), (pa - pb).flatten(1)
        return ((d_pred * d_true).sum(1) / d_true.pow(2).sum(1).clamp_min(1e-8))

    noise = torch.randn(zs[:, 0].shape, generator=torch.Generator().manual_seed(0))
    for t in levels:
        g_shape, near_word, near_in, read_word, read_in = [], [], [], [], []
        for a in range(3):                           # input shape
            zt = (1 - t) * zs[:, a] + t * noise
            preds = [x0_hat(zt, t, [shapes.caption_for(c, shp[w], d, False) for c, d, _, _ in scenes]) for w in range(3)]
            for w in range(3):
                dist = torch.stack([(preds[w] - zs[:, k]).flatten(1).pow(2).sum(1) for k in range(3)], 1)
                near = dist.argmin(1)
                near_word += (near == w).tolist()
                near_in += (near == a).tolist()
                rd = [shapes.read_clip(f).shape for f in _u8(pipe.ae.decode(preds[w] / sc))]
                read_word += [r == shp[w] for r in rd]
                read_in += [r == shp[a] for r in rd]
            for w1 in range(3):
                for w2 in range(w1 + 1, 3):
                    g_shape += gain(preds[w1], preds[w2], zs[:, w1], zs[:, w2]).tolist()
        # colour control: the circle scene under its own colour word and the next colour's
        zt = (1 - t) * zs[:, 0] + t * noise
        nxt = [cols[(cols.index(c) + 1) % len(cols)] for c, _, _, _ in scenes]
        pa = x0_hat(zt, t, [shapes.caption_for(c, "circle", d, False) for c, d, _, _ in scenes])
        pb = x0_hat(zt, t, [shapes.caption_for(n, "circle", d, False) for n, (_, d, _, _) in zip(nxt, scenes)])
        g_col = gain(pa, pb, zs[:, 0], zc).tolist()
        f = lambda v: round(float(np.mean(v)), 3)   # noqa: E731
        print(json.dumps({"t": t, "scenes": N, "shape_gain": f(g_shape), "ci95_shape_gain": evaluate.bootstrap_ci(g_shape),
                          "colour_gain": f(g_col), "ci95_colour_gain": evaluate.bootstrap_ci(g_col),
                          "n": len(near_word), "nearest_is_word": f(near_word), "nearest_is_input": f(near_in),
                          "read_is_word": f(read_word), "read_is_input": f(read_in)}), flush=True)


def export_snapshot(last: str, template: str, out: str) -> None:
    from videoforge.train.tasks import load_checkpoint

    run, tpl = torch.load(last, map_location="cpu", weights_only=False), load_checkpoint(template)
    state = {k: run["ema"][k].to(v.dtype) if run.get("ema") and k in run["ema"] else v for k, v in run["model"].items()}
    tpl["stdit"]["state"] = {k[len("stdit."):]: v for k, v in state.items() if k.startswith("stdit.")}
    if tpl["text_encoder"].get("state") is not None:
        tpl["text_encoder"]["state"] = {k[len("text_encoder."):]: v for k, v in state.items()
                                        if k.startswith("text_encoder.")}
    torch.save(tpl, out)
    print(json.dumps({"step": run["step"], "out": out}))


@torch.no_grad()
def bind(ckpt: str) -> None:
    import itertools

    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt)
    caps = list(shapes.combos())
    y, _ = pipe.gen.encode_text([shapes.caption_for(*c, False) for c in caps])
    for name, h in (("text encoder", y), ("STDiT projection", pipe.gen.stdit.y_embedder(y))):
        h = F.normalize(h[:, 2], dim=-1)          # the shape word: "a red circle moves left"[2]
        other_colour, other_shape = [], []
        for i, j in itertools.combinations(range(len(caps)), 2):
            a, b = caps[i], caps[j]
            if a[2] == b[2] and a[1] == b[1] and a[0] != b[0]:
                other_colour.append(float(h[i] @ h[j]))
            if a[2] == b[2] and a[0] == b[0] and a[1] != b[1]:
                other_shape.append(float(h[i] @ h[j]))
        print(json.dumps({"checkpoint": ckpt, "states": name,
                          "same_shape_other_colour": round(float(np.mean(other_colour)), 3),
                          "same_colour_other_shape": round(float(np.mean(other_shape)), 3),
                          "pairs": [len(other_colour), len(other_shape)]}))


@torch.no_grad()
def guide(ckpt: str, ws: list[float], kind: str, seeds: int, cfg_text: float = 4.0, cfg_metric: float = 2.0) -> None:
    from videoforge.models.pipeline import Pipeline

    pipe = Pipeline.load(ckpt)
    st, sc = pipe.gen.stdit, pipe.latent_scale
    pairs = shapes.held_out_pairs(2, seed=0)
    _, test = shapes.split_combos(pairs)
    jobs = [(c, s) for c in test if shapes.pairs_of(c)[kind] in pairs[kind] for s in range(seeds)]
    B = len(jobs)
    lo, hi = float(pipe.scaler.lo[0]), float(pipe.scaler.hi[0])
    met = pipe.scaler.normalize([{pipe.scaler.names[0]: (lo + hi) / 2}] * B)

    def enc(words):
        return pipe.gen.encode_text([shapes.caption_for(c[0], w, c[2], False) for (c, _), w in zip(jobs, words)])

    y, m = enc([c[1] for c, _ in jobs])
    others = [enc([[s for s in shapes.SHAPES if s != c[1]][k] for c, _ in jobs]) for k in range(2)]
    yes = torch.ones(B, dtype=torch.bool)
    ae = pipe.ae.cfg
    for w in ws:
        x = torch.randn((B, ae.latent_channels, 5, 8, 8), generator=torch.Generator().manual_seed(123))
        ts = torch.linspace(1, 0, 21)
        for i in range(20):
            t = ts[i].expand(B)
            vu = st(x, t, y, m, met, drop_text=yes, drop_metrics=yes)
            vt = st(x, t, y, m, met, drop_metrics=yes)
            v = vu + cfg_text * (vt - vu) + cfg_metric * (st(x, t, y, m, met) - vt)
            if w:
                v = v + w * (vt - sum(st(x, t, yo, mo, met, drop_metrics=yes) for yo, mo in others) / 2)
            x = x + (ts[i + 1] - ts[i]) * v
        rd = [shapes.read_clip(f) for f in _u8(pipe.ae.decode(x / sc)[:, :, :16])]
        hit = {a: [getattr(r, a) == c[k] for (c, _), r in zip(jobs, rd)]
               for k, a in enumerate(("colour", "shape", "direction"))}
        conf: dict = {}
        for (c, _), r in zip(jobs, rd):
            conf[f"{c[1]}->{r.shape}"] = conf.get(f"{c[1]}->{r.shape}", 0) + 1
        print(json.dumps({"w": w, "kind": kind, "n": B, **{a: float(np.mean(v)) for a, v in hit.items()},
                          "ci95_shape": evaluate.bootstrap_ci(hit["shape"]), "confusion_shape": conf}), flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("ceiling", help="the checker on the x4 latent's block means, per shape radius")
    c.add_argument("--radius", type=float, nargs="+", default=[1 / 7, 0.2, 0.25, 0.3])
    q = sub.add_parser("probe", help="quick accuracy of a generator checkpoint")
    q.add_argument("checkpoint")
    q.add_argument("--which", choices=("held-out", "seen", "red-right"), default="held-out")
    q.add_argument("--seeds", type=int, default=2)
    q.add_argument("--frames", type=int, default=16, help="5 for a model trained on 5-frame clips")
    q.add_argument("--cfg-text", type=float, default=4.0)
    q.add_argument("--steps", type=int, default=20)
    d = sub.add_parser("denoise", help="from noisy real latents, under each shape word: word or input shape?")
    d.add_argument("checkpoint")
    d.add_argument("--t", type=float, nargs="+", default=[0.95, 0.8, 0.6, 0.4, 0.2])
    d.add_argument("--cfg-text", type=float, default=4.0)
    n = sub.add_parser("noise", help="the checker on real latents plus Gaussian noise")
    n.add_argument("checkpoint")
    tc = sub.add_parser("textcos", help="cosine of captions that differ in one word")
    tc.add_argument("checkpoint")
    tc.add_argument("--raw", action="store_true")
    x = sub.add_parser("x0", help="one-step x0 prediction under each shape word: is the word used, is the outline kept?")
    x.add_argument("checkpoint")
    x.add_argument("--t", type=float, nargs="+", default=[0.9, 0.7, 0.5, 0.2])
    x.add_argument("--cfg-text", type=float, default=4.0)
    e = sub.add_parser("export", help="a generator checkpoint of a run's last.pt (EMA weights)")
    e.add_argument("last")
    e.add_argument("template")
    e.add_argument("out")
    b = sub.add_parser("bind", help="does the shape word's state depend on the colour word?")
    b.add_argument("checkpoint")
    g = sub.add_parser("guide", help="contrastive shape-word guidance on one held-out pair kind (diagnostic)")
    g.add_argument("checkpoint")
    g.add_argument("--w", type=float, nargs="+", default=[0, 4, 8, 16])
    g.add_argument("--kind", default="colour_shape", choices=shapes.PAIR_KINDS)
    g.add_argument("--seeds", type=int, default=4)
    a = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    if a.cmd == "ceiling":
        ceiling(a.radius)
    elif a.cmd == "probe":
        probe(a.checkpoint, a.which, a.seeds, a.frames, a.cfg_text, a.steps)
    elif a.cmd == "denoise":
        denoise(a.checkpoint, a.t, a.cfg_text)
    elif a.cmd == "bind":
        bind(a.checkpoint)
    elif a.cmd == "guide":
        guide(a.checkpoint, a.w, a.kind, a.seeds)
    elif a.cmd == "export":
        export_snapshot(a.last, a.template, a.out)
    elif a.cmd == "x0":
        x0_check(a.checkpoint, a.t, a.cfg_text)
    elif a.cmd == "noise":
        noise_check(a.checkpoint)
    else:
        textcos(a.checkpoint, a.raw)
    return 0


if __name__ == "__main__":
    sys.exit(main())
