"""Full-run throughput: shots + every metric + keyframes, as a ratio to decode-only frames/s.

    .venv/bin/python benchmarks/run_throughput.py --data /tmp/vf-run-bench --videos 3

Files: 640x360 H.264 made by the shot benchmark's held-out generator
(`synth.transitions.generate`, real photos / the real clip / procedural scenes, cuts and
gradual transitions), and a "captioned" copy of each with burnt-in text that changes every
~4 s plus an audio tone, so the OCR and audio scorers have work to do (worst case for OCR:
every shot has text).

Per file, interleaved and repeated (`--repeat`, fastest wall time and least CPU time count): decode-only (`decode_frames`, the
engine's own decode + 160-px analysis frame, consumers doing nothing), then
`engine.analyze_video` with OCR and without (`AnalysisConfig(ocr=False)`), in this process
(the OCR model is loaded once beforehand; its load time is reported apart). Ratio =
analysis frames/s / decode-only frames/s over all files of a set. `--cli` also times
`videoforge run DATA --catalog TMP --workers 1` as a user runs it (fresh process, startup,
fingerprinting and catalog commits included). Per-stage times come from the engine's own
timers (`VideoResult.timings`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPTIONS = ["Harbour at dusk", "Breaking News 24", "Chapter 3: The Road", "LIVE from the studio",
            "Weather update", "Final score 2-1", "Interview with the director", "Subscribe for more"]


def ensure_data(data: str, videos: int, seed0: int = 500) -> dict[str, list[str]]:
    """Plain and captioned 640x360 files (generated once, reused)."""
    import av
    import cv2

    from videoforge.synth.transitions import generate, heldout_settings
    from videoforge.io.encode import write_video

    os.makedirs(data, exist_ok=True)
    plain, captioned = [], []
    for k in range(videos):
        seed = seed0 + k
        p = os.path.join(data, f"plain_{seed}.mp4")
        if not os.path.exists(p):
            rng = np.random.default_rng(seed)
            st = heldout_settings(rng)
            st.shots = 30
            generate(p, seed, st)
        plain.append(p)
        c = os.path.join(data, f"captioned_{seed}.mp4")
        if not os.path.exists(c):
            def frames():
                with av.open(p) as src:
                    for i, f in enumerate(src.decode(video=0)):
                        img = f.to_ndarray(format="rgb24")
                        text = CAPTIONS[(i // 100 + k) % len(CAPTIONS)]
                        cv2.rectangle(img, (0, 290), (640, 340), (20, 20, 20), -1)
                        cv2.putText(img, text, (24, 326), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (255, 255, 255), 2, cv2.LINE_AA)
                        yield img
            write_video(c + ".part.mp4", frames(), fps=25, audio_tone_hz=330)
            os.replace(c + ".part.mp4", c)
        captioned.append(c)
    return {"plain": plain, "captioned": captioned}


def decode_only(path: str) -> tuple[int, float, float]:
    """(frames, wall s, process CPU s) of the engine's decode pass with no consumers."""
    from videoforge.io.decode import decode_frames

    c, t = time.process_time(), time.perf_counter()
    n = sum(1 for _ in decode_frames(path))
    return n, time.perf_counter() - t, time.process_time() - c


def caption_hits(path: str, rows: list[dict]) -> tuple[int, int, int]:
    """(shots, shots whose text was read, read shots whose text holds a caption shown in them)."""
    base = os.path.basename(path)
    if not base.startswith("captioned_"):
        return len(rows), sum(r.get("ocr_text") is not None for r in rows), 0
    k = int(base.split("_")[1].split(".")[0]) - 500

    def norm(t: str) -> str:
        return "".join(ch for ch in t.lower() if ch.isalnum())

    read = hits = 0
    for r in rows:
        if r.get("ocr_text") is None:
            continue
        read += 1
        shown = {CAPTIONS[(f // 100 + k) % len(CAPTIONS)] for f in range(r["start_frame"], r["end_frame"] + 1)}
        hits += any(norm(c) in norm(r["ocr_text"]) for c in shown)
    return len(rows), read, hits


def analyze(path: str, ocr: bool, text_params: dict | None = None) -> tuple[int, float, dict, int]:
    from videoforge.engine.analyze import analyze_video
    from videoforge.engine.config import AnalysisConfig

    cat = tempfile.mkdtemp(prefix="vf-bench-cat-")
    calls = _ocr_calls[0]
    try:
        c, t = time.process_time(), time.perf_counter()
        r = analyze_video(path, cat, AnalysisConfig(ocr=ocr, scorer_params={"text": text_params or {}}))
        dt = time.perf_counter() - t
        analyze.last_cpu = time.process_time() - c
    finally:
        shutil.rmtree(cat, ignore_errors=True)
    analyze.last_rows = r.shots
    return r.video["frames"], dt, r.timings, _ocr_calls[0] - calls


_ocr_calls = [0]


def _count_ocr_calls() -> float:
    """Count OCR calls (wrap the module function) and load the model now; returns load seconds."""
    import videoforge.metrics.text as text

    inner = text.ocr_image

    def counted(*a, **kw):
        _ocr_calls[0] += 1
        return inner(*a, **kw)

    text.ocr_image = counted
    t = time.perf_counter()
    text.ocr_engine(1)
    return time.perf_counter() - t


def cli_run(files: list[str]) -> float:
    cat = tempfile.mkdtemp(prefix="vf-bench-cli-")
    try:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "videoforge", "run", *files, "--catalog", cat, "--workers", "1",
                        "-q", "--json"], check=True, capture_output=True, cwd=ROOT)
        return time.perf_counter() - t
    finally:
        shutil.rmtree(cat, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/vf-run-bench")
    ap.add_argument("--videos", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=2, help="runs per measurement; the fastest counts")
    ap.add_argument("--cli", action="store_true", help="also time `videoforge run --workers 1` per set")
    ap.add_argument("--json", dest="json_out", help="write the results here as JSON")
    ap.add_argument("--sets", default="plain,captioned", help="comma-separated: plain, captioned")
    ap.add_argument("--frames-per-ocr", type=int, default=None, help="OCR budget (TextScorer default: 250)")
    args = ap.parse_args(argv)

    text_params = {"frames_per_ocr": args.frames_per_ocr} if args.frames_per_ocr else {}
    sets = {k: v for k, v in ensure_data(args.data, args.videos).items() if k in args.sets.split(",")}
    load_s = _count_ocr_calls()
    results = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                           "python": platform.python_version(),
                           "loadavg_start": os.getloadavg()}, "ocr_model_load_s": load_s,
               "text_params": text_params, "sets": {}}
    for name, files in sets.items():
        tot = {"frames": 0, "decode": 0.0, "ocr": 0.0, "no_ocr": 0.0, "ocr_calls": 0, "shots": 0,
               "shots_read": 0, "caption_hits": 0}
        stages: dict[str, float] = {}
        stages_no: dict[str, float] = {}
        for path in files:
            best = {"decode": 1e9, "ocr": 1e9, "no_ocr": 1e9}
            cpu = {"decode": 1e9, "ocr": 1e9, "no_ocr": 1e9}
            for _ in range(args.repeat):
                n, dt, ct = decode_only(path)
                best["decode"] = min(best["decode"], dt)
                cpu["decode"] = min(cpu["decode"], ct)
                n2, dt, tim, calls = analyze(path, ocr=True, text_params=text_params)
                cpu["ocr"] = min(cpu["ocr"], analyze.last_cpu)
                if dt < best["ocr"]:
                    best["ocr"], t_ocr, c_ocr = dt, tim, calls
                    shots_n, read_n, hit_n = caption_hits(path, analyze.last_rows)
                n3, dt, tim, _ = analyze(path, ocr=False)
                cpu["no_ocr"] = min(cpu["no_ocr"], analyze.last_cpu)
                if dt < best["no_ocr"]:
                    best["no_ocr"], t_no = dt, tim
            assert n == n2 == n3, (path, n, n2, n3)
            tot["frames"] += n
            for k in best:
                tot[k] += best[k]
                tot["cpu_" + k] = tot.get("cpu_" + k, 0.0) + cpu[k]
            tot["ocr_calls"] += c_ocr
            tot["shots"] += shots_n
            tot["shots_read"] += read_n
            tot["caption_hits"] += hit_n
            for k, v in t_ocr.items():
                stages[k] = stages.get(k, 0.0) + v
            for k, v in t_no.items():
                stages_no[k] = stages_no.get(k, 0.0) + v
            print(f"{name} {os.path.basename(path)}: {n} frames, decode {n / best['decode']:.0f} fps, "
                  f"full+OCR {n / best['ocr']:.0f} fps, full-OCR {n / best['no_ocr']:.0f} fps, {c_ocr} OCR calls, "
                  f"{read_n}/{shots_n} shots read, {hit_n} with the right caption",
                  file=sys.stderr)
        fr = tot["frames"]
        row = {
            "files": len(files), "frames": fr, "ocr_calls": tot["ocr_calls"], "shots": tot["shots"],
            "shots_with_ocr_text": tot["shots_read"], "shots_with_right_caption": tot["caption_hits"],
            "decode_fps": fr / tot["decode"], "full_ocr_fps": fr / tot["ocr"], "full_no_ocr_fps": fr / tot["no_ocr"],
            "ratio_ocr": tot["decode"] / tot["ocr"], "ratio_no_ocr": tot["decode"] / tot["no_ocr"],
            # CPU seconds (all threads of this process) per frame: less sensitive to other load
            "cpu_ms_per_frame": {k: 1000 * tot["cpu_" + k] / fr for k in ("decode", "ocr", "no_ocr")},
            "stages_ms_per_frame_ocr": {k: 1000 * v / fr for k, v in sorted(stages.items(), key=lambda kv: -kv[1])},
            "stages_ms_per_frame_no_ocr": {k: 1000 * v / fr for k, v in sorted(stages_no.items(), key=lambda kv: -kv[1])},
        }
        if args.cli:
            for ocr in (True, False):
                # the CLI has no per-call OCR switch here other than --no-ocr
                cmd_files = files if ocr else ["--no-ocr", *files]
                dt = cli_run(cmd_files)
                row["cli_ocr_fps" if ocr else "cli_no_ocr_fps"] = fr / dt
            row["cli_ratio_ocr"] = row["cli_ocr_fps"] / row["decode_fps"]
            row["cli_ratio_no_ocr"] = row["cli_no_ocr_fps"] / row["decode_fps"]
        results["sets"][name] = row
    results["machine"]["loadavg_end"] = os.getloadavg()
    print(json.dumps(results, indent=2))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
