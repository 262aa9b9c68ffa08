"""Training-suitability benchmark: the learned score vs the best single-metric threshold,
vs a tuned multi-threshold rule, and vs every numeric metric column, on held-out data.

SUPERSEDED (issue 19) by benchmarks/curate_frozen_set.py: this script's HELDOUT split was
consulted while the model was shaped, so its figures (0.876) are not held-out figures; the
packaged model is now built and judged by curate_frozen_set.py (frozen set, CV on TRAIN only).
Kept to reproduce the earlier tables of docs/benchmarks/curate.md.

    .venv/bin/python benchmarks/curate_suitability.py --work /tmp/vf-suit --clean 60 30 [--save-default]

1. `python -m videoforge.synth.degrade` writes a TRAIN set (train photos/procedural seeds/
   real-clip stretches, degradation variant "a", severities .35/.65/1) and a HELDOUT set
   (held-out photos, other seeds and stretches, variant "b" of every degradation: other blur
   kernel, noise law, font, bar side..., severities .5/.8) of single-shot H.264 videos.
2. `videoforge run` analyses both into two catalogs (the real metric columns).
3. `videoforge train-scorer TRAIN/labels.csv` fits the model; `videoforge score` scores HELDOUT.
4. On HELDOUT shots (positive = clean, label 5): ROC-AUC and precision at 80 % recall of
   the learned score, of the single metric that was best on TRAIN (direction from TRAIN),
   of the multi-threshold rule (bounds = 3 %/97 % quantiles of clean TRAIN shots), and of
   every numeric metric column in its better direction.
With --save-default the fitted model becomes the packaged default
(src/videoforge/curate/models/suitability_default.npz; do not: see above).

    .venv/bin/python benchmarks/curate_suitability.py --work /tmp/vf-suit --cv

--cv touches the TRAIN split only: grouped 4-fold cross-validation (a group = one picture, or
one procedural seed / real-clip stretch, with all its degraded copies) of feature sets x
hyper-parameters; prints mean/sd ROC-AUC per configuration and per degradation, and exits
without looking at HELDOUT. The chosen configuration goes into model_features() /
suitability.DEFAULT_PARAMS; the held-out run above is then made once.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VF = [sys.executable, "-m", "videoforge"]


def sh(cmd: list[str]) -> str:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    print(f"  {time.perf_counter() - t:7.1f} s  {' '.join(os.path.basename(c) if '/' in c else c for c in cmd[2:])}", file=sys.stderr)
    return r.stdout


def labelled(cat_dir: str, labels_csv: str, names: list[str]):
    from videoforge.catalog import Catalog
    from videoforge.curate.features import load_features
    from videoforge.curate.labels import read_labels

    cat = Catalog(cat_dir)
    lab = read_labels(labels_csv, cat)
    ids, x, _ = load_features(cat, names)
    pos = {s: i for i, s in enumerate(ids)}
    rows = [pos[s] for s in lab.shot_ids]
    meta = {}
    import csv

    with open(labels_csv) as f:
        by_path = {os.path.abspath(r["path"]): r for r in csv.DictReader(f)}
    info = cat.query_dicts("SELECT s.shot_id, v.path, s.suitability FROM shots s JOIN videos v USING (video_id)")
    for r in info:
        meta[r["shot_id"]] = (by_path.get(os.path.abspath(r["path"]), {}), r["suitability"])
    deg = [meta[s][0].get("degradation", "") for s in lab.shot_ids]
    suit = np.array([np.nan if meta[s][1] is None else meta[s][1] for s in lab.shot_ids], float)
    return x[rows], np.asarray(lab.labels, float), deg, suit


def _groups(labels_csv: str, cat_dir: str) -> list[str]:
    """CV group of each labelled shot (read_labels order): the picture for photo sources, else the clean index."""
    import csv

    from videoforge.catalog import Catalog
    from videoforge.curate.labels import read_labels

    cat = Catalog(cat_dir)
    lab = read_labels(labels_csv, cat)
    with open(labels_csv) as f:
        by_path = {os.path.abspath(r["path"]): r for r in csv.DictReader(f)}
    path_of = {r["shot_id"]: r["path"] for r in cat.query_dicts("SELECT s.shot_id, v.path FROM shots s JOIN videos v USING (video_id)")}
    out = []
    for sid in lab.shot_ids:
        p = os.path.abspath(path_of[sid])
        src = by_path.get(p, {}).get("source", "")
        out.append(src if src.startswith("skimage:") else os.path.basename(p).split("_")[1])
    return out


CV_PARAMS = {
    "p0 (v1 default: lr .05, 300 it, 15 leaves, l2 .1)": {},
    "p1 (lr .03, 500 it, 15 leaves, l2 .1)": dict(learning_rate=0.03, max_iter=500),
    "p2 (lr .05, 300 it, 7 leaves, l2 1)": dict(max_leaf_nodes=7, l2_regularization=1.0),
    "p3 (lr .05, 200 it, 31 leaves, l2 .1)": dict(max_leaf_nodes=31, max_iter=200),
}


def cross_validate(work: str, folds: int = 4) -> int:
    """Grouped k-fold CV on TRAIN only (no HELDOUT data is read)."""
    from sklearn.model_selection import GroupKFold

    from videoforge.curate.evaluate import roc_auc
    from videoforge.curate.features import model_features
    from videoforge.curate.suitability import fit_model

    d, cat = os.path.join(work, "train"), os.path.join(work, "cat_train")
    csv_used = os.path.join(d, "labels_used.csv")
    if not os.path.exists(csv_used):
        _filter_labels(os.path.join(d, "labels.csv"), csv_used)
    allf = model_features()
    x, lab, deg, _ = labelled(cat, csv_used, allf)
    y = (lab == 5).astype(int)
    groups = np.array(_groups(csv_used, cat))
    deg = np.array(deg)
    sets = {"v1 features": model_features("v1"), "v2 = v1 + text/bar/flash keyframe measures": model_features("v2"),
            "v3 = v2 + per-frame flash measures": allf}
    print(f"TRAIN only: {len(y)} shots ({y.sum()} clean), {len(set(groups))} groups, {folds}-fold GroupKFold\n")
    print("| features | hyper-parameters | CV ROC-AUC mean | sd over folds | pooled | text | letterbox | flash |\n|---|---|---|---|---|---|---|---|")
    best = None
    for sname, feats in sets.items():
        cols = [allf.index(f) for f in feats]
        for pname, params in CV_PARAMS.items():
            pooled = np.full(len(y), np.nan)
            aucs = []
            for tr, te in GroupKFold(n_splits=folds).split(x, y, groups):
                m = fit_model(x[tr][:, cols], lab[tr], feats, suitable_from=5, params=params)
                pooled[te] = m.predict(x[te][:, cols])
                aucs.append(roc_auc(y[te], pooled[te]))
            kinds = {k: roc_auc(y[(deg == "") | (deg == k)], pooled[(deg == "") | (deg == k)]) for k in ("text", "letterbox", "flash")}
            mean = float(np.mean(aucs))
            print(f"| {sname} | {pname} | {mean:.3f} | {np.std(aucs):.3f} | {roc_auc(y, pooled):.3f} | "
                  f"{kinds['text']:.3f} | {kinds['letterbox']:.3f} | {kinds['flash']:.3f} |", flush=True)
            if best is None or mean > best[0]:
                best = (mean, sname, pname)
    print(f"\nbest by mean CV ROC-AUC: {best[1]}, {best[2]} ({best[0]:.3f})")
    return 0


def _filter_labels(src: str, dst: str) -> None:
    import csv

    from videoforge.synth.degrade import TEXT_PHOTOS

    with open(src, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(dst, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(r for r in rows if r["source"] not in TEXT_PHOTOS)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/vf-suit")
    ap.add_argument("--clean", type=int, nargs=2, default=[60, 30], metavar=("TRAIN", "HELDOUT"))
    ap.add_argument("--per-clean", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--save-default", action="store_true")
    ap.add_argument("--json", default=None, help="also write the figures to this JSON file")
    ap.add_argument("--cv", action="store_true", help="only cross-validate configurations on TRAIN (see above)")
    a = ap.parse_args()
    if a.cv:
        return cross_validate(a.work)

    from videoforge.catalog.schema import METRIC_COLUMNS
    from videoforge.curate.evaluate import ThresholdRule, per_metric, precision_at_recall, roc_auc
    from videoforge.curate.features import model_features

    t0 = time.perf_counter()
    sets = {}
    for split, n in zip(("train", "heldout"), a.clean):
        d = os.path.join(a.work, split)
        if not os.path.exists(os.path.join(d, "labels.csv")):
            sh([sys.executable, "-m", "videoforge.synth.degrade", "--out", d, "--split", split,
                "--clean", str(n), "--per-clean", str(a.per_clean), "--seed", "1"])
        cat = os.path.join(a.work, f"cat_{split}")
        sh(VF + ["run", d, "--catalog", cat, "--workers", str(a.workers), "-q"])
        sets[split] = (d, cat)
    model = os.path.join(a.work, "model.joblib")
    # Pictures that ARE text (a scanned page) contradict the set's own definition (on-screen text
    # lowers suitability); the generator no longer uses them and older sets drop them here.
    for split in sets:
        _filter_labels(os.path.join(sets[split][0], "labels.csv"), os.path.join(sets[split][0], "labels_used.csv"))
    sh(VF + ["train-scorer", os.path.join(sets["train"][0], "labels_used.csv"), "--catalog", sets["train"][1],
             "--out", model, "--suitable-from", "5"])
    sh(VF + ["score", sets["heldout"][1], "--model", model])

    names = model_features()
    xtr, ltr, _, _ = labelled(sets["train"][1], os.path.join(sets["train"][0], "labels_used.csv"), names)
    xte, lte, deg, suit = labelled(sets["heldout"][1], os.path.join(sets["heldout"][0], "labels_used.csv"), names)
    ytr, yte = ltr == 5, lte == 5

    rows = []
    learned = {"method": "learned suitability (HistGradientBoosting)", "auc": roc_auc(yte, suit), "p_at_r80": precision_at_recall(yte, suit)}
    pm = per_metric(ytr, xtr, yte, xte, names)
    numeric = [r for r in pm if r["metric"] in METRIC_COLUMNS or r["metric"] in ("duration", "num_frames", "fps")]
    best_train = max(numeric, key=lambda r: r["train_auc"])
    rule = ThresholdRule().fit(xtr[ytr], names)
    rs = rule.score(xte, names)
    rows.append(learned)
    rows.append({"method": f"best single metric on train: {best_train['metric']} ({best_train['direction']} is better)",
                 "auc": best_train["auc"], "p_at_r80": best_train["p_at_r80"]})
    rows.append({"method": f"multi-threshold rule ({len(rule.bounds)} metrics, clean-train 3/97 % bounds)",
                 "auc": roc_auc(yte, rs), "p_at_r80": precision_at_recall(yte, rs)})

    from scipy.stats import spearmanr

    rho = spearmanr(suit, lte).correlation
    by_kind = {}
    for k in sorted(set(deg) - {""}):
        m = np.array([d in ("", k) for d in deg])
        by_kind[k] = roc_auc(yte[m], suit[m])

    print(f"\nmachine: {platform.platform()}, {os.cpu_count()} cpus, python {platform.python_version()}")
    print(f"train shots {len(ytr)} ({int(ytr.sum())} clean), held-out shots {len(yte)} ({int(yte.sum())} clean); "
          f"total {time.perf_counter() - t0:.0f} s\n")
    print("| method (held-out split) | ROC-AUC | precision @ 80 % recall |\n|---|---|---|")
    for r in rows:
        print(f"| {r['method']} | {r['auc']:.3f} | {r['p_at_r80']:.3f} |")
    print(f"\nSpearman rho of learned score vs 1-5 label on held-out: {rho:.3f}\n")
    print("| single feature (direction from train) | held-out ROC-AUC | precision @ 80 % recall |\n|---|---|---|")
    for r in sorted(pm, key=lambda r: -r["auc"]):
        print(f"| {r['metric']} ({r['direction']} is better) | {r['auc']:.3f} | {r['p_at_r80']:.3f} |")
    beats_all = all(learned["auc"] > r["auc"] for r in numeric) and all(learned["auc"] > r["auc"] for r in rows[1:])
    print(f"\nlearned beats every numeric metric column and both baselines on ROC-AUC: {beats_all}")
    print("\n| held-out degradation (variant b) | ROC-AUC clean vs this kind |\n|---|---|")
    for k, v in by_kind.items():
        print(f"| {k} | {v:.3f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "per_metric": pm, "spearman": rho, "by_kind": by_kind, "beats_all": beats_all}, f, indent=1)
    if a.save_default:
        from videoforge.curate.suitability import DEFAULT_MODEL

        shutil.copyfile(model, DEFAULT_MODEL)
        print(f"\nsaved the packaged default model: {DEFAULT_MODEL} ({os.path.getsize(DEFAULT_MODEL)} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
