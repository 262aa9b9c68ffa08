"""Chinese prompt adapter: what a frozen set's misreads are (diagnosis after the one scoring;
nothing is chosen on it). Per slot (colour / shape / direction / speed) the number of prompts read
wrong, and per frozen word of the set's script (its FROZEN lists) how often a prompt holding it was
misread in the slot the word fills; for lexicon adapters also what the dictionary said the word means.

    .venv/bin/python benchmarks/zh_misreads.py CKPT ADAPTER --frozen benchmarks/data/zh_frozen_v6.jsonl \
        --script zh_frozen_v6 --json out.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("adapter")
    ap.add_argument("--frozen", required=True)
    ap.add_argument("--script", required=True, help="the module that wrote the set (its FROZEN word lists)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    sys.path.insert(0, os.path.dirname(__file__))
    import torch

    from videoforge.adapt import zh_prompts
    from videoforge.adapt.text_adapter import load_adapter
    from videoforge.models.pipeline import Pipeline
    from videoforge.models.text import words

    torch.set_num_threads(1)
    frozen = importlib.import_module(args.script).FROZEN
    rows = [json.loads(line) for line in open(args.frozen, encoding="utf-8")]
    teacher = Pipeline.load(args.checkpoint).gen.text_encoder
    student = load_adapter(args.adapter, teacher).student
    said = []
    for i in range(0, len(rows), 256):
        said += student.translate([r["zh"] for r in rows[i:i + 256]])
    slot_of_list = {"colour": "colour", "shape": "shape", "direction": "direction", "compact": "direction",
                    "from": "direction", "fast_pre": "speed", "fast_post": "speed", "fast_clause": "speed",
                    "slow_pre": "speed", "slow_post": "speed", "slow_clause": "speed"}
    per_word: dict = {}
    errors = {"colour": 0, "shape": 0, "direction": 0, "speed": 0}
    wrong_any = 0
    for r, t in zip(rows, said):
        got, want = words(t), words(r["english"])
        bad = {name for k, name in ((1, "colour"), (2, "shape"), (4, "direction"))
               if len(got) <= k or got[k] != want[k]}
        if ("fast" in got) != r["fast"]:
            bad.add("speed")
        wrong_any += got != want
        for s in bad:
            errors[s] += 1
        for key, slot in slot_of_list.items():
            lists = frozen[key].values() if isinstance(frozen[key], dict) else [frozen[key]]
            for w in (w for ws in lists for w in ws):
                if w and w in r["zh"]:
                    e = per_word.setdefault(w, {"slot": slot, "n": 0, "wrong": 0})
                    e["n"] += 1
                    e["wrong"] += slot in bad
    lex = getattr(student, "cfg", None) is not None and getattr(student.cfg, "lexicon", False)
    if lex:
        for w, e in per_word.items():
            e["dictionary"] = student.lexicon.explain(w)
    out = {"adapter": args.adapter, "frozen": args.frozen, "n": len(rows), "misread": wrong_any,
           "slot_errors": errors, "words": dict(sorted(per_word.items(), key=lambda kv: -kv[1]["wrong"]))}
    print(f"{wrong_any} of {len(rows)} prompts misread; by slot {errors}")
    for w, e in list(out["words"].items())[:40]:
        if e["wrong"]:
            print(f"  {w:8s} {e['slot']:9s} {e['wrong']:3d}/{e['n']:3d}  {e.get('dictionary', '')}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
