"""The frozen evaluation set of the Chinese prompt adapter, version 4 (session 9).

Frozen sets v2 (benchmarks/zh_frozen_set.py, session 7) and v3 (benchmarks/zh_frozen_v3.py,
session 8) were scored and are spent. This set was written at the start of session 9, before
the session-9 student (adapt/align_student.py) was cross-validated or trained to its final form,
and is scored once, after that. Its word lists and word orders are new: none is a word of the
training grammar (zh_prompts.RICH), of frozen sets v2 or v3, or of the session-6 sets
(tests/test_text_adapter_zh9.py checks it).

What is new here:
- word orders: 快看，… 正…; 画面上出现了…，…; the cleft …的，是…; colour as an afterthought
  (有…，…的); 一段视频：…; 要一个…，颜色为…，…;
- colour shades 绯红色 殷红色 赤红色 红艳艳 / 军绿色 松绿色 豆绿色 绿莹莹 / 孔雀蓝 冰蓝色 普蓝色 蓝盈盈 /
  米黄色 蜡黄色 橘黄色 黄灿灿;
- shape words 圆碟 圆牌 圆形标志 圆球体 / 方块儿 方形物 方格子 方形标志 / 三角尺 三角旗 三角形标志 三角体;
- directions 冲着左边 往左那边 向左边方向 …, compact 左冲 左挪 上冲 升上去 下冲 沉下去 …, from-to
  打右边往左边 从右方到左方 …;
- verbs 游走 飞行 挪移 晃动; speeds 神速地 闪电般地 急急地 得老快 得很迅速 ，速度很高 ，非常迅速 /
  慢腾腾地 一点点地 缓步 得很缓慢 得老慢 ，速度很低 ，非常缓慢;
- measure words 一片 这枚 那枚 有只; finals 咯 呀 嘛.
Plain words (红色, 圆形, 向左, 移动) fill a slot 40 % of the time, as in v2 and v3. Rows record
whether the composition is one of the adapter's held-out compositions (zh_prompts.adapter_split:
never phrased in Chinese during training).

    .venv/bin/python benchmarks/zh_frozen_v4.py --out benchmarks/data/zh_frozen_v4.jsonl
"""

from __future__ import annotations

import random

import zh_frozen_common as common
from zh_frozen_common import BASIC, FROZEN_SHARE  # noqa: F401  (the shared plain words and share, as before)

SEED = 20261209

FROZEN = {
    "colour": {"red": ["绯红色", "殷红色", "赤红色", "红艳艳"], "green": ["军绿色", "松绿色", "豆绿色", "绿莹莹"],
               "blue": ["孔雀蓝", "冰蓝色", "普蓝色", "蓝盈盈"], "yellow": ["米黄色", "蜡黄色", "橘黄色", "黄灿灿"]},
    "shape": {"circle": ["圆碟", "圆牌", "圆形标志", "圆球体"], "square": ["方块儿", "方形物", "方格子", "方形标志"],
              "triangle": ["三角尺", "三角旗", "三角形标志", "三角体"]},
    "direction": {"left": ["冲着左边", "往左那边", "向左边方向"], "right": ["冲着右边", "往右那边", "向右边方向"],
                  "up": ["冲着上边", "往上那边", "向上边方向"], "down": ["冲着下边", "往下那边", "向下边方向"]},
    # direction and verb in one word: they replace {d}{v}
    "compact": {"left": ["左冲", "左挪"], "right": ["右冲", "右挪"], "up": ["上冲", "升上去"], "down": ["下冲", "沉下去"]},
    "from": {"left": ["打右边往左边", "从右方到左方"], "right": ["打左边往右边", "从左方到右方"],
             "up": ["打下边往上边", "从下方到上方"], "down": ["打上边往下边", "从上方到下方"]},
    "verb": ["游走", "飞行", "挪移", "晃动"],
    "fast_pre": ["神速地", "闪电般地", "急急地"],
    "fast_post": ["得老快", "得很迅速"],
    "fast_clause": ["，速度很高", "，非常迅速"],
    "slow_pre": ["慢腾腾地", "一点点地", "缓步"],
    "slow_post": ["得很缓慢", "得老慢"],
    "slow_clause": ["，速度很低", "，非常缓慢"],
    "measure": ["一片", "这枚", "那枚", "有只"],
    "final": ["", "咯", "呀", "嘛"],
}
# {m} measure, {c} colour, {s} shape, {a} speed before the verb phrase, {dv} direction + verb,
# {t} speed after the verb (得…), {k} speed as a trailing clause, {e} final
TEMPLATES = [
    "快看，{m}{c}{s}正{a}{dv}{t}{e}{k}",
    "画面上出现了{m}{c}{s}，{a}{dv}{t}{e}{k}",
    "{a}{dv}{t}的，是{m}{c}{s}{e}{k}",
    "有{m}{s}{a}{dv}{t}{e}{k}，{c}的",
    "一段视频：{m}{c}{s}{a}{dv}{t}{e}{k}",
    "要一个{s}，颜色为{c}，{a}{dv}{t}{e}{k}",
]


def phrase(combo: tuple[str, str, str], fast: bool, rng: random.Random) -> str:
    return common.phrase(FROZEN, TEMPLATES, combo, fast, rng)


def build(per: int = 12, seed: int = SEED) -> list[dict]:
    return common.build(FROZEN, TEMPLATES, per, seed)


def main() -> None:
    common.main(__doc__, FROZEN, TEMPLATES, SEED, "benchmarks/data/zh_frozen_v4.jsonl")


if __name__ == "__main__":
    main()
