"""The frozen evaluation set of the Chinese prompt adapter, version 5 (session 9, second round).

Frozen set v4 (benchmarks/zh_frozen_v4.py) was scored once in session 9 and is spent (its errors
were read: phrasing, not composition). This set was written after that, before the gate variant
chosen next by cross-validation was trained to its final form, and is scored once, after that.
Its words and orders are new: none is a word of the training grammar (zh_prompts.RICH), of frozen
sets v2, v3 or v4, or of the session-6 sets (tests/test_text_adapter_zh9.py checks it). It is built
like v3 and v4 (same slot mix: 20 % compact direction verbs, 15 % from-to phrases, plain words in
40 % of slots), with its own lists:
- word orders: 你看，…在…; 屏幕里，…是<colour>，…; …：…; 我看到…; …的那个<shape>是<colour>;
  生成视频，内容是…;
- colours 胭脂红 玫瑰红 枣红色 红通通 / 薄荷绿 孔雀绿 油绿色 绿茵茵 / 海军蓝 天空蓝 湖蓝色 蓝汪汪 /
  奶黄色 蛋黄色 香蕉黄 黄橙橙;
- shapes 圆盒 圆扣 圆形贴纸 圆纽扣 / 方巾 方糖 方形贴纸 方木块 / 三角铁 三角标 三角形贴纸 三角锥;
- directions 往左拐着 冲左边 朝左首 …, compact 左拐 左游 上飞 升空 下跌 跌下去 …, from-to 从右首到左首
  由右边向左边 …;
- verbs 转悠 巡游 蹿 漂流; speeds 嗖嗖地 风驰电掣地 快马加鞭地 得挺快 得很急 ，速度挺快 ，快极了 /
  磨磨蹭蹭地 蜗牛般地 不慌不忙地 得挺慢 得很迟缓 ，速度挺慢 ，慢极了;
- measure words 一粒 一面 那片 有枚; finals 哟 啊 的呀.

    .venv/bin/python benchmarks/zh_frozen_v5.py --out benchmarks/data/zh_frozen_v5.jsonl
"""

from __future__ import annotations

import random

import zh_frozen_common as common
from zh_frozen_common import BASIC, FROZEN_SHARE  # noqa: F401  (the shared plain words and share, as before)

SEED = 20261210

FROZEN = {
    "colour": {"red": ["胭脂红", "玫瑰红", "枣红色", "红通通"], "green": ["薄荷绿", "孔雀绿", "油绿色", "绿茵茵"],
               "blue": ["海军蓝", "天空蓝", "湖蓝色", "蓝汪汪"], "yellow": ["奶黄色", "蛋黄色", "香蕉黄", "黄橙橙"]},
    "shape": {"circle": ["圆盒", "圆扣", "圆形贴纸", "圆纽扣"], "square": ["方巾", "方糖", "方形贴纸", "方木块"],
              "triangle": ["三角铁", "三角标", "三角形贴纸", "三角锥"]},
    "direction": {"left": ["往左拐着", "冲左边", "朝左首"], "right": ["往右拐着", "冲右边", "朝右首"],
                  "up": ["往上空", "冲上边", "朝上首"], "down": ["往下底", "冲下边", "朝下首"]},
    # direction and verb in one word: they replace {d}{v}
    "compact": {"left": ["左拐", "左游"], "right": ["右拐", "右游"], "up": ["上飞", "升空"], "down": ["下跌", "跌下去"]},
    "from": {"left": ["从右首到左首", "由右边向左边"], "right": ["从左首到右首", "由左边向右边"],
             "up": ["从底下到上面", "由下面向上面"], "down": ["从上面到底下", "由上面向下面"]},
    "verb": ["转悠", "巡游", "蹿", "漂流"],
    "fast_pre": ["嗖嗖地", "风驰电掣地", "快马加鞭地"],
    "fast_post": ["得挺快", "得很急"],
    "fast_clause": ["，速度挺快", "，快极了"],
    "slow_pre": ["磨磨蹭蹭地", "蜗牛般地", "不慌不忙地"],
    "slow_post": ["得挺慢", "得很迟缓"],
    "slow_clause": ["，速度挺慢", "，慢极了"],
    "measure": ["一粒", "一面", "那片", "有枚"],
    "final": ["", "哟", "啊", "的呀"],
}
# {m} measure, {c} colour, {s} shape, {a} speed before the verb phrase, {dv} direction + verb,
# {t} speed after the verb (得…), {k} speed as a trailing clause, {e} final
TEMPLATES = [
    "你看，{m}{c}{s}在{a}{dv}{t}{e}{k}",
    "屏幕里，{m}{s}是{c}，{a}{dv}{t}{e}{k}",
    "{m}{c}{s}：{a}{dv}{t}{e}{k}",
    "我看到{m}{c}{s}{a}{dv}{t}{e}{k}",
    "{a}{dv}{t}的那个{s}是{c}{e}{k}",
    "生成视频，内容是{m}{c}{s}{a}{dv}{t}{e}{k}",
]


def phrase(combo: tuple[str, str, str], fast: bool, rng: random.Random) -> str:
    return common.phrase(FROZEN, TEMPLATES, combo, fast, rng)


def build(per: int = 12, seed: int = SEED) -> list[dict]:
    return common.build(FROZEN, TEMPLATES, per, seed)


def main() -> None:
    common.main(__doc__, FROZEN, TEMPLATES, SEED, "benchmarks/data/zh_frozen_v5.jsonl")


if __name__ == "__main__":
    main()
