"""A codec model: an LFQ autoencoder plus the prior over its token bits, in one file.

The file is data only (tensors and plain containers; loaded with weights_only=True). A .vfc
bitstream names its model by the first 16 hex digits of the file's SHA-256; encoding copies the
model into the model folder (`$VIDEOFORGE_CODEC_DIR`, default ~/.cache/videoforge/codecs) under
that name, so `codec decode` without --model finds it.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import torch

from videoforge.codec.prior import BitPrior
from videoforge.io.fingerprint import full_hash
from videoforge.models.autoencoder import AutoencoderConfig, CausalVideoAutoencoder

FORMAT = "videoforge-codec/1"


class CodecModelError(ValueError):
    """The model file is missing, unreadable, or not a codec model."""


@dataclass
class CodecModel:
    ae: CausalVideoAutoencoder
    prior: BitPrior
    frames: int      # clip length the model codes at once (1 + k * temporal factor)
    height: int
    width: int
    sha256: str = ""

    @property
    def planes(self) -> int:
        return self.ae.cfg.latent_channels

    @property
    def key(self) -> str:
        return self.sha256[:16]


def save_codec_model(path: str, ae: CausalVideoAutoencoder, prior: BitPrior, frames: int, height: int, width: int) -> str:
    if ae.cfg.bottleneck != "lfq":
        raise CodecModelError("a codec model needs an autoencoder with bottleneck='lfq' (discrete tokens)")
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    torch.save({"format": FORMAT,
                "autoencoder": {"config": ae.cfg.to_dict(), "state": ae.state_dict()},
                "prior": {"spec": prior.spec(), "state": prior.state_dict()},
                "clip": {"frames": int(frames), "height": int(height), "width": int(width)}}, path)
    return path


def load_codec_model(path: str) -> CodecModel:
    from videoforge.models.safeload import load_tensors

    if not os.path.exists(path):
        raise CodecModelError(f"{path}: no such codec model")
    try:
        d = load_tensors(path, "codec model")
    except ValueError as e:
        raise CodecModelError(str(e)) from e
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise CodecModelError(f"{path}: not a videoforge codec model")
    cfg = {k: tuple(v) if isinstance(v, list) else v for k, v in d["autoencoder"]["config"].items()}
    ae = CausalVideoAutoencoder(AutoencoderConfig(**cfg))
    ae.load_state_dict(d["autoencoder"]["state"])
    prior = BitPrior(**d["prior"]["spec"])
    prior.load_state_dict(d["prior"]["state"])
    c = d["clip"]
    return CodecModel(ae.eval(), prior.eval(), c["frames"], c["height"], c["width"], full_hash(path))


def model_dir() -> str:
    return os.environ.get("VIDEOFORGE_CODEC_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "videoforge", "codecs")


def register(path: str, sha256: str) -> str:
    """Copy the model into the model folder under its hash (once); returns where it lies."""
    dest = os.path.join(model_dir(), sha256[:16] + ".pt")
    if not os.path.exists(dest):
        os.makedirs(model_dir(), exist_ok=True)
        tmp = dest + f".{os.getpid()}.part"
        shutil.copyfile(path, tmp)
        os.replace(tmp, dest)
    return dest


def find_model(key: str) -> str:
    """The registered model whose hash starts with `key`, or CodecModelError saying what to do."""
    dest = os.path.join(model_dir(), key + ".pt")
    if not os.path.exists(dest):
        raise CodecModelError(f"no codec model with hash {key} in {model_dir()}: pass the model the file was "
                              "encoded with (--model MODEL), or set VIDEOFORGE_CODEC_DIR to the folder holding it")
    return dest
