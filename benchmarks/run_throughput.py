"""`videoforge run` frames/s as a fraction of plain PyAV decoding of the same files.

    .venv/bin/python benchmarks/run_throughput.py            # data made on first use, then reused
    .venv/bin/python benchmarks/run_throughput.py --repeat 5 --json out.json

Two inputs (640x360 H.264, 25 fps, AAC tone, from the shot benchmark's held-out generator:
real photographs, the real clip and procedural scenes joined by cuts and gradual
transitions; a caption burnt into every other 10-s stretch so the OCR has work):
- `long`: one video of ~7,650 frames (5 min);
- `folder`: a folder of 30 short videos (~250 frames each, cut from the same footage).

Per repeat, interleaved, for each input:
- plain decode: `for f in container.decode(video=0)` over every file, nothing converted,
  once with PyAV's default threading and once with `thread_type = "AUTO"`; the faster
  of the two is the baseline (timed in this process: no interpreter start-up, so the
  baseline is the fastest it can be);
- `videoforge run INPUT --catalog NEW_DIR -q` as a user runs it: a fresh process timed
  wall-clock from start to exit (start-up, probing, fingerprinting, OCR on, every metric,
  keyframes, catalog commits included), default workers.
Ratio = run frames/s / baseline frames/s of the same repeat (the issue's figure). Printed per
repeat, then min / median / max over repeats. Also printed, as a diagnosis on a busy machine:
the CPU seconds of each side (the baseline's in-process, all threads; the run's from the
kernel's account of the finished child and every worker it waited for) and their ratio. Timings depend on the machine's load: run it on a
quiet machine, and report the load average printed with the result.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CAPTIONS = ["Harbour at dusk", "Breaking News 24", "Chapter 3: The Road", "LIVE from the studio"]
SHORT_FILES, SHORT_FRAMES = 30, 250


def ensure_data(data: str) -> dict[str, list[str]]:
    """The long video and the folder of short ones (generated once into `data`, then reused)."""
    import av
    import cv2

    from videoforge.io.encode import write_video
    from videoforge.synth.transitions import generate, heldout_settings

    os.makedirs(data, exist_ok=True)
    raw = os.path.join(data, "long_raw.mp4")
    long_path = os.path.join(data, "long.mp4")
    folder = os.path.join(data, "short")
    if not os.path.exists(long_path):
        if not os.path.exists(raw):
            rng = np.random.default_rng(700)
            st = heldout_settings(rng)
            st.shots = 72
            generate(raw + ".part.mp4", 700, st)
            os.replace(raw + ".part.mp4", raw)

        def captioned():
            with av.open(raw) as src:
                for i, f in enumerate(src.decode(video=0)):
                    img = f.to_ndarray(format="rgb24")
                    if (i // 250) % 2 == 0:
                        cv2.putText(img, CAPTIONS[(i // 500) % len(CAPTIONS)], (24, 326), cv2.FONT_HERSHEY_SIMPLEX,
                                    1.0, (255, 255, 255), 2, cv2.LINE_AA)
                    yield img
        write_video(long_path + ".part.mp4", captioned(), fps=25, audio_tone_hz=330)
        os.replace(long_path + ".part.mp4", long_path)
    if not os.path.isdir(folder) or len(os.listdir(folder)) < SHORT_FILES:
        tmp = folder + ".part"
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        with av.open(long_path) as src:
            frames = src.decode(video=0)
            for k in range(SHORT_FILES):
                chunk = [f.to_ndarray(format="rgb24") for _, f in zip(range(SHORT_FRAMES), frames)]
                write_video(os.path.join(tmp, f"short_{k:02d}.mp4"), chunk, fps=25, audio_tone_hz=330 + 10 * k)
        shutil.rmtree(folder, ignore_errors=True)
        os.replace(tmp, folder)
    shorts = sorted(os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".mp4"))
    return {"long": [long_path], "folder": shorts}


def plain_decode(files: list[str], thread_type: str | None) -> tuple[int, float]:
    """(frames, seconds) of `for f in container.decode(video=0)` over the files, nothing converted."""
    import av

    n = 0
    t = time.perf_counter()
    c0 = time.process_time()
    for p in files:
        with av.open(p) as c:
            if thread_type:
                c.streams.video[0].thread_type = thread_type
            for _ in c.decode(video=0):
                n += 1
    dt = time.perf_counter() - t
    plain_decode.cpu = time.process_time() - c0   # CPU seconds (all threads) of the last call
    return n, dt


def cli_run(target: str, extra: list[str], src: str | None = None) -> tuple[float, dict]:
    """Wall seconds of a fresh `videoforge run TARGET --catalog NEW -q --json`, and its summary
    (`src`: run the package from that source tree instead, e.g. an older revision's `src/`)."""
    cat = tempfile.mkdtemp(prefix="vf-bench-run-")
    try:
        import resource

        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        env = dict(os.environ, PYTHONPATH=os.path.abspath(src)) if src else None
        out = subprocess.run([sys.executable, "-m", "videoforge", "run", target, "--catalog", cat, "-q", "--json", *extra],
                             check=True, capture_output=True, text=True, cwd=ROOT, env=env)
        dt = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU seconds of the run and every process it waited for (its segment / pool workers)
        cli_run.cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        return dt, json.loads(out.stdout)
    finally:
        shutil.rmtree(cat, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="/tmp/vf-run-bench-plain", help="where the inputs are made and kept")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repeats (default 3)")
    ap.add_argument("--inputs", default="long,folder", help="comma-separated: long, folder")
    ap.add_argument("--json", dest="json_out", help="also write the results here")
    ap.add_argument("--no-ocr", action="store_true", help="time `videoforge run --no-ocr` (diagnosis: not the target)")
    ap.add_argument("--before-src", help="also time the run of another source tree (e.g. `git archive REV src | tar -x "
                    "-C DIR`, then DIR/src) in the same repeats: a before/after pair measured under the same load")
    args = ap.parse_args(argv)

    data = ensure_data(args.data)
    targets = {"long": data["long"][0], "folder": os.path.dirname(data["folder"][0])}
    names = [n for n in args.inputs.split(",") if n in data]
    runs: dict[str, list[dict]] = {n: [] for n in names}
    load_start = os.getloadavg()
    for r in range(args.repeat):
        for name in names:
            files = data[name]
            n_def, t_def = plain_decode(files, None)
            cpu_def = plain_decode.cpu
            n_auto, t_auto = plain_decode(files, "AUTO")
            cpu_auto = plain_decode.cpu
            dt, summary = cli_run(targets[name], ["--no-ocr"] if args.no_ocr else [])
            assert n_def == n_auto, (n_def, n_auto)
            if summary.get("frames") != n_def or summary.get("failed"):
                raise SystemExit(f"{name}: run analysed {summary.get('frames')} frames "
                                 f"({summary.get('failed')} failed), the decoder gives {n_def}")
            base = max(n_def / t_def, n_auto / t_auto)
            row = {"frames": n_def, "plain_default_fps": n_def / t_def, "plain_auto_fps": n_auto / t_auto,
                   "baseline_fps": base, "run_seconds": dt, "run_fps": n_def / dt, "ratio": n_def / dt / base,
                   "loadavg_1min": os.getloadavg()[0],
                   # CPU seconds: less sensitive to other load than wall time. The baseline's is
                   # that of the faster decode; cpu_ratio = baseline CPU / run CPU (what the
                   # wall ratio would be if both had the same cores to themselves, fully used)
                   "plain_cpu_seconds": cpu_def if n_def / t_def >= n_auto / t_auto else cpu_auto,
                   "run_cpu_seconds": cli_run.cpu}
            row["cpu_ratio"] = row["plain_cpu_seconds"] / max(1e-9, row["run_cpu_seconds"])
            if args.before_src:
                bdt, bsum = cli_run(targets[name], ["--no-ocr"] if args.no_ocr else [], src=args.before_src)
                if bsum.get("frames") != n_def:
                    raise SystemExit(f"{name}: the --before-src run analysed {bsum.get('frames')} frames")
                row.update(before_run_seconds=bdt, before_ratio=n_def / bdt / base, before_run_cpu_seconds=cli_run.cpu,
                           before_cpu_ratio=row["plain_cpu_seconds"] / max(1e-9, cli_run.cpu))
            runs[name].append(row)
            print(f"repeat {r + 1} {name}: {n_def} frames in {len(files)} file(s); plain decode default "
                  f"{row['plain_default_fps']:.0f} fps, AUTO {row['plain_auto_fps']:.0f} fps; videoforge run "
                  f"{dt:.1f} s = {row['run_fps']:.0f} fps; ratio {row['ratio']:.3f}; CPU s plain {row['plain_cpu_seconds']:.1f}, "
                  f"run {row['run_cpu_seconds']:.1f} (cpu ratio {row['cpu_ratio']:.3f}) (load {row['loadavg_1min']:.1f})"
                  + (f"; before: {row['before_run_seconds']:.1f} s, ratio {row['before_ratio']:.3f}, CPU s "
                     f"{row['before_run_cpu_seconds']:.1f} (cpu ratio {row['before_cpu_ratio']:.3f})" if args.before_src else ""),
                  file=sys.stderr, flush=True)
    result = {"ocr": not args.no_ocr, "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "python": platform.python_version(), "loadavg_start": load_start,
                          "loadavg_end": os.getloadavg()},
              "inputs": {}}
    for name in names:
        ratios = [x["ratio"] for x in runs[name]]
        cpu_ratios = [x["cpu_ratio"] for x in runs[name]]
        result["inputs"][name] = {
            "cpu_ratio_median": statistics.median(cpu_ratios), "cpu_ratio_min": min(cpu_ratios),
            "cpu_ratio_max": max(cpu_ratios),
            **({"before_ratio_median": statistics.median(x["before_ratio"] for x in runs[name]),
                "before_ratio_min": min(x["before_ratio"] for x in runs[name]),
                "before_ratio_max": max(x["before_ratio"] for x in runs[name]),
                "before_cpu_ratio_median": statistics.median(x["before_cpu_ratio"] for x in runs[name])}
               if args.before_src else {}),
            "files": len(data[name]), "frames": runs[name][0]["frames"],
            "ratio_min": min(ratios), "ratio_median": statistics.median(ratios), "ratio_max": max(ratios),
            "runs": runs[name]}
        print(f"{name}: run / plain decode = {statistics.median(ratios):.3f} median "
              f"(min {min(ratios):.3f}, max {max(ratios):.3f}) over {len(ratios)} interleaved repeats; "
              f"CPU-time ratio {statistics.median(cpu_ratios):.3f} (min {min(cpu_ratios):.3f}, max {max(cpu_ratios):.3f})")
    print(json.dumps(result, indent=2))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump(result, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
