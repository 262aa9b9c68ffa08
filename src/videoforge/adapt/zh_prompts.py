"""Parallel Chinese / English prompts for the shapes demo, with held-out phrasings.

The English side is exactly what the demo trains on (`shapes.caption_for`). The Chinese side
comes from templates and synonyms split in two: the *training* phrasings, which the adapter
learns from, and the *held-out* phrasings (other word orders, other synonyms) it never sees,
so its figures say whether it understood the words or memorised the sentences. Held-out
synonyms share a character with a trained one (圆圈 / 圆形, 朝左 / 向左, 飞快地 / 快速): a
character-level student cannot know a word none of whose characters it has seen.
"""

from __future__ import annotations

import itertools
import random
import re

from videoforge.synth import shapes

COLOUR = {"red": ["红色", "红"], "green": ["绿色", "绿"], "blue": ["蓝色", "蓝"], "yellow": ["黄色", "黄"]}
# 圆盘 / 方框 (disc, frame) teach that 圆X / 方X name the shape by its first character, as the
# held-out 圆圈 / 方块 do; the held-out words themselves are never trained on
SHAPE = {"circle": ["圆形", "圆", "圆盘"], "square": ["方形", "正方形", "方框"], "triangle": ["三角形"]}
DIRECTION = {"left": ["向左", "往左"], "right": ["向右", "往右"], "up": ["向上", "往上"], "down": ["向下", "往下"]}
VERB = ["移动", "运动"]
FAST = ["快速", "快速地"]

HELD_OUT_SYNONYMS = {
    "shape": {"circle": ["圆圈"], "square": ["方块"], "triangle": ["三角"]},
    "direction": {"left": ["朝左"], "right": ["朝右"], "up": ["朝上"], "down": ["朝下"]},
    "verb": ["移", "滑动"],
    "fast": ["飞快地", "很快地"],
}

# {c} colour, {s} shape, {d} direction, {v} verb, {f} fast word or "" (slow prompts name no speed)
TRAIN_TEMPLATES = ["一个{c}的{s}{f}{d}{v}", "{c}{s}{f}{d}{v}", "一个{c}{s}{f}{d}{v}"]
HELD_OUT_TEMPLATES = ["{s}是{c}的，{f}{d}{v}", "{f}{d}{v}的{c}{s}", "有一个{c}的{s}正在{f}{d}{v}"]

# The frozen set: phrasings written after the held-out ones above had been looked at (their
# errors led to the 圆盘 / 方框 training synonyms), used once for the released figures and
# never for choosing anything.
FROZEN_SYNONYMS = {
    "shape": {"circle": ["圆点"], "square": ["方格"], "triangle": ["三角图形"]},
    "direction": {"left": ["向左边"], "right": ["往右边"], "up": ["朝上方"], "down": ["向下方"]},
    "verb": ["平移", "运行"],
    "fast": ["高速", "快快地"],
}
FROZEN_TEMPLATES = ["画面里一个{c}的{s}在{f}{d}{v}", "{s}，{c}，{f}{d}{v}", "请生成{c}{s}{f}{d}{v}的视频"]

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]")


def is_chinese(prompt: str) -> bool:
    """True when the prompt holds Chinese characters or full-width punctuation."""
    return bool(_CJK.search(prompt))


def english(combo: tuple[str, str, str], fast: bool) -> str:
    """The English prompt the generator was trained on for (colour, shape, direction)."""
    return shapes.caption_for(combo[0], combo[1], combo[2], fast)


def chinese(combo: tuple[str, str, str], fast: bool, rng: random.Random, held_out_phrasing: bool = False) -> str:
    """One Chinese phrasing of the prompt: training templates and synonyms, or held-out ones."""
    colour, shape, direction = combo
    if held_out_phrasing:
        template = rng.choice(HELD_OUT_TEMPLATES)
        # each held-out prompt uses at least one held-out synonym where one exists
        s = rng.choice(HELD_OUT_SYNONYMS["shape"][shape] + SHAPE[shape])
        d = rng.choice(HELD_OUT_SYNONYMS["direction"][direction] + DIRECTION[direction])
        v = rng.choice(HELD_OUT_SYNONYMS["verb"] + VERB)
        f = rng.choice(HELD_OUT_SYNONYMS["fast"] + FAST) if fast else ""
    else:
        template = rng.choice(TRAIN_TEMPLATES)
        s, d, v = rng.choice(SHAPE[shape]), rng.choice(DIRECTION[direction]), rng.choice(VERB)
        f = rng.choice(FAST) if fast else ""
    return template.format(c=rng.choice(COLOUR[colour]), s=s, d=d, v=v, f=f)


def all_prompts(combos, held_out_phrasing: bool = False, phrasing: str | None = None) -> list[tuple[tuple, bool, str]]:
    """Every phrasing of every combo (both speeds): (combo, fast, chinese). Exhaustive, so an
    evaluation set is fixed, not sampled. `phrasing`: "train", "held_out" (the default when
    `held_out_phrasing`) or "frozen"; the held-out and frozen sets use only their own synonyms
    for shape, direction, verb and speed (colours have none)."""
    phrasing = phrasing or ("held_out" if held_out_phrasing else "train")
    if phrasing == "train":
        templates, syn = TRAIN_TEMPLATES, {"shape": SHAPE, "direction": DIRECTION, "verb": VERB, "fast": FAST}
    elif phrasing == "held_out":
        templates, syn = HELD_OUT_TEMPLATES, HELD_OUT_SYNONYMS
    elif phrasing == "frozen":
        templates, syn = FROZEN_TEMPLATES, FROZEN_SYNONYMS
    else:
        raise ValueError(f"phrasing must be train, held_out or frozen, not {phrasing!r}")
    out = []
    for combo in combos:
        c, s, d = combo
        for fast in (False, True):
            fasts = syn["fast"] if fast else [""]
            for t, cw, sw, dw, vw, fw in itertools.product(templates, COLOUR[c], syn["shape"][s], syn["direction"][d],
                                                           syn["verb"], fasts):
                out.append((combo, fast, t.format(c=cw, s=sw, d=dw, v=vw, f=fw)))
    return out


def adapter_split(seed: int = 101) -> tuple[list, list]:
    """(training combos, held-out combos) for the adapter: one held-out pair of each kind, so
    e.g. no red square is ever phrased in Chinese during training."""
    return shapes.split_combos(shapes.held_out_pairs(1, seed=seed))
