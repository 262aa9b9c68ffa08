"""`make demo`: make sample videos, run the whole pipeline on them, print where everything is.

    python -m videoforge.demo --out demo-out
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
    from videoforge.io.encode import write_video

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


class _Steps:
    def __init__(self, total: int):
        self.total, self.n = total, 0

    def __call__(self, what: str) -> None:
        self.n += 1
        print(f"[{self.n}/{self.total}] {what}", file=sys.stderr, flush=True)


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
    step = _Steps(7)
    step(f"making sample videos in {samples_dir}")
    make_samples(samples_dir)
    step("analysing: shots, transitions, metrics, keyframes, on-screen text, audio")
    summary = run_videos([samples_dir], catalog)

    from videoforge.curate.caption_run import caption_catalog
    from videoforge.curate.captions import get_captioner
    from videoforge.curate.dedup import dedup_catalog
    from videoforge.curate.suitability import load_model, score_catalog

    step("scoring training suitability")
    score_catalog(Catalog(catalog), load_model())
    step("finding near-duplicate shots")
    dedup_catalog(Catalog(catalog))
    step("captioning from measured metadata (offline backend)")
    caption_catalog(Catalog(catalog), get_captioner("metadata"))
    step("exporting clips + Open-Sora CSV")
    from videoforge.export import export_catalog

    exp = export_catalog(catalog, clips, "opensora")
    step("indexing for search (BM25 over on-screen text and captions, offline visual embedder)")
    from videoforge.search import index_catalog, search

    index_catalog(catalog)
    hits = search(catalog, text="videoforge", k=3)

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
                  ocr_text, round(suitability, 2) AS suitability, duplicate_of
           FROM shots ORDER BY video_id, start_frame LIMIT 12"""
    )
    print()
    print_table(cols, rows)
    print()
    print('search "videoforge":', ", ".join(f"{h.to_json()['video'].rsplit('/', 1)[-1]} "
                                            f"{h.to_json()['start_time']:.2f}-{h.to_json()['end_time']:.2f}s"
                                            for h in hits) or "no hits")
    print(f"analysed {summary.analyzed} videos, {summary.shots} shots in {time.time() - t0:.0f} s "
          f"({summary.failed} failed)")
    print(f"catalog:  {catalog}   (try: .venv/bin/videoforge sql {catalog} \"SELECT * FROM shots LIMIT 5\")")
    print(f"clips:    {clips}")
    print(f"manifest: {exp.manifest}")
    print(f"next:     .venv/bin/videoforge serve {catalog}   (web page + REST API on 127.0.0.1:8000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
