"""Chinese prompt adapter (issue 22): choose the training settings by cross-validation on the
training side only (never the frozen set, benchmarks/zh_frozen_set.py).

Fold k of --folds removes from training every k-th word of each word list of the rich grammar
(zh_prompts.rich_fold: synonyms, measure words, particles, speed adverbs, verbs) and every k-th
word order, and every k-th training composition; the fold's model is then scored (zh->en
recall@1 among the 96 English demo prompts, mean token cosine to the teacher) on prompts
phrased only with the removed words and orders, over all training-side compositions (and
apart, on the removed compositions). Each config is trained once per fold; the config with the
best mean recall@1 (then cosine) wins.

    nice -n 5 .venv/bin/python benchmarks/zh_cv.py --base CKPT --steps 1500 --configs base,nce05,drop02 --json cv.json
    nice -n 10 .venv/bin/python benchmarks/zh_cv.py --base CKPT --steps 1500 --configs tok,tok_e2e,tok_d0  # session 8
    nice -n 10 .venv/bin/python benchmarks/zh_cv.py --base CKPT --steps 2000 --hold pairs --configs align,align_plain  # session 9
    nice -n 10 .venv/bin/python benchmarks/zh_cv.py --base CKPT --steps 4000 --hold pairs --configs align_ub_gru,align_lex  # session 10
    nice -n 10 .venv/bin/python benchmarks/zh_cv.py --base CKPT --steps 4000 --hold pairs --configs align_lex_ft,align_lex_ft_wn  # session 11
"""

from __future__ import annotations

import argparse
import json
import random
import time

CONFIGS = {
    "base": {},                                   # drop 0.1, MSE 1, contrastive 0.1, length 0.1
    "nce05": {"nce_weight": 0.5},
    "drop02": {"drop": 0.2},
    "drop0": {"drop": 0.0},
    "mse3": {"mse_weight": 3.0},
    # session 8: the token student (adapt/token_student.py), noise 0.2
    "tok": {"student": "tokens"},                                  # CE only, encoder depth 2, decoder 2
    "tok_e2e": {"student": "tokens", "e2e_weight": 1.0},           # + MSE / contrastive through the frozen encoder
    "tok_d0": {"student": "tokens", "depth": 0},                   # no attention across characters (convolution)
    "tok_drop0": {"student": "tokens", "drop": 0.0},
    "tok_local": {"student": "tokens", "depth": 0, "decoder_depth": 0},  # convolution + one cross-attention per position
    # session 9: per-character identity votes gated by a width-3 window (adapt/align_student.py); the noise
    # spares content words (slot_noise); lr 0.05 (a 22 k-parameter model: 2e-3 had not converged at 2,000 steps)
    "align": {"student": "align", "slot_noise": True, "lr": 0.05},
    "align_plain": {"student": "align", "lr": 0.05},                      # the session-8 noise on every character
    "align_w5": {"student": "align", "slot_noise": True, "lr": 0.05, "window": 5},
    "align_drop01": {"student": "align", "slot_noise": True, "lr": 0.05, "drop": 0.1},
    # after a fix (votes start null) and the first pair-CV (rows "align" of the first run are before the fix)
    "align_ub": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class"},
    "align_ls": {"student": "align", "slot_noise": True, "lr": 0.05, "label_smoothing": 0.1},
    "align_ub_ls": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "label_smoothing": 0.1},
    "align_ub_w5": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "window": 5},
    "align_ub_d03": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "drop": 0.3},
    # session 9, after frozen v4 (spent): a gate that reads the whole prompt in order
    "align_ub_gru": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "gate": "gru"},
    "align_ub_gru_lr01": {"student": "align", "slot_noise": True, "lr": 0.01, "bias": "class", "gate": "gru"},
    "tok_local_slot": {"student": "tokens", "depth": 0, "decoder_depth": 0, "slot_noise": True},
    # session 10: + the CC-CEDICT lexicon (adapt/lexicon.py): per-character dictionary concepts vote too; a content
    # word loses its characters' identities at rate char_drop (where the dictionary names it) or its concepts at
    # rate concept_drop
    "align_lex": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "gate": "gru", "lexicon": True,
                  "char_drop": 0.3, "concept_drop": 0.2},
    "align_lex_cd5": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "gate": "gru",
                      "lexicon": True, "char_drop": 0.5, "concept_drop": 0.2},
    # session 10, round 2 (after frozen v6, spent): char_drop makes only the characters with concepts unknown
    "align_lex_cd5_keep": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "gate": "gru",
                           "lexicon": True, "char_drop": 0.5, "concept_drop": 0.2, "unknown_all": False},
    # ... only in direction words (从 / 往 of from-to phrases stay known); other words as align_lex_cd5
    "align_lex_cd5_dirkeep": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "gate": "gru",
                              "lexicon": True, "char_drop": 0.5, "concept_drop": 0.2, "keep_slots": ["direction"]},
    # session 11: + from-to direction phrases in the training grammar (zh_prompts.RICH_FROMTO; the fold's held-out
    # prompts still come from RICH's held-out fold, so these rows compare with session 10's), + WordNet relations
    # for glosses the concept table cannot read (adapt/wordnet.py)
    "align_lex_ft": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "gate": "gru",
                     "lexicon": True, "char_drop": 0.5, "concept_drop": 0.2, "grammar": "rich_fromto"},
    "align_lex_wn": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "gate": "gru",
                     "lexicon": True, "char_drop": 0.5, "concept_drop": 0.2, "lexicon_wordnet": True},
    "align_lex_ft_wn": {"student": "align", "slot_noise": True, "lr": 0.05, "bias": "class", "gate": "gru",
                        "lexicon": True, "char_drop": 0.5, "concept_drop": 0.2, "grammar": "rich_fromto",
                        "lexicon_wordnet": True},
}


def _train(teacher, name: str, **kw):
    """(student, info) for config `name`: the state student (sessions 6-7) or the token student."""
    from videoforge.adapt.text_adapter import train_adapter
    from videoforge.adapt.token_student import TokenConfig, train_token_adapter

    conf = dict(CONFIGS[name])
    conf.pop("grammar", None)           # applied by main (the fold of that grammar is passed as `rich`)
    kind = conf.pop("student", "states")
    if kind == "align":
        from videoforge.adapt.align_student import AlignConfig

        cfg = AlignConfig(**{k: conf.pop(k) for k in ("window", "scale", "dim", "bias", "gate", "lexicon",
                                                      "lexicon_wordnet") if k in conf})
        return train_token_adapter(teacher, cfg=cfg, **conf, **kw)
    if kind == "tokens":
        cfg = TokenConfig(**{k: conf.pop(k) for k in ("depth", "decoder_depth", "dim") if k in conf})
        return train_token_adapter(teacher, cfg=cfg, **conf, **kw)
    return train_adapter(teacher, **conf, **kw)


def slot_errors(student, rows) -> dict:
    """Misread slots over (combo, fast, zh) rows: colour / shape / direction / speed."""
    from videoforge.adapt import zh_prompts
    from videoforge.models.text import words

    out = {"colour": 0, "shape": 0, "direction": 0, "speed": 0}
    said = []
    for i in range(0, len(rows), 256):
        said += student.translate([p for _, _, p in rows[i:i + 256]])
    for (c, f, _), t in zip(rows, said):
        got = words(t)
        for k, name in ((1, "colour"), (2, "shape"), (4, "direction")):
            if len(got) <= k or got[k] != words(zh_prompts.english(c, f))[k]:
                out[name] += 1
        if ("fast" in got) != f:
            out["speed"] += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="generator checkpoint (its text encoder is the teacher)")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--only-folds", default=None, help="comma list of fold indices to run (default all)")
    ap.add_argument("--configs", default="base,nce05,drop02", help=f"comma list from {sorted(CONFIGS)}")
    ap.add_argument("--n-eval", type=int, default=600, help="held-out-fold prompts scored per fold")
    ap.add_argument("--hold", choices=("triples", "pairs"), default="triples",
                    help="which training compositions a fold removes: triples = every --folds-th one (sessions 7-8); "
                         "pairs = every triple holding one of 3 pairs (colour-shape, shape-direction, colour-direction) "
                         "drawn per fold, as the adapter's own held-out compositions are made (session 8, after v3)")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    import torch

    from videoforge.adapt import zh_prompts
    from videoforge.adapt.text_adapter import AdaptedTextEncoder, evaluate_adapter
    from videoforge.models.pipeline import Pipeline

    torch.set_num_threads(1)
    teacher = Pipeline.load(args.base).gen.text_encoder
    train_c, held_c = zh_prompts.adapter_split()
    cands = [(c, f) for c in train_c + held_c for f in (False, True)]
    folds = [int(k) for k in args.only_folds.split(",")] if args.only_folds else range(args.folds)
    results = []
    for k in folds:
        g_train, g_held = zh_prompts.rich_fold(k, args.folds)
        if args.hold == "pairs":
            from videoforge.synth import shapes

            own = shapes.held_out_pairs(1, seed=101)     # the adapter's held-out pairs (zh_prompts.adapter_split)
            for s in range(1000 + 100 * k, 1100 + 100 * k):
                pairs = shapes.held_out_pairs(1, seed=s)
                if all(pairs[kind][0] not in own[kind] for kind in pairs):
                    break
            fold_held = [c for c in train_c if shapes.is_held_out(c, pairs)]
            fold_train = [c for c in train_c if c not in fold_held]
        else:
            fold_train = [c for i, c in enumerate(train_c) if i % args.folds != k]
            fold_held = [c for i, c in enumerate(train_c) if i % args.folds == k]
        rng = random.Random(1000 + k)
        rows = []
        for _ in range(args.n_eval):
            c, f = rng.choice(train_c), rng.random() < 0.5
            rows.append((c, f, zh_prompts.sample_rich(c, f, rng, g_held)))
        for name in args.configs.split(","):
            t0 = time.perf_counter()
            grammar = CONFIGS[name].get("grammar")
            g_fit = zh_prompts.rich_fold(k, args.folds, zh_prompts.GRAMMARS[grammar])[0] if grammar else g_train
            student, info = _train(teacher, name, steps=args.steps, seed=k, combos=fold_train, rich=g_fit,
                                   progress=False)
            ad = AdaptedTextEncoder(teacher, student)
            all_rows = evaluate_adapter(ad, rows, cands)
            new_c = evaluate_adapter(ad, [r for r in rows if r[0] in fold_held], cands)
            res = {"fold": k, "config": name, "steps": args.steps, "hold": args.hold, "seconds": time.perf_counter() - t0,
                   "recall_at_1": all_rows["recall_at_1"], "mean_cosine": all_rows["mean_cosine"], "n": all_rows["n"],
                   "recall_held_compositions": new_c["recall_at_1"], "n_held_compositions": new_c["n"],
                   "translation_exact": all_rows.get("translation_exact"), "parameters": info["parameters"]}
            if hasattr(student, "translate"):       # which slot each misread got wrong (session 10)
                res["slot_errors"] = slot_errors(student, rows)
            results.append(res)
            print(json.dumps(res), flush=True)
    summary = {}
    for name in args.configs.split(","):
        rs = [r for r in results if r["config"] == name]
        summary[name] = {"recall_at_1": sum(r["recall_at_1"] for r in rs) / len(rs),
                         "mean_cosine": sum(r["mean_cosine"] for r in rs) / len(rs), "folds": len(rs),
                         "recall_held_compositions": sum(r["recall_held_compositions"] for r in rs) / len(rs)}
        print(f"{name:8s} recall@1 {summary[name]['recall_at_1']:.3f}  cosine {summary[name]['mean_cosine']:.3f}  folds {len(rs)}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "summary": summary, "args": vars(args)}, f, indent=1)


if __name__ == "__main__":
    main()
