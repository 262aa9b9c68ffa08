"""The prompt builder shared by the Chinese adapter's frozen evaluation sets v3-v8
(benchmarks/zh_frozen_v3.py ... zh_frozen_v8.py). Each version module holds only what makes it
new (its word lists FROZEN, its word orders TEMPLATES, its seed and its story); this module turns
them into prompts the same way for every version, so a committed set regenerates byte-identical
(tests/test_text_adapter_zh*.py compare each jsonl with its script's build()).

Frozen set v2 (benchmarks/zh_frozen_set.py) keeps its own builder: it draws the speed position from
fewer places when a word order has no {t} slot, so its draws differ from this builder's.
"""

from __future__ import annotations

import argparse
import json
import random

# plain words beside each set's new ones (a prompt mixes both: FROZEN_SHARE of the picks are new words)
BASIC = {
    "colour": {"red": ["红色", "红"], "green": ["绿色", "绿"], "blue": ["蓝色", "蓝"], "yellow": ["黄色", "黄"]},
    "shape": {"circle": ["圆形"], "square": ["正方形"], "triangle": ["三角形"]},
    "direction": {"left": ["向左", "往左"], "right": ["向右", "往右"], "up": ["向上", "往上"], "down": ["向下", "往下"]},
    "verb": ["移动"],
    "fast": ["快速地"],
    "measure": ["", "一个"],
}
FROZEN_SHARE = 0.6


def _pick(rng: random.Random, frozen: list[str], basic: list[str]) -> str:
    return rng.choice(frozen) if rng.random() < FROZEN_SHARE or not basic else rng.choice(basic)


def phrase(frozen: dict, templates: list[str], combo: tuple[str, str, str], fast: bool, rng: random.Random) -> str:
    """One prompt of (colour, shape, direction) at speed `fast` from a set's word lists and word orders
    (template slots: {m} measure, {c} colour, {s} shape, {a} speed before the verb phrase, {dv} direction +
    verb, {t} speed after the verb (得…), {k} speed as a trailing clause, {e} final)."""
    colour, shape, direction = combo
    template = rng.choice(templates)
    c = _pick(rng, frozen["colour"][colour], BASIC["colour"][colour])
    s = _pick(rng, frozen["shape"][shape], BASIC["shape"][shape])
    u = rng.random()
    v = _pick(rng, frozen["verb"], BASIC["verb"])
    if u < 0.2:
        dv = rng.choice(frozen["compact"][direction])
    elif u < 0.35:
        dv = rng.choice(frozen["from"][direction]) + v
    else:
        dv = _pick(rng, frozen["direction"][direction], BASIC["direction"][direction]) + v
    kind = "fast" if fast else "slow"
    a = t = k = ""
    if fast or rng.random() < 0.5:       # slow prompts name no speed half the time, as in English
        where = rng.choice(["pre", "post", "clause"])
        if where == "pre":
            a = _pick(rng, frozen[f"{kind}_pre"], BASIC["fast"] if fast else [])
        elif where == "post":
            t = rng.choice(frozen[f"{kind}_post"])
        else:
            k = rng.choice(frozen[f"{kind}_clause"])
    return template.format(m=rng.choice(frozen["measure"] + BASIC["measure"]), c=c, s=s, a=a, dv=dv, t=t, k=k,
                           e=rng.choice(frozen["final"]))


def build(frozen: dict, templates: list[str], per: int, seed: int) -> list[dict]:
    """`per` distinct prompts per (composition, speed), in shapes.combos() order, slow first."""
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
                p = phrase(frozen, templates, combo, fast, rng)
                if p not in seen:
                    seen.add(p)
                    rows.append({"colour": combo[0], "shape": combo[1], "direction": combo[2], "fast": fast,
                                 "english": english(combo, fast), "zh": p, "held_out_composition": combo in held})
    return rows


def main(doc: str, frozen: dict, templates: list[str], seed: int, out: str) -> None:
    """The command line of a version script: write its set as JSON lines."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=out)
    ap.add_argument("--per", type=int, default=12, help="prompts per (colour, shape, direction, speed)")
    ap.add_argument("--seed", type=int, default=seed)
    args = ap.parse_args()
    rows = build(frozen, templates, args.per, args.seed)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} prompts ({sum(r['held_out_composition'] for r in rows)} of held-out compositions) -> {args.out}")
