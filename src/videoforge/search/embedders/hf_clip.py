"""CLIP and SigLIP through transformers' real loaders: a local folder, or a hub name when online.

    get_embedder("clip", model="/models/clip-vit-base-patch32")
    get_embedder("siglip", model="google/siglip-base-patch16-224")

Both embed keyframes (image tower) and text queries (text tower) into one space, so a text
query can find shots by what they show, not only by the words on screen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from videoforge.search.embedders.base import Embedder, l2_normalize
from videoforge.search.errors import SearchError


def _resolve(model: str) -> str:
    """Absolute path for a local folder (so a stored signature works from any cwd), else the hub name."""
    return os.path.abspath(model) if os.path.isdir(model) else model


def _features(out) -> "torch.Tensor":  # noqa: F821
    """transformers < 5 returns a tensor from get_*_features; 5.x returns an output with pooler_output."""
    return out if hasattr(out, "dim") else out.pooler_output


@dataclass
class ClipEmbedder(Embedder):
    model: str = "openai/clip-vit-base-patch32"
    device: str = "cpu"
    batch_size: int = 32

    name = "clip"
    modality = "image"
    accepts_text_query = True
    accepts_image_query = True
    padding = True  # CLIP: pad to the longest text; the attention mask hides the padding

    def __post_init__(self):
        self.model = _resolve(self.model)
        self._net = self._tok = self._proc = None

    def _load(self):
        if self._net is not None:
            return
        try:
            import torch  # noqa: F401
            from transformers import AutoImageProcessor, AutoModel, AutoTokenizer
        except ImportError as e:
            raise SearchError(f"{self.name} needs torch and transformers: pip install 'videoforge[search]' ({e})") from e
        try:
            self._net = AutoModel.from_pretrained(self.model).to(self.device).eval()
            self._tok = AutoTokenizer.from_pretrained(self.model)
            self._proc = AutoImageProcessor.from_pretrained(self.model)
        except (OSError, ValueError) as e:
            raise SearchError(f"{self.model}: cannot load {self.name} model ({str(e).splitlines()[0]}); give a local "
                              "folder with --model, or a hub name on a machine with network access") from e

    @property
    def dim(self) -> int:
        self._load()
        return int(self._net.config.projection_dim if hasattr(self._net.config, "projection_dim")
                   else self._net.config.vision_config.hidden_size)

    def signature(self) -> dict:
        return {"name": self.name, "version": 1, "model": self.model}

    def embed_images(self, images_bgr: list[np.ndarray]) -> np.ndarray:
        """(n, dim) unit image-tower vectors of BGR uint8 images."""
        import torch

        self._load()
        out = []
        for s in range(0, len(images_bgr), self.batch_size):
            rgb = [np.ascontiguousarray(im[:, :, ::-1]) for im in images_bgr[s : s + self.batch_size]]
            px = self._proc(images=rgb, return_tensors="pt")["pixel_values"].to(self.device)
            with torch.inference_mode():
                out.append(_features(self._net.get_image_features(pixel_values=px)).float().cpu().numpy())
        return l2_normalize(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """(n, dim) unit text-tower vectors."""
        import torch

        self._load()
        max_len = int(getattr(self._net.config.text_config, "max_position_embeddings", 64))
        out = []
        for s in range(0, len(texts), self.batch_size):
            tok = self._tok(list(texts[s : s + self.batch_size]), padding=self.padding, truncation=True,
                            max_length=max_len, return_tensors="pt")
            keep = {"input_ids"} if self.padding == "max_length" else {"input_ids", "attention_mask"}
            tok = {k: v.to(self.device) for k, v in tok.items() if k in keep}
            with torch.inference_mode():
                out.append(_features(self._net.get_text_features(**tok)).float().cpu().numpy())
        return l2_normalize(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)


@dataclass
class SiglipEmbedder(ClipEmbedder):
    model: str = "google/siglip-base-patch16-224"

    name = "siglip"
    padding = "max_length"  # SigLIP was trained on texts padded to the full length, without a mask
