"""The optional TSA network (frames + metrics, gated fusion) on the suitability benchmark's
catalogs: trained on TRAIN, scored on HELDOUT, next to the tabular model's figure.

    .venv/bin/python benchmarks/curate_tsa.py --work /tmp/vf-suit --epochs 20

Run benchmarks/curate_suitability.py first (it builds /tmp/vf-suit/cat_{train,heldout}).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np


def shots_with_frames(cat_dir: str, labels_csv: str, n: int, size: int):
    from videoforge.catalog import Catalog
    from videoforge.curate.features import FEATURE_COLUMNS, load_features
    from videoforge.curate.labels import read_labels
    from videoforge.curate.tsa import sample_shot_frames

    cat = Catalog(cat_dir)
    lab = read_labels(labels_csv, cat)
    ids, x, info = load_features(cat, FEATURE_COLUMNS)
    pos = {s: i for i, s in enumerate(ids)}
    rows = [pos[s] for s in lab.shot_ids]
    by_video: dict[str, list[int]] = {}
    for r in rows:
        by_video.setdefault(info[r]["path"], []).append(r)
    frames = {}
    for path, rs in by_video.items():
        got = sample_shot_frames(path, [(info[r]["start_frame"], info[r]["end_frame"]) for r in rs], n=n, size=size)
        frames.update(dict(zip(rs, got)))
    suit = np.array([v if v is not None else np.nan for v in
                     [dict(cat.query("SELECT shot_id, suitability FROM shots")[1]).get(ids[r]) for r in rows]], float)
    return np.stack([frames[r] for r in rows]), x[rows], np.asarray(lab.labels, float), suit


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/vf-suit")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=48)
    ap.add_argument("--out", default=None, help="save the trained TSA model here (.pt)")
    a = ap.parse_args()

    import torch

    from videoforge.curate.evaluate import precision_at_recall, roc_auc
    from videoforge.curate.features import FEATURE_COLUMNS
    from videoforge.curate.tsa import fit_tsa

    torch.set_num_threads(os.cpu_count() or 1)
    t0 = time.perf_counter()
    tr = shots_with_frames(os.path.join(a.work, "cat_train"), os.path.join(a.work, "train", "labels.csv"), a.frames, a.size)
    te = shots_with_frames(os.path.join(a.work, "cat_heldout"), os.path.join(a.work, "heldout", "labels.csv"), a.frames, a.size)
    t1 = time.perf_counter()
    model = fit_tsa(tr[0], tr[1], (tr[2] - 1) / 4, FEATURE_COLUMNS, epochs=a.epochs,
                    log=lambda e, l: print(f"epoch {e} loss {l:.4f}", file=sys.stderr))
    t2 = time.perf_counter()
    p = model.predict(te[0], te[1])
    y = te[2] == 5
    print(f"machine: {platform.platform()}, {os.cpu_count()} cpus; frames {t1 - t0:.0f} s, training {t2 - t1:.0f} s "
          f"({a.epochs} epochs, {len(tr[2])} train shots), {len(y)} held-out shots\n")
    print("| method (held-out split) | ROC-AUC | precision @ 80 % recall |\n|---|---|---|")
    print(f"| TSA network (frames + metrics, gated) | {roc_auc(y, p):.3f} | {precision_at_recall(y, p):.3f} |")
    print(f"| tabular model (same shots, from `videoforge score`) | {roc_auc(y, te[3]):.3f} | {precision_at_recall(y, te[3]):.3f} |")
    print(f"| mean of both | {roc_auc(y, (p + te[3]) / 2):.3f} | {precision_at_recall(y, (p + te[3]) / 2):.3f} |")
    if a.out:
        model.save(a.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
