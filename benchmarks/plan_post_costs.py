"""Measure the shipped costs of the per-shot stages (suitability, metadata captions, visual
embedding), the shots found per second and the share of shots the suitability gate keeps,
on the real opencv-doc clips. `--write` folds them into src/videoforge/plan/default_costs.json.

    nice -n 5 .venv/bin/python benchmarks/plan_post_costs.py --write
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from videoforge.catalog import Catalog  # noqa: E402
from videoforge.engine.config import AnalysisConfig  # noqa: E402
from videoforge.engine.run import run_videos  # noqa: E402
from videoforge.plan.calibrate import fold_suit_forecast, measure_post  # noqa: E402
from videoforge.plan.costs import probe_input, sample_suitability  # noqa: E402
from videoforge.plan.registry import SHIPPED_COSTS, apply_to_config, shipped_registry  # noqa: E402

DATA = "/usr/share/doc/opencv-doc/examples/data"
CLIPS = ["Megamind.avi", "vtest.avi", "tree.avi"]
GENERATED = [(320, 180), (1280, 720)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--keys", default=None, help="with --write: only these comma-separated rows (e.g. suitability/lite)")
    args = ap.parse_args()
    paths = [os.path.join(DATA, c) for c in CLIPS if os.path.exists(os.path.join(DATA, c))]
    reg = shipped_registry()
    for v in reg.values():
        v.samples = 0
    with tempfile.TemporaryDirectory(prefix="vf-postcost-") as tmp:
        # two H.264 files from our generator (small and 720p) besides the MPEG-4 clips: the
        # per-frame fallback of the suitability features' decoding is fitted over sizes and codecs
        from videoforge.synth.transitions import GenSettings, generate

        for k, (w, h) in enumerate(GENERATED):
            paths.append(os.path.join(tmp, f"gen{k}.mp4"))
            generate(paths[-1], seed=2500 + k, settings=GenSettings(width=w, height=h, shots=4, footage="synthetic"))
        cat = os.path.join(tmp, "c")
        run_videos(paths, cat, config=apply_to_config(AnalysisConfig(), {"metrics": "full", "ocr": "off",
                                                                          "shots": "videoforge"}), progress=False)
        infos = [probe_input(p) for p in paths]
        for i in infos:
            sample_suitability(i)
        out = measure_post(Catalog(cat), reg, [i.duration for i in infos], mpx=sum(i.mpx for i in infos), infos=infos)
        out.update(fold_suit_forecast(reg, infos, "measured"))
        out["sampled"] = [i.to_dict() for i in infos]
    print(json.dumps(out, indent=1))
    if args.write:
        with open(SHIPPED_COSTS) as f:
            doc = json.load(f)
        keys = ("suitability/default", "suitability/lite", "caption/metadata", "caption/openai", "embed/visual",
                "forecast/shots_per_second", "forecast/suitable_fraction", "forecast/suit_cpu_per_frame",
                "forecast/suit_cpu_per_mpx")
        for key in (args.keys.split(",") if args.keys else keys):
            if key == "suitability/lite" and "suitability/lite" not in out:
                continue   # not measured (no lite model)
            v = reg[key]
            doc["costs"][key] = {"cpu_seconds": round(v.cpu_seconds, 8), "fixed_cpu_seconds": round(v.fixed_cpu_seconds, 6),
                                 "usd": 0.0}
        if args.keys:
            doc["lite_source"] = ("benchmarks/plan_post_costs.py --keys " + args.keys + ": measured after the other post "
                                  "stages on the same clips (shared loading paid), busy 2-core machine")
        else:
            doc["post_source"] = ("benchmarks/plan_post_costs.py on " + ", ".join(CLIPS) + " (real) and two generated "
                                  "H.264 files (320x180, 1280x720), 2-core shared machine under load; suitability/default "
                                  "per shot beyond its features' decoding (priced per frame, sampled per input); "
                                  "caption/openai per-shot CPU: its client's loading only, refined by runs")
        with open(SHIPPED_COSTS, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
