"""Suitability with evaluation discipline (issue 19): a broad TRAIN side, a FROZEN test set
from other sources and other generator settings, model selection by cross-validation on
TRAIN only, and one evaluation of the released model on FROZEN.

    nice -n 5 .venv/bin/python benchmarks/curate_frozen_set.py build    --work /tmp/vfE
    nice -n 5 .venv/bin/python benchmarks/curate_frozen_set.py select   --work /tmp/vfE [--save-default]
    nice -n 5 .venv/bin/python benchmarks/curate_frozen_set.py evaluate --work /tmp/vfE [--model PATH] [--frozen frozen2|frozen]

Two frozen sets: "frozen" (v1) and "frozen2" (v2, the default since the change-pattern measures:
v1 had been read to diagnose the slideshow failure of model aced535d6adf, so a model built after
that diagnosis is scored on v2; v1 figures of such a model are for continuity only).

build     writes both splits with `python -m videoforge.synth.suitability_set` (sources, camera
          paths, degradation variants, severities, sizes and frame rates differ between them;
          see that module), analyses each with the real engine (`videoforge run`) and caches the
          shot feature matrix in WORK/features_<split>.npz (the engine is the expensive part).
extend    adds the features model_features() names that the cached matrices lack (new measures on an
          existing build: same catalogs and videos, no labels read).
select    reads TRAIN only: grouped 3-fold CV (a group = one picture / clip piece / procedural
          seed with all its degraded copies), leave-one-family-out and leave-one-kind-out
          (on a grouped half split) inside TRAIN for each candidate configuration; picks the best by the mean of pooled CV
          AUC, worst family and worst kind; Platt-calibrates on the out-of-fold scores; fits the
          final model on all of TRAIN (WORK/model.npz; --save-default: the packaged default).
tsa       trains the optional TSA network on TRAIN and scores FROZEN beside the tabular model
          (--ship: its weights become curate/models/suitability_tsa.npz if it wins).
evaluate  scores FROZEN once with the model (default: the packaged one): pooled ROC-AUC, medians
          per class, per kind / family, every single feature column, and the same configuration
          refitted with each degradation kind / footage family left out of TRAIN. Every figure
          carries a 95 % bootstrap interval (resampling sources, not shots) and n. The model's SHA-256 goes into the committed
          ledger benchmarks/curate_frozen_evaluations.json; a model already in the ledger is
          not evaluated again (its recorded figures are printed) unless --again is given.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LEDGER = os.path.join(ROOT, "benchmarks", "curate_frozen_evaluations.json")
VF = [sys.executable, "-m", "videoforge"]
# The generator settings of each split (fixed: the frozen set must be the same set every time).
# "frozen" is frozen set v1; "frozen2" (v2) was made when the features changed after v1 had been read to
# diagnose a failure (issue 19, slideshow): new seeds, severities, sizes, frame rates, lengths.
SPEC = {"train": dict(clean=260, per_clean=2, combo_every=4, seed=7),
        "frozen": dict(clean=160, per_clean=1, combo_every=5, seed=7),
        "frozen2": dict(clean=160, per_clean=1, combo_every=5, seed=11)}
FOLDS = 3
# What each frozen set's figures mean for the models released after the change-pattern measures (ledger "note").
SET_NOTE = {"frozen": "frozen set v1: read while diagnosing model aced535d6adf's slideshow failure; for models "
                      "released after that, figures on v1 are for continuity only, not held-out figures",
            "frozen2": "frozen set v2: built after the diagnosis, never read before this evaluation"}
MIN_CLEAN_FRAMES = 18   # synth.suitability_set's "short" kind keeps at most 17 frames


def sh(cmd: list[str]) -> None:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-3000:]}")
    print(f"  {time.perf_counter() - t:7.1f} s  {' '.join(cmd[2:])}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------- build
def build(work: str) -> None:
    from videoforge.catalog import Catalog
    from videoforge.curate.features import load_features, model_features
    from videoforge.curate.labels import read_labels

    for split, spec in SPEC.items():
        d, cat = os.path.join(work, split), os.path.join(work, f"cat_{split}")
        cache = os.path.join(work, f"features_{split}.npz")
        if os.path.exists(cache):
            continue
        if not os.path.exists(os.path.join(d, "labels.csv")):
            sh([sys.executable, "-m", "videoforge.synth.suitability_set", "--out", d, "--split", split,
                "--clean", str(spec["clean"]), "--per-clean", str(spec["per_clean"]),
                "--combo-every", str(spec["combo_every"]), "--seed", str(spec["seed"])])
        sh(VF + ["run", d, "--catalog", cat, "--workers", "2", "-q"])
        catalog = Catalog(cat)
        lab = read_labels(os.path.join(d, "labels.csv"), catalog)
        names = model_features()
        ids, x, info = load_features(catalog, names)
        pos = {s: i for i, s in enumerate(ids)}
        with open(os.path.join(d, "labels.csv")) as f:
            by_path = {os.path.abspath(r["path"]): r for r in csv.DictReader(f)}
        path_of = {i["shot_id"]: os.path.abspath(i["path"]) for i in info}
        # Each generated video is ONE shot. Where the shot detector splits one, the longest piece
        # carries the video's label and the other fragments (detector false cuts) are dropped.
        # A file regenerated at the same path is a new video (video_id is content-derived); the
        # catalog keeps the old one's rows, so only the latest analysis of each path counts.
        latest = {p: v for p, v in catalog.query(
            "SELECT path, arg_max(video_id, analyzed_at) FROM videos GROUP BY path")[1]}
        current = {i["shot_id"] for i in info if latest.get(i["path"]) == i["video_id"]}
        length = {i["shot_id"]: i["end_frame"] - i["start_frame"] for i in info}
        longest: dict[str, str] = {}
        for sid in (s for s in lab.shot_ids if s in current):
            p = path_of[sid]
            if p not in longest or length[sid] > length[longest[p]]:
                longest[p] = sid
        # A clean video whose longest detected shot is as short as the "short" degradation makes is
        # no clean shot any more (the detector cut it up): neither label holds, so it is dropped.
        short = {sid for p, sid in longest.items() if by_path[p]["label"] == "1" and length[sid] + 1 < MIN_CLEAN_FRAMES}
        keep = set(longest.values()) - short
        print(f"{split}: {len(short)} clean videos dropped: longest detected shot < {MIN_CLEAN_FRAMES} frames",
              file=sys.stderr)
        print(f"{split}: {len(current & set(lab.shot_ids)) - len(keep) - len(short)} detector fragments dropped, "
              f"{len(set(lab.shot_ids) - current)} shots of earlier versions of the files ignored", file=sys.stderr)
        lab.labels = [v for s, v in zip(lab.shot_ids, lab.labels) if s in keep]
        lab.shot_ids = [s for s in lab.shot_ids if s in keep]
        meta = [by_path[path_of[s]] for s in lab.shot_ids]
        np.savez_compressed(cache, x=x[[pos[s] for s in lab.shot_ids]], names=np.array(names),
                            shot_id=np.array(lab.shot_ids), label=np.array(lab.labels, float),
                            **{k: np.array([m[k] for m in meta]) for k in
                               ("degradation", "family", "group", "clean_kind", "severity", "source", "path")})
        print(f"{split}: {len(lab.shot_ids)} labelled shots cached in {cache}", file=sys.stderr)


def extend(work: str) -> None:
    """Add the features model_features() names that a cached matrix lacks (computed from the same
    catalog and videos, for every cached shot of both splits; labels are not read)."""
    from videoforge.catalog import Catalog
    from videoforge.curate.features import load_features, model_features

    for split in SPEC:
        p = os.path.join(work, f"features_{split}.npz")
        if not os.path.exists(p):
            print(f"{split}: no cached matrix ({p}); `build` makes it", file=sys.stderr)
            continue
        with np.load(p, allow_pickle=False) as z:
            d = {k: z[k] for k in z.files}
        names = [str(n) for n in d["names"]]
        new = [f for f in model_features() if f not in names]
        if not new:
            continue
        t = time.perf_counter()
        ids, x, _ = load_features(Catalog(os.path.join(work, f"cat_{split}")), new)
        pos = {s: i for i, s in enumerate(ids)}
        d["x"] = np.column_stack([d["x"], x[[pos[s] for s in d["shot_id"]]]])
        d["names"] = np.array(names + new)
        np.savez_compressed(p, **d)
        print(f"{split}: added {', '.join(new)} ({time.perf_counter() - t:.0f} s)", file=sys.stderr)


def load(work: str, split: str) -> dict:
    p = os.path.join(work, f"features_{split}.npz")
    if not os.path.exists(p):
        sys.exit(f"{p}: missing; run `build` first")
    with np.load(p, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    d["names"] = [str(n) for n in d["names"]]
    d["y"] = (d["label"] >= 1).astype(int)
    return d


def has_kind(deg: np.ndarray, kind: str) -> np.ndarray:
    return np.array([kind in str(g).split("+") for g in deg])


# --------------------------------------------------------------------------------------- selection
def feature_sets(names: list[str]) -> dict[str, list[str]]:
    from videoforge.curate.features import model_features

    allf = model_features()
    v3 = [f for f in model_features("v3") if f != "fps"]
    # "all" / "no fps" are the feature sets of the models released before the quality measures;
    # "no fps + quality" that of aced535d6adf; "+ steps" adds the change-pattern measures (holds, jumps)
    return {"all": model_features("v3"), "no fps": v3, "no fps + quality": [f for f in model_features("v4") if f != "fps"],
            "no fps + quality + steps": [f for f in allf if f != "fps"]}


PARAMS = {
    "p1 (lr .05, 200 it, 15 leaves, l2 .1)": dict(learning_rate=0.05, max_iter=200, max_leaf_nodes=15, l2_regularization=0.1),
    "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)": dict(learning_rate=0.05, max_iter=200, max_leaf_nodes=7,
                                                            l2_regularization=1.0, min_samples_leaf=20),
}
# (feature set, hyper-parameters, clean-range penalty weight): the candidates CV on TRAIN chooses from.
# Few on purpose: every candidate costs ~20 fits and the machine is shared.
CANDIDATES = [
    # + the change-pattern measures (holds, jumps); first, so `--candidates 4` runs these three and the
    # configuration of the model they replace (aced535d6adf: no fps + quality, p4, 10)
    ("no fps + quality + steps", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 4.0),
    ("no fps + quality + steps", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 6.0),
    ("no fps + quality + steps", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 10.0),
    ("no fps + quality", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 10.0),
    # with the general quality measures (quality_features.py)
    ("no fps + quality", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 2.5),
    ("no fps + quality", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 4.0),
    ("no fps + quality", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 6.0),
    ("no fps + quality", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 10.0),
    # the candidates of the models released before (ad35ca655c2b: no fps, p4, 2.5)
    ("all", "p1 (lr .05, 200 it, 15 leaves, l2 .1)", 0.0),          # close to the previous configuration
    ("no fps", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 0.0),
    ("no fps", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 1.0),
    ("no fps", "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)", 2.5),
]


def _cols(d, feats):
    return d["x"][:, [d["names"].index(f) for f in feats]]


def transfer_cv(d: dict, feats: list[str], params: dict, novelty: float, folds: int = FOLDS) -> dict:
    """TRAIN-only: grouped k-fold out-of-fold margins (pooled AUC, and the calibration's input);
    leave-one-family-out (fit on three families, score the fourth); leave-one-kind-out on a fixed
    grouped half split (fit on half A without any shot carrying the kind, score half B's clean
    shots and shots carrying the kind)."""
    from sklearn.model_selection import GroupKFold

    from videoforge.curate.evaluate import roc_auc
    from videoforge.curate.suitability import fit_model
    from videoforge.synth.suitability_set import DEGRADATIONS

    x, y, groups, deg, fam = _cols(d, feats), d["y"], d["group"], d["degradation"], d["family"]

    def fit(rows):
        return fit_model(x[rows], y[rows], feats, params=params, novelty=novelty)

    oof = np.full(len(y), np.nan)
    for tr, te in GroupKFold(n_splits=folds).split(x, y, groups):
        oof[te] = fit(tr).margin(x[te])
    out = {"pooled": roc_auc(y, oof), "oof": oof, "family": {}, "kind": {}}
    for f in sorted(set(fam)):
        tr, te = np.flatnonzero(fam != f), np.flatnonzero(fam == f)
        out["family"][f] = roc_auc(y[te], fit(tr).margin(x[te]))
    half_a, half_b = next(GroupKFold(n_splits=2).split(x, y, groups))
    for k in DEGRADATIONS:
        tr = half_a[~has_kind(deg[half_a], k)]
        te = half_b[(y[half_b] == 1) | has_kind(deg[half_b], k)]
        out["kind"][k] = roc_auc(y[te], fit(tr).margin(x[te]))
    return out


def select(work: str, save_default: bool, max_candidates: int = len(CANDIDATES)) -> None:
    from sklearn.linear_model import LogisticRegression

    from videoforge.curate.suitability import DEFAULT_MODEL, fit_model

    d = load(work, "train")
    y = d["y"]
    print(f"TRAIN only: {len(y)} shots ({y.sum()} clean), {len(set(d['group']))} groups, "
          f"{len(set(d['family']))} families; {FOLDS}-fold GroupKFold\n")
    print("| features | hyper-parameters | clean-range penalty | CV pooled | mean / worst family (LOFO) | "
          "mean / worst kind (LOKO) | criterion |\n|---|---|---|---|---|---|---|")
    best, results = None, {}
    fsets = feature_sets(d["names"])
    for cand in CANDIDATES[:max_candidates]:
        sname, pname, nov = cand
        t = time.perf_counter()
        r = transfer_cv(d, fsets[sname], PARAMS[pname], nov)
        wf = min(r["family"].items(), key=lambda kv: kv[1])
        wk = min(r["kind"].items(), key=lambda kv: kv[1])
        crit = (r["pooled"] + wf[1] + wk[1]) / 3
        results[cand] = r
        print(f"| {sname} | {pname} | {nov:g} | {r['pooled']:.3f} | {np.mean(list(r['family'].values())):.3f} / {wf[1]:.3f} "
              f"({wf[0]}) | {np.mean(list(r['kind'].values())):.3f} / {wk[1]:.3f} ({wk[0]}) | {crit:.3f} |"
              f"  <!-- {time.perf_counter() - t:.0f} s -->", flush=True)
        if best is None or crit > best[0]:
            best = (crit, cand)
    sname, pname, nov = best[1]
    r = results[best[1]]
    print(f"\nchosen by the criterion (mean of CV pooled, worst family, worst kind): {sname}, {pname}, penalty {nov:g}")
    print("LOFO (train): " + ", ".join(f"{k} {v:.3f}" for k, v in r["family"].items()))
    print("LOKO (train): " + ", ".join(f"{k} {v:.3f}" for k, v in r["kind"].items()))
    # Platt calibration on the out-of-fold margins (TRAIN only), balanced classes
    lr = LogisticRegression(C=1e6, class_weight="balanced").fit(r["oof"][:, None], y)
    cal = (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
    from scipy.special import expit

    p = expit(cal[0] * r["oof"] + cal[1])
    print(f"calibration a={cal[0]:.3f} b={cal[1]:.3f}; out-of-fold medians: clean {np.median(p[y == 1]):.3f}, "
          f"degraded {np.median(p[y == 0]):.3f}")
    feats, params = fsets[sname], PARAMS[pname]
    model = fit_model(_cols(d, feats), y, feats, params=params, novelty=nov,
                      meta={"name": "suitability_default", "features_set": sname, "params_name": pname,
                            "train": "benchmarks/curate_frozen_set.py TRAIN split", "cv_pooled_auc": r["pooled"]})
    model.calibration = cal
    out = model.save(os.path.join(work, "model.npz"))
    with open(os.path.join(work, "selection.json"), "w") as f:
        json.dump({"features_set": sname, "params_name": pname, "params": params, "novelty": nov, "features": feats,
                   "calibration": cal,
                   "cv": {"pooled": r["pooled"], "family": r["family"], "kind": r["kind"]}}, f, indent=1)
    print(f"model: {out}")
    if save_default:
        import shutil

        shutil.copyfile(out, DEFAULT_MODEL)
        print(f"saved the packaged default model: {DEFAULT_MODEL} ({os.path.getsize(DEFAULT_MODEL)} bytes)")


# -------------------------------------------------------------------------------------- evaluation
def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def evaluate(work: str, model_path: str | None, again: bool, old_model: str | None, split: str = "frozen2",
             compare: str | None = None) -> None:
    from videoforge.catalog.schema import METRIC_COLUMNS
    from videoforge.curate.bootstrap import auc_ci, fmt, median_ci
    from videoforge.curate.evaluate import metric_direction
    from videoforge.curate.suitability import DEFAULT_MODEL, fit_model, load_model
    from videoforge.synth.suitability_set import DEGRADATIONS

    model_path = model_path or DEFAULT_MODEL
    digest = sha256(model_path)
    ledger = json.load(open(LEDGER)) if os.path.exists(LEDGER) else []
    # one evaluation per (model, frozen set); entries before v2 carry no "frozen_set": they are v1
    done = [e for e in ledger if e["model_sha256"] == digest and e.get("frozen_set", "frozen") == split]
    if done and not again:
        print(f"{model_path} (sha256 {digest[:12]}) was evaluated on {split} on {done[-1]['date']}; recorded figures:")
        print(json.dumps(done[-1]["summary"], indent=1))
        return
    model = load_model(model_path)
    tr, fz = load(work, "train"), load(work, split)
    feats = model.features
    xf = _cols(fz, feats)
    y, deg, fam = fz["y"], fz["degradation"], fz["family"]
    G = fz["group"]   # intervals resample sources (picture / clip piece / seed with its copies), not shots
    s = model.predict(xf)
    print(f"FROZEN set {split}: {len(y)} shots ({y.sum()} clean, {(1 - y).sum()} degraded), model {os.path.basename(model_path)} "
          f"sha256 {digest[:12]}\n")
    pooled = auc_ci(y, s, groups=G)
    mc, md = median_ci(s[y == 1], groups=G[y == 1]), median_ci(s[y == 0], groups=G[y == 0])
    print(f"95 % intervals: bootstrap over {pooled.get('n_groups')} sources (groups of shots), 1000 resamples\n")
    print("| figure (FROZEN) | value [95 % CI] | n |\n|---|---|---|")
    print(f"| ROC-AUC pooled | {fmt(pooled)} | {pooled['n']} ({pooled['n_pos']} clean) |")
    print(f"| median score, clean shots | {fmt(mc, 'median')} | {mc['n']} |")
    print(f"| median score, degraded shots | {fmt(md, 'median')} | {md['n']} |")

    # single feature columns: direction chosen on TRAIN
    singles = []
    for f in feats:
        j = fz["names"].index(f)
        if np.isnan(fz["x"][:, j]).all():
            continue
        dirn = metric_direction(tr["y"], tr["x"][:, tr["names"].index(f)])
        singles.append((f, "higher" if dirn > 0 else "lower", auc_ci(y, dirn * fz["x"][:, j], groups=G)))
    singles.sort(key=lambda r: -r[2]["auc"])

    def row(name, m):
        return auc_ci(y[m], s[m], groups=G[m])

    per_kind = {k: row(k, (y == 1) | (deg == k)) for k in DEGRADATIONS}
    per_kind["combinations of two"] = row("combo", (y == 1) | np.array(["+" in str(g) for g in deg]))
    per_family = {f: row(f, fam == f) for f in sorted(set(fam))}
    per_clean = {c: median_ci(s[(y == 1) & (fz["clean_kind"] == c)], groups=G[(y == 1) & (fz["clean_kind"] == c)])
                 for c in sorted(set(fz["clean_kind"]))}

    # the same configuration refitted with one kind / one family left out of TRAIN
    sel = json.load(open(os.path.join(work, "selection.json")))
    params, nov = sel["params"], sel.get("novelty", 0.0)
    xt = _cols(tr, feats)
    loko, lofo = {}, {}
    for k in DEGRADATIONS:
        keep = ~has_kind(tr["degradation"], k)
        m = fit_model(xt[keep], tr["y"][keep], feats, params=params, novelty=nov)
        te = (y == 1) | has_kind(deg, k)
        loko[k] = auc_ci(y[te], m.margin(xf[te]), groups=G[te])
    for f in sorted(set(fam)):
        keep = tr["family"] != f
        m = fit_model(xt[keep], tr["y"][keep], feats, params=params, novelty=nov)
        te = fam == f
        lofo[f] = auc_ci(y[te], m.margin(xf[te]), groups=G[te])

    print("\n| degradation kind (FROZEN, variant b) | shipped model: clean vs kind | kind held out of TRAIN | n (clean + kind) |\n|---|---|---|---|")
    for k in DEGRADATIONS:
        print(f"| {k} | {fmt(per_kind[k])} | {fmt(loko[k])} | {loko[k]['n_pos']} + {loko[k]['n_neg']} |")
    c = per_kind["combinations of two"]
    print(f"| combinations of two | {fmt(c)} | - | {c['n_pos']} + {c['n_neg']} |")
    print("\n| footage family (FROZEN) | shipped model | family held out of TRAIN | n (clean + degraded) |\n|---|---|---|---|")
    for f in per_family:
        print(f"| {f} | {fmt(per_family[f])} | {fmt(lofo[f])} | {lofo[f]['n_pos']} + {lofo[f]['n_neg']} |")
    print("\n| clean footage style (FROZEN) | median score [95 % CI] | n |\n|---|---|---|")
    for c, v in per_clean.items():
        print(f"| {c} | {fmt(v, 'median')} | {v['n']} |")
    print("\n| single feature (direction from TRAIN) | FROZEN ROC-AUC [95 % CI] |\n|---|---|")
    for f, dname, r in singles:
        print(f"| {f} ({dname} is better){' (catalog column)' if f in METRIC_COLUMNS else ''} | {fmt(r)} |")
    best_single = singles[0]
    ref = None
    if compare:   # an earlier released model (array format) on the same frozen shots, for the record
        rm = load_model(compare)
        rs = rm.predict(_cols(fz, rm.features))
        ref = {"model_sha256": sha256(compare), "pooled": auc_ci(y, rs, groups=G),
               "median_clean": median_ci(rs[y == 1], groups=G[y == 1]),
               "median_degraded": median_ci(rs[y == 0], groups=G[y == 0]),
               "per_kind": {k: auc_ci(y[m], rs[m], groups=G[m]) for k in DEGRADATIONS
                            for m in [(y == 1) | (deg == k)]}}
        print(f"\nearlier model {os.path.basename(compare)} (sha256 {ref['model_sha256'][:12]}) on the same shots: ROC-AUC "
              f"{fmt(ref['pooled'])}; medians clean {fmt(ref['median_clean'], 'median')}, degraded "
              f"{fmt(ref['median_degraded'], 'median')}; per kind: "
              + ", ".join(f"{k} {v['auc']:.3f}" for k, v in ref["per_kind"].items()))
    old = None
    if old_model:
        old = _old_model_scores(old_model, fz)
        if old is not None:
            o = auc_ci(y, old)
            print(f"\nprevious shipped model ({os.path.basename(old_model)}) on FROZEN: ROC-AUC {fmt(o)}; medians clean "
                  f"{np.median(old[y == 1]):.3f}, degraded {np.median(old[y == 0]):.3f}")
            old = {"auc": o, "median_clean": float(np.median(old[y == 1])), "median_degraded": float(np.median(old[y == 0]))}
    targets = {
        "pooled >= 0.90": pooled["auc"] >= 0.90,
        "every kind held out >= 0.85": all(v["auc"] >= 0.85 for v in loko.values()),
        "every family held out >= 0.85": all(v["auc"] >= 0.85 for v in lofo.values()),
        "above every single column": pooled["auc"] > best_single[2]["auc"],
        "median clean >= 0.5": mc["median"] >= 0.5,
        "median degraded <= 0.2": md["median"] <= 0.2,
    }
    print("\ntargets: " + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in targets.items()))
    summary = {"pooled": pooled, "median_clean": mc, "median_degraded": md, "per_kind": per_kind, "loko": loko,
               "per_family": per_family, "lofo": lofo, "per_clean_style": per_clean,
               "best_single": {"feature": best_single[0], "direction": best_single[1], **best_single[2]},
               "previous_model": old, "compared_model": ref, "targets": targets,
               "bootstrap": "1000 resamples of sources (group: picture / clip piece / procedural seed with its copies)"}
    with open(os.path.join(work, f"frozen_eval_{digest[:12]}_{split}.json"), "w") as f:
        json.dump({"singles": [{"feature": a, "direction": b, **c} for a, b, c in singles], **summary}, f, indent=1)
    ledger.append({"model_sha256": digest, "model": os.path.relpath(os.path.abspath(model_path), ROOT),
                   "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   "frozen_set": split, "note": SET_NOTE[split], "frozen_spec": SPEC[split], "summary": summary})
    with open(LEDGER, "w") as f:
        json.dump(ledger, f, indent=1)
    print(f"\nrecorded in {os.path.relpath(LEDGER, ROOT)}")


def _old_model_scores(path: str, fz: dict):
    """Scores of a version-1 (joblib pickle) model: our own earlier file, read only here, for the record."""
    import joblib

    d = joblib.load(path)
    cols = [fz["names"].index(f) if f in fz["names"] else None for f in d["features"]]
    x = np.column_stack([fz["x"][:, c] if c is not None else np.full(len(fz["y"]), np.nan) for c in cols])
    if d.get("used") is not None:
        x = x[:, [d["features"].index(f) for f in d["used"]]]
    est = d["estimator"]
    return est.predict_proba(x)[:, list(est.classes_).index(1)]


# -------------------------------------------------------------------------------------------- TSA
def _frames(work: str, split: str, d: dict, n: int, size: int) -> np.ndarray:
    """(N, n, 3, size, size) frames of every labelled shot, cached in WORK/frames_<split>_<n>x<size>.npy."""
    from videoforge.catalog import Catalog
    from videoforge.curate.tsa import sample_shot_frames

    cache = os.path.join(work, f"frames_{split}_{n}x{size}.npy")
    if os.path.exists(cache):
        return np.load(cache, allow_pickle=False)
    cat = Catalog(os.path.join(work, f"cat_{split}"))
    rows = {r["shot_id"]: r for r in cat.query_dicts("SELECT shot_id, start_frame, end_frame FROM shots")}
    out = np.zeros((len(d["shot_id"]), n, 3, size, size), np.float32)
    by_video: dict[str, list[int]] = {}
    for i, p in enumerate(d["path"]):
        by_video.setdefault(str(p), []).append(i)
    for p, idx in by_video.items():
        got = sample_shot_frames(p, [(rows[d["shot_id"][i]]["start_frame"], rows[d["shot_id"][i]]["end_frame"]) for i in idx],
                                 n=n, size=size)
        for i, f in zip(idx, got):
            out[i] = f
    np.save(cache, out)
    return out


def tsa(work: str, epochs: int, n: int, size: int, ship: bool, split: str = "frozen2") -> None:
    """Train the TSA network on TRAIN (its metric branch sees the same features as the tabular model),
    score FROZEN once, beside the tabular model's figure on the same shots."""
    import torch

    from videoforge.curate.bootstrap import auc_ci, fmt, median_ci
    from videoforge.curate.suitability import load_model
    from videoforge.curate.tsa import SHIPPED_TSA, fit_tsa, save_npz

    torch.set_num_threads(2)
    tr, fz = load(work, "train"), load(work, split)
    feats = json.load(open(os.path.join(work, "selection.json")))["features"]
    t0 = time.perf_counter()
    ftr, ffz = _frames(work, "train", tr, n, size), _frames(work, split, fz, n, size)
    t1 = time.perf_counter()
    m = fit_tsa(ftr, _cols(tr, feats), tr["y"].astype(float), feats, epochs=epochs,
                log=lambda e, l: print(f"epoch {e} loss {l:.4f}", file=sys.stderr, flush=True))
    t2 = time.perf_counter()
    p = m.predict(ffz, _cols(fz, feats))
    y = fz["y"]
    tab = load_model().predict(_cols(fz, load_model().features))
    a_tsa, a_tab = auc_ci(y, p, groups=fz["group"]), auc_ci(y, tab, groups=fz["group"])
    print(f"frames {t1 - t0:.0f} s, training {t2 - t1:.0f} s ({epochs} epochs, {len(tr['y'])} TRAIN shots, {n} frames of {size}x{size})")
    print("| method (FROZEN) | ROC-AUC [95 % CI] | median clean | median degraded | n |\n|---|---|---|---|---|")
    print(f"| TSA network (frames + metrics) | {fmt(a_tsa)} | {fmt(median_ci(p[y == 1]), 'median')} | "
          f"{fmt(median_ci(p[y == 0]), 'median')} | {len(y)} |")
    print(f"| shipped tabular model | {fmt(a_tab)} | {fmt(median_ci(tab[y == 1]), 'median')} | "
          f"{fmt(median_ci(tab[y == 0]), 'median')} | {len(y)} |")
    wins = a_tsa["auc"] > a_tab["auc"]
    print(f"TSA wins: {wins}")
    save_npz(m, os.path.join(work, "tsa.npz"))
    if ship and wins:
        save_npz(m, SHIPPED_TSA)
        print(f"shipped: {SHIPPED_TSA}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["build", "extend", "select", "evaluate", "tsa"])
    ap.add_argument("--work", default="/tmp/vfE")
    ap.add_argument("--save-default", action="store_true", help="select: the chosen model becomes the packaged default")
    ap.add_argument("--model", default=None, help="evaluate: model file (default: the packaged one)")
    ap.add_argument("--again", action="store_true", help="evaluate a model already in the ledger once more")
    ap.add_argument("--old-model", default=None, help="evaluate: also score FROZEN with a version-1 (joblib) model")
    ap.add_argument("--frozen", default="frozen2", choices=[k for k in SPEC if k != "train"],
                    help="evaluate / tsa: which frozen set (frozen = v1, read while diagnosing aced535d6adf; frozen2 = v2)")
    ap.add_argument("--compare", default=None, help="evaluate: also score the frozen set with this earlier .npz model")
    ap.add_argument("--candidates", type=int, default=len(CANDIDATES), help="select: only the first N candidates")
    ap.add_argument("--epochs", type=int, default=10, help="tsa: training epochs")
    ap.add_argument("--frames", type=int, default=6, help="tsa: frames per shot")
    ap.add_argument("--size", type=int, default=32, help="tsa: frame side in pixels")
    ap.add_argument("--ship", action="store_true", help="tsa: ship the weights if the network beats the tabular model")
    a = ap.parse_args()
    if a.step == "tsa":
        tsa(a.work, a.epochs, a.frames, a.size, a.ship, a.frozen)
    elif a.step == "build":
        build(a.work)
    elif a.step == "extend":
        extend(a.work)
    elif a.step == "select":
        select(a.work, a.save_default, a.candidates)
    else:
        evaluate(a.work, a.model, a.again, a.old_model, a.frozen, a.compare)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
