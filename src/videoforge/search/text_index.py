"""Case-insensitive BM25 over each shot's on-screen text (`ocr_text`) and caption, through `bm25s`.

Tokens are lower-cased words (letters and digits, single characters kept: OCR'd numbers
and codes matter), plus character trigrams of longer words so an OCR misread of one
letter still shares most of a word's trigrams with the query.
"""

from __future__ import annotations

import json
import os
import re
import shutil

import numpy as np

from videoforge.search.errors import IndexCorruptError

_WORD = re.compile(r"\w+", re.UNICODE)
_FORMAT = 1


def tokenize(text: str | None, trigrams: bool = True) -> list[str]:
    """Lower-cased word tokens (+ '#'-marked character trigrams of words of 4+ characters)."""
    words = _WORD.findall((text or "").lower())
    if not trigrams:
        return words
    grams = [f"#{w[i:i + 3]}" for w in words if len(w) >= 4 for i in range(len(w) - 2)]
    return words + grams


class BM25Index:
    """Shot ids with a BM25 model over their texts; empty texts are kept (they simply never match)."""

    def __init__(self, trigrams: bool = True):
        self.trigrams = trigrams
        self.shot_ids: list[str] = []
        self.model = None

    def __len__(self) -> int:
        return len(self.shot_ids)

    def build(self, shot_ids: list[str], texts: list[str | None]) -> None:
        """Index `texts[i]` under `shot_ids[i]`."""
        import bm25s

        self.shot_ids = list(shot_ids)
        corpus = [tokenize(t, self.trigrams) for t in texts]
        self.model = bm25s.BM25()
        if any(corpus):
            self.model.index(corpus, show_progress=False)
        else:
            self.model = None   # nothing to match; bm25s cannot index an all-empty corpus

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Up to k (shot_id, score) with score > 0, best first."""
        q = tokenize(query, self.trigrams)
        if self.model is None or not q or not self.shot_ids:
            return []
        mask = None
        if allowed is not None:
            mask = np.fromiter((s in allowed for s in self.shot_ids), dtype=np.float32, count=len(self.shot_ids))
            if not mask.any():
                return []
        kk = min(int(k), len(self.shot_ids))
        docs, scores = self.model.retrieve([q], k=kk, show_progress=False, weight_mask=mask, n_threads=1)
        return [(self.shot_ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    # -- persistence ---------------------------------------------------------------------
    def save(self, folder: str) -> dict:
        """Write `bm25/` (bm25s files) and `bm25.shots.json` under `folder`; returns the manifest entry."""
        ids_path = os.path.join(folder, "bm25.shots.json")
        tmp = ids_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"format": _FORMAT, "trigrams": self.trigrams, "shot_ids": self.shot_ids}, f)
        os.replace(tmp, ids_path)
        model_dir = os.path.join(folder, "bm25")
        files = {"bm25.shots.json": os.path.getsize(ids_path)}
        if self.model is not None:
            tmp_dir = model_dir + ".tmp"
            shutil.rmtree(tmp_dir, ignore_errors=True)
            self.model.save(tmp_dir)
            shutil.rmtree(model_dir, ignore_errors=True)
            os.replace(tmp_dir, model_dir)
            for name in sorted(os.listdir(model_dir)):
                files[f"bm25/{name}"] = os.path.getsize(os.path.join(model_dir, name))
        return {"kind": "bm25", "count": len(self), "has_model": self.model is not None, "files": files}

    @classmethod
    def load(cls, folder: str, entry: dict) -> "BM25Index":
        """Read what `save` wrote; raises IndexCorruptError naming the bad file."""
        import bm25s

        for name, size in entry.get("files", {}).items():
            path = os.path.join(folder, name)
            if not os.path.exists(path):
                raise IndexCorruptError(path, "file missing")
            if os.path.getsize(path) != size:
                raise IndexCorruptError(path, f"size {os.path.getsize(path)} bytes, expected {size}")
        ids_path = os.path.join(folder, "bm25.shots.json")
        try:
            with open(ids_path) as f:
                doc = json.load(f)
            self = cls(trigrams=bool(doc["trigrams"]))
            self.shot_ids = list(doc["shot_ids"])
        except Exception as e:  # noqa: BLE001
            raise IndexCorruptError(ids_path, f"{type(e).__name__}: {e}") from e
        if entry.get("has_model"):
            model_dir = os.path.join(folder, "bm25")
            try:
                self.model = bm25s.BM25.load(model_dir)
            except Exception as e:  # noqa: BLE001
                raise IndexCorruptError(model_dir, f"{type(e).__name__}: {e}") from e
        if len(self.shot_ids) != int(entry["count"]):
            raise IndexCorruptError(ids_path, f"{len(self.shot_ids)} shots, manifest says {entry['count']}")
        return self
