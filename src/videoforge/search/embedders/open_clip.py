"""open_clip models (optional extra: `pip install open-clip-torch`, which pulls torchvision).

    get_embedder("open_clip", model="ViT-B-32:laion2b_s34b_b79k")   # ARCH[:PRETRAINED]
    get_embedder("open_clip", model="ViT-B-32:/models/vit-b-32.bin")  # local weights file

open_clip is imported only when this embedder is used, so the default install stays lean.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videoforge.search.embedders.base import Embedder, l2_normalize
from videoforge.search.errors import SearchError


def _import_open_clip():
    try:
        import open_clip
    except ImportError as e:
        raise SearchError("the open_clip embedder needs the optional package open_clip: "
                          "pip install open-clip-torch") from e
    return open_clip


@dataclass
class OpenClipEmbedder(Embedder):
    model: str = "ViT-B-32:laion2b_s34b_b79k"
    device: str = "cpu"
    batch_size: int = 32

    name = "open_clip"
    modality = "image"
    accepts_text_query = True
    accepts_image_query = True

    def __post_init__(self):
        self._oc = _import_open_clip()   # fail at construction, with the install hint
        self._net = None

    def _load(self):
        if self._net is not None:
            return
        arch, _, pretrained = self.model.partition(":")
        net, _, preprocess = self._oc.create_model_and_transforms(arch, pretrained=pretrained or None, device=self.device)
        self._net, self._pre, self._tok = net.eval(), preprocess, self._oc.get_tokenizer(arch)

    @property
    def dim(self) -> int:
        self._load()
        return int(self.embed_texts(["x"]).shape[1])

    def signature(self) -> dict:
        return {"name": self.name, "version": 1, "model": self.model}

    def embed_images(self, images_bgr: list[np.ndarray]) -> np.ndarray:
        import torch
        from PIL import Image

        self._load()
        out = []
        for s in range(0, len(images_bgr), self.batch_size):
            x = torch.stack([self._pre(Image.fromarray(im[:, :, ::-1].copy())) for im in images_bgr[s : s + self.batch_size]])
            with torch.inference_mode():
                out.append(self._net.encode_image(x.to(self.device)).float().cpu().numpy())
        return l2_normalize(np.concatenate(out))

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        self._load()
        with torch.inference_mode():
            return l2_normalize(self._net.encode_text(self._tok(list(texts)).to(self.device)).float().cpu().numpy())
