"""`videoforge enhance VIDEO --scale 2|4 --out OUT`: super-resolve a video."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "enhance", help="super-resolve a video x2 or x4 (small recurrent network, CPU)",
        description="Run the shipped bidirectional recurrent x4 super-resolution network (~211 k parameters, "
                    "OpenCV DIS flow between low-resolution frames for alignment) over VIDEO and write OUT: "
                    "same frame count and frame rate, exactly SCALE x the width and height, the input's "
                    "audio kept (copied, or AAC when the container refuses its codec). The container follows "
                    "OUT's extension (.mkv, .mp4, .mov); the video is H.264 CRF 10 (near-lossless), yuv420p. "
                    "--scale 2 runs the x4 network and downsizes its output by 2 (antialiased bicubic). "
                    "Two networks ship: one trained on clean bicubic downscales, one on blind camera/codec "
                    "degradations (blur, noise, JPEG, x264); by default (--model auto) a cheap measured "
                    "degradation estimate on the first 16 frames (noise, noise floor, colour noise, "
                    "fine-scale energy, edge softness) picks one per video. Measured gains are in "
                    "docs/benchmarks/enhance.md. It is slow on a CPU at large sizes (each output pixel "
                    "costs ~15 k multiply-adds).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="examples:\n  videoforge enhance small.mp4 --scale 4 --out big.mp4\n"
               "  videoforge enhance old.avi --scale 2 --out restored.mkv --json")
    p.add_argument("video", metavar="VIDEO")
    p.add_argument("--scale", type=int, choices=(2, 4), default=4, help="upscaling factor (default 4)")
    p.add_argument("--out", required=True, metavar="OUT", help="output video (.mkv .mp4 .mov)")
    p.add_argument("--weights", help="super-resolution weights (.npz) to use instead of the shipped ones")
    p.add_argument("--model", choices=("auto", "clean", "blind"), default="auto",
                   help="which shipped network: auto (default: picked per video from a measured degradation "
                        "estimate), clean (input downscaled cleanly), blind (noisy/blurred/compressed input)")
    p.add_argument("--threads", type=int, default=1,
                   help="PyTorch threads for the network (default 1: decoding and the x264 encoder run on "
                        "their own threads; on a busy machine 2 threads were ~10x slower at 64x48 input "
                        "and 1.7x faster at 480x270)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    return p


def main(args) -> int:
    from videoforge.cli._common import print_json, run_media_job

    def job():
        from videoforge.enhance.sr import enhance_video

        return enhance_video(args.video, args.out, scale=args.scale, weights_path=args.weights,
                             threads=args.threads, model=args.model, progress=not args.quiet and not args.json)

    from videoforge.enhance.sr import EnhanceUsageError

    res = run_media_job("enhance", args, job, (EnhanceUsageError,))
    if res is None:
        return 1
    if args.json:
        print_json(res.to_dict())
    else:
        print(res.out)
    return 0
