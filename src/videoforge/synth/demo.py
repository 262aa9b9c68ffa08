"""`make demo`: make sample videos, run the whole pipeline on them, print where everything is.

    python -m videoforge.synth.demo --out demo-out
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np


def make_samples(folder: str, seed: int = 2024) -> list[str]:
    """Two labelled multi-shot videos (cuts, dissolves, fades, wipes) and one titled clip with sound."""
    import cv2

    from videoforge.synth.transitions import GenSettings, generate
    from videoforge.synth.writer import write_video

    os.makedirs(folder, exist_ok=True)
    paths = []
    for k in range(2):
        p = os.path.join(folder, f"sample_{k}.mp4")
        if not os.path.exists(p):
            generate(p, seed + k, GenSettings(width=320, height=180, shots=6, shot_len=(30, 60), footage="heldout"))
        paths.append(p)
    p = os.path.join(folder, "titled_with_audio.mp4")
    if not os.path.exists(p):
        rng = np.random.default_rng(seed)
        bg = cv2.GaussianBlur(rng.integers(40, 200, (180, 420, 3), dtype=np.uint8), (0, 0), 6)
        frames = []
        for i in range(75):
            f = np.ascontiguousarray(bg[:, i : i + 320])
            cv2.putText(f, "VIDEOFORGE", (20, 100), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 4, cv2.LINE_AA)
            frames.append(f)
        write_video(p, frames, fps=25, audio_tone_hz=440)
    paths.append(p)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Run videoforge end to end on generated sample videos.")
    ap.add_argument("--out", default="demo-out", help="folder for samples, catalog and exports")
    args = ap.parse_args(argv)
    out = os.path.abspath(args.out)
    samples_dir = os.path.join(out, "samples")
    catalog = os.path.join(out, "catalog")
    clips = os.path.join(out, "export")

    from videoforge.catalog import Catalog
    from videoforge.cli._common import print_table
    from videoforge.engine.run import run_videos

    t0 = time.time()
    print(f"1/3 making sample videos in {samples_dir}", file=sys.stderr)
    make_samples(samples_dir)
    print("2/3 analysing: shots, transitions, metrics, keyframes", file=sys.stderr)
    summary = run_videos([samples_dir], catalog)
    print("3/3 exporting clips + Open-Sora CSV", file=sys.stderr)
    from videoforge.export import export_catalog

    exp = export_catalog(catalog, clips, "opensora")

    cat = Catalog(catalog)
    cols, rows = cat.query(
        """SELECT regexp_extract(v.path, '[^/]+$') AS video, v.frames, round(v.duration, 2) AS seconds,
                  v.num_shots AS shots,
                  (SELECT string_agg(kind || ' x' || n, ', ' ORDER BY kind) FROM
                     (SELECT kind, count(*) AS n FROM transitions t WHERE t.video_id = v.video_id GROUP BY kind)) AS transitions
           FROM videos v ORDER BY video"""
    )
    print()
    print_table(cols, rows, max_width=60)
    cols, rows = cat.query(
        """SELECT shot_id, round(start_time, 2) AS start_s, round(end_time, 2) AS end_s, camera_move,
                  round(motion, 2) AS motion, round(sharpness, 1) AS sharpness, round(text_area, 3) AS text_area,
                  ocr_text FROM shots ORDER BY video_id, start_frame LIMIT 12"""
    )
    print()
    print_table(cols, rows)
    print()
    print(f"analysed {summary.analyzed} videos, {summary.shots} shots in {time.time() - t0:.0f} s "
          f"({summary.failed} failed)")
    print(f"catalog:  {catalog}   (try: .venv/bin/videoforge sql {catalog} \"SELECT * FROM shots LIMIT 5\")")
    print(f"clips:    {clips}")
    print(f"manifest: {exp.manifest}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
