"""The frozen evaluation set of the Chinese prompt adapter, version 6 (session 10).

Frozen sets v4 and v5 were scored once each in session 9 and are spent. This set was written in
session 10 after the dictionary lexicon (adapt/lexicon.py, its English concept table committed in
6a68dac) and BEFORE any cross-validation or final training of the lexicon student; it is scored
once per shipped candidate. Its words were chosen as natural Chinese without looking their glosses
up in CC-CEDICT (some name the colour or shape without its usual character: 朱砂色, 青草色, 靛青色,
琥珀色, 金灿灿, 光盘, 皮球, 骰子, 金字塔; some directions without 左/右/上/下: 往高处, 往低处). None is a
word of the training grammar (zh_prompts.RICH), of frozen sets v2-v5 or of the session-6 sets, and
its word orders are new (tests/test_text_adapter_zh10.py checks). Built like v3-v5 (same slot mix:
20 % compact direction verbs, 15 % from-to phrases, plain words in 40 % of slots), with its lists:
- word orders: 视频里能看到…，它…; …（<colour>）…; 请展示…; 这是…，正…; 动画：…; …的是…;
- colours 樱桃红 石榴红 朱砂色 红扑扑 / 森林绿 青草色 祖母绿 绿幽幽 / 宝石蓝 深海蓝 靛青色 碧蓝色 /
  琥珀色 芥末黄 向日葵黄 金灿灿;
- shapes 圆镜 光盘 圆形徽章 皮球 / 方形徽章 方凳 正方体 骰子 / 三角形徽章 三角帆 金字塔 三棱形;
- directions 往左一侧 向左手 偏向左边 … 往高处 向天上 … 往低处 向地面 …, compact 左转 左滚 右转 右滚 攀升
  腾空 坠下 掉落, from-to 由右至左 从右面到左面 由下至上 从低处到高处 …;
- verbs 溜达 晃悠 移行 游荡; speeds 一溜烟地 像箭一样 飞奔着 极速地 得超快 得像风一样 ，速度惊人 ，快如闪电 /
  拖拖拉拉地 一步一步地 懒洋洋地 得超慢 得像乌龟一样 ，速度极低 ，慢得出奇;
- measure words 一张 那一只 一座 有那么一个; finals 哇 呗 嘞.

    .venv/bin/python benchmarks/zh_frozen_v6.py --out benchmarks/data/zh_frozen_v6.jsonl
"""

from __future__ import annotations

import random

import zh_frozen_common as common
from zh_frozen_common import BASIC, FROZEN_SHARE  # noqa: F401  (the shared plain words and share, as before)

SEED = 20261211

FROZEN = {
    "colour": {"red": ["樱桃红", "石榴红", "朱砂色", "红扑扑"], "green": ["森林绿", "青草色", "祖母绿", "绿幽幽"],
               "blue": ["宝石蓝", "深海蓝", "靛青色", "碧蓝色"], "yellow": ["琥珀色", "芥末黄", "向日葵黄", "金灿灿"]},
    "shape": {"circle": ["圆镜", "光盘", "圆形徽章", "皮球"], "square": ["方形徽章", "方凳", "正方体", "骰子"],
              "triangle": ["三角形徽章", "三角帆", "金字塔", "三棱形"]},
    "direction": {"left": ["往左一侧", "向左手", "偏向左边"], "right": ["往右一侧", "向右手", "偏向右边"],
                  "up": ["往高处", "向天上", "偏向上边"], "down": ["往低处", "向地面", "偏向下边"]},
    # direction and verb in one word: they replace {d}{v}
    "compact": {"left": ["左转", "左滚"], "right": ["右转", "右滚"], "up": ["攀升", "腾空"], "down": ["坠下", "掉落"]},
    "from": {"left": ["由右至左", "从右面到左面"], "right": ["由左至右", "从左面到右面"],
             "up": ["由下至上", "从低处到高处"], "down": ["由上至下", "从高处到低处"]},
    "verb": ["溜达", "晃悠", "移行", "游荡"],
    "fast_pre": ["一溜烟地", "像箭一样", "飞奔着", "极速地"],
    "fast_post": ["得超快", "得像风一样"],
    "fast_clause": ["，速度惊人", "，快如闪电"],
    "slow_pre": ["拖拖拉拉地", "一步一步地", "懒洋洋地"],
    "slow_post": ["得超慢", "得像乌龟一样"],
    "slow_clause": ["，速度极低", "，慢得出奇"],
    "measure": ["一张", "那一只", "一座", "有那么一个"],
    "final": ["", "哇", "呗", "嘞"],
}
# {m} measure, {c} colour, {s} shape, {a} speed before the verb phrase, {dv} direction + verb,
# {t} speed after the verb (得…), {k} speed as a trailing clause, {e} final
TEMPLATES = [
    "视频里能看到{m}{c}{s}，它{a}{dv}{t}{e}{k}",
    "{m}{s}（{c}）{a}{dv}{t}{e}{k}",
    "请展示{m}{c}{s}{a}{dv}{t}{e}{k}",
    "这是{m}{c}{s}，正{a}{dv}{t}{e}{k}",
    "动画：{m}{c}{s}{a}{dv}{t}{e}{k}",
    "{a}{dv}{t}的是{m}{c}{s}{e}{k}",
]


def phrase(combo: tuple[str, str, str], fast: bool, rng: random.Random) -> str:
    return common.phrase(FROZEN, TEMPLATES, combo, fast, rng)


def build(per: int = 12, seed: int = SEED) -> list[dict]:
    return common.build(FROZEN, TEMPLATES, per, seed)


def main() -> None:
    common.main(__doc__, FROZEN, TEMPLATES, SEED, "benchmarks/data/zh_frozen_v6.jsonl")


if __name__ == "__main__":
    main()
