"""Load a checkpoint-like file as data: tensors and plain containers only, nothing executed."""

from __future__ import annotations

import pickle

import torch


def load_tensors(path: str, what: str = "checkpoint"):
    """torch.load(weights_only=True) on CPU; ValueError naming the file and why when the file
    holds other Python objects (loading it could run code) or cannot be read."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise ValueError(f"{path}: refused: the {what} holds Python objects other than tensors and plain data, "
                         f"and loading it could run code ({str(e).splitlines()[0]})") from e
    except (OSError, RuntimeError) as e:
        raise ValueError(f"{path}: cannot read {what} ({e})") from e
