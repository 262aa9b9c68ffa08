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

    .venv/bin/python benchmarks/codec_rd.py MODEL.pt --clips 24 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from fractions import Fraction

import numpy as np

LADDERS = {
    "x264": ("libx264", "crf", [18, 24, 30, 36, 42, 48], {"preset": "medium"}),
    "x265": ("libx265", "crf", [18, 24, 30, 36, 42, 48], {"preset": "medium", "x265-params": "log-level=error"}),
    "svtav1": ("libsvtav1", "crf", [20, 30, 40, 50, 58, 63], {"preset": "8"}),
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--seed", type=int, default=900)
    ap.add_argument("--videos", nargs="*", default=None, help="real videos instead of the demo's shapes")
    ap.add_argument("--encoders", default="x264,x265,svtav1")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    from videoforge.codec.model import load_codec_model
    from videoforge.codec.vfc import _rgb_frames, _to_model, decode_vfc, encode_video
    from videoforge.io.encode import write_video
    from videoforge.synth import shapes
    from videoforge.train.evaluate import bootstrap_ci

    model = load_codec_model(args.model)
    tmp = tempfile.mkdtemp(prefix="vf-codec-rd-")
    os.environ.setdefault("VIDEOFORGE_CODEC_DIR", os.path.join(tmp, "models"))
    sources = []
    if args.videos:
        sources = args.videos
    else:
        for k, c in enumerate(shapes.sample_clips(1, seed=args.seed)[: args.clips]):
            p = os.path.join(tmp, f"clip{k:03d}.mkv")   # lossless source: FFV1 RGB
            write_video(p, list(shapes.render_clip(c, frames=model.frames, size=64)), fps=8, codec="ffv1",
                        pix_fmt="bgr0", crf=None)
            sources.append(p)
    rows = []
    for k, src in enumerate(sources):
        ref = [_to_model(f, model) for f in _rgb_frames(src)][: model.frames]
        pix = len(ref) * ref[0].shape[0] * ref[0].shape[1]
        one = os.path.join(tmp, f"c{k}.mkv")
        write_video(one, ref, fps=8, codec="ffv1", pix_fmt="bgr0", crf=None)   # exactly the model-size clip
        st = encode_video(one, args.model, os.path.join(tmp, f"c{k}.vfc"))
        decode_vfc(os.path.join(tmp, f"c{k}.vfc"), os.path.join(tmp, f"c{k}-back.mkv"), args.model)
        back = list(_rgb_frames(os.path.join(tmp, f"c{k}-back.mkv")))
        row = {"source": src, "codec": {"bpp": st.bytes * 8 / pix, "overhead": st.overhead, **distortion(ref, back)}}
        for name in args.encoders.split(","):
            codec, knob, ladder, opts = LADDERS[name]
            row[name] = []
            for v in ladder:
                size, out = classical(ref, codec, knob, v, opts)
                row[name].append({knob: v, "bpp": size * 8 / pix, **distortion(ref, out[: len(ref)])})
        rows.append(row)
        print(f"{k + 1}/{len(sources)} codec {row['codec']['bpp']:.4f} bpp SSIM {row['codec']['ssim']:.4f}", flush=True)
    summary = {"model": os.path.abspath(args.model), "clips": len(rows),
               "codec": {m: float(np.mean([r["codec"][m] for r in rows])) for m in ("bpp", "psnr", "ssim", "flicker", "overhead")}}
    for name in args.encoders.split(","):
        diffs = []
        for r in rows:
            s = at_rate([(p["bpp"], p["ssim"]) for p in r[name]], r["codec"]["bpp"])
            if s is not None:
                diffs.append(r["codec"]["ssim"] - s)
        summary[name] = {"ssim_at_codec_rate": float(np.mean([r["codec"]["ssim"] for r in rows]) - np.mean(diffs)) if diffs else None,
                         "codec_minus_it": float(np.mean(diffs)) if diffs else None,
                         "ci95": bootstrap_ci(diffs) if diffs else None, "clips_in_range": len(diffs),
                         "curve": [{k: float(np.mean([r[name][i][k] for r in rows])) for k in ("bpp", "psnr", "ssim", "flicker")}
                                   for i in range(len(LADDERS[name][2]))]}
    print(json.dumps({k: v for k, v in summary.items()}, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"summary": summary, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
