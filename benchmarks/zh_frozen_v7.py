"""The frozen evaluation set of the Chinese prompt adapter, version 7 (session 10, round 2).

Frozen set v6 (benchmarks/zh_frozen_v6.py) was scored once in session 10 and is spent (its misreads
were read: words whose glosses name no concept, and from-to directions). This set was written after
that, while the round-2 cross-validation ran and before its results were read or its final adapter
trained; it is scored once. Its words were chosen as natural Chinese without looking their glosses up.
None is a word of the training grammar, of frozen sets v2-v6 or of the session-6 sets, and its word
orders are new (tests/test_text_adapter_zh10.py checks). Built like v3-v6, with its lists:
- word orders: 一段动画里，…; …呢，…; 要看…; 出现…，然后…; 能不能让…; …，<colour>的那种，…;
- colours 中国红 桃红色 赤色 红亮亮 / 翡翠色 苔藓绿 荧光绿 水绿色 / 钢蓝色 电光蓝 群青色 冰川蓝 /
  柠檬色 麦秆黄 奶油黄 金色;
- shapes 圆盖 飞盘 车轮 圆形气球 / 方盘 方形气球 立方块 砖块 / 三角形气球 三角形积木 锥形 楔子;
- directions 往左手那边 朝左方向 偏左 … 朝天空 朝地下 …, compact 左退 左去 右退 右去 飞升 上蹿 下滑 沉落,
  from-to 从右端到左端 由右往左边 从底部到顶部 由底往上 …;
- verbs 前行 穿梭 转移 漫游; speeds 嗖地 快步 一阵风似地 急急忙忙地 得很猛 得嗖嗖的 ，速度贼快 ，一闪而过 /
  悠闲地 蹒跚地 从容地 得慢慢悠悠 得很拖沓 ，速度很缓 ，不急不忙;
- measure words 一团 那块 这一个 一支; finals 哎 喽 嘛呀.

    .venv/bin/python benchmarks/zh_frozen_v7.py --out benchmarks/data/zh_frozen_v7.jsonl
"""

from __future__ import annotations

import random

import zh_frozen_common as common
from zh_frozen_common import BASIC, FROZEN_SHARE  # noqa: F401  (the shared plain words and share, as before)

SEED = 20261212

FROZEN = {
    "colour": {"red": ["中国红", "桃红色", "赤色", "红亮亮"], "green": ["翡翠色", "苔藓绿", "荧光绿", "水绿色"],
               "blue": ["钢蓝色", "电光蓝", "群青色", "冰川蓝"], "yellow": ["柠檬色", "麦秆黄", "奶油黄", "金色"]},
    "shape": {"circle": ["圆盖", "飞盘", "车轮", "圆形气球"], "square": ["方盘", "方形气球", "立方块", "砖块"],
              "triangle": ["三角形气球", "三角形积木", "锥形", "楔子"]},
    "direction": {"left": ["往左手那边", "朝左方向", "偏左"], "right": ["往右手那边", "朝右方向", "偏右"],
                  "up": ["朝上方向", "朝天空", "偏上"], "down": ["朝下方向", "朝地下", "偏下"]},
    # direction and verb in one word: they replace {d}{v}
    "compact": {"left": ["左退", "左去"], "right": ["右退", "右去"], "up": ["飞升", "上蹿"], "down": ["下滑", "沉落"]},
    "from": {"left": ["从右端到左端", "由右往左边"], "right": ["从左端到右端", "由左往右边"],
             "up": ["从底部到顶部", "由底往上"], "down": ["从顶部到底部", "由顶往下"]},
    "verb": ["前行", "穿梭", "转移", "漫游"],
    "fast_pre": ["嗖地", "快步", "一阵风似地", "急急忙忙地"],
    "fast_post": ["得很猛", "得嗖嗖的"],
    "fast_clause": ["，速度贼快", "，一闪而过"],
    "slow_pre": ["悠闲地", "蹒跚地", "从容地"],
    "slow_post": ["得慢慢悠悠", "得很拖沓"],
    "slow_clause": ["，速度很缓", "，不急不忙"],
    "measure": ["一团", "那块", "这一个", "一支"],
    "final": ["", "哎", "喽", "嘛呀"],
}
# {m} measure, {c} colour, {s} shape, {a} speed before the verb phrase, {dv} direction + verb,
# {t} speed after the verb (得…), {k} speed as a trailing clause, {e} final
TEMPLATES = [
    "一段动画里，{m}{c}{s}{a}{dv}{t}{e}{k}",
    "{m}{c}{s}呢，{a}{dv}{t}{e}{k}",
    "要看{m}{c}{s}{a}{dv}{t}{e}{k}",
    "出现{m}{c}{s}，然后{a}{dv}{t}{e}{k}",
    "能不能让{m}{c}{s}{a}{dv}{t}{e}{k}",
    "{m}{s}，{c}的那种，{a}{dv}{t}{e}{k}",
]


def phrase(combo: tuple[str, str, str], fast: bool, rng: random.Random) -> str:
    return common.phrase(FROZEN, TEMPLATES, combo, fast, rng)


def build(per: int = 12, seed: int = SEED) -> list[dict]:
    return common.build(FROZEN, TEMPLATES, per, seed)


def main() -> None:
    common.main(__doc__, FROZEN, TEMPLATES, SEED, "benchmarks/data/zh_frozen_v7.jsonl")


if __name__ == "__main__":
    main()
