"""Model selection for the shot classifier by cross-validation on the TRAINING side only (issue 19).

    .venv/bin/python benchmarks/shots_select.py --data /tmp/vf-shots-train-v3 --weights 0,4

Nothing here reads a TEST file: the real set's TEST side (`split` in
benchmarks/data/real_cuts.json) and the second generator (`synth.transitions_alt`) are scored
only by benchmarks/shots_real.py / shots_heldout2.py, once per released model.

Training side:
* synthetic: `python -m videoforge.shots.train`'s videos (preset v3, seeds 100000..100095):
  the first 84 are fitted, the last 12 are validation videos scored by F1 (+-2 frames);
* real TRAIN side, two folds by source and time: (music video frames 0-1324 + the Megamind
  trailer, both files, one source) and music video frames 1325-2649. Each fold is predicted by a model fitted
  without it (rows within the classifier's context of a held-out fold are left out too), so
  its cut F1 is out of fold.

The model is fitted on the synthetic rows (`--iters` rounds, cached), then, for each weight of
the real rows (`--weights`; 0 = the synthetic fit alone), continued by `--real-iters` rounds on
every third synthetic row + the real rows outside the held-out fold (`python -m videoforge.shots.train` does the
same with all real TRAIN rows). The script
then scores the decision settings of `--grid` on the same out-of-fold probabilities, and
prints a table; the chosen configuration maximises the mean of the real out-of-fold cut F1
and the synthetic validation F1. Intervals: 95 % bootstrap over events.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from videoforge.shots import css  # noqa: E402
from videoforge.shots import evaluate as E  # noqa: E402
from videoforge.shots import features as F  # noqa: E402
from videoforge.shots import train as T  # noqa: E402

# (file id or prefix*, first frame, end frame): a fold may hold parts of several files
FOLDS = [[("rick_clip", 0, 1325), ("megamind*", 0, 270)], [("rick_clip", 1325, 2650)]]
N_VAL = 12


def signatures(path: str, cache: str) -> tuple:
    """The detector's per-frame signatures of a file (cached as .npz beside the training rows)."""
    from videoforge.io.decode import decode_frames

    if not os.path.exists(cache):
        buf = F.SignatureBuffer()
        for fr in decode_frames(path):
            buf.add(fr.small)
        h, t, g = buf.arrays()
        np.savez(cache, h=h, t=t, g=g)
    z = np.load(cache)
    return z["h"], z["t"], z["g"]


def fold_ranges(fid: str, fold: list) -> list[tuple[int, int]]:
    """Frame ranges of file `fid` inside a fold."""
    return [(lo, hi) for name, lo, hi in fold
            if fid == name or (name.endswith("*") and fid.startswith(name[:-1]))]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="training videos and rows (same as train.py --data)")
    ap.add_argument("--preset", default="v3")
    ap.add_argument("--videos", type=int, default=96)
    ap.add_argument("--seed", type=int, default=100000)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--weights", default="0,4,12", help="weights of the real TRAIN rows to compare (0: the "
                    "synthetic-only fit)")
    ap.add_argument("--real-iters", type=int, default=T.REAL_ITERS,
                    help="boosting rounds on synthetic + real rows that continue the synthetic fit")
    ap.add_argument("--grid", default="cut_threshold=0.2,0.35;fade_merge=0,10",
                    help="decision settings to compare on the out-of-fold probabilities")
    ap.add_argument("--model", default=None,
                    help="score the decision settings with this already trained model instead of fitting (a "
                         "model that never saw real footage, e.g. the one shipped before, makes every real TRAIN "
                         "part out of sample)")
    ap.add_argument("--json-out", default=None)
    a = ap.parse_args(argv)
    t0 = time.time()
    parts = T.synthetic_parts(a.data, a.seed, a.videos, a.preset, 2)
    xs = np.concatenate([p[0] for p in parts[:-N_VAL]])
    ys = np.concatenate([p[1] for p in parts[:-N_VAL]])
    real = T.real_rows("train", a.data)
    real_set = E.load_real_set()
    entries = {e["id"]: (e, lo, hi) for e, lo, hi in E.split_parts(real_set, "train")}
    sigs = {fid: signatures(E.resolve(e["locator"]), os.path.join(a.data, f"sig_{fid}.npz"))
            for fid, (e, _, _) in entries.items()}
    val = []
    for i in range(a.videos - N_VAL, a.videos):
        path = os.path.join(a.data, f"train_{a.preset}_{a.seed + i:05d}.mp4")
        with open(path[:-4] + ".json") as f:
            tr = json.load(f)
        val.append((signatures(path, path[:-4] + ".sig.npz"),
                    [{k: t[k] for k in ("kind", "start_frame", "end_frame")} for t in tr["transitions"]]))
    print(f"data ready ({time.time() - t0:.0f} s): {len(xs)} synthetic rows, real TRAIN rows "
          + ", ".join(f"{k} {len(v[1])}" for k, v in real.items()), file=sys.stderr)

    grid_keys, grid_vals = [], []
    for item in a.grid.split(";"):
        k, v = item.split("=")
        grid_keys.append(k)
        grid_vals.append([float(x) for x in v.split(",")])
    settings = [dict(zip(grid_keys, combo)) for combo in itertools.product(*grid_vals)]
    tmp = tempfile.mkdtemp(prefix="vf-shots-select-")
    t1 = time.time()
    base = None if a.model else T.base_model(a.data, xs, ys, a.iters, a.preset)
    print(f"synthetic-only fit ready ({time.time() - t1:.0f} s)", file=sys.stderr)
    results = []
    for w in ([0.0] if a.model else [float(x) for x in a.weights.split(",")]):
        # per fold: the model that did not see it -> probabilities of that fold's files
        fold_proba: list[dict] = []
        models = []
        for k, fold in enumerate(FOLDS if w > 0 else [None]):
            x_parts, y_parts = [xs[::T.SYNTH_EVERY]], [ys[::T.SYNTH_EVERY]]
            w_parts = [np.ones(len(y_parts[0]))]
            t1 = time.time()
            for key, (x, y, idx) in real.items():
                fid = key.split(":")[0]
                if w <= 0:
                    continue
                keep = np.ones(len(y), bool)
                for lo, hi in fold_ranges(fid, fold):
                    keep &= ~((idx >= lo - F.CONTEXT_AFTER) & (idx < hi + F.CONTEXT_BEFORE))
                x_parts.append(x[keep])
                y_parts.append(y[keep])
                w_parts.append(np.full(int(keep.sum()), w))
            clf = base if w <= 0 or a.model else T.fit(np.concatenate(x_parts), np.concatenate(y_parts),
                                            np.concatenate(w_parts), a.real_iters, init=base)
            path = a.model or os.path.join(tmp, f"w{w:g}_f{k}.npz")
            if not a.model:
                T.save(clf, path)
            models.append(path)
            det = css.ColorStructDetector(model_path=path)
            fold_proba.append({fid: det.probabilities(sigs[fid]) for fid in sigs})
            print(f"weight {w:g} fold {k}: fitted in {time.time() - t1:.0f} s", file=sys.stderr)
        det_v = css.ColorStructDetector(model_path=models[-1])
        val_proba = [det_v.probabilities(s) for s, _ in val]
        for st in settings:
            det = css.ColorStructDetector(model_path=models[0], **st)
            ev_real = E.Events()
            for k, fold in enumerate(FOLDS):
                probs = fold_proba[k if w > 0 else 0]
                for fid, (e, lo, hi) in entries.items():
                    for flo, fhi in fold_ranges(fid, fold):
                        _, trans = det.decide(sigs[fid], probs[fid])
                        pred = [{"kind": t.kind, "start_frame": t.start_frame, "end_frame": t.end_frame}
                                for t in trans]
                        ev_real.extend(E.events_in_range(E.truth_transitions(e), pred, e.get("ignore"),
                                                         max(lo, flo), min(hi, fhi)))
            ev_val = E.Events()
            for (s, truth), p in zip(val, val_proba):
                _, trans = det.decide(s, p)
                pred = [{"kind": t.kind, "start_frame": t.start_frame, "end_frame": t.end_frame} for t in trans]
                ev_val.extend(E.events(truth, pred))
            mr, mv = E.with_intervals(ev_real), E.with_intervals(ev_val)
            results.append({"real_weight": w, **st, "real_oof": mr, "synthetic_val": mv,
                            "score": (mr["cut_f1"] + mv["f1"]) / 2})
            print(f"weight {w:g} {st}: real TRAIN out-of-fold cut F1 {E.fmt(mr, 'cut_f1')} (n {mr['n_cuts']}, "
                  f"FP {mr['false_positives']}); synthetic validation F1 {E.fmt(mv, 'f1')} gradual recall "
                  f"{E.fmt(mv, 'gradual_recall')} (n {mv['n_truth']}, FP {mv['false_positives']})", file=sys.stderr)
    real_label = "real TRAIN cut F1 (model never trained on real footage)" if a.model else "real TRAIN out-of-fold cut F1"
    print("\n| real-row weight | " + " | ".join(grid_keys) + f" | {real_label} | n cuts | FP | "
          "synthetic validation F1 | gradual recall | n | FP | mean |")
    print("|---" * (len(grid_keys) + 9) + "|")
    for r in results:
        mr, mv = r["real_oof"], r["synthetic_val"]
        print(f"| {r['real_weight']:g} | " + " | ".join(f"{r[k]:g}" for k in grid_keys)
              + f" | {E.fmt(mr, 'cut_f1')} | {mr['n_cuts']} | {mr['false_positives']} | {E.fmt(mv, 'f1')} | "
              f"{E.fmt(mv, 'gradual_recall')} | {mv['n_truth']} | {mv['false_positives']} | {r['score']:.3f} |")
    best = max(results, key=lambda r: r["score"])
    print(f"\nchosen: real-row weight {best['real_weight']:g}, " + ", ".join(f"{k} {best[k]:g}" for k in grid_keys)
          + f" (mean {best['score']:.3f}); {time.time() - t0:.0f} s")
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
