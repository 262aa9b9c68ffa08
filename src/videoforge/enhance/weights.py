"""Matting weights on disk: a plain .npz of float32 arrays (no pickle: loading runs no code).

The network's constructor arguments travel in the same file as a JSON string array, so a
file always rebuilds the network it was trained as.
"""

from __future__ import annotations

import json
import os

import numpy as np

WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), "weights")
DEFAULT_MATTE = os.path.join(WEIGHTS_DIR, "matte.npz")


def save(model, path: str, meta: dict) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    arrays = {k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    arrays["__meta__"] = np.array(json.dumps(meta))
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)
    return path


def _load(path: str, what: str, build):
    """Read an .npz weights file and load it into `build(meta)`; ValueError naming the file and
    `what` it should have been when it is not one or does not fit."""
    import torch

    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            state = {k: torch.from_numpy(z[k].copy()) for k in z.files if k != "__meta__"}
    except (OSError, KeyError, ValueError) as e:
        raise ValueError(f"{path}: not a {what} weights file ({e})") from e
    model = build(meta)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ValueError(f"{path}: weights do not fit the {what} network ({e})") from e
    return model.eval(), meta


def load(path: str = DEFAULT_MATTE):
    """(model in eval mode, meta). ValueError naming the file when it is not a matting weights file."""
    from videoforge.enhance.matte_model import MatteNet

    return _load(path, "matting", lambda meta: MatteNet(recurrent=bool(meta.get("recurrent", True)),
                                                          width=int(meta.get("width", 1))))


DEFAULT_SR = os.path.join(WEIGHTS_DIR, "sr_x4.npz")
DEFAULT_SR_SINGLE = os.path.join(WEIGHTS_DIR, "sr_x4_single.npz")


def load_sr(path: str = DEFAULT_SR):
    """(SR network in eval mode, meta). ValueError naming the file when it is not SR weights."""
    from videoforge.enhance.sr_model import SRNet

    return _load(path, "super-resolution", lambda meta: SRNet(ch=int(meta.get("ch", 32)), blocks=int(meta.get("blocks", 4)),
                                                               recurrent=bool(meta.get("recurrent", True))))


# Session 8: two x4 networks, one trained on clean PIL-bicubic downscales and one on the blind
# second-order degradations; the plain `enhance` picks one per video with the measured
# degradation estimate (degrade_estimate.py). Each has a single-frame twin of equal size
# trained in lockstep (same batches, steps and schedule) for the recurrence figures.
SR_MODELS = {
    "clean": os.path.join(WEIGHTS_DIR, "sr_x4_clean.npz"),
    "blind": os.path.join(WEIGHTS_DIR, "sr_x4_blind.npz"),
}
SR_SINGLE_MODELS = {
    "clean": os.path.join(WEIGHTS_DIR, "sr_x4_clean_single.npz"),
    "blind": os.path.join(WEIGHTS_DIR, "sr_x4_blind_single.npz"),
}


def sr_model_path(kind: str, single: bool = False) -> str:
    """Weights of the 'clean' or 'blind' x4 network (or its single-frame twin). Where a kind
    has no file of its own, the session-7 mixed-data weights (sr_x4.npz / sr_x4_single.npz,
    trained on half clean, half blind clips) stand in for it."""
    table = SR_SINGLE_MODELS if single else SR_MODELS
    if kind not in table:
        raise ValueError(f"unknown super-resolution model {kind!r} (choose from {sorted(table)})")
    path = table[kind]
    return path if os.path.exists(path) else (DEFAULT_SR_SINGLE if single else DEFAULT_SR)
