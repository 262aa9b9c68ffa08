"""A cheaper suitability variant for the planner (issue 25): the suitability model on the
features that need no second decoding of the video - the catalog's metric columns, their
ratios and the keyframe picture measures - and none of the per-frame measures (flash series,
picture/motion quality, change pattern), which re-decode every frame of every shot and are
most of the default variant's cost.

Same discipline as benchmarks/curate_frozen_set.py (whose cached feature matrices it reads,
made by that script's `build` through the real engine): candidate configurations compared by
grouped cross-validation on the TRAIN split only (same criterion: mean of CV pooled AUC,
worst family left out, worst kind left out), Platt calibration on the out-of-fold margins,
the final model fitted on all of TRAIN, then ONE evaluation on frozen set v2. The default
model's row on v2 is read from the curate ledger (it was scored once there). A model whose
SHA-256 is already in this script's record is not evaluated again.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/plan_suitability_lite.py --work /tmp/vfE4 [--save]

--save copies the model to src/videoforge/plan/models/suitability_lite.npz (the planner's
`suitability/lite`) and writes its figures into plan/default_quality.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "benchmarks"))
sys.path.insert(0, os.path.join(ROOT, "src"))

import curate_frozen_set as cfs  # noqa: E402

RECORD = os.path.join(ROOT, "benchmarks", "plan_suitability_lite.json")
LITE_MODEL = os.path.join(ROOT, "src", "videoforge", "plan", "models", "suitability_lite.npz")
QUALITY = os.path.join(ROOT, "src", "videoforge", "plan", "default_quality.json")
P4 = "p4 (lr .05, 200 it, 7 leaves, l2 1, leaf >= 20)"
P1 = "p1 (lr .05, 200 it, 15 leaves, l2 .1)"
# (hyper-parameters, clean-range penalty): few on purpose (the machine is shared)
CANDIDATES = [(P4, 0.0), (P4, 2.5), (P4, 6.0), (P1, 0.0)]


def lite_features() -> list[str]:
    """Metric columns, derived ratios, keyframe measures; no fps (as the released models), and
    nothing that decodes frames (curate/frame_features.py, curate/quality_features.py)."""
    from videoforge.curate.features import DERIVED, FEATURE_COLUMNS
    from videoforge.curate.keyframe_features import KEYFRAME_FEATURES

    return [f for f in FEATURE_COLUMNS + list(DERIVED) + KEYFRAME_FEATURES if f != "fps"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/vfE4", help="curate_frozen_set.py's work folder (features_train.npz, "
                                                        "features_frozen2.npz)")
    ap.add_argument("--save", action="store_true", help="ship the model as plan/models/suitability_lite.npz")
    args = ap.parse_args()
    from scipy.special import expit
    from sklearn.linear_model import LogisticRegression

    from videoforge.curate.bootstrap import auc_ci, median_ci
    from videoforge.curate.suitability import fit_model, load_model

    feats = lite_features()
    made = os.path.join(args.work, "lite", "suitability_lite.npz")
    record = json.load(open(RECORD)) if os.path.exists(RECORD) else []
    if args.save and os.path.exists(made) and any(e["model_sha256"] == cfs.sha256(made) for e in record):
        # the model chosen and evaluated before: ship it as it is (no refit, no second evaluation)
        summary = next(e for e in record if e["model_sha256"] == cfs.sha256(made))
        save(made, summary)
        return 0
    tr = cfs.load(args.work, "train")
    y = tr["y"]
    print(f"TRAIN only: {len(y)} shots ({y.sum()} clean); {len(feats)} features (no frame decoding)", flush=True)
    best, results = None, {}
    for pname, nov in CANDIDATES:
        r = cfs.transfer_cv(tr, feats, cfs.PARAMS[pname], nov)
        wf = min(r["family"].values())
        wk = min(r["kind"].values())
        crit = (r["pooled"] + wf + wk) / 3
        results[(pname, nov)] = r
        print(f"  {pname} penalty {nov:g}: CV pooled {r['pooled']:.3f}, worst family {wf:.3f}, worst kind {wk:.3f}, "
              f"criterion {crit:.3f}", flush=True)
        if best is None or crit > best[0]:
            best = (crit, (pname, nov))
    pname, nov = best[1]
    r = results[best[1]]
    lr = LogisticRegression(C=1e6, class_weight="balanced").fit(r["oof"][:, None], y)
    cal = (float(lr.coef_[0, 0]), float(lr.intercept_[0]))
    model = fit_model(cfs._cols(tr, feats), y, feats, params=cfs.PARAMS[pname], novelty=nov,
                      meta={"name": "suitability_lite", "features_set": "metric columns + keyframe measures (no frame decoding)",
                            "params_name": pname, "train": "benchmarks/curate_frozen_set.py TRAIN split",
                            "cv_pooled_auc": r["pooled"]})
    model.calibration = cal
    os.makedirs(os.path.join(args.work, "lite"), exist_ok=True)
    path = model.save(os.path.join(args.work, "lite", "suitability_lite.npz"))
    digest = cfs.sha256(path)
    record = json.load(open(RECORD)) if os.path.exists(RECORD) else []
    done = [e for e in record if e["model_sha256"] == digest]
    if done:
        print(f"model sha256 {digest[:12]} already evaluated on frozen v2 on {done[-1]['date']}: {done[-1]['frozen2']}")
        summary = done[-1]
    else:
        # ONE evaluation on frozen set v2
        fz = cfs.load(args.work, "frozen2")
        m = load_model(path)
        s = m.predict(cfs._cols(fz, m.features))
        G, yf = fz["group"], fz["y"]
        pooled = auc_ci(yf, s, groups=G)
        mc, md = median_ci(s[yf == 1], groups=G[yf == 1]), median_ci(s[yf == 0], groups=G[yf == 0])
        # the shipped default model on the same shots (scored once before, in the curate ledger)
        d = load_model()
        ds = d.predict(cfs._cols(fz, d.features))
        ref = auc_ci(yf, ds, groups=G)
        # the planner's gate keeps shots scoring >= 0.3: share of clean / degraded shots kept
        from videoforge.plan.registry import GATE_THRESHOLD

        gate = {"lite_clean_kept": float((s[yf == 1] >= GATE_THRESHOLD).mean()),
                "lite_degraded_kept": float((s[yf == 0] >= GATE_THRESHOLD).mean()),
                "default_clean_kept": float((ds[yf == 1] >= GATE_THRESHOLD).mean()),
                "default_degraded_kept": float((ds[yf == 0] >= GATE_THRESHOLD).mean())}
        summary = {"model_sha256": digest, "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                   "features": feats, "params_name": pname, "novelty": nov, "calibration": cal,
                   "cv_train": {"pooled": r["pooled"], "family": r["family"], "kind": r["kind"]},
                   "frozen2": pooled, "median_clean": mc, "median_degraded": md, "default_on_same_shots": ref,
                   "gate_at_threshold": gate,
                   "note": "frozen set v2 (curate_frozen_set.py SPEC frozen2): held-out generator settings on the frozen "
                           "side's photos and clips; bootstrap 1000 resamples over sources"}
        record.append(summary)
        with open(RECORD, "w") as f:
            json.dump(record, f, indent=1)
    print(f"chosen: {pname}, penalty {nov:g}; frozen v2 ROC-AUC {summary['frozen2']['auc']:.3f} "
          f"[{summary['frozen2']['lo']:.3f}, {summary['frozen2']['hi']:.3f}] n = {summary['frozen2']['n']}; "
          f"default model on the same shots {summary['default_on_same_shots']['auc']:.3f}")
    print(json.dumps(summary.get("gate_at_threshold"), indent=1))
    if args.save:
        save(path, summary)
    return 0


def save(path: str, summary: dict) -> None:
    digest = summary["model_sha256"]
    if digest:
        os.makedirs(os.path.dirname(LITE_MODEL), exist_ok=True)
        shutil.copyfile(path, LITE_MODEL)
        q = json.load(open(QUALITY))
        q["quality"]["suitability/lite"] = {"suitability_auc": round(summary["frozen2"]["auc"], 4)}
        q["quality"]["suitability/default"] = {"suitability_auc": round(summary["default_on_same_shots"]["auc"], 4)}
        q.setdefault("detail", {})["suitability"] = {
            "lite": {k: summary["frozen2"][k] for k in ("auc", "lo", "hi", "n", "n_pos", "n_neg")},
            "default": {k: summary["default_on_same_shots"][k] for k in ("auc", "lo", "hi", "n")},
            "model_sha256": digest[:12], "source": "benchmarks/plan_suitability_lite.py (frozen set v2, 319 shots)"}
        with open(QUALITY, "w") as f:
            json.dump(q, f, indent=1)
        print(f"saved {LITE_MODEL}; quality written to {QUALITY}")


if __name__ == "__main__":
    sys.exit(main())
