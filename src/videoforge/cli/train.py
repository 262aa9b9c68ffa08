"""`videoforge train CONFIG`: train the autoencoder or STDiT from a TOML/YAML config."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train", help="train the causal video autoencoder or STDiT from a config (TOML/YAML)",
        description="Train one stage from a config file: task = \"autoencoder\" or \"stdit\". Reads a videoforge "
                    "export (Open-Sora CSV or WebDataset shards). Re-running with the same out_dir resumes "
                    "exactly from out_dir/last.pt. Under torchrun (e.g. `torchrun --nproc-per-node 2 -m videoforge "
                    "train CFG`) it trains with DDP, or FSDP2 with --set distributed='\"fsdp\"'. Packaged configs: "
                    "demo_autoencoder, demo_stdit, autoencoder, stage1_image, stage2_video, stage3_finetune "
                    "(a bare name picks one). The last line printed is the exported checkpoint's path.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n"
               "  videoforge train autoencoder --set data.manifest=ds/manifest.csv --set out_dir=runs/ae\n"
               "  videoforge train stage1_image --set data.manifest=ds/manifest.csv "
               "--set autoencoder_checkpoint=runs/ae/autoencoder.pt --set out_dir=runs/stage1\n"
               "  videoforge train my.toml --set steps=100 --set 'data.where=\"suitability >= 0.7\"'")
    p.add_argument("config", metavar="CONFIG", help="a .toml/.yaml/.json file, or a packaged config name")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config key (dotted for [data]); VALUE is JSON, else a string (repeatable)")
    p.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    return p


def resolve_config_path(name: str) -> str:
    """A path as given, else a packaged config under videoforge/train/configs/."""
    import os

    if os.path.exists(name):
        return name
    here = os.path.join(os.path.dirname(os.path.dirname(__file__)), "train", "configs")
    for ext in ("", ".toml", ".yaml"):
        cand = os.path.join(here, name + ext)
        if os.path.exists(cand):
            return cand
    from videoforge.cli import UsageError

    raise UsageError(f"config {name!r}: no such file, and no packaged config of that name")


def main(args) -> int:
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json
    from videoforge.train.config import load_config

    try:
        cfg = load_config(resolve_config_path(args.config), args.overrides)
    except ValueError as e:
        raise UsageError(str(e)) from e
    if args.print_config:
        print_json(cfg.to_dict())
        return 0
    import os

    from videoforge.train.loop import train

    path = train(cfg)
    if os.environ.get("RANK", "0") == "0":     # under torchrun, one line from rank 0 only
        print(path)
    return 0
