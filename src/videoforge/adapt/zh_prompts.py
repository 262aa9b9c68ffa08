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


# ---------------------------------------------------------------------------------------------
# The rich training grammar (session 7). The templates above gave 3 word orders and 2-3 words per
# slot; a student trained on them read 82 % of the frozen phrasings right. This grammar samples a
# phrasing slot by slot: many synonyms per colour / shape / direction / verb / speed word,
# optional measure words (个 / 只), progressive markers, adverb positions (before the direction,
# after the verb with 得, as a trailing clause), 朝 / 往 / 向 (着), compact verbs (左移, 上升),
# from-to phrases (从右往左), sentence-final particles, and ~12 word orders. Slow prompts (the
# English names no speed) may say 缓慢地 / 慢慢地 or nothing. It is sampled, not enumerated (its
# phrasings number in the billions). The frozen evaluation set is written separately, by
# benchmarks/zh_frozen_set.py, with its own words and orders that this grammar does not use.
# ---------------------------------------------------------------------------------------------

RICH = {
    "colour_base": {"red": "红", "green": "绿", "blue": "蓝", "yellow": "黄"},
    # shade prefixes: the colour is the base character, whatever comes before it
    "colour_prefix": {"red": ["鲜", "大", "深", "浅", "亮", "暗", "正", "淡"],
                      "green": ["深", "浅", "亮", "暗", "翠", "嫩", "草", "淡"],
                      "blue": ["深", "浅", "亮", "暗", "天", "海", "淡"],
                      "yellow": ["深", "浅", "亮", "暗", "金", "淡", "明"]},
    "colour_suffix": ["色", "色", "", "颜色"],
    "shape": {"circle": ["圆形", "圆", "圆圈", "圆盘", "圆球", "球", "圆点", "圆饼", "小圆", "小球", "圆形图案"],
              "square": ["方形", "正方形", "方块", "方框", "方", "方格", "四方形", "正方块", "小方块", "方形图案"],
              "triangle": ["三角形", "三角", "三角图形", "三角块", "小三角", "三角形图案", "等边三角形"]},
    "measure": ["", "", "一个", "一只", "个", "只", "有个", "有一个", "这个", "一枚"],
    "progressive": ["", "", "", "正在", "在", "正", "一直"],
    "prep": ["向", "往", "朝", "朝着", "向着"],
    "dir_char": {"left": "左", "right": "右", "up": "上", "down": "下"},
    "dir_suffix": ["", "", "边", "方", "面"],
    # the opposite side, for 从右往左 (left) etc.
    "dir_from": {"left": "右", "right": "左", "up": "下", "down": "上"},
    "compact": {"left": ["左移"], "right": ["右移"], "up": ["上移", "上升", "升起", "上浮"],
                "down": ["下移", "下降", "下落", "落下", "下沉"]},
    "verb_to": ["移", "移动", "滑", "飘", "走", "运动"],   # 移向左边 / 移动到左边
    "verb": ["移动", "运动", "移", "走", "滑动", "滑", "飘", "飘动", "飞", "前进", "行进", "挪动", "平移",
             "运行", "漂移", "跑", "滚动", "动"],
    "fast_pre": ["快速", "快速地", "快", "很快", "很快地", "飞快", "飞快地", "迅速", "迅速地", "急速", "高速",
                 "快快地", "非常快地", "飞速", "快速的", "高速地"],
    "fast_post": ["得很快", "得飞快", "得快", "得非常快", "得迅速"],
    "fast_clause": ["，很快", "，速度很快", "，速度快", "，非常快", "，快速"],
    "slow_pre": ["缓慢地", "慢慢地", "慢慢", "缓缓地", "慢速", "很慢地", "慢悠悠地", "缓慢"],
    "slow_post": ["得很慢", "得慢", "得缓慢"],
    "slow_clause": ["，很慢", "，速度很慢", "，速度慢", "，慢速"],
    "final": ["", "", "", "了", "的", "。", "！", "着", "呢"],
    "frame": ["画面中", "画面里", "视频里", "生成", "生成一段", "让", "显示", "屏幕上", "视频中有", "画面中有"],
    # {m} measure word, {c} colour (+ optional 的), {cb} bare colour, {s} shape, {g} progressive,
    # {a} pre-verb speed adverb, {d} direction phrase (朝左边), {v} verb, {t} post-verb speed (得很快),
    # {k} trailing speed clause, {x} compact direction verb (左移), {o} from-to phrase (从右往左),
    # {y} verb + direction (移向左边), {F} frame, {e} final particle
    "templates": ["{m}{c}{s}{g}{a}{d}{v}{e}", "{m}{c}{s}{g}{d}{v}{t}{e}", "{m}{c}{s}{g}{a}{y}{e}",
                  "{m}{c}{s}{g}{a}{x}{e}", "{m}{c}{s}{x}{t}{e}", "{m}{s}是{cb}的，{a}{d}{v}{e}",
                  "{a}{d}{v}的{m}{c}{s}{e}", "{m}{c}{s}，{d}{v}{k}{e}", "{m}{s}，颜色是{cb}，{a}{d}{v}{e}",
                  "{F}{m}{c}{s}{a}{d}{v}{e}", "{m}{c}{s}{g}{a}{o}{v}{e}", "{m}{c}{s}{g}{d}{a}{v}{e}",
                  "{F}{m}{c}{s}{g}{a}{x}{e}", "{m}{cb}的{s}{g}{a}{d}{v}{e}"],
}


def _rich_colour(colour: str, rng: random.Random, g: dict) -> str:
    base = g["colour_base"][colour]
    u = rng.random()
    if u < 0.08:
        return base + base          # 红红 (then 的 from the template)
    pre = rng.choice(g["colour_prefix"][colour]) if u < 0.4 else ""
    return pre + base + rng.choice(g["colour_suffix"])


def sample_rich(combo: tuple[str, str, str], fast: bool, rng: random.Random, g: dict | None = None) -> str:
    """One phrasing of (colour, shape, direction, fast) from the rich training grammar `g`
    (default RICH; cross-validation passes a grammar with some words or orders removed)."""
    return "".join(text for text, _ in sample_rich_segments(combo, fast, rng, g))


# which slot of the English prompt each template field names (None: no English word of its own)
FIELD_SLOT = {"c": "colour", "cb": "colour", "s": "shape", "d": "direction", "x": "direction", "o": "direction",
              "y": "direction", "a": "speed", "t": "speed", "k": "speed"}


def sample_rich_segments(combo: tuple[str, str, str], fast: bool, rng: random.Random,
                         g: dict | None = None) -> list[tuple[str, str | None]]:
    """`sample_rich`'s phrasing as (text, slot) pieces, slot one of colour / shape / direction /
    speed or None (measure words, particles, verbs, frames, the template's own characters). The
    same random draws as `sample_rich` (it joins these pieces), so both give the same prompt.
    Session 9 uses the slots for training noise that never erases a whole content word."""
    g = g or RICH
    colour, shape, direction = combo
    cb = _rich_colour(colour, rng, g)
    c = cb + ("的" if rng.random() < 0.5 else "")
    dc = g["dir_char"][direction]
    d = rng.choice(g["prep"]) + dc + rng.choice(g["dir_suffix"])
    kind = "fast" if fast else "slow"
    template = rng.choice(g["templates"])
    # slow prompts name no speed half the time (as in the English); fast ones always do
    silent = (not fast) and rng.random() < 0.5
    if "{a}" in template:
        at = "pre"
    elif "{t}" in template:
        at = "post"
    else:
        at = "clause"
    a = "" if silent or at != "pre" else rng.choice(g[f"{kind}_pre"])
    t = "" if silent or at != "post" else rng.choice(g[f"{kind}_post"])
    k = "" if silent or at != "clause" else rng.choice(g[f"{kind}_clause"])
    y = rng.choice(g["verb_to"]) + rng.choice(["向", "到"]) + dc + rng.choice(g["dir_suffix"])
    o = "从" + g["dir_from"][direction] + rng.choice(["往", "向", "到"]) + dc
    # the fields in str.format's evaluation order of the session-7 code (same draws, same prompt)
    fields = dict(m=rng.choice(g["measure"]), c=c, cb=cb, s=rng.choice(g["shape"][shape]),
                  g=rng.choice(g["progressive"]), a=a, d=d, v=rng.choice(g["verb"]), t=t, k=k,
                  x=rng.choice(g["compact"][direction]), o=o, y=y, F=rng.choice(g["frame"]), e=rng.choice(g["final"]))
    # session 11 (grammars with "ft_from" only, so RICH's draws and prompts are unchanged): the direction phrase
    # is a from-to phrase a quarter of the time, in any word order that has one
    d_pieces, o_pieces = [(d, "direction")], [(o, "direction")]
    if "ft_from" in g:      # and the from-to word order's own phrase ({o}) is pieced the same way
        if rng.random() < FROMTO_RATE:
            d_pieces = fromto_segments(direction, rng, g)
        o_pieces = fromto_segments(direction, rng, g)
    out: list[tuple[str, str | None]] = []
    for piece in re.split(r"(\{\w+\})", template):
        if not piece:
            continue
        if piece.startswith("{"):
            name = piece[1:-1]
            if name in ("d", "o"):
                out += d_pieces if name == "d" else o_pieces
            elif fields[name]:
                out.append((fields[name], FIELD_SLOT.get(name)))
        else:
            out.append((piece, None))
    return out


# ---------------------------------------------------------------------------------------------
# Session 11: from-to direction phrases. RICH has one from-to form (从右往左, {o}) in one word order, so a
# cross-validation fold without that order never sees one (session 10: fold 1's 40 direction misreads), and
# the phrases with a side word after each end (从右边往左边) that frozen sets v5/v6 used were read by their
# first direction. RICH_FROMTO keeps every RICH list and adds markers of the source (从, 自, 打); the goal's
# marker is one of `prep` (向 往 朝 ...) or 到; each end takes a side suffix of its own (dir_suffix: 边 方 面 or none). Only
# the goal's side is the English direction. The marker and the source side are pieces of slot "marker": the
# training noise leaves them alone (a first run corrupted them as function words: a source marker replaced by
# <unk> taught "<unk> + direction = a source", and a fold's held-out preposition, unknown, then silenced the
# direction after it: pair-CV direction misreads 0 -> 180 on fold 2).
# ---------------------------------------------------------------------------------------------
FROMTO_RATE = 0.25
RICH_FROMTO = {**RICH, "ft_from": ["从", "自", "打"]}   # the goal's marker: the grammar's own "prep" list or 到
GRAMMARS = {"rich": RICH, "rich_fromto": RICH_FROMTO}


def grammar_name(g: dict) -> str:
    """The GRAMMARS name of `g`, or of the grammar it was derived from (a cross-validation fold keeps its
    grammar's word lists: RICH_FROMTO's are a superset of RICH's)."""
    for name, known in GRAMMARS.items():
        if g is known:
            return name
    return max((n for n, known in GRAMMARS.items() if set(known) <= set(g)), key=lambda n: len(GRAMMARS[n]),
               default="custom")


def fromto_segments(direction: str, rng: random.Random, g: dict) -> list[tuple[str, str | None]]:
    """A from-to phrase for `direction` as (text, slot) pieces: source marker, source side (the opposite
    direction) and goal marker (slot "marker": no training noise), goal side ("direction")."""
    src = g["dir_from"][direction] + rng.choice(g["dir_suffix"])
    goal = g["dir_char"][direction] + rng.choice(g["dir_suffix"])
    # the goal marker is drawn from the grammar's `prep` (so a cross-validation fold that holds a preposition out
    # never trains it here either) or is 到
    return [(rng.choice(g["ft_from"]), "marker"), (src, "marker"), (rng.choice(g["prep"] + ["到"]), "marker"),
            (goal, "direction")]


def rich_fold(k: int, folds: int, g: dict | None = None) -> tuple[dict, dict]:
    """(training grammar, held-out grammar) for cross-validation fold `k` of `folds`: every list
    of words (and the template list) loses its items i with i % folds == k (keeping at least
    one); the held-out grammar keeps only those items where a list lost any, else the training
    ones. Prompts from the held-out grammar use words / orders the fold's model never saw."""
    g = g or RICH

    def split(v):
        if isinstance(v, dict):
            parts = {key: split(x) for key, x in v.items()}
            return {key: p[0] for key, p in parts.items()}, {key: p[1] for key, p in parts.items()}
        if isinstance(v, str) or len(v) < 2:
            return v, v
        held = [x for i, x in enumerate(v) if i % folds == k and x]
        train = [x for i, x in enumerate(v) if not (i % folds == k and x)]
        if not train:
            train, held = v[:1], v[1:]
        return train, (held or train)

    pairs = {key: split(v) for key, v in g.items()}
    return {key: p[0] for key, p in pairs.items()}, {key: p[1] for key, p in pairs.items()}


def rich_vocabulary(g: dict | None = None) -> set[str]:
    """Every character the rich grammar `g` (default RICH) can produce: the student's vocabulary."""
    g = g or RICH
    chars: set[str] = set()

    def walk(v):
        if isinstance(v, str):
            chars.update(v)
        elif isinstance(v, dict):
            for x in v.values():
                walk(x)
        else:
            for x in v:
                walk(x)
    walk({k: v for k, v in g.items() if k != "templates"})
    for t in g["templates"]:
        chars.update(re.sub(r"\{\w\}", "", t))
    chars.update("向到从往")
    return {c for c in chars if not c.isspace()}
