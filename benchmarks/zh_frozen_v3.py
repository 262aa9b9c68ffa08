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

import argparse
import json
import random

BASIC = {
    "colour": {"red": ["红色", "红"], "green": ["绿色", "绿"], "blue": ["蓝色", "蓝"], "yellow": ["黄色", "黄"]},
    "shape": {"circle": ["圆形"], "square": ["正方形"], "triangle": ["三角形"]},
    "direction": {"left": ["向左", "往左"], "right": ["向右", "往右"], "up": ["向上", "往上"], "down": ["向下", "往下"]},
    "verb": ["移动"],
    "fast": ["快速地"],
    "measure": ["", "一个"],
}
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
FROZEN_SHARE = 0.6


def _pick(rng: random.Random, frozen: list[str], basic: list[str]) -> str:
    return rng.choice(frozen) if rng.random() < FROZEN_SHARE or not basic else rng.choice(basic)


def phrase(combo: tuple[str, str, str], fast: bool, rng: random.Random) -> str:
    colour, shape, direction = combo
    template = rng.choice(TEMPLATES)
    c = _pick(rng, FROZEN["colour"][colour], BASIC["colour"][colour])
    s = _pick(rng, FROZEN["shape"][shape], BASIC["shape"][shape])
    u = rng.random()
    v = _pick(rng, FROZEN["verb"], BASIC["verb"])
    if u < 0.2:
        dv = rng.choice(FROZEN["compact"][direction])
    elif u < 0.35:
        dv = rng.choice(FROZEN["from"][direction]) + v
    else:
        dv = _pick(rng, FROZEN["direction"][direction], BASIC["direction"][direction]) + v
    kind = "fast" if fast else "slow"
    a = t = k = ""
    if fast or rng.random() < 0.5:       # slow prompts name no speed half the time, as in English
        where = rng.choice(["pre", "post", "clause"])
        if where == "pre":
            a = _pick(rng, FROZEN[f"{kind}_pre"], BASIC["fast"] if fast else [])
        elif where == "post":
            t = rng.choice(FROZEN[f"{kind}_post"])
        else:
            k = rng.choice(FROZEN[f"{kind}_clause"])
    return template.format(m=rng.choice(FROZEN["measure"] + BASIC["measure"]), c=c, s=s, a=a, dv=dv, t=t, k=k,
                           e=rng.choice(FROZEN["final"]))


def build(per: int = 12, seed: int = 20261208) -> list[dict]:
    from videoforge.adapt.zh_prompts import adapter_split, english
    from videoforge.synth import shapes

    held = set(adapter_split()[1])
    rng = random.Random(seed)
    rows = []
    for combo in shapes.combos():
        for fast in (False, True):
            seen: set[str] = set()
            for _ in range(per * 20):
                if len(seen) == per:
                    break
                p = phrase(combo, fast, rng)
                if p not in seen:
                    seen.add(p)
                    rows.append({"colour": combo[0], "shape": combo[1], "direction": combo[2], "fast": fast,
                                 "english": english(combo, fast), "zh": p, "held_out_composition": combo in held})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/data/zh_frozen_v3.jsonl")
    ap.add_argument("--per", type=int, default=12, help="prompts per (colour, shape, direction, speed)")
    ap.add_argument("--seed", type=int, default=20261208)
    args = ap.parse_args()
    rows = build(args.per, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} prompts ({sum(r['held_out_composition'] for r in rows)} of held-out compositions) -> {args.out}")


if __name__ == "__main__":
    main()
