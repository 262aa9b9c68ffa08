"""The session-8 Chinese adapter (issue 22, part 2): the token student that translates into the
English encoder's input, its save/load and binding, and frozen set v3 (new words and orders)."""
import json
import os
import re
import sys

import pytest
import torch

from videoforge.adapt import zh_prompts
from videoforge.adapt.text_adapter import AdaptedTextEncoder, evaluate_adapter, load_adapter, save_adapter
from videoforge.adapt.token_student import TokenConfig, TokenStudent, train_token_adapter
from videoforge.models.text import TinyTextEncoder
from videoforge.synth import shapes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import zh_frozen_set  # noqa: E402
import zh_frozen_v3  # noqa: E402
from test_text_adapter import tiny_ckpt  # noqa: E402,F401  (a random generator checkpoint whose teacher is _teacher())
from test_text_adapter_zh7 import _training_words, _words  # noqa: E402

VOCAB = TinyTextEncoder.build_vocab(shapes.caption_for(c, s, d, f) for c, s, d in shapes.combos() for f in (False, True))


def _teacher(seed=0, dim=16):
    torch.manual_seed(seed)
    return TinyTextEncoder(VOCAB, dim=dim, depth=1, heads=2).eval()


def test_frozen_v3_words_and_orders_are_new():
    v3 = _words(zh_frozen_v3.FROZEN)
    assert v3 and not (v3 & _training_words())
    assert not (v3 & _words(zh_frozen_set.FROZEN))              # nor frozen set v2's
    glue = lambda t: re.sub(r"\{\w+\}", "|", t)
    old = zh_prompts.RICH["templates"] + zh_prompts.TRAIN_TEMPLATES + zh_prompts.HELD_OUT_TEMPLATES + \
        zh_prompts.FROZEN_TEMPLATES + zh_frozen_set.TEMPLATES
    assert not ({glue(t) for t in zh_frozen_v3.TEMPLATES} & {glue(t) for t in old})


def test_frozen_v3_file_is_what_the_script_writes():
    with open(os.path.join(ROOT, "benchmarks", "data", "zh_frozen_v3.jsonl"), encoding="utf-8") as f:
        committed = [json.loads(line) for line in f]
    assert committed == zh_frozen_v3.build()
    assert len({r["zh"] for r in committed}) == len(committed) == 48 * 2 * 12
    held = set(zh_prompts.adapter_split()[1])
    assert all(r["held_out_composition"] == ((r["colour"], r["shape"], r["direction"]) in held) for r in committed)
    assert sum(r["held_out_composition"] for r in committed) == 12 * 2 * len(held)


@pytest.fixture(scope="module")
def trained():
    return train_token_adapter(_teacher(), steps=300, batch=32, progress=False,
                               cfg=TokenConfig(dim=32, depth=1, decoder_depth=1))


def test_token_student_translates_into_the_teachers_words_and_saves_alone(tmp_path, trained):
    teacher = _teacher()
    train_c, held_c = zh_prompts.adapter_split()
    student, info = trained
    assert info["log"][-1]["ce"] < info["log"][0]["ce"] / 5
    ad = AdaptedTextEncoder(teacher, student)
    cands = [(c, f) for c in shapes.combos() for f in (False, True)]
    got = evaluate_adapter(ad, zh_prompts.all_prompts(train_c, False)[::11], cands)
    assert got["recall_at_1"] >= 0.8 and got["translation_exact"] >= 0.8
    # a prompt read right is encoded exactly as its English counterpart
    zh, en = "一个红色的圆形向左移动", "a red circle moves left"
    if student.translate([zh]) == ["a red circle moves left"]:
        assert torch.equal(ad.encode([zh])[0], teacher.encode([en])[0])
    # English untouched, bit for bit; a mixed batch keeps English rows as the teacher's
    assert torch.equal(ad.encode([en])[0], teacher.encode([en])[0])
    s, m = ad.encode([en, zh])
    assert torch.equal(s[0, :5], teacher.encode([en])[0][0]) and m[1].any()
    # saves alone, loads back identical, bound to its teacher by hash
    path = save_adapter(str(tmp_path / "zh.pt"), student, teacher, info)
    back = load_adapter(path, teacher)
    assert isinstance(back.student, TokenStudent)
    assert torch.equal(back.encode([zh, "蓝色方块往上快速移动"])[0], ad.encode([zh, "蓝色方块往上快速移动"])[0])
    with pytest.raises(ValueError, match="another checkpoint"):
        load_adapter(path, _teacher(seed=1))


def test_end_to_end_term_trains_through_the_frozen_teacher():
    teacher = _teacher()
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student, info = train_token_adapter(teacher, steps=30, batch=16, progress=False, e2e_weight=1.0,
                                        cfg=TokenConfig(dim=16, depth=0, decoder_depth=0, heads=2))
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())    # teacher frozen
    assert all(p.requires_grad for p in teacher.parameters())    # and its flags given back
    assert {"mse", "nce", "ce"} <= set(info["log"][-1]) and info["log"][-1]["mse"] >= 0
    with pytest.raises(ValueError, match="TinyTextEncoder"):
        train_token_adapter(torch.nn.Linear(2, 2), steps=1, progress=False)


def test_paired_generation_compares_each_chinese_prompt_with_its_english(tiny_ckpt, trained, tmp_path):
    from videoforge.adapt.text_adapter import apply_text_adapter
    from videoforge.adapt.zh_paired import paired_generation
    from videoforge.models.pipeline import Pipeline

    student, info = trained
    pipe = Pipeline.load(tiny_ckpt)
    apply_text_adapter(pipe, save_adapter(str(tmp_path / "zh.pt"), student, pipe.gen.text_encoder, info))
    train_c, _ = zh_prompts.adapter_split()
    # prompts the student reads right: their clips must be the English prompts' clips, seed for seed
    rows = [r for r in zh_prompts.all_prompts(train_c, False)[::37]
            if student.translate([r[2]]) == [" ".join(zh_prompts.english(r[0], r[1]).replace(",", " ,").split())]][:3]
    assert len(rows) == 3
    jobs = [(c, f, p, k == 0) for k, (c, f, p) in enumerate(rows)]
    seen = []
    got = paired_generation(pipe, jobs, frames=3, batch=2, steps=2, on_batch=seen.append, log=None)
    assert len(seen) == 2 and got["pairs"] == 3 and got["held_out_composition_pairs"] == 1
    assert all(j["read_en"] == j["read_zh"] for j in got["jobs"])
    for name, a in got["attributes"].items():
        assert a["zh_minus_en"] == 0 and a["agree"] == 1 and a["zh_minus_en_ci95"] == [0.0, 0.0]
        k = ("colour", "shape", "direction").index(name)
        assert a["en"] == sum(j["read_en"][k] == c[k] for j, (c, _, _, _) in zip(got["jobs"], jobs)) / 3
