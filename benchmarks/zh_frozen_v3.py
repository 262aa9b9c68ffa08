"""The frozen evaluation set of the Chinese prompt adapter, version 3 (session 8).

Frozen set v2 (benchmarks/zh_frozen_set.py) was scored in session 7 and is spent. This set was
written at the start of session 8, before the session-8 student (adapt/token_student.py) was
cross-validated or trained to its final form, and is scored once, after that. Its word lists and
word orders are new: none is a word of the training grammar (zh_prompts.RICH), of frozen set
v2, or of the session-6 sets (tests/test_text_adapter_zh8.py checks it).

What is new here:
- word orders: the 把 construction (把一个红色圆形向左移动), a spec list (颜色红色、形状圆形、…),
  只见…, 看！…，颜色…, …的那个…, 在屏幕上 / 在画面上 openings;
- colour shades 朱红 血红 酒红 红彤彤 / 橄榄绿 苹果绿 葱绿 绿油油 / 靛蓝 藏蓝 钴蓝 瓦蓝 /
  杏黄 土黄 姜黄 黄澄澄;
- shape words 圆环 圆块 圆形块 圆团 / 方砖 方形块 方片 方盒子 / 三角形状 三角牌 三角框;
- directions 向左手方向 往左方向 朝左去 …, compact 左行 左窜 上行 上扬 下行 下坠 …, from-to
  由右侧到左侧 从右边到左边 …;
- verbs 滑行 飘移 行驶 漂动 挪过去; speeds 飞一般地 迅捷地 火速 急匆匆地 得特别快 得飞起
  ，速度飞快 ，特别快 / 慢吞吞地 悠悠地 慢条斯理地 得特别慢 ，特别慢 ，速度缓慢;
- measure words 一块 那只 这只 某一个; finals 哦 哈 喔.
Plain words (红色, 圆形, 向左, 移动) fill a slot 40 % of the time: there are only so many
ways to say red. Rows record whether the composition is one of the adapter's held-out
compositions (zh_prompts.adapter_split: never phrased in Chinese during training).

    .venv/bin/python benchmarks/zh_frozen_v3.py --out benchmarks/data/zh_frozen_v3.jsonl
"""

from __future__ import annotations

import random

import zh_frozen_common as common
from zh_frozen_common import BASIC, FROZEN_SHARE  # noqa: F401  (the shared plain words and share, as before)

SEED = 20261208

FROZEN = {
    "colour": {"red": ["朱红色", "血红色", "酒红色", "红彤彤"], "green": ["橄榄绿", "苹果绿", "葱绿色", "绿油油"],
               "blue": ["靛蓝色", "藏蓝色", "钴蓝色", "瓦蓝色"], "yellow": ["杏黄色", "土黄色", "姜黄色", "黄澄澄"]},
    "shape": {"circle": ["圆环", "圆块", "圆形块", "圆团"], "square": ["方砖", "方形块", "方片", "方盒子"],
              "triangle": ["三角形状", "三角牌", "三角框"]},
    "direction": {"left": ["向左手方向", "往左方向", "朝左去"], "right": ["向右手方向", "往右方向", "朝右去"],
                  "up": ["向上方向", "往上方向", "朝上去"], "down": ["向下方向", "往下方向", "朝下去"]},
    # direction and verb in one word: they replace {d}{v}
    "compact": {"left": ["左行", "左窜"], "right": ["右行", "右窜"], "up": ["上行", "上扬"], "down": ["下行", "下坠"]},
    "from": {"left": ["由右侧到左侧", "从右边到左边"], "right": ["由左侧到右侧", "从左边到右边"],
             "up": ["由下侧到上侧", "从下边到上边"], "down": ["由上侧到下侧", "从上边到下边"]},
    "verb": ["滑行", "飘移", "行驶", "漂动", "挪过去"],
    "fast_pre": ["飞一般地", "迅捷地", "火速", "急匆匆地"],
    "fast_post": ["得特别快", "得飞起"],
    "fast_clause": ["，速度飞快", "，特别快"],
    "slow_pre": ["慢吞吞地", "悠悠地", "慢条斯理地"],
    "slow_post": ["得特别慢", "得慢吞吞"],
    "slow_clause": ["，特别慢", "，速度缓慢"],
    "measure": ["一块", "那只", "这只", "某一个"],
    "final": ["", "哦", "哈", "喔"],
}
# {m} measure, {c} colour, {s} shape, {a} speed before the verb phrase, {dv} direction + verb,
# {t} speed after the verb (得…), {k} speed as a trailing clause, {e} final
TEMPLATES = [
    "把{m}{c}{s}{a}{dv}{t}{e}{k}",
    "颜色{c}、形状{s}，{a}{dv}{t}{e}{k}",
    "只见{m}{c}的{s}{a}{dv}{t}{e}{k}",
    "看！{m}{s}{a}{dv}{t}{e}，颜色{c}{k}",
    "{c}的那个{s}{a}{dv}{t}{e}{k}",
    "在屏幕上，{m}{c}{s}{a}{dv}{t}{e}{k}",
]


def phrase(combo: tuple[str, str, str], fast: bool, rng: random.Random) -> str:
    return common.phrase(FROZEN, TEMPLATES, combo, fast, rng)


def build(per: int = 12, seed: int = SEED) -> list[dict]:
    return common.build(FROZEN, TEMPLATES, per, seed)


def main() -> None:
    common.main(__doc__, FROZEN, TEMPLATES, SEED, "benchmarks/data/zh_frozen_v3.jsonl")


if __name__ == "__main__":
    main()
