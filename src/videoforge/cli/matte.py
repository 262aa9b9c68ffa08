"""`videoforge matte VIDEO --out ALPHA`: cut the moving foreground out of a video."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "matte", help="alpha matte of a video's foreground (small recurrent network, CPU)",
        description="Run the shipped recurrent matting network over VIDEO and write its alpha matte as a grey "
                    "video (255 = foreground) with the input's size and frame count. The container follows "
                    "ALPHA's extension: .mkv/.avi/.nut are lossless (FFV1), .mp4/.mov near-lossless (H.264 "
                    "qp 0, +-1 level), .webm lossless VP9. --rgba adds a VP9 WebM with an alpha channel; "
                    "--background with --composite puts the foreground over a colour, an image or a video. "
                    "The network was trained on synthetic composites (cut-out objects over moving real "
                    "footage). It is an early model: it finds where a moving object is, but its matte is "
                    "coarse (see docs/benchmarks/enhance.md for its measured accuracy).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  videoforge matte in.mp4 --out alpha.mkv\n"
               "  videoforge matte in.mp4 --out alpha.mkv --rgba cut.webm\n"
               "  videoforge matte in.mp4 --out alpha.mkv --background green --composite over.mp4\n"
               "  videoforge matte in.mp4 --out alpha.mp4 --background beach.jpg --composite over.mp4")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--out", required=True, metavar="ALPHA", help="alpha matte video (.mkv .avi .nut .mp4 .mov .webm)")
    p.add_argument("--rgba", metavar="OUT.webm", help="also write the input with the matte as its alpha (VP9 in WebM)")
    p.add_argument("--background", metavar="COLOUR|IMAGE|VIDEO",
                   help="new background: a colour (green, #00ff00, 0,255,0), an image file or a video (looped)")
    p.add_argument("--composite", metavar="OUT", help="foreground over --background (.mp4 .mov .mkv .avi .webm)")
    p.add_argument("--weights", help="matting weights (.npz) to use instead of the shipped ones")
    p.add_argument("--work-side", type=int, default=96,
                   help="long side (px) the network runs at; the matte is refined at full size (default 96, "
                        "the training size, chosen on training-side composites)")
    p.add_argument("--threads", type=int, default=1,
                   help="PyTorch threads for the network (default 1: decoding runs on its own thread)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def main(args) -> int:
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, run_media_job

    if args.work_side < 16:
        raise UsageError("--work-side must be >= 16")

    def job():
        from videoforge.enhance.matte import matte_video

        return matte_video(args.video, args.out, rgba=args.rgba, background=args.background,
                           composite=args.composite, weights_path=args.weights, work_side=args.work_side,
                           threads=args.threads, progress=not args.quiet and not args.json)

    from videoforge.enhance.matte import MatteUsageError

    res = run_media_job("matte", args, job, (MatteUsageError,))
    if res is None:
        return 1
    if args.json:
        print_json(res.to_dict())
    else:
        for v in res.outputs.values():
            print(v)
    return 0
