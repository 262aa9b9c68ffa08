"""`videoforge train-text-adapter`: teach a trained generator Chinese prompts without retraining it."""

from __future__ import annotations

import argparse

DEFAULT_BASE = "demo-out/train/stdit/stdit.pt"   # what `make demo-train` writes


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "train-text-adapter",
        help="distil the generator's text encoder into a Chinese prompt adapter for `generate --text-adapter`",
        description=(
            "Train a small character-level student that reads Chinese prompts for the generator, from parallel "
            "prompts of the shapes demo sampled from a rich grammar (adapt/zh_prompts.py RICH). Default (--student "
            "align, session 9): each Chinese character votes for one English word by its identity alone, a gate that "
            "reads the whole prompt can only silence a vote (a direction suffix, the source of 从右往左), and each "
            "English position takes the word with most votes, so a word reads the same whatever stands beside it "
            "and compositions never phrased in Chinese are read like trained ones. --student tokens (session 8): it "
            "translates each Chinese prompt into the generator's own English words (one "
            "distribution over the English vocabulary per token position, cross-entropy on the English prompt's "
            "ids) and the generator's frozen English text encoder encodes that, so compositions the student never "
            "saw are composed by the encoder that knows them. --student states (sessions 6-7): it regresses the "
            "English encoder's output states directly (MSE + contrastive + length). The generator is "
            "not changed; English prompts keep bit-identical "
            "embeddings. Held-out compositions and phrasings are scored after training (zh->en retrieval "
            "recall@1 and mean cosine to the teacher). The adapter only fits the checkpoint it was trained for "
            "(its text encoder's hash is stored and checked)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="example:\n  videoforge train-text-adapter --base demo-out/train/stdit/stdit.pt --out zh.pt\n"
               "  videoforge generate demo-out/train/stdit/stdit.pt \"一个红色的圆形向左移动\" --text-adapter zh.pt --out x.mp4")
    p.add_argument("--base", default=DEFAULT_BASE, metavar="CHECKPOINT",
                   help=f"generator checkpoint whose text encoder is the teacher (default {DEFAULT_BASE})")
    p.add_argument("--out", required=True, metavar="ADAPTER", help="where to write the adapter (.pt, tensors only)")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps (default 4000 for --student align and 1000 for --student tokens, the lengths "
                        "benchmarks/zh_cv.py validated; 2000 for --student states)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grammar", choices=("rich", "templates"), default="rich",
                   help="training phrasings: rich = sampled from zh_prompts.RICH (many synonyms, measure words, "
                        "particles, adverb positions, ~14 word orders; default); templates = the 3 session-6 templates")
    p.add_argument("--student", choices=("align", "tokens", "states"), default=None,
                   help="align: per-character word votes, gated by a bidirectional GRU over the prompt, summed per English "
                        "position (default; session 9, chosen by benchmarks/zh_cv.py --hold pairs: a word is read the same "
                        "whatever words stand beside it, so held-out compositions read as trained ones); tokens: the "
                        "session-8 translating decoder; states: regress the English encoder's output states "
                        "(sessions 6-7; the default with --grammar templates, which only that student trains on)")
    p.add_argument("--lexicon", choices=("auto", "on", "off"), default="auto",
                   help="align only (session 10): also read each word's CC-CEDICT glosses (adapt/lexicon.py), so a "
                        "synonym whose characters training never saw is read through what the dictionary says it means. "
                        "auto (default) = the recipe benchmarks/zh_cv.py chose (align_student.SHIPPED) when the dictionary "
                        "is installed (pip install 'videoforge[zh]'), else off with a note; on = required; off = the "
                        "session-9 student")
    p.add_argument("--wordnet", choices=("auto", "on", "off"), default="auto",
                   help="align with the lexicon only (session 11): a dictionary word whose glosses name none of the "
                        "generator's concepts is read through WordNet's relations of its gloss words (adapt/wordnet.py: "
                        "cinnabar -> 'a heavy reddish mineral' -> red), from Debian's WordNet database (apt-get install "
                        "wordnet-base; or VIDEOFORGE_WORDNET=DIR). auto (default) = what the shipped recipe "
                        "(align_student.SHIPPED) says, when WordNet is installed, else off with a note; on = required; off = "
                        "CC-CEDICT alone (the session-10 student)")
    p.add_argument("--e2e-weight", type=float, default=0.0,
                   help="tokens only: weight of MSE + contrastive on the frozen English encoder's output from "
                        "straight-through token embeddings, beside the cross-entropy (default 0)")
    p.add_argument("--drop", type=float, default=0.2,
                   help="per-character training noise rate (default 0.2: chosen over 0.1 by benchmarks/zh_cv.py)")
    p.add_argument("--mse-weight", type=float, default=1.0,
                   help="states only: weight of the MSE to the teacher's states (default 1; the tokens student's "
                        "MSE + contrastive term is --e2e-weight)")
    p.add_argument("--nce-weight", type=float, default=0.1,
                   help="weight of the contrastive term on pooled states (default 0.1; benchmarks/zh_cv.py compares)")
    p.add_argument("--threads", type=int, default=0,
                   help="torch threads (default: 1 when the load average is at least the core count, else all cores; "
                        "at load ~25 on 2 cores, 2 threads took 3.5 s a step, 1 thread 0.45 s)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def _optional_source(flag: str, shipped: bool, load, unavailable: type[Exception], what: str) -> bool:
    """Whether to train with an optional data source (--lexicon / --wordnet): on = required (its absence is a
    usage error), off = no, auto = the shipped recipe's choice when the source is installed, else off with a
    note. `load` reads the source (raising `unavailable` when it is missing)."""
    import sys

    from videoforge.cli import UsageError

    wanted = {"on": True, "off": False}.get(flag, shipped)
    if not wanted:
        return False
    try:
        load()
    except unavailable as e:
        if flag == "on":
            raise UsageError(str(e)) from e
        print(f"note: {e}; training without {what}", file=sys.stderr)
        return False
    return True


def main(args) -> int:
    import os

    from videoforge.cli import UsageError

    if not os.path.exists(args.base):
        raise UsageError(f"{args.base}: no such checkpoint (run `make demo-train`, or pass --base CHECKPOINT)")
    if args.student is None:      # an older command keeps its student: --grammar templates (session 6/7),
        # --e2e-weight (session 8's tokens student); otherwise the alignment student
        args.student = "states" if args.grammar == "templates" else "tokens" if args.e2e_weight else "align"
    if args.student == "align" and args.e2e_weight:
        raise UsageError("--e2e-weight is for --student tokens")
    if args.student in ("tokens", "align") and args.mse_weight != 1.0:
        raise UsageError("--mse-weight is for --student states; the tokens student's MSE + contrastive weight is "
                         "--e2e-weight")
    if args.steps is None:
        args.steps = {"tokens": 1000, "align": 4000}.get(args.student, 2000)
    if args.steps < 1:
        raise UsageError("--steps must be >= 1")
    if not 0 <= args.drop < 1 / 3:
        raise UsageError(f"--drop must be in [0, 0.33) (three noise kinds share it), not {args.drop}")
    import torch

    cores = os.cpu_count() or 1
    torch.set_num_threads(args.threads or (1 if os.getloadavg()[0] >= cores else cores))
    from videoforge.adapt import zh_prompts
    from videoforge.adapt.text_adapter import AdaptedTextEncoder, evaluate_adapter, save_adapter, train_adapter
    from videoforge.cli._common import print_json
    from videoforge.models.pipeline import Pipeline
    from videoforge.models.text import TinyTextEncoder

    try:
        pipe = Pipeline.load(args.base)
    except ValueError as e:
        raise UsageError(str(e)) from e
    teacher = pipe.gen.text_encoder
    missing = [w for w in ("red", "circle", "left", "moves") if isinstance(teacher, TinyTextEncoder) and w not in teacher.index]
    if missing:
        raise UsageError(f"{args.base}: its text encoder does not know the shapes demo's words {missing}; "
                         "the adapter's parallel prompts are the demo's")
    if args.student in ("tokens", "align"):
        if args.grammar != "rich":
            raise UsageError(f"--student {args.student} trains on the rich grammar only (--grammar templates is for "
                             "--student states)")
        from videoforge.adapt.token_student import train_token_adapter

        extra = {}
        if args.student == "align":     # the settings benchmarks/zh_cv.py --hold pairs chose (session 9)
            from videoforge.adapt.align_student import SHIPPED
            from videoforge.adapt.lexicon import LexiconUnavailable, cedict

            from videoforge.adapt.wordnet import WordNetUnavailable
            from videoforge.adapt.wordnet import wordnet as load_wordnet

            lexicon = _optional_source(args.lexicon, SHIPPED.lexicon, cedict, LexiconUnavailable,
                                       "the dictionary lexicon")
            if args.wordnet == "on" and not lexicon:
                raise UsageError("--wordnet on needs the dictionary lexicon (--lexicon on, or auto with the `zh` extra)")
            wordnet = lexicon and _optional_source(args.wordnet, SHIPPED.wordnet, load_wordnet, WordNetUnavailable,
                                                   "WordNet")
            extra = SHIPPED.train_kwargs(lexicon=lexicon, wordnet=wordnet)
        elif args.lexicon == "on" or args.wordnet == "on":
            raise UsageError("--lexicon / --wordnet are for --student align")
        try:
            student, info = train_token_adapter(teacher, steps=args.steps, seed=args.seed, progress=not args.json,
                                                drop=args.drop, e2e_weight=args.e2e_weight, nce_weight=args.nce_weight,
                                                **extra)
        except ValueError as e:     # not a word-level TinyTextEncoder
            raise UsageError(f"{args.base}: {e}") from e
    else:
        student, info = train_adapter(teacher, steps=args.steps, seed=args.seed, progress=not args.json,
                                      grammar=args.grammar, drop=args.drop, mse_weight=args.mse_weight,
                                      nce_weight=args.nce_weight)
    save_adapter(args.out, student, teacher, info)
    adapted = AdaptedTextEncoder(teacher, student)
    train_c, held_c = zh_prompts.adapter_split()
    cands = [(c, f) for c in train_c + held_c for f in (False, True)]
    scores = {
        "held_out_compositions": evaluate_adapter(adapted, zh_prompts.all_prompts(held_c, False), cands),
        "held_out_phrasings": evaluate_adapter(adapted, zh_prompts.all_prompts(train_c, True), cands),
        "held_out_both": evaluate_adapter(adapted, zh_prompts.all_prompts(held_c, True), cands),
    }
    doc = {"adapter": os.path.abspath(args.out), "base": os.path.abspath(args.base), "parameters": info["parameters"],
           "student": args.student,
           "steps": info["steps"], "seconds": round(info["seconds"], 1), "scores": scores}
    if args.json:
        print_json(doc)
    else:
        for name, s in scores.items():
            exact = f"  translated exactly {s['translation_exact']:.3f}" if "translation_exact" in s else ""
            print(f"{name}: recall@1 {s['recall_at_1']:.3f} {s['recall_ci95']}  mean cosine {s['mean_cosine']:.3f}{exact}  n={s['n']}")
        print(f"text adapter: {doc['adapter']}")
    return 0
