"""English word relations for the Chinese adapter's dictionary lexicon: WordNet 3.0, read from the
database files Debian's `wordnet-base` package installs (/usr/share/wordnet).

Why: CC-CEDICT (adapt/lexicon.py) glosses many Chinese words with English words that name none of
the generator's concepts directly: 朱砂 "cinnabar", 青草 "green grass" is fine, but "cinnabar" alone
is a mineral, and the concept table (lexicon.CONCEPT_WORDS) cannot list every English word. WordNet
knows that cinnabar is "a heavy reddish mineral" and that vermilion is a red. This module maps an
English gloss word to the concepts its WordNet senses name, through fixed relations only:

- synonymy: a lemma of one of the word's first senses is a table word (sense "vermilion, cinnabar");
- similar-to (adjectives, one step): a lemma there is a table word (ruby ~ red);
- hypernyms up to `HYPERNYM_DEPTH` steps, colour and shape concepts only: a lemma there is a table word
  (marble -> ball -> circle);
- definition: the first clause of a sense's definition names a colour or shape by an unambiguous word
  ("a heavy reddish mineral" -> red).
Only nouns and adjectives are looked up, and only colour and shape concepts come out: speed and direction
words are hypernyms of half of all motion verbs and occur in definitions as parts of phrases ("set up",
"the right to", "a rate (usually rapid)"); those concepts come from CC-CEDICT's glosses alone.

The relations and depths were fixed in advance and are tested on English words with known answers
(tests/test_text_adapter_zh11.py). Not clean of frozen set v7, though: some DEFINITION_WORDS (disk, cube,
rectangular, wedge-shaped) and the test word "brick" were written after v7's word lists had been read (for
its novelty check), so v7 cannot give a held-out estimate of this module's gain (docs/benchmarks/adapt.md,
session 11); v8 was written afterwards.

The reader is a small parser of the WordNet database format (wndb(5WN): index.POS lists a lemma's
synset offsets by sense frequency; data.POS holds one synset per line at its byte offset), with
WordNet's own morphology (the .exc exception lists, then suffix detachment), so no Python package is
needed: `apt-get install wordnet-base` (or set VIDEOFORGE_WORDNET to a folder holding those files).
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from pathlib import Path

DEFAULT_DIR = "/usr/share/wordnet"
POS = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
SENSES = 2            # a word's first senses per part of speech (WordNet orders them by frequency)
HYPERNYM_DEPTH = 2    # hypernym steps followed (deeper ones are generic: "physical entity")
# the concepts WordNet may name: what a thing is or looks like gives its colour or shape. Speed and direction
# words are too common in motion verbs' relations and in definitions ("set up", "rate (usually rapid)"), and a
# first version that read them put "up" on 高速 ("high speed"), 前进 ("to forge ahead") and "fast" on 速度 in the
# training grammar itself (and pair-CV colour misreads from "blessed" -> golden): those come from CC-CEDICT only
RELATED_CONCEPTS = ("red", "green", "blue", "yellow", "circle", "square", "triangle")
LOOKUP_POS = ("n", "a")      # things and their qualities; a verb's senses name motions, not colours or shapes
# the words a definition may name a concept by: only the unambiguous words of each concept ("block",
# "ring", "lime", "olive" mean other things in a definition)
DEFINITION_WORDS = {
    "red": ["red", "reddish", "crimson", "scarlet", "vermilion"], "green": ["green", "greenish", "emerald"],
    "blue": ["blue", "bluish", "azure"], "yellow": ["yellow", "yellowish", "golden"],
    "circle": ["circle", "circular", "round", "disk", "disc", "sphere", "spherical", "ring-shaped"],
    "square": ["square", "cube", "cubic", "cubical", "rectangular", "rectangle"],
    "triangle": ["triangle", "triangular", "pyramid", "pyramidal", "wedge-shaped"],
}
# suffix detachment rules of WordNet's morphy, per part of speech
_RULES = {"n": [("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
                ("men", "man"), ("ies", "y")],
          "v": [("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")],
          "a": [("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
          "r": []}
# English words never looked up: function words and words too general to say anything
STOP = set("""a an the of to in on at by for with from as or and but not no be is are was were been being it its this
that these those he she they we you i me him her them my your our their one some any all each every very more most
much many so such than then there here what which who whom whose how why when where used use person thing
something someone sb sth kind sort type way form state quality make made do does did get got have has had""".split())
_DEF_WORD = re.compile(r"[a-z]+(?:-shaped)?")


class WordNetUnavailable(RuntimeError):
    pass


def data_dir() -> Path:
    return Path(os.environ.get("VIDEOFORGE_WORDNET", DEFAULT_DIR))


REQUIRED = tuple(f"{k}.{v}" for v in POS.values() for k in ("index", "data"))   # the .exc lists are optional


def missing_files(folder: str | Path | None = None) -> list[str]:
    """The database files (REQUIRED) that `folder` (default: data_dir()) lacks, in REQUIRED's order."""
    d = Path(folder) if folder is not None else data_dir()
    return [name for name in REQUIRED if not (d / name).is_file()]


def available(folder: str | Path | None = None) -> bool:
    return not missing_files(folder)


def _require(folder: str | Path | None = None) -> Path:
    d = Path(folder) if folder is not None else data_dir()
    missing = missing_files(d)
    if missing:
        what = "no such folder" if not d.is_dir() else f"missing {', '.join(missing)}"
        raise WordNetUnavailable(f"{d}: no WordNet database here ({what}): apt-get install wordnet-base, or set "
                                 "VIDEOFORGE_WORDNET to a folder holding WordNet 3.0's dict files")
    return d


def data_sha256(folder: str | Path | None = None) -> str:
    """One hash over the data files (stored in adapters that used WordNet)."""
    d = _require(folder)
    h = hashlib.sha256()
    for v in POS.values():
        with open(d / f"data.{v}", "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


class WordNet:
    """Read-only access to a WordNet 3.0 database folder: lemma -> synsets, synset -> lemmas,
    pointers and definition."""

    def __init__(self, folder: str | Path | None = None):
        self.dir = _require(folder)        # an explicit folder is checked as the default one is
        self._synsets: dict[tuple[str, int], tuple] = {}     # per instance: no cache keeps an instance alive
        self.index: dict[str, dict[str, list[int]]] = {}      # pos -> lemma -> synset offsets
        self.exc: dict[str, dict[str, list[str]]] = {}        # pos -> inflected -> base forms
        self._data = {}
        for p, name in POS.items():
            idx: dict[str, list[int]] = {}
            with open(self.dir / f"index.{name}", encoding="utf-8", errors="replace") as f:
                for line in f:
                    if line.startswith(" "):
                        continue                # the licence header
                    parts = line.split()
                    n_ptr = int(parts[3])
                    n_sense = int(parts[2])
                    idx[parts[0]] = [int(x) for x in parts[6 + n_ptr: 6 + n_ptr + n_sense]]
            self.index[p] = idx
            exc: dict[str, list[str]] = {}
            path = self.dir / f"{name}.exc"
            if path.is_file():
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        parts = line.split()
                        if len(parts) >= 2:
                            exc.setdefault(parts[0], []).extend(parts[1:])
            self.exc[p] = exc
            self._data[p] = open(self.dir / f"data.{name}", "rb")

    def close(self) -> None:
        for f in self._data.values():
            f.close()

    def __enter__(self) -> WordNet:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        if hasattr(self, "_data"):     # __init__ may have failed before opening anything
            self.close()

    def base_forms(self, word: str, pos: str) -> list[str]:
        """WordNet's morphy: the word itself if it is a lemma, its exception-list bases, then
        suffix detachment (first match that is a lemma)."""
        idx = self.index[pos]
        out = [word] if word in idx else []
        out += [b for b in self.exc[pos].get(word, []) if b in idx and b not in out]
        if not out:
            for suf, rep in _RULES[pos]:
                if word.endswith(suf) and len(word) > len(suf) + 1:
                    b = word[: len(word) - len(suf)] + rep
                    if b in idx and b not in out:
                        out.append(b)
                        break
        return out

    def senses(self, word: str, pos: str, n: int = SENSES) -> list[tuple[str, int]]:
        """The first n synsets (pos, offset) of `word` as part of speech pos (adjective satellites
        are stored as adj)."""
        out: list[tuple[str, int]] = []
        for b in self.base_forms(word.lower().replace(" ", "_"), pos):
            for off in self.index[pos][b]:
                if (pos, off) not in out:
                    out.append((pos, off))
        return out[:n]

    def synset(self, pos: str, offset: int) -> tuple[tuple[str, ...], tuple[tuple[str, str, int], ...], str]:
        """(lemmas, pointers (symbol, pos, offset), definition) of one synset (cached per instance)."""
        key = (pos, offset)
        if key not in self._synsets:
            self._synsets[key] = self._read_synset(pos, offset)
        return self._synsets[key]

    def _read_synset(self, pos: str, offset: int) -> tuple[tuple[str, ...], tuple[tuple[str, str, int], ...], str]:
        f = self._data[pos]
        f.seek(offset)
        line = f.readline().decode("utf-8", errors="replace")
        head, _, gloss = line.partition(" | ")
        parts = head.split()
        w_cnt = int(parts[3], 16)
        lemmas = tuple(re.sub(r"\(.*\)$", "", parts[4 + 2 * i]).lower() for i in range(w_cnt))
        at = 4 + 2 * w_cnt
        p_cnt = int(parts[at])
        ptrs = []
        for i in range(p_cnt):
            sym, off, ppos = parts[at + 1 + 4 * i: at + 4 + 4 * i]
            ptrs.append((sym, "a" if ppos == "s" else ppos, int(off)))
        definition = gloss.split(";")[0].strip()
        return lemmas, tuple(ptrs), definition


def wordnet() -> WordNet:
    """The database of data_dir() (VIDEOFORGE_WORDNET or /usr/share/wordnet), checked on every call and read
    once per folder: a changed VIDEOFORGE_WORDNET reads the new folder (or fails naming its missing files)."""
    return _wordnet_at(str(_require().resolve()))


@functools.lru_cache(maxsize=2)
def _wordnet_at(folder: str) -> WordNet:
    return WordNet(folder)


def _lemma_words(lemmas) -> list[str]:
    return [lem for lem in lemmas if "_" not in lem and "-" not in lem]


def concepts_of_word(word: str, lookup: dict[str, str], wn: WordNet | None = None,
                     senses: int = SENSES, depth: int = HYPERNYM_DEPTH) -> set[str]:
    """The concepts (values of `lookup`, English table word -> concept) that WordNet's first
    `senses` senses of `word` name through synonymy, similar-to, hypernyms (up to `depth` steps)
    or the first clause of their definition (DEFINITION_WORDS: colour, shape and speed concepts only, and only
    those the table has)."""
    word = word.lower()
    if word in STOP or len(word) < 3:
        return set()
    wn = wn or wordnet()
    concepts = set(lookup.values())
    definition_lookup = {w: c for c, ws in DEFINITION_WORDS.items() for w in ws}
    found: set[str] = set()
    for pos in LOOKUP_POS:
        for p, off in wn.senses(word, pos, senses):
            lemmas, ptrs, definition = wn.synset(p, off)
            near = list(_lemma_words(lemmas))
            # similar-to of an adjective (rapid ~ fast), one step only: a head adjective such as "chromatic"
            # is similar to every colour, so a second step would name them all
            near += [w for sym, qp, qo in ptrs if sym == "&" for w in _lemma_words(wn.synset(qp, qo)[0])]
            found |= {lookup[w] for w in near if w in lookup and w != word and lookup[w] in RELATED_CONCEPTS}
            # hypernyms, breadth first: what a thing is a kind of says its colour or shape (a marble is a ball),
            # not its speed or direction (the table's motion verbs are hypernyms of half of all motion verbs)
            related: list[str] = []
            frontier = [(p, off)]
            for _ in range(depth):
                nxt = []
                for q, o in frontier:
                    for sym, qp, qo in wn.synset(q, o)[1]:
                        if sym in ("@", "@i"):
                            nxt.append((qp, qo))
                            related += _lemma_words(wn.synset(qp, qo)[0])
                frontier = nxt
            found |= {lookup[w] for w in related if w in lookup and lookup[w] in RELATED_CONCEPTS}
            found |= {definition_lookup[w] for w in _DEF_WORD.findall(definition.lower())
                      if w in definition_lookup and definition_lookup[w] in concepts}
    return found
