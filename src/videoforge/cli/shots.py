"""`videoforge shots VIDEO [--detector NAME] [--json]`: shot boundaries of one video."""

from __future__ import annotations

import argparse
import os
import sys

DETECTORS = ("videoforge", "pyscenedetect", "pyscenedetect-adaptive", "transnetv2")


def add_parser(sub):
    p = sub.add_parser(
        "shots",
        help="detect shots and transitions (cut, dissolve, fade, wipe) in one video",
        description="Detect shot boundaries in VIDEO. Frame ranges are inclusive; gradual-transition "
                    "frames belong to no shot; a cut's frame is the first frame of the new shot.",
    )
    p.add_argument("video", metavar="VIDEO", help="video file")
    p.add_argument("--detector", default="videoforge", choices=DETECTORS,
                   help="videoforge (default: colour+structure classifier with gradual transitions), "
                        "pyscenedetect (ContentDetector, cuts only), pyscenedetect-adaptive "
                        "(AdaptiveDetector), transnetv2 (neural, needs the transnetv2 extra)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="processes that decode segments of the video in parallel (default: the cores "
                        "available; 1 = one pass). Results are identical either way; videos shorter "
                        "than ~1200 frames, or without clean keyframes to split at, use one pass")
    p.add_argument("--json", action="store_true", help="print only the JSON document on stdout")
    return p


def main(args) -> int:
    # NumPy's OpenBLAS starts one spinning thread per core at import; detection does no BLAS
    # work worth a thread and its segment processes already use every core (~0.07 s of start
    # and ~1 % of the cycles of a run). Only before the first numpy import; the user's value wins.
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from videoforge.cli import UsageError
    from videoforge.shots.detection import available_cores, detect, shots_document

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be >= 1")
    workers = args.workers or available_cores()
    name, params = args.detector, {}
    if name == "pyscenedetect-adaptive":
        name, params = "pyscenedetect", {"method": "adaptive"}
    try:
        shots, transitions, stats, _ = detect(args.video, detector=name, with_info=False, workers=workers, **params)
    except ModuleNotFoundError as e:
        raise UsageError(f"detector {args.detector!r} needs an optional package ({e.name}); "
                         f"install videoforge[{'transnetv2' if 'transnet' in name else 'pyscenedetect'}]") from e
    doc = shots_document(args.video, shots, transitions, stats)
    if args.json:
        from videoforge.cli._common import print_json

        print_json(doc)
        return 0
    from videoforge.cli._common import print_table

    print(f"{doc['video']}: {doc['frames']} frames, {doc['fps']:.3f} fps, {len(shots)} shots, "
          f"{len(transitions)} transitions")
    rows = []
    for i, s in enumerate(doc["shots"]):
        rows.append([i, s["start_frame"], s["end_frame"], s["start_time"], s["end_time"],
                     s["end_time"] - s["start_time"]])
    print_table(["shot", "start_frame", "end_frame", "start_time", "end_time", "seconds"], rows)
    if transitions:
        print()
        print_table(["kind", "start_frame", "end_frame", "confidence"],
                    [[t["kind"], t["start_frame"], t["end_frame"], t["confidence"]] for t in doc["transitions"]])
    return 0
