"""The frozen evaluation set of the Chinese prompt adapter, version 8 (session 11).

Frozen set v7 (benchmarks/zh_frozen_v7.py) was scored once in session 11 with the shipped student and is
spent; two candidates the pair-CV rejected (WordNet, from-to grammar) were then scored on it for comparison
only. This set is written after that, for the NEXT candidate (e.g. WordNet chosen by a validation that holds
out dictionary words): it is scored once, after that candidate is chosen on the training side. Its words were
chosen as natural Chinese without looking up their CC-CEDICT glosses or what WordNet says of them. None is a
word of the training grammars (RICH, RICH_FROMTO and its from-to phrases), of frozen sets v2-v7 or of the
session-6 sets, and its word orders are new (tests/test_text_adapter_zh11.py checks). Built like v3-v7:
- word orders: 我想看…; 镜头里，…; …（颜色：<colour>）…; 接着，…; 做一个视频：…; 看啊，…;
- colours 番茄红 砖红色 珊瑚红 红殷殷 / 竹叶绿 鹦鹉绿 黛绿色 绿葱葱 / 牛仔蓝 景泰蓝 矢车菊蓝 蓝幽幽 /
  稻谷黄 沙黄色 芒果黄 黄亮亮;
- shapes 足球 圆形灯笼 铁饼 圆顶 / 方形饼干 方形灯笼 魔方 方桌 / 三角形灯笼 三角饭团 三角巾 三角形路牌;
- directions 靠左 往左侧方向 朝左手一侧 … 向顶上 冲上 往天上去 / 向底下 冲下 往地上去, compact 左漂 左闪 右漂 右闪
  升腾 扬起 垂落 沉降, from-to 从右侧到左侧 自右而左 从下头到上头 自下而上 …;
- verbs 移位 行走 奔行 游移; speeds 飞也似地 火箭般地 嗖的一下 匆匆地 得贼快 得飞快无比 ，一眨眼就过去了 ，快得吓人 /
  款款地 晃晃悠悠地 一寸一寸地 得很磨蹭 得慢极了 ，像散步一样 ，慢得要命;
- measure words 那颗 这么一个 一件 一款; finals 咧 哩 呐. (A first draft repeated 40 words of the spent sets v2 / v3;
  the test caught them and they were replaced before the set was used.)

    .venv/bin/python benchmarks/zh_frozen_v8.py --out benchmarks/data/zh_frozen_v8.jsonl
"""

from __future__ import annotations

import random

import zh_frozen_common as common
from zh_frozen_common import BASIC, FROZEN_SHARE  # noqa: F401  (the shared plain words and share, as before)

SEED = 20261213

FROZEN = {
    "colour": {"red": ["番茄红", "砖红色", "珊瑚红", "红殷殷"], "green": ["竹叶绿", "鹦鹉绿", "黛绿色", "绿葱葱"],
               "blue": ["牛仔蓝", "景泰蓝", "矢车菊蓝", "蓝幽幽"], "yellow": ["稻谷黄", "沙黄色", "芒果黄", "黄亮亮"]},
    "shape": {"circle": ["足球", "圆形灯笼", "铁饼", "圆顶"], "square": ["方形饼干", "方形灯笼", "魔方", "方桌"],
              "triangle": ["三角形灯笼", "三角饭团", "三角巾", "三角形路牌"]},
    "direction": {"left": ["靠左", "往左侧方向", "朝左手一侧"], "right": ["靠右", "往右侧方向", "朝右手一侧"],
                  "up": ["向顶上", "冲上", "往天上去"], "down": ["向底下", "冲下", "往地上去"]},
    # direction and verb in one word: they replace {d}{v}
    "compact": {"left": ["左漂", "左闪"], "right": ["右漂", "右闪"], "up": ["升腾", "扬起"], "down": ["垂落", "沉降"]},
    "from": {"left": ["从右侧到左侧", "自右而左"], "right": ["从左侧到右侧", "自左而右"],
             "up": ["从下头到上头", "自下而上"], "down": ["从上头到下头", "自上而下"]},
    "verb": ["移位", "行走", "奔行", "游移"],
    "fast_pre": ["飞也似地", "火箭般地", "嗖的一下", "匆匆地"],
    "fast_post": ["得贼快", "得飞快无比"],
    "fast_clause": ["，一眨眼就过去了", "，快得吓人"],
    "slow_pre": ["款款地", "晃晃悠悠地", "一寸一寸地"],
    "slow_post": ["得很磨蹭", "得慢极了"],
    "slow_clause": ["，像散步一样", "，慢得要命"],
    "measure": ["那颗", "这么一个", "一件", "一款"],
    "final": ["", "咧", "哩", "呐"],
}
# {m} measure, {c} colour, {s} shape, {a} speed before the verb phrase, {dv} direction + verb,
# {t} speed after the verb (得…), {k} speed as a trailing clause, {e} final
TEMPLATES = [
    "我想看{m}{c}{s}{a}{dv}{t}{e}{k}",
    "镜头里，{m}{c}{s}{a}{dv}{t}{e}{k}",
    "{m}{s}（颜色：{c}）{a}{dv}{t}{e}{k}",
    "接着，{m}{c}{s}{a}{dv}{t}{e}{k}",
    "做一个视频：{m}{c}{s}{a}{dv}{t}{e}{k}",
    "看啊，{m}{c}{s}{a}{dv}{t}{e}{k}",
]


def phrase(combo: tuple[str, str, str], fast: bool, rng: random.Random) -> str:
    return common.phrase(FROZEN, TEMPLATES, combo, fast, rng)


def build(per: int = 12, seed: int = SEED) -> list[dict]:
    return common.build(FROZEN, TEMPLATES, per, seed)


def main() -> None:
    common.main(__doc__, FROZEN, TEMPLATES, SEED, "benchmarks/data/zh_frozen_v8.jsonl")


if __name__ == "__main__":
    main()
