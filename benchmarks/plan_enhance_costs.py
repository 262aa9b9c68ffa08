"""Costs of the enhancement stages for the registry (issue 25): `videoforge enhance --scale 4|2`
and `videoforge matte`, CPU per decoded megapixel of the input and loading, measured through
the real CLI in fresh processes (whole process tree: start-up, imports, weights, encode).

Two input sizes of the same real footage (Megamind.avi's first frames, re-encoded to H.264 at
two sizes) and two lengths per size separate the per-megapixel work from the fixed part:
fixed = what a run costs beyond its frames (least squares over the four runs), per megapixel =
the slope. The networks run with one thread (the commands' default).

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/plan_enhance_costs.py [--write] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

SRC = "/usr/share/doc/opencv-doc/examples/data/Megamind.avi"
# (width, height, frames): the SR network is slow at large sizes (~15 k multiply-adds per output pixel)
CASES = [(96, 54, 8), (96, 54, 24), (192, 108, 8), (192, 108, 16)]
# matting runs its network at a 96 px long side whatever the input (then refines at full size):
# its cost is measured at larger sizes, and fitted per frame and per megapixel
MATTE_CASES = [(320, 180, 8), (320, 180, 24), (640, 360, 8), (640, 360, 16)]
COMMANDS = {"enhance/sr_x4": ["enhance", "--scale", "4", "--out", "{out}.mp4"],
            "enhance/sr_x2": ["enhance", "--scale", "2", "--out", "{out}.mp4"],
            "matte/default": ["matte", "--out", "{out}.mkv"]}


def cut(src: str, dst: str, w: int, h: int, frames: int) -> None:
    from videoforge.io.decode import decode_frames
    from videoforge.io.encode import write_video

    import cv2

    out = []
    for f in decode_frames(src):
        if f.index < 120:      # skip the black opening
            continue
        out.append(cv2.resize(f.bgr()[..., ::-1], (w, h), interpolation=cv2.INTER_AREA))   # RGB for write_video
        if len(out) >= frames:
            break
    write_video(dst, out, fps=24.0)


def tree_cpu_of(cmd: list[str]) -> float:
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--json", default=None)
    ap.add_argument("--only", default=None, help="comma-separated rows to measure (default: all)")
    ap.add_argument("--merge", default=None, help="an earlier --json output: its rows for the rows not measured now")
    args = ap.parse_args()
    res: dict = {"cases": CASES, "matte_cases": MATTE_CASES, "runs": {}}
    with tempfile.TemporaryDirectory(prefix="vf-enhcost-") as tmp:
        made = {}
        for w, h, n in CASES + MATTE_CASES:
            p = os.path.join(tmp, f"in_{w}x{h}_{n}.mp4")
            cut(SRC, p, w, h, n)
            made[(w, h, n)] = (p, w * h * n / 1e6, n)
        for key, tmpl in COMMANDS.items():
            if args.only and key not in args.only.split(","):
                continue
            inputs = [made[c] for c in (MATTE_CASES if key.startswith("matte") else CASES)]
            rows = []
            for k, (p, mpx, n) in enumerate(inputs):
                cmd = [sys.executable, "-m", "videoforge", tmpl[0], p] + [a.replace("{out}", os.path.join(tmp, f"o{k}"))
                                                                          for a in tmpl[1:]] + ["-q"]
                cpu = tree_cpu_of(cmd)
                rows.append((mpx, cpu, n))
                print(f"{key} {os.path.basename(p)}: {cpu:.2f} CPU-s", flush=True)
            x, y, nf = np.array(rows).T
            slope, fixed = np.polyfit(x, y, 1)
            res["runs"][key] = {"rows": rows, "cpu_per_mpx": float(slope), "fixed_cpu_seconds": float(fixed),
                                "cpu_per_frame_at_192x108": float(slope * 192 * 108 / 1e6)}
            if key.startswith("matte"):   # per frame (the network at 96 px) + per megapixel (the refinement)
                A = np.c_[np.ones_like(x), nf, x]
                coef = np.linalg.lstsq(A, y, rcond=None)[0]
                res["runs"][key]["three_term_fit"] = {"fixed": float(coef[0]), "per_frame": float(coef[1]),
                                                      "per_mpx": float(coef[2])}
    if args.merge:
        with open(args.merge) as f:
            for key, r in json.load(f)["runs"].items():
                res["runs"].setdefault(key, {**r, "merged_from": args.merge})
    res["note"] = ("fresh `python -m videoforge` processes (start-up, imports, weights, decode, network, encode); "
                   "least squares over 4 runs (2 sizes x 2 lengths) of Megamind.avi re-encoded; 2-core shared machine, busy")
    print(json.dumps(res, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(res, f, indent=1)
    if args.write:
        from videoforge.plan.registry import SHIPPED_COSTS

        with open(SHIPPED_COSTS) as f:
            doc = json.load(f)
        for key, r in res["runs"].items():
            per, fixed = r["cpu_per_mpx"], r["fixed_cpu_seconds"]
            if "three_term_fit" in r:   # matte: registry unit "frame" at the fitted per-frame + per-mpx at 640x360
                t = r["three_term_fit"]
                per, fixed = t["per_frame"] + t["per_mpx"] * 640 * 360 / 1e6, t["fixed"]
            doc["costs"][key] = {"cpu_seconds": round(max(per, 0.0), 6), "fixed_cpu_seconds": round(max(fixed, 0.0), 4),
                                 "usd": 0.0}
        doc["enhance_source"] = ("benchmarks/plan_enhance_costs.py: the real `videoforge enhance` / `videoforge matte` "
                                 "commands in fresh processes on Megamind.avi re-encoded at 96x54 and 192x108 (8-24 "
                                 "frames); CPU per input megapixel = slope, loading = intercept; busy 2-core machine")
        with open(SHIPPED_COSTS, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
