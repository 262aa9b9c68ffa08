"""The session-9 Chinese adapter (issue 22, part 2): the per-character vote student
(adapt/align_student.py), its slot-aware noise, save/load, and frozen set v4 (new words and orders)."""
import json
import os
import random
import re
import sys

import pytest
import torch

from videoforge.adapt import zh_prompts
from videoforge.adapt.align_student import AlignConfig, AlignStudent, slot_noise_ids
from videoforge.adapt.text_adapter import AdaptedTextEncoder, load_adapter, save_adapter
from videoforge.adapt.token_student import train_token_adapter
from videoforge.models.text import TinyTextEncoder
from videoforge.synth import shapes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import zh_frozen_set  # noqa: E402
import zh_frozen_v3  # noqa: E402
import zh_frozen_v4  # noqa: E402
from test_text_adapter_zh7 import _training_words, _words  # noqa: E402

VOCAB = TinyTextEncoder.build_vocab(shapes.caption_for(c, s, d, f) for c, s, d in shapes.combos() for f in (False, True))


def _teacher(seed=0, dim=16):
    torch.manual_seed(seed)
    return TinyTextEncoder(VOCAB, dim=dim, depth=1, heads=2).eval()


def test_frozen_v4_words_and_orders_are_new():
    v4 = _words(zh_frozen_v4.FROZEN)
    assert v4 and not (v4 & _training_words())
    assert not (v4 & _words(zh_frozen_set.FROZEN)) and not (v4 & _words(zh_frozen_v3.FROZEN))
    glue = lambda t: re.sub(r"\{\w+\}", "|", t)
    old = zh_prompts.RICH["templates"] + zh_prompts.TRAIN_TEMPLATES + zh_prompts.HELD_OUT_TEMPLATES + \
        zh_prompts.FROZEN_TEMPLATES + zh_frozen_set.TEMPLATES + zh_frozen_v3.TEMPLATES
    assert not ({glue(t) for t in zh_frozen_v4.TEMPLATES} & {glue(t) for t in old})


def test_frozen_v4_file_is_what_the_script_writes():
    with open(os.path.join(ROOT, "benchmarks", "data", "zh_frozen_v4.jsonl"), encoding="utf-8") as f:
        committed = [json.loads(line) for line in f]
    assert committed == zh_frozen_v4.build()
    assert len({r["zh"] for r in committed}) == len(committed) == 48 * 2 * 12
    held = set(zh_prompts.adapter_split()[1])
    assert all(r["held_out_composition"] == ((r["colour"], r["shape"], r["direction"]) in held) for r in committed)
    assert sum(r["held_out_composition"] for r in committed) == 12 * 2 * len(held)
