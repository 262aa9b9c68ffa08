"""Figures for `videoforge enhance` (issue #24 part 2) on held-out real footage.

    nice -n 5 .venv/bin/python benchmarks/enhance_sr_eval.py --out docs/benchmarks/enhance_sr.json

Held-out data (never read by train_sr.py): real clips Megamind.avi (720x528) and tree.avi
(320x240) from opencv-doc, cut into segments of --seg frames; plus camera-path clips over the
held-out photographs (sr_data.HELDOUT_PHOTOS, 256x256, reported separately).
For each clip the high-resolution frames are the truth; the input is
  BI     PIL BICUBIC x1/4 per frame (antialiased, as in the SR literature)
  blind  degrade.second_order with the HELDOUT ranges (other ranges and seeds than training)
written losslessly (FFV1 .mkv) and super-resolved by the library call behind the plain
`videoforge enhance IN --scale 4 --out OUT.mkv` (default weights and settings; OUT is
H.264 CRF 10, so its coding loss is included), and, for the baseline of equal size, the same
call with --weights sr_x4_single.npz. Bicubic = PIL BICUBIC x4 of the same input (no coding).
Y-PSNR: BT.601 luma, 4-px border cropped, per frame then averaged per clip. Flicker:
mean |(y_t - y_{t-1}) - (gt_t - gt_{t-1})| on luma (temporal-difference error; lower is
better). Intervals: 95 % bootstrap over clips (2000 resamples), n = clips.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from fractions import Fraction

import av
import numpy as np

from videoforge.enhance import degrade, sr_data, weights
from videoforge.enhance.sr import enhance_video


def write_lossless(frames: np.ndarray, path: str, fps: int = 25) -> None:
    with av.open(path, "w") as o:
        st = o.add_stream("ffv1", rate=Fraction(fps))
        st.width, st.height, st.pix_fmt = frames.shape[2], frames.shape[1], "bgr0"
        for f in frames:
            for p in st.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                o.mux(p)
        for p in st.encode():
            o.mux(p)


def read_frames(path: str) -> np.ndarray:
    with av.open(path) as c:
        return np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)])


def flicker(x: np.ndarray, gt: np.ndarray) -> float:
    yx, yg = sr_data.y_channel(x), sr_data.y_channel(gt)
    return float(np.mean(np.abs(np.diff(yx, axis=0) - np.diff(yg, axis=0))))


def boot(vals, n=2000, seed=0):
    v = np.asarray(vals, float)
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), (n, len(v)))].mean(1)
    return [round(float(v.mean()), 3), round(float(np.percentile(means, 2.5)), 3),
            round(float(np.percentile(means, 97.5)), 3), len(v)]


def _spread(frames: np.ndarray, seg: int, count: int):
    """`count` segments of `seg` frames, evenly spaced over the clip."""
    count = min(count, len(frames) // seg)
    starts = np.linspace(0, len(frames) - seg, count).astype(int)
    return [frames[s:s + seg] for s in starts]


def heldout_clips(seg: int, megamind_segments: int, tree_segments: int, photo_frames: int, max_photos: int = 100):
    clips = []
    for name, k in (("Megamind.avi", megamind_segments), ("tree.avi", tree_segments)):
        for i, part in enumerate(_spread(sr_data.clip_frames(name, max_frames=1000), seg, k)):
            clips.append((name, i, part))
    rng = np.random.default_rng(24_100)
    for name in sr_data.HELDOUT_PHOTOS[:max_photos]:
        hr = sr_data.camera_clip(sr_data.load_photo(name), rng, photo_frames, 256)
        clips.append((name, 0, hr))
    return clips


def summarize(rows: list[dict], exclude: set = frozenset()) -> dict:
    """Bootstrap summaries over clips; `exclude`: (source, part) pairs left out."""
    rows = [r for r in rows if (r["source"], r["part"]) not in exclude]
    summary = {}
    for label, sel in (("real_clips", [r for r in rows if r["real"]]), ("heldout_photo_clips", [r for r in rows if not r["real"]])):
        s = {}
        if not sel:
            continue
        for kind in ("bi", "blind"):
            s[f"{kind}_gain_vs_bicubic_db"] = boot([r[f"{kind}_net"] - r[f"{kind}_bicubic"] for r in sel])
            s[f"{kind}_single_gain_vs_bicubic_db"] = boot([r[f"{kind}_single"] - r[f"{kind}_bicubic"] for r in sel])
            s[f"{kind}_gain_vs_single_db"] = boot([r[f"{kind}_net"] - r[f"{kind}_single"] for r in sel])
            s[f"{kind}_net_psnr"] = boot([r[f"{kind}_net"] for r in sel])
            s[f"{kind}_bicubic_psnr"] = boot([r[f"{kind}_bicubic"] for r in sel])
            s[f"{kind}_flicker_net"] = boot([r[f"{kind}_net_flicker"] for r in sel])
            s[f"{kind}_flicker_bicubic"] = boot([r[f"{kind}_bicubic_flicker"] for r in sel])
            if f"{kind}_net_model" in sel[0]:   # --auto: how often the selector picked the blind network
                s[f"{kind}_picked_blind_share"] = boot([r[f"{kind}_net_model"] == "blind" for r in sel])
            s[f"{kind}_flicker_ratio_net_over_bicubic"] = boot([r[f"{kind}_net_flicker"] / r[f"{kind}_bicubic_flicker"]
                                                              for r in sel if r[f"{kind}_bicubic_flicker"] > 0])   # a static clip has no flicker
        summary[label] = s
    return summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="docs/benchmarks/enhance_sr.json")
    ap.add_argument("--seg", type=int, default=10)
    ap.add_argument("--megamind-segments", type=int, default=5)
    ap.add_argument("--tree-segments", type=int, default=4)
    ap.add_argument("--photo-frames", type=int, default=8)
    ap.add_argument("--max-photos", type=int, default=100)
    ap.add_argument("--weights", default=weights.DEFAULT_SR)
    ap.add_argument("--single", default=weights.DEFAULT_SR_SINGLE)
    ap.add_argument("--speed-frames", type=int, default=2)
    ap.add_argument("--speed-size", default="480x270", help="input size for the speed runs (540p = 960x540: cost grows with the pixel count)")
    ap.add_argument("--speed-threads", default="1,2,1,2", help="thread counts of the speed runs, interleaved")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--auto", action="store_true",
                    help="session 8: net = the plain call (model picked per clip by the degradation estimate), "
                         "single = the picked model's single-frame twin; --weights/--single are ignored")
    ap.add_argument("--rows", help="only summarise the per-clip JSON lines in this log (no runs); "
                                   "several logs: comma-separated (runs split with --only)")
    ap.add_argument("--only", help="run only these clips, e.g. 'Megamind.avi:1,tree.avi:0' (to split a run "
                                   "over processes; merge the logs with --rows)")
    a = ap.parse_args(argv)
    if a.rows:
        rows = [json.loads(l) for path in a.rows.split(",") for l in open(path) if l.startswith('{"source"')]
        out = {"clips": rows, "summary": summarize(rows)}
        if any(r["source"] == "Megamind.avi" and r["part"] == 0 for r in rows):
            # Megamind.avi starts with an all-black frame: bicubic is exact there (PSNR unbounded),
            # so the per-frame mean of that segment is dominated by one frame
            out["summary_without_megamind_part0"] = summarize(rows, {("Megamind.avi", 0)})
        with open(a.out, "w") as f:
            json.dump(out, f, indent=1)
        print(json.dumps({k: v for k, v in out.items() if k != "clips"}, indent=1))
        return 0

    rows = []
    with tempfile.TemporaryDirectory(prefix="m_sr_eval_") as tmp:
        only = set(a.only.split(",")) if a.only else None
        for ci, (src, part, hr) in enumerate(heldout_clips(a.seg, a.megamind_segments, a.tree_segments, a.photo_frames, a.max_photos)):
            if only is not None and f"{src}:{part}" not in only:
                continue   # the seed below stays tied to the clip's index, so a split run draws the same inputs
            h, w = hr.shape[1] // 4 * 4, hr.shape[2] // 4 * 4
            hr = np.ascontiguousarray(hr[:, :h, :w])
            real = src.endswith(".avi")
            row = {"source": src, "part": part, "real": real, "frames": len(hr), "size": [w, h]}
            rng = np.random.default_rng(24_000 + ci)
            inputs = {"bi": np.stack([degrade.bicubic_down(f, 4) for f in hr]),
                      "blind": degrade.second_order(hr, 4, rng, degrade.HELDOUT)}
            for kind, lr in inputs.items():
                lp = os.path.join(tmp, f"{kind}.mkv")
                write_lossless(lr, lp)
                bic = np.stack([degrade.bicubic_up(f, 4) for f in lr])
                row[f"{kind}_bicubic"] = float(np.mean([sr_data.y_psnr(b, g) for b, g in zip(bic, hr)]))
                row[f"{kind}_bicubic_flicker"] = flicker(bic, hr)
                for name, wpath in (("net", a.weights), ("single", a.single)):
                    op = os.path.join(tmp, f"{kind}_{name}.mkv")
                    if a.auto:   # session 8: the plain call picks clean/blind; the baseline is that pick's twin
                        res = enhance_video(lp, op, scale=4, single_frame=name == "single")
                        row[f"{kind}_{name}_model"] = res.model
                        row[f"{kind}_p_degraded"] = res.degradation.get("p_degraded")
                    else:
                        res = enhance_video(lp, op, scale=4, weights_path=None if wpath == weights.DEFAULT_SR else wpath)
                    out = read_frames(op)
                    assert out.shape == hr.shape, (out.shape, hr.shape)
                    assert res.frames == len(hr)
                    row[f"{kind}_{name}"] = float(np.mean([sr_data.y_psnr(o, g) for o, g in zip(out, hr)]))
                    row[f"{kind}_{name}_flicker"] = flicker(out, hr)
            rows.append(row)
            print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)

        summary = summarize(rows)
        print(json.dumps(summary, indent=1), flush=True)

        speed = None
        if not a.no_speed:
            sw, sh = (int(v) for v in a.speed_size.split("x"))
            import cv2

            mm = sr_data.clip_frames("Megamind.avi", max_frames=a.speed_frames)
            lr = np.stack([cv2.resize(f, (sw, sh), interpolation=cv2.INTER_AREA) for f in mm])
            lp = os.path.join(tmp, "speed.mkv")
            write_lossless(lr, lp)
            speed = {"size": [sw, sh], "frames": a.speed_frames, "runs": []}
            for threads in (int(t) for t in a.speed_threads.split(",")):   # interleaved: the machine is shared
                c0 = resource.getrusage(resource.RUSAGE_SELF)
                t0 = time.perf_counter()
                res = enhance_video(lp, os.path.join(tmp, "speed_out.mkv"), scale=4, threads=threads)
                wall = time.perf_counter() - t0
                c1 = resource.getrusage(resource.RUSAGE_SELF)
                cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
                speed["runs"].append({"threads": threads, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                                      "fps_wall": round(a.speed_frames / wall, 4), "frames_per_cpu_s": round(a.speed_frames / cpu, 4),
                                      "loadavg": os.getloadavg()[0], "model": res.model})
                print(json.dumps(speed["runs"][-1]), flush=True)
    if a.auto:
        used = {k: {"net": weights.load_sr(weights.sr_model_path(k))[1], "single": weights.load_sr(weights.sr_model_path(k, True))[1]}
                for k in ("clean", "blind")}
    else:
        used = {"net": weights.load_sr(a.weights)[1], "single": weights.load_sr(a.single)[1]}
    out = {"clips": rows, "summary": summary, "speed": speed, "weights": used}
    if any(r["source"] == "Megamind.avi" and r["part"] == 0 for r in rows):
        out["summary_without_megamind_part0"] = summarize(rows, {("Megamind.avi", 0)})
    with open(a.out, "w") as f:
        json.dump(out, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
