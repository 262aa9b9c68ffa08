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


def build(per: int = 12, seed: int = 20261213) -> list[dict]:
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
    ap.add_argument("--out", default="benchmarks/data/zh_frozen_v8.jsonl")
    ap.add_argument("--per", type=int, default=12, help="prompts per (colour, shape, direction, speed)")
    ap.add_argument("--seed", type=int, default=20261213)
    args = ap.parse_args()
    rows = build(args.per, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} prompts ({sum(r['held_out_composition'] for r in rows)} of held-out compositions) -> {args.out}")


if __name__ == "__main__":
    main()
