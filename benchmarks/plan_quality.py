"""Quality of the metric-sampling variants: how often a half- or quarter-rate metric agrees with
the full-rate one (the registry's `metric_agreement`, src/videoforge/plan/default_quality.json).

Each video is analysed once per variant with the same shot detector, so the shots are the same
and every (shot, metric) value can be compared with its full-rate value. A value agrees when
it is within 10 % of the full-rate value or within 10 % of that metric's spread; a value the
lower rate cannot give (a shot too short for one sample) counts as disagreeing (standard
deviation over all shots at full rate; small values near 0 would otherwise never agree).
Data: the real opencv-doc clips plus videos from our transition generator (held-out settings).
The interval is a 95 % bootstrap over videos (values in one video are not independent).

    nice -n 5 .venv/bin/python benchmarks/plan_quality.py [--write]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

import numpy as np

from videoforge.catalog.schema import METRIC_COLUMNS
from videoforge.engine.analyze import analyze_video
from videoforge.engine.config import AnalysisConfig
from videoforge.plan.registry import QUALITY_FILE, apply_to_config

REAL = ["Megamind.avi", "Megamind_bugy.avi", "vtest.avi", "tree.avi"]
DATA = "/usr/share/doc/opencv-doc/examples/data"
# sampling does not touch audio or on-screen text: those columns are left out
COLUMNS = [c for c in METRIC_COLUMNS if not c.startswith("audio") and c != "text_area"]


def footage(tmp: str, n_generated: int) -> list[tuple[str, str]]:
    out = [(os.path.join(DATA, n), "real") for n in REAL if os.path.exists(os.path.join(DATA, n))]
    from videoforge.synth.transitions import GenSettings, generate

    for k in range(n_generated):
        p = os.path.join(tmp, f"gen{k}.mp4")
        generate(p, seed=9100 + k, settings=GenSettings(width=480, height=270, shots=6, footage="heldout"))
        out.append((p, "generated"))
    return out


def metrics(path: str, variant: str, root: str) -> list[dict]:
    config = apply_to_config(AnalysisConfig(), {"shots": "videoforge", "metrics": variant, "ocr": "off"})
    return analyze_video(path, root, config).shots


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--generated", type=int, default=4)
    ap.add_argument("--write", action="store_true", help="write the figures into the shipped registry's quality file")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    per_video: dict[str, list[tuple[int, int]]] = {"half": [], "quarter": []}
    with tempfile.TemporaryDirectory() as tmp:
        vids = footage(tmp, args.generated)
        full_all = {p: metrics(p, "full", tmp) for p, _ in vids}
        spread = {}
        for c in COLUMNS:
            vals = np.array([s.get(c) for shots in full_all.values() for s in shots if s.get(c) is not None], float)
            spread[c] = float(np.std(vals)) if len(vals) else 0.0
        for variant in per_video:
            for p, kind in vids:
                full, other = full_all[p], metrics(p, variant, tmp)
                agree = total = 0
                for a, b in zip(full, other):
                    assert a["start_frame"] == b["start_frame"], "same detector, same shots"
                    for c in COLUMNS:
                        if a.get(c) is None:
                            continue
                        total += 1   # a value the lower rate could not give (a short shot) disagrees
                        agree += b.get(c) is not None and abs(b[c] - a[c]) <= max(0.1 * abs(a[c]), 0.1 * spread[c])
                per_video[variant].append((agree, total))
                print(f"{variant:8s} {kind:9s} {os.path.basename(p):20s} {agree}/{total}", file=sys.stderr)
    result = {}
    for variant, rows in per_video.items():
        a = np.array(rows, float)
        point = a[:, 0].sum() / a[:, 1].sum()
        boots = []
        for _ in range(2000):
            ix = rng.integers(0, len(a), len(a))
            boots.append(a[ix, 0].sum() / max(a[ix, 1].sum(), 1))
        lo, hi = np.percentile(boots, [2.5, 97.5])
        result[variant] = {"metric_agreement": round(float(point), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)],
                           "values": int(a[:, 1].sum()), "videos": len(a)}
    print(json.dumps(result, indent=1))
    if args.write:
        doc = {"source": f"benchmarks/plan_quality.py: {len(REAL)} real opencv-doc clips + {args.generated} generated "
                         f"(held-out generator settings), bootstrap over videos",
               "quality": {f"metrics/{v}": {"metric_agreement": r["metric_agreement"]} for v, r in result.items()},
               "detail": result}
        with open(QUALITY_FILE, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
