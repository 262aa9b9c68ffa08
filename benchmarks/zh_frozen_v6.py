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


def build(per: int = 12, seed: int = 20261211) -> list[dict]:
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
    ap.add_argument("--out", default="benchmarks/data/zh_frozen_v6.jsonl")
    ap.add_argument("--per", type=int, default=12, help="prompts per (colour, shape, direction, speed)")
    ap.add_argument("--seed", type=int, default=20261211)
    args = ap.parse_args()
    rows = build(args.per, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} prompts ({sum(r['held_out_composition'] for r in rows)} of held-out compositions) -> {args.out}")


if __name__ == "__main__":
    main()
