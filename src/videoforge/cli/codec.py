"""`videoforge codec encode|decode`: the LFQ tokenizer as a codec (.vfc files)."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "codec", help="compress a video into a .vfc bitstream with a codec model, and decode it back",
        description=(
            "The video tokenizer as a real codec: the LFQ autoencoder's tokens are range-coded under a learned "
            "prior over their bits into a .vfc file that holds everything else needed to decode (size, frame "
            "count, fps, the model's hash). Videos are coded in chunks of the model's clip length at the model's "
            "resolution (resizing is stated in the file and undone on decode). Decoding writes the result "
            "losslessly: .mkv/.avi as FFV1 RGB, .mp4/.mov as x264 qp 0 (4:4:4)."),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  videoforge codec encode clip.mp4 --model codec.pt --out clip.vfc\n"
               "  videoforge codec decode clip.vfc --out back.mkv            # model found by its hash\n"
               "  videoforge codec decode clip.vfc --model codec.pt --out back.mp4")
    csub = p.add_subparsers(dest="codec_command", metavar="ACTION", required=True)
    e = csub.add_parser("encode", help="VIDEO -> FILE.vfc")
    e.add_argument("video", metavar="VIDEO")
    e.add_argument("--model", required=True, metavar="MODEL", help="codec model file (autoencoder + prior)")
    e.add_argument("--out", required=True, metavar="FILE.vfc")
    e.add_argument("--drop-planes", default="", metavar="K,K,...",
                   help="the rate knob: bit planes of each token (0 .. the model's bits per token - 1) not to send; "
                        "both sides infer them from the prior, so fewer bits, more distortion (default: send all)")
    e.add_argument("--json", action="store_true", help="print sizes and rates as JSON")
    d = csub.add_parser("decode", help="FILE.vfc -> VIDEO (lossless)")
    d.add_argument("vfc", metavar="FILE.vfc")
    d.add_argument("--model", default=None, metavar="MODEL",
                   help="codec model (default: the one whose hash the file names, from $VIDEOFORGE_CODEC_DIR "
                        "or ~/.cache/videoforge/codecs, where encoding registers it)")
    d.add_argument("--out", required=True, metavar="VIDEO", help=".mkv, .avi, .mp4 or .mov")
    d.add_argument("--json", action="store_true")
    return p


def main(args) -> int:
    import os

    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json
    from videoforge.codec.model import CodecModelError
    from videoforge.codec.vfc import VfcError, decode_vfc, encode_video
    from videoforge.io.errors import VideoError

    try:
        if args.codec_command == "encode":
            if not os.path.exists(args.video):
                raise UsageError(f"{args.video}: no such file")
            try:
                drop = [int(k) for k in args.drop_planes.split(",") if k.strip()]
            except ValueError:
                raise UsageError(f"--drop-planes {args.drop_planes!r}: give plane numbers like 5,7") from None
            st = encode_video(args.video, args.model, args.out, drop_planes=drop)
            doc = {"out": os.path.abspath(st.path), "frames": st.frames, "width": st.width, "height": st.height,
                   "fps": st.fps, "bytes": st.bytes, "payload_bytes": st.payload_bytes,
                   "ideal_bytes": round(st.ideal_bits / 8, 1), "overhead": st.overhead,
                   "bits_per_pixel": st.bits_per_pixel, "model": st.model, "planes_coded": st.planes_coded,
                   "planes_sent": list(st.planes_sent)}
        else:
            if not os.path.exists(args.vfc):
                raise UsageError(f"{args.vfc}: no such file")
            doc = decode_vfc(args.vfc, args.out, args.model)
    except (CodecModelError, VfcError) as e:
        raise UsageError(str(e)) from e
    except VideoError as e:   # the input video itself: name it and why
        raise UsageError(str(e)) from e
    if args.json:
        print_json(doc)
    else:
        print(doc["out"])
    return 0
