"""The Chinese adapter's rich training grammar, its cross-validation folds and the frozen set v2
(issue 22, part 2, session 7): the frozen set's words and orders are not the grammar's, the
grammar says what the English says, and a tiny student learns from it."""
import json
import os
import random
import re
import sys

import pytest
import torch

from videoforge.adapt import zh_prompts
from videoforge.adapt.text_adapter import AdaptedTextEncoder, AdapterConfig, evaluate_adapter, train_adapter
from videoforge.models.text import TinyTextEncoder
from videoforge.synth import shapes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
import zh_frozen_set  # noqa: E402


def _words(v) -> set[str]:
    if isinstance(v, str):
        return {v} if v else set()
    if isinstance(v, dict):
        return set().union(set(), *(_words(x) for x in v.values()))
    return set().union(set(), *(_words(x) for x in v))


def _training_words() -> set[str]:
    """Every word the rich grammar and the older (session-6) sets can produce, colours spelled out."""
    g = zh_prompts.RICH
    words = _words({k: v for k, v in g.items() if k != "templates"})
    for c, base in g["colour_base"].items():
        for pre in [""] + g["colour_prefix"][c]:
            words |= {pre + base + s for s in g["colour_suffix"]}
    old = (zh_prompts.COLOUR, zh_prompts.SHAPE, zh_prompts.DIRECTION, zh_prompts.VERB, zh_prompts.FAST,
           zh_prompts.HELD_OUT_SYNONYMS, zh_prompts.FROZEN_SYNONYMS)
    return words | set().union(*(_words(o) for o in old))


def test_frozen_words_and_orders_are_not_the_training_grammars():
    frozen = _words(zh_frozen_set.FROZEN)
    assert frozen and not (frozen & _training_words())
    # no frozen template's fixed text (its word order's glue) is a training template's
    glue = lambda t: re.sub(r"\{\w+\}", "|", t)
    train_glue = {glue(t) for t in zh_prompts.RICH["templates"] + zh_prompts.TRAIN_TEMPLATES}
    assert not ({glue(t) for t in zh_frozen_set.TEMPLATES} & train_glue)


def test_frozen_file_is_what_the_script_writes():
    path = os.path.join(ROOT, "benchmarks", "data", "zh_frozen_v2.jsonl")
    with open(path, encoding="utf-8") as f:
        committed = [json.loads(line) for line in f]
    assert committed == zh_frozen_set.build()
    assert len({r["zh"] for r in committed}) == len(committed) == 48 * 2 * 12
    held = set(zh_prompts.adapter_split()[1])
    assert all(r["held_out_composition"] == ((r["colour"], r["shape"], r["direction"]) in held) for r in committed)


@pytest.mark.parametrize("seed", [0, 1])
def test_rich_grammar_says_what_the_english_says(seed):
    rng = random.Random(seed)
    says_fast = lambda p: bool(set("快迅急") & set(p)) or "高速" in p or "飞速" in p
    for combo in shapes.combos():
        for fast in (False, True):
            for _ in range(6):
                p = zh_prompts.sample_rich(combo, fast, rng)
                assert zh_prompts.is_chinese(p) and len(p) <= 48
                assert zh_prompts.RICH["colour_base"][combo[0]] in p
                other = {"red", "green", "blue", "yellow"} - {combo[0]}
                assert not any(zh_prompts.RICH["colour_base"][o] in p for o in other), p
                assert says_fast(p) == fast, p      # slow prompts never say fast; fast ones always do
                assert set(p) <= zh_prompts.rich_vocabulary()


def test_cross_validation_folds_hold_words_out():
    train, held = zh_prompts.rich_fold(1, 3)
    for key in ("verb", "fast_pre", "measure", "templates"):
        assert held[key] and train[key] and not (set(held[key]) & set(train[key]))
    assert not (set(held["shape"]["circle"]) & set(train["shape"]["circle"]))
    rng = random.Random(0)
    p = zh_prompts.sample_rich(("red", "circle", "left"), True, rng, held)
    assert "红" in p


def test_tiny_student_learns_the_rich_grammar():
    vocab = TinyTextEncoder.build_vocab(shapes.caption_for(c, s, d, f) for c, s, d in shapes.combos() for f in (False, True))
    torch.manual_seed(0)
    teacher = TinyTextEncoder(vocab, dim=16, depth=1, heads=2).eval()
    train_c, held_c = zh_prompts.adapter_split()
    rng = random.Random(7)
    rows = [(c, f, zh_prompts.sample_rich(c, f, rng)) for c in held_c for f in (False, True) for _ in range(3)]
    cands = [(c, f) for c in shapes.combos() for f in (False, True)]
    student, info = train_adapter(teacher, steps=250, batch=32, cfg=AdapterConfig(dim=32, depth=1, max_chars=48),
                                  progress=False)
    got = evaluate_adapter(AdaptedTextEncoder(teacher, student), rows, cands)
    assert info["grammar"] == "rich" and info["log"][-1]["mse"] < info["log"][0]["mse"] / 3
    assert got["recall_at_1"] >= 0.4     # unseen compositions, fresh phrasings; chance is 1/96
    with pytest.raises(ValueError, match="grammar"):
        train_adapter(teacher, steps=1, grammar="jieba", progress=False)
