"""Embedders registered by name: `get_embedder("visual")`, `get_embedder("clip", model="path/or/hub-name")`.

Modules are imported only when their embedder is asked for, so the heavy libraries
(torch, transformers, open_clip) load only for the embedders that need them.
"""

from __future__ import annotations

import importlib

from videoforge.search.embedders.base import Embedder, l2_normalize

# name -> (module, class). `bm25` is not a vector embedder: it lives in search/text_index.py.
REGISTRY: dict[str, tuple[str, str]] = {
    "visual": ("videoforge.search.embedders.visual", "VisualDescriptorEmbedder"),
    "clip": ("videoforge.search.embedders.hf_clip", "ClipEmbedder"),
    "siglip": ("videoforge.search.embedders.hf_clip", "SiglipEmbedder"),
    "open_clip": ("videoforge.search.embedders.open_clip", "OpenClipEmbedder"),
    "minilm": ("videoforge.search.embedders.sentence", "SentenceEmbedder"),
}

TEXT_INDEX = "bm25"
DEFAULT_EMBEDDERS = ["bm25", "visual"]  # offline, no downloaded weights


def names() -> list[str]:
    """All names `videoforge index --embedder` accepts."""
    return [TEXT_INDEX, *REGISTRY]


def get_embedder(name: str, **params) -> Embedder:
    """Instantiate the embedder registered as `name` with its keyword parameters (e.g. model=...)."""
    if name not in REGISTRY:
        raise KeyError(f"unknown embedder {name!r}; choose one of: {', '.join(names())}")
    mod, cls = REGISTRY[name]
    klass = getattr(importlib.import_module(mod), cls)
    return klass(**{k: v for k, v in params.items() if v is not None})


def from_signature(sig: dict) -> Embedder:
    """The embedder that produced vectors stored under `sig` (same name and parameters).

    Raises KeyError if the name is unknown and ValueError if this code's version of the
    embedder differs from the stored one (the stored vectors would not be comparable).
    """
    params = {k: v for k, v in sig.items() if k not in ("name", "version")}
    emb = get_embedder(sig["name"], **params)
    if emb.signature().get("version") != sig.get("version"):
        raise ValueError(f"index built by {sig['name']} version {sig.get('version')}, this videoforge has "
                         f"version {emb.signature().get('version')}")
    return emb


__all__ = ["from_signature", "DEFAULT_EMBEDDERS", "Embedder", "REGISTRY", "TEXT_INDEX", "get_embedder", "l2_normalize", "names"]
