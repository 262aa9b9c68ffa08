"""Chinese prompt adapter (issue 22): does a generator driven by Chinese prompts through the
adapter make what the same prompts in English make?

For every held-out composition of the adapter (combos whose Chinese phrasing it never saw)
and `--seeds` noise seeds, generate one clip from the English prompt and one from a frozen
Chinese phrasing (word orders and synonyms never trained on nor used for any choice; picked
per combo and seed by a fixed random stream), with the same seed, and read colour, shape and direction with the
demo's checker. Reports each attribute's accuracy for both languages, the paired difference
(zh - en) with a 95 % bootstrap interval over the paired clips, and the retrieval / cosine
figures of `train-text-adapter`.

    .venv/bin/python benchmarks/text_adapter_eval.py CHECKPOINT ADAPTER --seeds 8 --json out.json
"""

from __future__ import annotations

import argparse
import json
import random

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("adapter")
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import torch

    from videoforge.adapt import zh_prompts
    from videoforge.adapt.text_adapter import apply_text_adapter, evaluate_adapter
    from videoforge.adapt.zh_paired import paired_generation
    from videoforge.models.pipeline import Pipeline

    torch.set_num_threads(1)
    pipe = Pipeline.load(args.checkpoint)
    apply_text_adapter(pipe, args.adapter)
    train_c, held_c = zh_prompts.adapter_split()
    rng = random.Random(2026)
    frozen = {}
    for c, f, p in zh_prompts.all_prompts(held_c, phrasing="frozen"):
        if not f:
            frozen.setdefault(c, []).append(p)
    jobs = [(c, s, rng.choice(frozen[c])) for c in held_c for s in range(args.seeds)]
    gen = paired_generation(pipe, [(c, False, p, True) for c, _, p in jobs], frames=args.frames, batch=args.batch,
                            seed_base=1000, log=lambda m: print(m, flush=True))
    out = {"checkpoint": args.checkpoint, "adapter": args.adapter, "n": len(jobs), "held_out_combos": len(held_c),
           "seeds": args.seeds, "seconds": gen["seconds"], "attributes": gen["attributes"]}
    cands = [(c, f) for c in train_c + held_c for f in (False, True)]
    adapted = pipe.gen.text_encoder
    out["retrieval"] = {
        "held_out_compositions": evaluate_adapter(adapted, zh_prompts.all_prompts(held_c, False), cands),
        "held_out_phrasings": evaluate_adapter(adapted, zh_prompts.all_prompts(train_c, True), cands),
        "held_out_both": evaluate_adapter(adapted, zh_prompts.all_prompts(held_c, True), cands),
        # the frozen phrasings: looked at once, for the released figure
        "frozen_compositions_and_phrasings": evaluate_adapter(adapted, zh_prompts.all_prompts(held_c, phrasing="frozen"), cands),
        "frozen_phrasings": evaluate_adapter(adapted, zh_prompts.all_prompts(train_c, phrasing="frozen"), cands)}
    for name, a in out["attributes"].items():
        print(f"{name:9s} en {a['en']:.3f}  zh {a['zh']:.3f}  zh-en {a['zh_minus_en']:+.3f} {np.round(a['zh_minus_en_ci95'], 3)}")
    for name, r in out["retrieval"].items():
        print(f"{name}: recall@1 {r['recall_at_1']:.3f} {np.round(r['recall_ci95'], 3)} cosine {r['mean_cosine']:.3f} n={r['n']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
