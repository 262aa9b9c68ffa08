"""The embedder interface: a name, typed parameters, and batch methods returning L2-normalised vectors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Embedder:
    """Base class. `modality` says what the catalog side is: "image" (keyframes) or "text" (ocr_text + caption).

    Image embedders implement `embed_images`; those with a text tower (CLIP, SigLIP) also
    `embed_texts`, so a text query can search keyframes. Text embedders implement `embed_texts`
    only. Every method returns float32 (n, dim) rows of unit length, so inner product = cosine.
    """

    name = "base"
    modality = "image"
    accepts_text_query = False   # a text query can be embedded into this space
    accepts_image_query = True   # an image query can be embedded into this space

    @property
    def dim(self) -> int:
        raise NotImplementedError

    def signature(self) -> dict:
        """What must match for stored vectors to be reusable: name, parameters, version."""
        return {"name": self.name, "version": 1}

    def embed_images(self, images_bgr: list[np.ndarray]) -> np.ndarray:
        """(n, dim) float32 unit vectors for BGR uint8 images of any size."""
        raise NotImplementedError(f"{self.name} does not embed images")

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 unit vectors for texts."""
        raise NotImplementedError(f"{self.name} does not embed text")


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), float32."""
    x = np.asarray(x, dtype=np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, eps)
