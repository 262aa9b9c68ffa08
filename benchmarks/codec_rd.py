"""Rate-distortion of the tokenizer codec against x264 (medium), x265 and SVT-AV1 on the same clips.

Clips: the shapes demo at 64x64, 17 frames, 8 fps, from seeds the codec's training never used
(`--seed`, default 900), or any videos given with --videos (resized to the model's size). For
each clip: the codec's .vfc (the whole file counts) and each classical encoder at a ladder of
quality settings, with bits per pixel from the raw elementary stream (no container on either
side; x264's and x265's SEI NAL units, which hold their options text, are not counted).
Distortion: luma PSNR, luma SSIM (scikit-image, 7x7 Gaussian-free window) and a temporal
flicker measure (mean |frame-to-frame luma change of the output - of the input|).
For every classical encoder, its SSIM at the codec's own rate is read off its curve
(interpolated in log bpp) clip by clip, and the paired difference is bootstrapped over clips.
Where the codec's rate lies below an encoder's lowest reachable rate (CRF 51 / QP 51 included),
that is said, and the codec is compared with the encoder's closest (lowest-rate) point instead.

The codec at several rates: each model given as MODEL.pt[:LEVELS] is run once per level, a
level being the bit planes left out (`codec encode --drop-planes`; both sides infer them from
the prior), LEVELS like `none;7;5;5+7;5+6+7`; several models (codebook sizes) may be given. BD-rate (the `bjontegaard` package, Akima interpolation, over
the SSIM range both curves cover) of every codec ladder against every encoder on the mean
curves, with a 95 % bootstrap interval over clips (resampled clips, curves re-averaged).

    .venv/bin/python benchmarks/codec_rd.py MODEL.pt --clips 24 --json out.json
    .venv/bin/python benchmarks/codec_rd.py "c8.pt:none;7;5;5+7;5+6+7" --clips 24 --png rd.png
    .venv/bin/python benchmarks/codec_rd.py "c8.pt:none;7;5;5+7" --videos /usr/share/doc/opencv-doc/examples/data/*.avi \
        --windows 6 --encoders x264,x265
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from fractions import Fraction

import numpy as np

LADDERS = {   # (encoder, rate knob, its values, options); a (knob, value) pair in a ladder overrides the knob
    "x264": ("libx264", "crf", [18, 24, 30, 36, 42, 48, 51, ("qp", 51)], {"preset": "medium"}),
    "x265": ("libx265", "crf", [18, 24, 30, 36, 42, 48, 51, ("qp", 51)],
             {"preset": "medium", "x265-params": "log-level=error"}),
    "svtav1": ("libsvtav1", "crf", [20, 30, 40, 50, 58, 63], {"preset": "8"}),   # crf 63: SVT-AV1's lowest rate
}


def luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def distortion(ref: list[np.ndarray], out: list[np.ndarray]) -> dict:
    from skimage.metrics import structural_similarity

    a = np.stack([luma(f.astype(np.float64)) for f in ref])
    b = np.stack([luma(f.astype(np.float64)) for f in out])
    mse = float(np.mean((a - b) ** 2))
    ssim = float(np.mean([structural_similarity(x, y, data_range=255.0) for x, y in zip(a, b)]))
    flicker = float(np.mean(np.abs(np.abs(np.diff(b, axis=0)) - np.abs(np.diff(a, axis=0)))))
    return {"psnr": 10 * np.log10(255.0 ** 2 / max(mse, 1e-9)), "ssim": ssim, "flicker": flicker}


def _nal_sizes_without_sei(data: bytes, codec: str) -> int:
    """Bytes of an Annex-B stream without its SEI NAL units (H.264 type 6; HEVC types 39/40)."""
    starts = []
    i = 0
    while True:
        j = data.find(b"\x00\x00\x01", i)
        if j < 0:
            break
        starts.append(j + 3)
        i = j + 3
    total = 0
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        while end > s and data[end - 1] == 0:   # the leading zero of the next 4-byte start code
            end -= 1
        nal = data[s:end]
        if not nal:
            continue
        kind = nal[0] & 0x1F if codec == "libx264" else (nal[0] >> 1) & 0x3F
        sei = kind == 6 if codec == "libx264" else kind in (39, 40)
        if not sei:
            total += len(nal) + 4   # count a 4-byte start code per kept NAL, as a stream would carry it
    return total


def classical(frames: list[np.ndarray], codec: str, knob: str, value: int, opts: dict, fps: int = 8):
    import av

    h, w = frames[0].shape[:2]
    enc = av.CodecContext.create(codec, "w")
    enc.width, enc.height, enc.pix_fmt = w, h, "yuv420p"
    enc.time_base, enc.framerate = Fraction(1, fps), Fraction(fps)
    enc.options = {knob: str(value), **opts}
    packets = []
    for i, f in enumerate(frames):
        vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24").reformat(format="yuv420p")
        vf.pts = i
        packets += enc.encode(vf)
    packets += enc.encode(None)
    raw = [bytes(p) for p in packets]
    size = sum(_nal_sizes_without_sei(b, codec) for b in raw) if codec in ("libx264", "libx265") else sum(map(len, raw))
    name = {"libx264": "h264", "libx265": "hevc", "libsvtav1": "libdav1d"}[codec]
    if name not in av.codecs_available:
        name = "av1"
    dec = av.CodecContext.create(name, "r")
    if codec == "libsvtav1" and enc.extradata:
        dec.extradata = enc.extradata
    out = []
    for b in raw:
        out += [fr.to_ndarray(format="rgb24") for fr in dec.decode(av.Packet(b))]
    out += [fr.to_ndarray(format="rgb24") for fr in dec.decode(None)]
    return size, out


def at_rate(curve: list[tuple[float, float]], bpp: float) -> float | None:
    """SSIM at `bpp` by linear interpolation in log bpp; None outside the measured range."""
    pts = sorted(curve)
    xs, ys = np.log([p[0] for p in pts]), [p[1] for p in pts]
    if not xs[0] <= np.log(bpp) <= xs[-1]:
        return None
    return float(np.interp(np.log(bpp), xs, ys))


def clips_from_videos(paths: list[str], model, windows: int) -> list[tuple[str, list[np.ndarray]]]:
    """`windows` clips of the model's length per video, evenly spaced, at the model's size (the
    codec and the classical encoders get exactly the same frames)."""
    from videoforge.codec.vfc import _rgb_frames, _to_model

    out = []
    for path in paths:
        frames = [_to_model(f, model) for f in _rgb_frames(path)]   # small frames only: memory stays low
        L = model.frames
        starts = np.linspace(0, max(len(frames) - L, 0), windows).round().astype(int) if windows > 1 else [0]
        for s0 in dict.fromkeys(int(x) for x in starts):
            if len(frames) >= s0 + L:
                out.append((f"{os.path.basename(path)}@{s0}", frames[s0:s0 + L]))
    return out


def parse_model(arg: str):
    """MODEL.pt[:LEVELS] -> (path, [drop set, ...]); LEVELS `none;7;5+7` -> [(), (7,), (5, 7)]."""
    path, _, spec = arg.rpartition(":") if ":" in arg and not os.path.exists(arg) else (arg, "", "")
    levels = [tuple(int(k) for k in lv.split("+")) if lv not in ("", "none") else () for lv in spec.split(";")]
    return path, levels or [()]


def mean_curve(rows, key: str, idx=None) -> tuple[np.ndarray, np.ndarray]:
    idx = range(len(rows)) if idx is None else idx
    pts = [[(p["bpp"], p["ssim"]) for p in rows[i][key]] for i in idx]
    m = np.mean(np.array(pts), 0)
    m = m[np.argsort(m[:, 0])]
    keep = np.r_[True, np.diff(m[:, 0]) > 0] & np.r_[True, np.diff(m[:, 1]) > 0]   # strictly rising points only
    return m[keep, 0], m[keep, 1]


def bd_rate(rows, test: str, anchor: str, n_boot: int = 500, seed: int = 0) -> dict:
    """BD-rate (%) of `test` against `anchor` on the clip-mean (bpp, SSIM) curves; negative: test
    needs fewer bits for the same SSIM. None where the SSIM ranges do not overlap."""
    import warnings

    import bjontegaard as bd

    def one(idx):
        ra, da = mean_curve(rows, anchor, idx)
        rt, dt = mean_curve(rows, test, idx)
        lo, hi = max(da.min(), dt.min()), min(da.max(), dt.max())
        if hi <= lo:
            return None, "the SSIM ranges of the two curves do not overlap"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the package warns when the overlap is small: reported below
            try:
                v = float(bd.bd_rate(ra, da, rt, dt, method="akima", require_matching_points=False))
            except Exception as e:  # noqa: BLE001 - e.g. a curve not increasing in SSIM on a resample
                return None, f"bjontegaard: {e}"
        return v, (hi - lo) / (dt.max() - dt.min())
    value, overlap = one(None)
    if value is None:
        return {"bd_rate_pct": None, "why": overlap}
    rng = np.random.default_rng(seed)
    boots = [one(rng.integers(0, len(rows), len(rows)))[0] for _ in range(n_boot)]
    boots = [b for b in boots if b is not None and np.isfinite(b)]
    ra, da = mean_curve(rows, anchor)
    rt, dt = mean_curve(rows, test)
    return {"bd_rate_pct": value, "ci95": [float(np.percentile(boots, 2.5)), float(np.percentile(boots, 97.5))]
            if boots else None, "boot_n": len(boots),
            "ssim_overlap": [float(max(da.min(), dt.min())), float(min(da.max(), dt.max()))],
            "overlap_of_codec_range": overlap}


def plot(summary: dict, path: str, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, curve in summary["curves"].items():
        xs = [p["bpp"] for p in curve]
        style = "o-" if name.startswith("codec") else "s--"
        for ax, m in zip(axes, ("ssim", "psnr", "flicker")):
            ax.plot(xs, [p[m] for p in curve], style, label=name, ms=4)
    for ax, m in zip(axes, ("luma SSIM", "luma PSNR (dB)", "flicker (mean |d|dt| error, luma levels)")):
        ax.set_xscale("log")
        ax.set_xlabel("bits per pixel (log)")
        ax.set_ylabel(m)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="+", help="MODEL.pt[:LEVELS]: a codec model and its rate levels, each the "
                    "bit planes left out ('none;7;5+7'); the first model's first level is 'the codec at its own rate'")
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--seed", type=int, default=900)
    ap.add_argument("--videos", nargs="*", default=None, help="real videos instead of the demo's shapes")
    ap.add_argument("--windows", type=int, default=1, help="clips per real video, evenly spaced (with --videos)")
    ap.add_argument("--encoders", default="x264,x265,svtav1")
    ap.add_argument("--json", default=None)
    ap.add_argument("--png", default=None, help="rate-distortion curves (SSIM, PSNR, flicker vs bpp) as PNG")
    args = ap.parse_args()

    from tqdm import tqdm

    from videoforge.codec.model import load_codec_model
    from videoforge.codec.vfc import _rgb_frames, decode_vfc, encode_video
    from videoforge.io.encode import write_video
    from videoforge.synth import shapes
    from videoforge.train.evaluate import bootstrap_ci

    specs = [parse_model(m) for m in args.model]
    models = {p: load_codec_model(p) for p, _ in specs}
    ladders = []   # (key, path, K)
    for p, levels in specs:
        tag = f"c{models[p].planes}"
        for drop in levels:
            ladders.append((f"codec-{tag}-drop" + ("+".join(map(str, drop)) or "none"), p, drop))
    model = models[specs[0][0]]
    tmp = tempfile.mkdtemp(prefix="vf-codec-rd-")
    os.environ.setdefault("VIDEOFORGE_CODEC_DIR", os.path.join(tmp, "models"))
    if args.videos:
        clips = clips_from_videos(args.videos, model, args.windows)
        data = "real clips " + ", ".join(os.path.basename(v) for v in args.videos)
    else:
        clips = [(f"shapes seed {args.seed} #{k}", list(shapes.render_clip(c, frames=model.frames, size=64)))
                 for k, c in enumerate(shapes.sample_clips(1, seed=args.seed)[: args.clips])]
        data = f"shapes demo, seed {args.seed} (training never used it)"
    for m in models.values():
        if (m.frames, m.height, m.width) != (model.frames, model.height, model.width):
            raise SystemExit("all models must share the clip shape")
    encoders = [e for e in args.encoders.split(",") if e]
    rows = []
    for k, (src, ref) in enumerate(tqdm(clips, desc="clips", unit="clip")):
        pix = len(ref) * ref[0].shape[0] * ref[0].shape[1]
        one = os.path.join(tmp, f"c{k}.mkv")
        write_video(one, ref, fps=8, codec="ffv1", pix_fmt="bgr0", crf=None)   # exactly the model-size clip
        row = {"source": src}
        for key, path, K in ladders:
            vfc = os.path.join(tmp, f"c{k}-{key}.vfc")
            st = encode_video(one, path, vfc, drop_planes=K)
            decode_vfc(vfc, os.path.join(tmp, f"c{k}-back.mkv"), path)
            back = list(_rgb_frames(os.path.join(tmp, f"c{k}-back.mkv")))
            row[key] = [{"drop_planes": list(K), "bpp": st.bytes * 8 / pix, "overhead": st.overhead, **distortion(ref, back)}]
        first = ladders[0][0]
        row["codec"] = row[first][0]
        for name in encoders:
            codec, knob, ladder, opts = LADDERS[name]
            row[name] = []
            for v in ladder:
                kn, val = v if isinstance(v, tuple) else (knob, v)
                size, out = classical(ref, codec, kn, val, opts)
                row[name].append({kn: val, "bpp": size * 8 / pix, **distortion(ref, out[: len(ref)])})
        rows.append(row)
    # one curve per model: its plane levels as points
    by_model = {}
    for key, path, K in ladders:
        by_model.setdefault(key.rsplit("-drop", 1)[0], []).append(key)
    for r in rows:
        for mkey, keys in by_model.items():
            r[mkey] = [r[k][0] for k in keys]

    def ci_mean(vals):
        return {"mean": float(np.mean(vals)), "ci95": bootstrap_ci(vals), "n": len(vals)}

    summary = {"model": os.path.abspath(specs[0][0]), "clips": len(rows), "data": data,
               "codec": {m: float(np.mean([r["codec"][m] for r in rows])) for m in ("bpp", "psnr", "ssim", "flicker", "overhead")},
               "codec_ladder": {key: {m: ci_mean([r[key][0][m] for r in rows]) for m in ("bpp", "psnr", "ssim", "flicker")}
                                | {"overhead": float(np.mean([r[key][0]["overhead"] for r in rows]))}
                                for key, _, _ in ladders},
               "curves": {}}
    for mkey in by_model:
        summary["curves"][mkey] = [{m: float(np.mean([r[mkey][i][m] for r in rows])) for m in ("bpp", "psnr", "ssim", "flicker")}
                                   for i in range(len(by_model[mkey]))]
    for name in encoders:
        diffs = []
        for r in rows:
            s_ = at_rate([(p["bpp"], p["ssim"]) for p in r[name]], r["codec"]["bpp"])
            if s_ is not None:
                diffs.append(r["codec"]["ssim"] - s_)
        lowest = [min(r[name], key=lambda p: p["bpp"]) for r in rows]
        curve = [{k: float(np.mean([r[name][i][k] for r in rows])) for k in ("bpp", "psnr", "ssim", "flicker")}
                 for i in range(len(LADDERS[name][2]))]
        summary["curves"][name] = curve
        summary[name] = {"ssim_at_codec_rate": float(np.mean([r["codec"]["ssim"] for r in rows]) - np.mean(diffs)) if diffs else None,
                         "codec_minus_it": float(np.mean(diffs)) if diffs else None,
                         "ci95": bootstrap_ci(diffs) if diffs else None, "clips_in_range": len(diffs),
                         "curve": curve,
                         # the encoder's lowest reachable rate, clip by clip, and the codec against it there
                         "lowest_point": {"bpp": ci_mean([p["bpp"] for p in lowest]), "ssim": ci_mean([p["ssim"] for p in lowest]),
                                          "codec_bpp_over_it": ci_mean([r["codec"]["bpp"] / p["bpp"] for r, p in zip(rows, lowest)]),
                                          "codec_ssim_minus_it": ci_mean([r["codec"]["ssim"] - p["ssim"] for r, p in zip(rows, lowest)])},
                         "bd_rate": {mkey: bd_rate(rows, mkey, name) for mkey in by_model}}
    print(json.dumps(summary, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "rows": rows}, f, indent=1)
    if args.png:
        plot(summary, args.png, f"{data}: n = {len(rows)} clips, {model.width}x{model.height}x{model.frames}")


if __name__ == "__main__":
    main()
