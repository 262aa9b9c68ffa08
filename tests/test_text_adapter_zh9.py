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
from videoforge.models.text import words
from videoforge.synth import shapes

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import zh_frozen_set  # noqa: E402
import zh_frozen_v3  # noqa: E402
import zh_frozen_v4  # noqa: E402
import zh_frozen_v5  # noqa: E402
from test_text_adapter_zh7 import _training_words, _words  # noqa: E402
from test_text_adapter_zh8 import _teacher  # noqa: E402  (the same random English teacher)


def test_frozen_v4_words_and_orders_are_new():
    v4 = _words(zh_frozen_v4.FROZEN)
    assert v4 and not (v4 & _training_words())
    assert not (v4 & _words(zh_frozen_set.FROZEN)) and not (v4 & _words(zh_frozen_v3.FROZEN))
    glue = lambda t: re.sub(r"\{\w+\}", "|", t)
    old = zh_prompts.RICH["templates"] + zh_prompts.TRAIN_TEMPLATES + zh_prompts.HELD_OUT_TEMPLATES + \
        zh_prompts.FROZEN_TEMPLATES + zh_frozen_set.TEMPLATES + zh_frozen_v3.TEMPLATES
    assert not ({glue(t) for t in zh_frozen_v4.TEMPLATES} & {glue(t) for t in old})


def test_frozen_v5_words_and_orders_are_new():
    v5 = _words(zh_frozen_v5.FROZEN)
    assert v5 and not (v5 & _training_words())
    for older in (zh_frozen_set.FROZEN, zh_frozen_v3.FROZEN, zh_frozen_v4.FROZEN):
        assert not (v5 & _words(older))
    glue = lambda t: re.sub(r"\{\w+\}", "|", t)
    old = zh_prompts.RICH["templates"] + zh_prompts.TRAIN_TEMPLATES + zh_prompts.HELD_OUT_TEMPLATES + \
        zh_prompts.FROZEN_TEMPLATES + zh_frozen_set.TEMPLATES + zh_frozen_v3.TEMPLATES + zh_frozen_v4.TEMPLATES
    assert not ({glue(t) for t in zh_frozen_v5.TEMPLATES} & {glue(t) for t in old})


@pytest.mark.parametrize("version", [4, 5])
def test_frozen_v4_v5_files_are_what_the_scripts_write(version):
    script = {4: zh_frozen_v4, 5: zh_frozen_v5}[version]
    with open(os.path.join(ROOT, "benchmarks", "data", f"zh_frozen_v{version}.jsonl"), encoding="utf-8") as f:
        committed = [json.loads(line) for line in f]
    assert committed == script.build()
    assert len({r["zh"] for r in committed}) == len(committed) == 48 * 2 * 12
    held = set(zh_prompts.adapter_split()[1])
    assert all(r["held_out_composition"] == ((r["colour"], r["shape"], r["direction"]) in held) for r in committed)
    assert sum(r["held_out_composition"] for r in committed) == 12 * 2 * len(held)


def test_slot_noise_never_removes_a_content_character():
    rng = random.Random(0)
    index = {c: i + 2 for i, c in enumerate(sorted(zh_prompts.rich_vocabulary()))}
    for i in range(300):
        combo = shapes.combos()[i % 48]
        segs = zh_prompts.sample_rich_segments(combo, i % 2 == 0, random.Random(i))
        assert "".join(t for t, _ in segs) == zh_prompts.sample_rich(combo, i % 2 == 0, random.Random(i))
        assert {s for _, s in segs} >= {"colour", "shape"}
        ids = slot_noise_ids(index, segs, 0.3, rng, 200)
        content = [index[c] for t, s in segs if s for c in t]
        it = iter(ids)          # the content characters survive, in order
        assert all(any(x == c for x in it) for c in content)


@pytest.fixture(scope="module")
def trained():
    return train_token_adapter(_teacher(), steps=400, batch=32, lr=0.05, progress=False, slot_noise=True,
                               cfg=AlignConfig(dim=16, bias="class", gate="gru"))   # the shipped gate


def test_align_student_reads_held_out_compositions_and_saves_alone(tmp_path, trained):
    """Trained only on the adapter's training compositions, it reads the held-out ones (no red square
    was ever phrased in Chinese) word for word, as it reads trained ones."""
    student, info = trained
    assert isinstance(student, AlignStudent) and info["arch"] == "align"
    teacher = _teacher()
    train_c, held_c = zh_prompts.adapter_split()
    rng = random.Random(5)
    for combos in (train_c, held_c):
        rows = [(c, f, zh_prompts.sample_rich(c, f, rng)) for c in combos for f in (False, True) for _ in range(4)]
        said = student.translate([p for _, _, p in rows])
        exact = sum(" ".join(words(zh_prompts.english(c, f))) == t for (c, f, _), t in zip(rows, said))
        assert exact / len(rows) >= 0.9, (combos is held_c, exact, len(rows))
    # a prompt read right gives exactly the English embedding; English stays bit-identical, also in a mixed batch
    ad = AdaptedTextEncoder(teacher, student)
    zh, en = "一个红色的方块向上移动", shapes.caption_for("red", "square", "up", False)
    assert student.translate([zh]) == [" ".join(words(en))]
    s_zh, m_zh = ad.encode([zh])
    s_en, m_en = teacher.encode([en])
    assert torch.equal(s_zh, s_en) and torch.equal(m_zh, m_en)
    s_mix, _ = ad.encode([en, zh])
    assert torch.equal(s_mix[0, : s_en.shape[1]], s_en[0])
    # saves alone, loads back identical, refused for another teacher
    path = save_adapter(str(tmp_path / "zh.pt"), student, teacher, info)
    back = load_adapter(path, teacher)
    assert isinstance(back.student, AlignStudent)
    assert back.student.translate([zh, "黄色三角形往下飘"]) == student.translate([zh, "黄色三角形往下飘"])
    with pytest.raises(ValueError, match="another checkpoint"):
        load_adapter(path, _teacher(seed=1))


def test_a_characters_vote_does_not_depend_on_its_neighbours(trained):
    """Context gates a character's vote but never changes which word it votes for."""
    student, _ = trained
    V = len(student.out_vocab)
    g1, v1 = student.votes(student.ids(["红色的方块"]))
    g2, v2 = student.votes(student.ids(["蓝方块向左"]))
    assert torch.equal(v1[0, 3], v2[0, 1])        # 方 votes the same next to 的 / 蓝
    assert int(v1[0, 3, :V].argmax()) == student.out_vocab.index("square")


def test_a_prompts_reading_does_not_depend_on_the_batch(trained):
    """The GRU gate runs packed: padding from a longer prompt in the batch changes nothing."""
    student, _ = trained
    one = student(student.ids(["红色方块"]))
    two = student(student.ids(["红色方块", "画面中有一个蓝色的三角形正在快速地朝着左边移动"]))
    assert torch.allclose(one[0], two[0], atol=1e-6)
