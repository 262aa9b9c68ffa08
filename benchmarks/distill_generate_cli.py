"""The whole `videoforge generate` command, teacher vs distilled student, interleaved (issue #21 part 3).

What a user waits for: a fresh process that starts Python, imports torch, loads the checkpoint,
samples, decodes and writes the MP4s. Runs the teacher's and the student's commands alternately
(same prompt, seed and frames; `--num-samples K` for a batch), each in its own process with one
torch thread, and reports the median wall time and the median CPU time (user + sys of the child,
from getrusage: less disturbed by other processes on a busy machine than wall) per variant and
the teacher / student ratios. `--phases` also times the command's parts in-process (start-up and
imports, loading, sampling, writing) so one sees where the time goes.

    python benchmarks/distill_generate_cli.py TEACHER.pt STUDENT.pt --samples 1,16 --reps 5 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

PROMPT = "a red circle moves left"
HERE = os.path.dirname(os.path.abspath(__file__))


def _cli() -> list[str]:
    exe = os.path.join(os.path.dirname(sys.executable), "videoforge")
    return [exe] if os.path.exists(exe) else [sys.executable, "-m", "videoforge"]


def run_once(ckpt: str, k: int, out_dir: str, frames: int) -> dict:
    """One whole command in a fresh process: wall and CPU seconds (the child's user + sys)."""
    cmd = _cli() + ["generate", ckpt, PROMPT, "--frames", str(frames), "--seed", "0",
                    "--out", os.path.join(out_dir, "x.mp4")]
    if k > 1:
        cmd += ["--num-samples", str(k)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env={**os.environ, "OMP_NUM_THREADS": "1"})
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": wall, "cpu_s": cpu}


PHASES = r'''
import sys, time
c0, w0 = time.process_time(), time.perf_counter()
out = {}
def mark(name):
    global c0, w0
    c1, w1 = time.process_time(), time.perf_counter()
    out[name] = round(c1 - c0, 4); c0, w0 = c1, w1
from videoforge.cli import build_parser
build_parser(); mark("startup_and_parser")
import torch
torch.set_num_threads(1); mark("import_torch")
from videoforge.models.int8 import load_pipeline
from videoforge.io.encode import write_video
mark("import_rest")
pipe = load_pipeline(sys.argv[1], int8=False); mark("load_checkpoint")
k = int(sys.argv[2])
fr = pipe.generate(PROMPT if k == 1 else [PROMPT] * k, frames=int(sys.argv[3]), seed=0); mark("sample_and_decode")
import json; print(json.dumps(out))
'''


def phases(ckpt: str, k: int, frames: int) -> dict:
    code = f"PROMPT = {PROMPT!r}\n" + PHASES
    res = subprocess.run([sys.executable, "-c", code, ckpt, str(k), str(frames)], check=True, capture_output=True,
                         text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(res.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("teacher")
    p.add_argument("student")
    p.add_argument("--samples", default="1,16", help="clips per command (--num-samples), comma-separated")
    p.add_argument("--reps", type=int, default=5, help="interleaved repetitions per variant (median)")
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--phases", action="store_true", help="also time the command's parts in-process (CPU)")
    p.add_argument("--json", default=None, help="write every timing here")
    a = p.parse_args(argv)
    ks = [int(x) for x in a.samples.split(",") if x.strip()]
    models = {"teacher": a.teacher, "student": a.student}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, ck in models.items():          # warm the page cache once; not timed
            run_once(ck, 1, tmp, a.frames)
        for k in ks:
            times = {n: [] for n in models}
            for r in range(a.reps):
                order = list(models) if r % 2 == 0 else list(models)[::-1]   # alternate who goes first
                for name in order:
                    times[name].append(run_once(models[name], k, tmp, a.frames))
                    print(f"k={k} rep {r + 1}/{a.reps} {name}: {times[name][-1]}", file=sys.stderr, flush=True)
            med = {n: {m: statistics.median(t[m] for t in ts) for m in ("wall_s", "cpu_s")} for n, ts in times.items()}
            rows[k] = {"runs": times, "median": med,
                       "speedup_wall": med["teacher"]["wall_s"] / med["student"]["wall_s"],
                       "speedup_cpu": med["teacher"]["cpu_s"] / med["student"]["cpu_s"]}
    doc = {"teacher": a.teacher, "student": a.student, "frames": a.frames, "reps": a.reps, "prompt": PROMPT,
           "load_average": os.getloadavg(), "by_samples": rows}
    if a.phases:
        doc["phases_cpu_s"] = {f"{n} k={k}": phases(ck, k, a.frames) for k in ks for n, ck in models.items()}
    print(f"{'clips':>5} {'teacher cpu':>12} {'student cpu':>12} {'x cpu':>6} {'teacher wall':>13} "
          f"{'student wall':>13} {'x wall':>7}")
    for k, r in rows.items():
        t, s = r["median"]["teacher"], r["median"]["student"]
        print(f"{k:5d} {t['cpu_s']:12.3f} {s['cpu_s']:12.3f} {r['speedup_cpu']:6.2f} {t['wall_s']:13.2f} "
              f"{s['wall_s']:13.2f} {r['speedup_wall']:7.2f}")
    for name, ph in doc.get("phases_cpu_s", {}).items():
        print(f"phases (CPU s) {name}: {ph}")
    print(f"load average {doc['load_average']}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
