"""The frozen evaluation set of the Chinese prompt adapter, version 2 (session 7).

Written after the rich training grammar (zh_prompts.RICH, commit ac904c4) and independently of
it: its own word lists and word orders, chosen to be ones the grammar does not produce, and
never used to choose anything. The session-6 frozen set (zh_prompts.FROZEN_*) had been scored
and studied, so this one replaces it; its words are not reused here either.

What is held out (tests/test_text_adapter_zh7.py checks the word lists are disjoint from
the training grammar's and from the older sets'):
- word orders: 请画…，它…  (a pronoun clause), 我想看…（colour in brackets）, the cleft
  …着的是…, colour last (…，它是红色的), 镜头中…不停地…, 自/由…向… from-to phrases;
- colour shades with prefixes the grammar lacks (艳红 火红 通红 碧绿 墨绿 青绿 宝蓝 湛蓝 蔚蓝
  鹅黄 橙黄 柠檬黄);
- shape words 圆片 正圆形 圆形物体 / 方板 四方块 方形物体 正方格 / 三角板 正三角形 三角形物体 三角片;
- direction words 向左侧 往左手边 往上头 向下侧 …, compact 左滑 右飘 升高 爬升 坠落 掉下去;
- verbs 游动 穿行 溜 窜动; speed 极快地 疾速 以很快的速度 得极快 得相当快 ，速度极快 ，快得很 /
  徐徐 以很慢的速度 不紧不慢地 得极慢 得相当慢 ，速度极慢 ，慢得很;
- measure words 那个 一颗 某个, finals 啦 吧 ….
Plain words any Chinese speaker uses (红色, 圆形, 向左, 移动) appear too, at 40 % per slot:
there are only so many ways to say red.

Every (colour, shape, direction, fast) of the demo gets --per prompts; a row records whether
its composition is one of the adapter's held-out compositions (zh_prompts.adapter_split).

    .venv/bin/python benchmarks/zh_frozen_set.py --out benchmarks/data/zh_frozen_v2.jsonl
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
    "colour": {"red": ["艳红色", "火红色", "通红"], "green": ["碧绿色", "墨绿色", "青绿色"],
               "blue": ["宝蓝色", "湛蓝色", "蔚蓝色"], "yellow": ["鹅黄色", "橙黄色", "柠檬黄"]},
    "shape": {"circle": ["圆片", "正圆形", "圆形物体"], "square": ["方板", "四方块", "方形物体", "正方格"],
              "triangle": ["三角板", "正三角形", "三角形物体", "三角片"]},
    "direction": {"left": ["向左侧", "往左手边", "朝左侧"], "right": ["向右侧", "往右手边", "朝右侧"],
                  "up": ["往上头", "向上侧", "朝上头"], "down": ["往下头", "向下侧", "朝下头"]},
    # direction and verb in one word: they replace {d}{v}
    "compact": {"left": ["左滑", "左飘"], "right": ["右滑", "右飘"], "up": ["升高", "爬升"], "down": ["坠落", "掉下去"]},
    "from": {"left": ["自右向左", "由右往左"], "right": ["自左向右", "由左往右"], "up": ["自下向上", "由下往上"],
             "down": ["自上向下", "由上往下"]},
    "verb": ["游动", "穿行", "溜", "窜动"],
    "fast_pre": ["极快地", "疾速", "以很快的速度"],
    "fast_post": ["得极快", "得相当快"],
    "fast_clause": ["，速度极快", "，快得很"],
    "slow_pre": ["徐徐", "以很慢的速度", "不紧不慢地"],
    "slow_post": ["得极慢", "得相当慢"],
    "slow_clause": ["，速度极慢", "，慢得很"],
    "measure": ["那个", "一颗", "某个"],
    "final": ["", "啦", "吧", "…"],
}
# {m} measure, {c} colour, {s} shape, {a} speed before the verb phrase, {dv} direction + verb,
# {t} speed after the verb (得…), {k} speed as a trailing clause, {e} final
TEMPLATES = [
    "请画{m}{c}的{s}，它{a}{dv}{t}{e}{k}",
    "我想看{m}{s}（{c}）{a}{dv}{t}{e}{k}",
    "{a}{dv}着的是{m}{c}的{s}{e}{k}",
    "{m}{s}{a}{dv}{t}{e}，它是{c}的{k}",
    "镜头中{m}{c}{s}不停地{a}{dv}{t}{e}{k}",
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
        where = rng.choice(["pre", "post", "clause"] if "{t}" in template else ["pre", "clause"])
        if where == "pre":
            a = _pick(rng, FROZEN[f"{kind}_pre"], BASIC["fast"] if fast else [])
        elif where == "post":
            t = rng.choice(FROZEN[f"{kind}_post"])
        else:
            k = rng.choice(FROZEN[f"{kind}_clause"])
    return template.format(m=rng.choice(FROZEN["measure"] + BASIC["measure"]), c=c, s=s, a=a, dv=dv, t=t, k=k,
                           e=rng.choice(FROZEN["final"]))


def build(per: int = 12, seed: int = 20261201) -> list[dict]:
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


def load(path: str) -> list[tuple[tuple, bool, str, bool]]:
    """(combo, fast, chinese, held-out composition) rows of a frozen-set file."""
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            out.append(((r["colour"], r["shape"], r["direction"]), r["fast"], r["zh"], r["held_out_composition"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="benchmarks/data/zh_frozen_v2.jsonl")
    ap.add_argument("--per", type=int, default=12, help="prompts per (colour, shape, direction, speed)")
    ap.add_argument("--seed", type=int, default=20261201)
    args = ap.parse_args()
    rows = build(args.per, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} prompts ({sum(r['held_out_composition'] for r in rows)} of held-out compositions) -> {args.out}")


if __name__ == "__main__":
    main()
