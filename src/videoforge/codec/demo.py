"""`make demo-codec`: train the demo's codec model on the shapes demo (64x64, 17 frames) on CPU.

Real data path: moving-shape clips are rendered and encoded, run through the data engine and
exported (as `make demo-train` does), an LFQ autoencoder is trained by the project's training
loop on the export, then the bit prior on the autoencoder's tokens of the training clips. The
codec model's path is the last word of the last line.

    python -m videoforge.codec.demo --out demo-out/codec [--channels 8] [--quick]
"""

from __future__ import annotations

import argparse
import os
import time


def log(msg: str) -> None:
    print(f"[codec demo {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m videoforge.codec.demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="output folder (re-running reuses the rendered data)")
    p.add_argument("--per-combo", type=int, default=4, help="training clips per (colour, shape, direction)")
    p.add_argument("--channels", type=int, default=8, help="LFQ bits per token (the rate knob; codebook 2**channels)")
    p.add_argument("--ae-steps", type=int, default=600)
    p.add_argument("--prior-steps", type=int, default=400)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true", help="a few steps of everything (tests)")
    args = p.parse_args(argv)
    if args.quick:
        args.per_combo, args.ae_steps, args.prior_steps = 1, 2, 3
    out = os.path.abspath(args.out)
    os.makedirs(out, exist_ok=True)
    t0 = time.time()

    import numpy as np
    import torch

    from videoforge.codec.model import save_codec_model
    from videoforge.codec.prior import token_bits, train_prior
    from videoforge.models.pipeline import autoencoder_from
    from videoforge.train.config import load_config
    from videoforge.train.data import ClipSet, read_manifest
    from videoforge.train.demo import CONFIG_DIR, prepare_data
    from videoforge.train.loop import train

    data_dir = os.path.join(out, "data")
    manifest, info = prepare_data(data_dir, args.per_combo, [], args.seed)
    log(f"{info['rows']} training clips")
    over = [f"data.manifest={manifest}", f"out_dir={os.path.join(out, f'autoencoder-c{args.channels}')}",
            f"data.cache_dir={os.path.join(out, 'cache')}", "data.buckets=[[17, 64, 64]]", "data.crop_frames=17",
            "autoencoder.bottleneck=lfq", f"autoencoder.latent_channels={args.channels}", "autoencoder.shortcut=false",
            f"steps={args.ae_steps}"]
    if args.quick:
        over += ["batch_size=2", "warmup_steps=1"]
    cfg = load_config(os.path.join(CONFIG_DIR, "demo_autoencoder.toml"), over)
    log(f"training the LFQ autoencoder ({args.channels} bits per token, {cfg.steps} steps)")
    ae_path = train(cfg)
    ae = autoencoder_from(torch.load(ae_path, map_location="cpu", weights_only=True))

    log("tokens of the training clips -> bit prior")
    clips = ClipSet(read_manifest(cfg.data), cfg.data.buckets, cfg.data.cache_dir)
    bits = []
    for i in range(0, len(clips), 8):
        x = torch.from_numpy(np.stack([clips.clip(j) for j in range(i, min(i + 8, len(clips)))]))
        x = x.permute(0, 4, 1, 2, 3).float() / 127.5 - 1
        with torch.no_grad():
            bits.append(token_bits(ae.tokens(x), args.channels))
    prior = train_prior(bits, args.channels, steps=args.prior_steps, seed=args.seed, progress=True)
    raw = sum(b.numel() for b in bits)
    ideal = sum(prior.ideal_bits(b) for b in bits)
    path = save_codec_model(os.path.join(out, f"codec-c{args.channels}.pt"), ae, prior, 17, 64, 64)
    log(f"prior: {ideal / raw:.3f} bits per token bit on the training clips; {time.time() - t0:.0f} s in all")
    print(f"codec model: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
