"""Case-insensitive BM25 over each shot's on-screen text (`ocr_text`) and caption, through `bm25s`.

On-screen text comes from an OCR, so a word in the catalog is often the query word misread:
one letter wrong (`Hodifvak` for HOCIFVAK), a letter lost at an edge (`necus` for NECUSU, a
scrolling ticker cut by the frame), letters glued to a neighbour (`rcerol` for CERO), or
digits for look-alike letters (`P0LE`). Tokens, all Unicode-normalised (NFKC) and case-folded:

- words (letters and digits; single characters kept: OCR'd numbers and codes matter);
- '#'-marked character trigrams of words of 3+ characters, padded at both ends (`^so`, `soc`,
  `oc$`), over a form where OCR look-alikes are folded together (0/o, 1/l/i, 5/s): a misread
  or clipped word still shares most of its trigrams with the query, and the padding tells a
  word's start and end from its middle.

A query word also matches, at a lower weight (`FUZZY_WEIGHT`), the indexed words one edit away
(a substitution, insertion, deletion or swap of neighbours; words of 4+ characters), the
indexed words that contain it (glued reads) and the indexed words of 4+ characters that it
contains and that hold at least 60 % of it (clipped reads). An exact word still ranks above
its misreadings: it scores its word token at full weight and all of its trigrams.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata

import numpy as np

from videoforge.search.errors import IndexCorruptError

_WORD = re.compile(r"\w+", re.UNICODE)
_FORMAT = 1
TOKENIZER = 2            # 1: lower-cased words + unpadded trigrams of 4+ character words
FUZZY_WEIGHT = 0.7       # a misreading's word token counts this much of an exact one
_FOLD = str.maketrans({"0": "o", "1": "l", "i": "l", "5": "s"})
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def words_of(text: str | None) -> list[str]:
    """NFKC-normalised, case-folded word tokens of a text."""
    return _WORD.findall(unicodedata.normalize("NFKC", text or "").casefold())


def trigrams(word: str) -> list[str]:
    """'#'-marked padded trigrams of the OCR-folded word ([] under 3 characters)."""
    if len(word) < 3:
        return []
    w = f"^{word.translate(_FOLD)}$"
    return [f"#{w[i:i + 3]}" for i in range(len(w) - 2)]


def tokenize(text: str | None, trigrams_on: bool = True, version: int = TOKENIZER) -> list[str]:
    """Word tokens (+ trigram tokens) of a text, as the index of tokenizer `version` holds them."""
    if version == 1:
        words = _WORD.findall((text or "").lower())
        if not trigrams_on:
            return words
        return words + [f"#{w[i:i + 3]}" for w in words if len(w) >= 4 for i in range(len(w) - 2)]
    words = words_of(text)
    if not trigrams_on:
        return words
    return words + [g for w in words for g in trigrams(w)]


def edits1(word: str) -> set[str]:
    """Strings one substitution, insertion, deletion or neighbour swap away from `word`."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _ALPHABET}
    out |= {a + c + b for a, b in splits for c in _ALPHABET}
    out.discard(word)
    return out


def fuzzy_words(word: str, vocab) -> list[str]:
    """Indexed words (in `vocab`, a set or dict of tokens) that may be OCR misreadings of `word`."""
    if len(word) < 4:
        return []
    found = {w for w in edits1(word) if w in vocab}
    for t in vocab:
        if t[0] == "#" or t == word:
            continue
        if (word in t and len(t) <= 3 * len(word)) or (len(t) >= 4 and 5 * len(t) >= 3 * len(word) and t in word):
            found.add(t)
    return sorted(found)


class BM25Index:
    """Shot ids with a BM25 model over their texts; empty texts are kept (they simply never match)."""

    def __init__(self, trigrams: bool = True, tokenizer: int = TOKENIZER):
        self.trigrams = trigrams
        self.tokenizer = tokenizer
        self.shot_ids: list[str] = []
        self.model = None
        self._words: set[str] | None = None   # the indexed word tokens (not trigrams), for fuzzy matching
        self._queries: dict[str, tuple[list[str], list[str]]] = {}

    def __len__(self) -> int:
        return len(self.shot_ids)

    def build(self, shot_ids: list[str], texts: list[str | None]) -> None:
        """Index `texts[i]` under `shot_ids[i]`."""
        import bm25s

        self.shot_ids = list(shot_ids)
        self._words, self._queries = None, {}
        corpus = [tokenize(t, self.trigrams, self.tokenizer) for t in texts]
        self.model = bm25s.BM25()
        if any(corpus):
            self.model.index(corpus, show_progress=False)
        else:
            self.model = None   # nothing to match; bm25s cannot index an all-empty corpus

    def query_tokens(self, query: str) -> tuple[list[str], list[str]]:
        """(exact tokens, fuzzy word tokens) of a query against this index."""
        got = self._queries.get(query)
        if got is not None:
            return got
        exact = tokenize(query, self.trigrams, self.tokenizer)
        fuzzy: list[str] = []
        if self.tokenizer >= 2 and self.model is not None:
            if self._words is None:
                self._words = {t for t in self.model.vocab_dict if t and t[0] != "#"}
            for w in words_of(query):
                fuzzy += [t for t in fuzzy_words(w, self._words) if t not in fuzzy and t not in exact]
        if len(self._queries) > 256:   # the server asks many; keep the memo small
            self._queries.clear()
        self._queries[query] = (exact, fuzzy)
        return exact, fuzzy

    def query_words(self, query: str) -> set[str]:
        """The indexed words a query matches as words: its own and their misreadings."""
        exact, fuzzy = self.query_tokens(query)
        return {t for t in exact if t[0] != "#"} | set(fuzzy)

    def search(self, query: str, k: int, allowed: set[str] | None = None) -> list[tuple[str, float]]:
        """Up to k (shot_id, score) with score > 0, best first."""
        exact, fuzzy = self.query_tokens(query)
        if self.model is None or not exact or not self.shot_ids:
            return []
        mask = None
        if allowed is not None:
            mask = np.fromiter((s in allowed for s in self.shot_ids), dtype=np.float32, count=len(self.shot_ids))
            if not mask.any():
                return []
        scores = np.asarray(self.model.get_scores(exact, weight_mask=mask), np.float64)
        if fuzzy:
            scores = scores + FUZZY_WEIGHT * np.asarray(self.model.get_scores(fuzzy, weight_mask=mask), np.float64)
        kk = min(int(k), len(self.shot_ids))
        top = np.argsort(-scores, kind="stable")[:kk]
        return [(self.shot_ids[int(d)], float(scores[d])) for d in top if scores[d] > 0]
    # -- persistence ---------------------------------------------------------------------
    def save(self, folder: str) -> dict:
        """Write `bm25/` (bm25s files) and `bm25.shots.json` under `folder`; returns the manifest entry."""
        ids_path = os.path.join(folder, "bm25.shots.json")
        tmp = ids_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"format": _FORMAT, "trigrams": self.trigrams, "tokenizer": self.tokenizer,
                       "shot_ids": self.shot_ids}, f)
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
            self = cls(trigrams=bool(doc["trigrams"]), tokenizer=int(doc.get("tokenizer", 1)))
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
