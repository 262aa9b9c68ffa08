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


def build(per: int = 12, seed: int = 20261212) -> list[dict]:
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
    ap.add_argument("--out", default="benchmarks/data/zh_frozen_v7.jsonl")
    ap.add_argument("--per", type=int, default=12, help="prompts per (colour, shape, direction, speed)")
    ap.add_argument("--seed", type=int, default=20261212)
    args = ap.parse_args()
    rows = build(args.per, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} prompts ({sum(r['held_out_composition'] for r in rows)} of held-out compositions) -> {args.out}")


if __name__ == "__main__":
    main()
