"""Chinese prompt adapter (issue 22, part 2), the released figures: score a trained adapter ONCE
on a frozen set (default v2, benchmarks/data/zh_frozen_v2.jsonl, written by
benchmarks/zh_frozen_set.py; session 8: --frozen benchmarks/data/zh_frozen_v3.jsonl, written by
benchmarks/zh_frozen_v3.py), after its settings were chosen by cross-validation on the training
side (benchmarks/zh_cv.py). The paired generation is adapt/zh_paired.paired_generation.

1. Retrieval: zh->en recall@1 among the 96 English demo prompts and mean token cosine to the
   teacher, on the frozen phrasings of the adapter's held-out compositions and of its training
   compositions (95 % bootstrap intervals).
2. Generation (--pairs N, 0 skips it): for N (frozen prompt, seed) pairs, one clip from the
   English prompt and one from its frozen Chinese phrasing, with the same seed and sampling
   noise; the demo's checker reads colour, shape and direction. Per attribute: accuracy in each
   language and the paired difference zh - en with a 95 % bootstrap interval over pairs.
   Prompts: every (colour, shape, direction, speed) in turn, its frozen phrasings in file order,
   held-out compositions first.

    nice -n 5 .venv/bin/python benchmarks/zh_eval.py CKPT ADAPTER --pairs 192 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("checkpoint")
    ap.add_argument("adapter")
    ap.add_argument("--frozen", default=os.path.join(os.path.dirname(__file__), "data", "zh_frozen_v2.jsonl"))
    ap.add_argument("--pairs", type=int, default=192, help="(prompt, seed) pairs generated in each language")
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import torch

    sys.path.insert(0, os.path.dirname(__file__))
    import zh_frozen_set

    from videoforge.adapt import zh_prompts
    from videoforge.adapt.text_adapter import apply_text_adapter, evaluate_adapter
    from videoforge.models.pipeline import Pipeline
    from videoforge.adapt.zh_paired import paired_generation
    from videoforge.synth import shapes

    torch.set_num_threads(1)
    rows = zh_frozen_set.load(args.frozen)
    pipe = Pipeline.load(args.checkpoint)
    apply_text_adapter(pipe, args.adapter)
    adapted = pipe.gen.text_encoder
    cands = [(c, f) for c in shapes.combos() for f in (False, True)]
    out = {"checkpoint": args.checkpoint, "adapter": args.adapter, "frozen": args.frozen, "retrieval": {}}
    for name, keep in (("frozen_held_out_compositions", True), ("frozen_training_compositions", False)):
        part = [(c, f, p) for c, f, p, h in rows if h == keep]
        out["retrieval"][name] = evaluate_adapter(adapted, part, cands)
    out["retrieval"]["frozen_all"] = evaluate_adapter(adapted, [(c, f, p) for c, f, p, _ in rows], cands)
    for name, r in out["retrieval"].items():
        print(f"{name}: recall@1 {r['recall_at_1']:.3f} {np.round(r['recall_ci95'], 3)}  cosine {r['mean_cosine']:.3f} "
              f"{np.round(r['cosine_ci95'], 3)}  n={r['n']}", flush=True)

    if args.pairs > 0:
        # round-robin over (composition, speed), held-out compositions first, each one's phrasings in file order
        groups: dict = {}
        for c, f, p, h in rows:
            groups.setdefault((not h, c, f), []).append(p)
        keys = sorted(groups)
        jobs, r = [], 0
        while len(jobs) < args.pairs:
            for key in keys:
                if len(jobs) < args.pairs:
                    jobs.append((key[1], key[2], groups[key][r % len(groups[key])], not key[0]))
            r += 1

        def keep(result):   # figures so far after every batch (a run stopped early still leaves its pairs' figures)
            out["generation"] = result
            if args.json:
                with open(args.json, "w") as f:
                    json.dump(out, f, indent=1, ensure_ascii=False)

        paired_generation(pipe, jobs, frames=args.frames, batch=args.batch, seed_base=5000, on_batch=keep,
                          log=lambda m: print(m, flush=True))
        for name, a in out["generation"]["attributes"].items():
            print(f"{name:9s} en {a['en']:.3f}  zh {a['zh']:.3f}  zh-en {a['zh_minus_en']:+.3f} "
                  f"{np.round(a['zh_minus_en_ci95'], 3)}  agree {a['agree']:.3f}  (held-out compositions "
                  f"{a.get('held_out_compositions_zh_minus_en', float('nan')):+.3f} "
                  f"{np.round(a.get('held_out_compositions_ci95', [np.nan, np.nan]), 3)})  n={len(jobs)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, ensure_ascii=False)


if __name__ == "__main__":
    main()
