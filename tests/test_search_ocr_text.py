"""Text search over what an OCR really writes: misreadings, case, clipped and glued words, spans.

A small real catalog (H.264 videos, known shot boundaries, `search_helpers.build_catalog`)
whose `ocr_text` holds readings of the kind PP-OCR made on the held-out end-to-end set
(docs/benchmarks/text.md): one letter wrong, a letter lost at the frame's edge, letters glued
to a neighbour, a digit for a look-alike letter, and one word read on both sides of a cut the
shot detector made inside a shot.
"""

from __future__ import annotations

import json
import os

import pytest

from videoforge.search import index_catalog, search
from videoforge.search.text_index import BM25Index, fuzzy_words, tokenize, words_of
from search_helpers import build_catalog

# seed -> {shot index: ocr_text}; the words are made-up words as on the benchmark's videos
TEXTS = [
    (31, {0: "Hodifvak | fokkije", 1: "necus", 2: "rcerol | C58 | R40"}),
    (32, {0: "P0LEMAR", 1: "Hocifrun", 2: "necusa"}),            # distractors: share trigrams, not words
    (33, {0: "SEJOB", 1: "Nafmezav | SEJOB", 2: "WEISSE STRASSE"}),
    (34, {0: "hocifvak", 1: "cerolaki", 2: ""}),
]


@pytest.fixture(scope="module")
def cat(tmp_path_factory):
    root = str(tmp_path_factory.mktemp("ocrcat") / "catalog")
    _, truth = build_catalog(root, TEXTS, frames_per_shot=12, size=(128, 80), keyframes_per_shot=1)
    index_catalog(root, ["bm25"])
    return root, {(os.path.basename(t.video), t.shot_index): t for t in truth}


def _top(root, q):
    hits = search(root, text=q, k=3)
    return hits[0] if hits else None


def _is(hit, truth, video, shot):
    t = truth[(f"v{video}.mp4", shot)]
    return hit is not None and hit.video == t.video and hit.start_time == pytest.approx(t.start_time)


def test_tokens_are_case_folded_and_unicode_normalised():
    assert words_of("ＨＯＴＥＬ Straße | C58") == ["hotel", "strasse", "c58"]
    assert tokenize("SOC") == ["soc", "#^so", "#soc", "#oc$"]
    # OCR look-alikes share trigrams (the word token itself stays exact)
    assert set(tokenize("P0LE")) & set(tokenize("pole")) == {"#^po", "#pol", "#ole", "#le$"}


def test_fuzzy_words_are_one_edit_or_clipped_or_glued():
    vocab = {"hodifvak", "necus", "rcerol", "cerolaki", "hocifrun", "necusa", "nar", "#cer"}
    assert fuzzy_words("hocifvak", vocab) == ["hodifvak"]          # one substitution
    assert fuzzy_words("necusu", vocab) == ["necus", "necusa"]      # clipped; one substitution
    assert fuzzy_words("cero", vocab) == ["cerolaki", "rcerol"]     # glued to neighbours
    assert fuzzy_words("tenaru", vocab) == []                       # 'nar' is too little of it


def test_a_misread_word_finds_its_shot_in_any_case(cat):
    root, truth = cat
    # the exact reading ranks above a one-letter misreading of the same word
    assert _is(_top(root, "HOCIFVAK"), truth, 34, 0)
    assert _is(_top(root, "Hocifvak"), truth, 34, 0)
    hits = search(root, text="hocifvak", k=3)
    assert [os.path.basename(h.video) for h in hits[:2]] == ["v34.mp4", "v31.mp4"]
    assert _is(_top(root, "NECUSU"), truth, 31, 1) or _is(_top(root, "NECUSU"), truth, 32, 2)
    assert _is(_top(root, "pole" + "mar"), truth, 32, 0)            # P0LEMAR: a zero for an O
    assert _is(_top(root, "Weiße"), truth, 33, 2)                   # case folding beyond ASCII


def test_a_glued_reading_is_found(cat):
    root, truth = cat
    hits = search(root, text="CERO", k=3)
    assert {(os.path.basename(h.video), round(h.start_time, 3)) for h in hits[:2]} == {
        ("v31.mp4", round(truth[("v31.mp4", 2)].start_time, 3)),
        ("v34.mp4", round(truth[("v34.mp4", 1)].start_time, 3))}


def test_a_word_read_on_both_sides_of_a_cut_spans_both_shots(cat):
    root, truth = cat
    a, b = truth[("v33.mp4", 0)], truth[("v33.mp4", 1)]
    hit = _top(root, "sejob")
    assert hit.video == a.video
    assert hit.start_time == pytest.approx(a.start_time) and hit.end_time == pytest.approx(b.end_time)
    own = (round(hit.shot_start_time, 3), round(hit.shot_end_time, 3))
    assert own in {(round(a.start_time, 3), round(a.end_time, 3)), (round(b.start_time, 3), round(b.end_time, 3))}
    # a word only in one of two adjacent shots keeps that shot's own span
    hit = _top(root, "nafmezav")
    assert (hit.start_time, hit.end_time) == (pytest.approx(b.start_time), pytest.approx(b.end_time))


def test_an_index_of_the_earlier_tokenizer_is_still_read_and_then_rebuilt(cat, tmp_path):
    root, truth = cat
    idx = BM25Index(tokenizer=1)
    idx.build(["a", "b"], ["Hodifvak", "necus"])
    entry = idx.save(str(tmp_path))
    old = BM25Index.load(str(tmp_path), entry)
    assert old.tokenizer == 1 and old.search("HODIFVAK", 2)[0][0] == "a"
    # `index` rebuilds a BM25 index an earlier version wrote (its signature names no tokenizer)
    folder = os.path.join(root, "index", "bm25")
    with open(os.path.join(folder, "manifest.json")) as f:
        m = json.load(f)
    assert m["signature"]["tokenizer"] == 2
    assert index_catalog(root, ["bm25"])[0].get("unchanged")
    del m["signature"]["tokenizer"]
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(m, f)
    assert index_catalog(root, ["bm25"])[0].get("rebuilt")
    with open(os.path.join(folder, "bm25.shots.json")) as f:
        assert json.load(f)["tokenizer"] == 2
    assert _is(_top(root, "HOCIFVAK"), truth, 34, 0)
