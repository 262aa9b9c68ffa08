"""kill -9 at random points during `run`, `score`, `dedup`, `caption` and `export`; rerun; compare.

    nice -n 5 .venv/bin/python benchmarks/reliability_kill.py --kills 20 --json docs/benchmarks/reliability_kill.json

Data: small real H.264 files made here (textured pictures drifting sideways, two shots each
with a hard cut, 160x96, 25 fps), one re-encoded trimmed copy (so `dedup` has a duplicate to
find) and one broken file (so `errors` has a row). Captions come from an OpenAI-protocol
server on 127.0.0.1 in this process (fixed replies, 150 ms each), so `caption` pays for real
HTTP round trips and commits per batch.

First an uninterrupted reference: run -> score -> dedup -> caption -> export, the catalog
copied before each stage and its rows snapshotted after it, and the moments its files
changed recorded. Then for each stage, until `--kills` kills have landed: a fresh copy of the
catalog as it was before the stage, the stage started in its own process group and
SIGKILLed (all its processes at once) at an offset from its first change to its files (half
uniform over the reference's writing span, half within 50 ms of a moment the reference
wrote: commits are short and uniform points rarely hit one; for `score` and `dedup`, which
compute first and then write once within ~50 ms, from the process start, uniform over the
1.5 s before the reference's write to 0.2 s after it; a run that finishes first is drawn
again); then the same command rerun to completion, and the
result compared with the reference:
  lost     rows of the reference missing after the rerun (any table, and manifest lines)
  doubled  rows present more often than in the reference (or not in it at all)
  orphaned keyframe files no row names; dangling: rows naming a missing file
Right after each kill (before the rerun) the catalog is also checked: it opens, no video is
torn (num_shots = its shot rows), no keyframe row names a missing file.
Where each kill landed is reported: before the stage changed anything, midway, or after it
had finished its writes (catalog and output compared with the states before and after).
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

VF = [sys.executable, "-m", "videoforge"]
STAGES = ["run", "score", "dedup", "caption", "export"]
CAPTION = {"subject": "a textured surface", "subject_motion": "it drifts sideways",
           "environment": "an abstract backdrop", "visual_style": "saturated colours",
           "camera_language": "wide shot, slow pan", "summary": "A textured surface drifts across the frame."}


# -- inputs ------------------------------------------------------------------------------------
def drifting(n: int, seed: int, w: int = 160, h: int = 96, speed: float = 2.0) -> list[np.ndarray]:
    import cv2

    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h // 8 + 1, (w + int(speed * n)) // 8 + 2, 3), dtype=np.uint8)
    big = cv2.resize(base, (base.shape[1] * 8, base.shape[0] * 8), interpolation=cv2.INTER_CUBIC)
    return [np.ascontiguousarray(big[:h, int(i * speed): int(i * speed) + w]) for i in range(n)]


def make_inputs(d: str, videos: int) -> None:
    from videoforge.io.encode import write_video

    os.makedirs(d, exist_ok=True)
    for k in range(videos):
        write_video(os.path.join(d, f"v{k:02d}.mp4"), drifting(45, 700 + 2 * k) + drifting(45, 701 + 2 * k), fps=25)
    # a trimmed re-encode of v00's first shot: a near-duplicate for dedup
    write_video(os.path.join(d, "v00_copy.mp4"), drifting(45, 700)[3:42], fps=25, crf=28)
    with open(os.path.join(d, "broken.mp4"), "wb") as f:
        f.write(b"this is not a video" * 40)


# -- a local OpenAI-protocol server ------------------------------------------------------------
class CaptionServer:
    def __init__(self, delay: float = 0.15):
        self.requests = 0
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.requests += 1
                time.sleep(delay)
                body = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": json.dumps(CAPTION)}}],
                                   "usage": {"prompt_tokens": 100, "completion_tokens": 20}}).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass   # the client was killed

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


def commands(stage: str, inputs: str, cat: str, out: str, url: str) -> list[str]:
    return {
        "run": [*VF, "run", inputs, "--catalog", cat, "--workers", "2", "--no-ocr", "-q"],
        "score": [*VF, "score", cat],
        "dedup": [*VF, "dedup", cat],
        "caption": [*VF, "caption", cat, "--backend", "openai", "--base-url", url, "--model", "m", "--all",
                    "--concurrency", "2", "--commit-every", "2"],
        "export": [*VF, "export", cat, "--out", out, "--format", "opensora"],
    }[stage]


# -- state -------------------------------------------------------------------------------------
TABLES = {
    "videos": "SELECT * EXCLUDE (analyzed_at) FROM videos",
    "shots": "SELECT * FROM shots",
    "transitions": "SELECT * FROM transitions",
    "keyframes": "SELECT * FROM keyframes",
    "errors": "SELECT path, stage, kind, fingerprint FROM errors",
    "caption_cache": "SELECT * EXCLUDE (created_at) FROM caption_cache",
    "keyframe_hashes": "SELECT * FROM keyframe_hashes",
}


def _norm(v):
    if isinstance(v, float):
        return round(v, 9)
    if isinstance(v, list):
        return tuple(v)
    return v


def snapshot(cat: str, out: str) -> dict[str, collections.Counter]:
    """Every row of every table (as a multiset), keyframe files, export files and manifest lines."""
    import duckdb

    snap: dict[str, collections.Counter] = {}
    con = duckdb.connect(os.path.join(cat, "catalog.duckdb"), read_only=True)
    try:
        for t, sql in TABLES.items():
            try:
                rows = con.execute(sql).fetchall()
            except duckdb.Error:   # killed before this table or column was made (migrations are transactional)
                rows = []
            snap[t] = collections.Counter(tuple(_norm(v) for v in r) for r in rows)
    finally:
        con.close()
    kdir = os.path.join(cat, "keyframes")
    snap["keyframe_files"] = collections.Counter(
        os.path.relpath(os.path.join(d, f), cat) for d, _, fs in os.walk(kdir) for f in fs)
    files = collections.Counter()
    manifest = collections.Counter()
    if os.path.isdir(out):
        for d, _, fs in os.walk(out):
            for f in fs:
                rel = os.path.relpath(os.path.join(d, f), out)
                files[rel] += 1
                if f.endswith(".csv"):
                    with open(os.path.join(d, f), newline="") as fh:
                        manifest.update(tuple(r) for r in csv.reader(fh))
    snap["export_files"] = files
    snap["manifest_rows"] = manifest
    return snap


def integrity(cat: str) -> dict[str, int]:
    """Checks that hold at any moment, killed or not."""
    import duckdb

    con = duckdb.connect(os.path.join(cat, "catalog.duckdb"), read_only=True)
    try:
        if not con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'videos'").fetchone()[0]:
            return {"torn_videos": 0, "duplicate_shot_ids": 0, "dangling_keyframes": 0}   # killed while creating it
        torn = con.execute("SELECT count(*) FROM videos v WHERE num_shots != "
                           "(SELECT count(*) FROM shots s WHERE s.video_id = v.video_id)").fetchone()[0]
        dup_shots = con.execute("SELECT count(*) - count(DISTINCT shot_id) FROM shots").fetchone()[0]
        named = [p for (p,) in con.execute("SELECT path FROM keyframes").fetchall()]
    finally:
        con.close()
    dangling = sum(not os.path.exists(os.path.join(cat, p)) for p in named)
    return {"torn_videos": torn, "duplicate_shot_ids": dup_shots, "dangling_keyframes": dangling}


def compare(got: dict, ref: dict, cat: str) -> dict[str, int]:
    lost = doubled = 0
    for k in ref:
        if k == "keyframe_files":
            continue
        lost += sum((ref[k] - got[k]).values())
        doubled += sum((got[k] - ref[k]).values())
        if os.environ.get("VF_KILL_DEBUG") and (ref[k] - got[k] or got[k] - ref[k]):
            print(k, "missing:", list(ref[k] - got[k])[:3], "extra:", list(got[k] - ref[k])[:3], file=sys.stderr)
    named = {r[4] for r in got["keyframes"]}   # keyframes.path
    files = set(got["keyframe_files"])
    return {"lost": lost, "doubled": doubled, "orphaned_keyframes": len(files - named),
            "dangling_keyframes": len(named - files),
            "leftover_staging": len(os.listdir(os.path.join(cat, ".staging"))) if os.path.isdir(os.path.join(cat, ".staging")) else 0}


def _files_state(dirs: list[str]) -> tuple:
    out = []
    for top in dirs:
        for d, _, fs in os.walk(top):
            for f in fs:
                try:
                    st = os.stat(os.path.join(d, f))
                except FileNotFoundError:
                    continue
                out.append((d, f, st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def run_to_end(cmd: list[str], watch: list[str] | None = None) -> tuple[float, list[float], int, str]:
    """Run cmd to the end; (wall s, times in s from start at which the watched folders changed, rc, stderr)."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    events = []
    state = _files_state(watch) if watch else None
    while watch and p.poll() is None:
        time.sleep(0.01)
        now = _files_state(watch)
        if now != state:
            events.append(time.perf_counter() - t)
            state = now
    err = p.communicate()[1]
    wall = time.perf_counter() - t
    return wall, events, p.returncode, err


def kill_at(cmd: list[str], watch: list[str], offset: float, from_start: bool = False) -> bool:
    """Start cmd in its own session; SIGKILL its whole process group `offset` s after it first
    changes the watched folders (so start-up time, which varies on a busy machine, does not
    move the kill point), or after it started (`from_start`). True if it was still running then."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    state = _files_state(watch)
    t_first = time.perf_counter() if from_start else None
    while p.poll() is None:
        now = time.perf_counter()
        if t_first is None:
            cur = _files_state(watch)
            if cur != state:
                t_first = now
        if t_first is not None and now - t_first >= offset:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            time.sleep(0.2)   # let the group's processes go before the rerun
            return True
        time.sleep(0.005)
    return False


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kills", type=int, default=20, help="kill points per stage (default 20)")
    ap.add_argument("--videos", type=int, default=6)
    ap.add_argument("--stages", default=",".join(STAGES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    work = tempfile.mkdtemp(prefix="vf-kill-")
    server = CaptionServer()
    try:
        inputs = os.path.join(work, "in")
        make_inputs(inputs, args.videos)
        # the reference: each stage uninterrupted, the catalog kept before each
        ref_cat, ref_out = os.path.join(work, "ref", "cat"), os.path.join(work, "ref", "out")
        before, after, wall, events, broken, abs_events = {}, {}, {}, {}, {}, {}
        for st in STAGES:
            before[st] = os.path.join(work, f"before-{st}")
            if os.path.isdir(ref_cat):
                shutil.copytree(ref_cat, before[st])
            watch = [os.path.dirname(ref_cat)] if st != "export" else [ref_out]
            wall[st], ev, rc, err = run_to_end(commands(st, inputs, ref_cat, ref_out, server.url), watch)
            if rc != 0:
                broken[st] = err.strip()[-400:]
                print(f"reference {st} failed (rc {rc}), not measured: {broken[st]}", file=sys.stderr, flush=True)
            # kill offsets are measured from the stage's first change to its files (start-up and
            # imports before it write nothing, and their length varies on a busy machine)
            events[st] = [e - ev[0] for e in ev] if ev else [0.0]
            abs_events[st] = ev or [wall[st]]
            after[st] = snapshot(ref_cat, ref_out if st == "export" else os.path.join(work, "none"))
            print(f"reference {st}: {wall[st]:.1f} s, {len(ev)} file changes over {events[st][-1]:.2f} s",
                  file=sys.stderr, flush=True)
        ref_counts = {k: sum(v.values()) for k, v in after["export"].items()}

        results = {}
        for st in args.stages.split(","):
            if st in broken:
                results[st] = {"not_measured": broken[st]}
                continue
            trials = []
            attempts = 0
            while sum(t["killed"] for t in trials) < args.kills and attempts < 3 * args.kills:
                attempts += 1
                i = len(trials)
                cat, out = os.path.join(work, "t", "cat"), os.path.join(work, "t", "out")
                shutil.rmtree(os.path.join(work, "t"), ignore_errors=True)
                os.makedirs(os.path.join(work, "t"))
                if os.path.isdir(before[st]):
                    shutil.copytree(before[st], cat)
                out_dir = out if st == "export" else os.path.join(work, "none")
                pre = snapshot(cat, out_dir) if os.path.isdir(cat) else None
                # half the kill points uniform over the writing span, half within 50 ms of a
                # moment the reference wrote (commits are short: uniform points rarely hit one)
                span = events[st][-1] + 0.2
                short = events[st][-1] < 0.5   # compute first, then one short write (score, dedup)
                if short:
                    # from the process start, over the last 1.5 s before the write and just after
                    # it: start-up time varies by a few 100 ms on a busy machine, which spreads
                    # the points over the computation, the commit and just past it
                    offset = rng.uniform(max(0.0, abs_events[st][0] - 1.5), abs_events[st][-1] + 0.2)
                else:
                    offset = rng.uniform(0.0, span) if rng.random() < 0.5 else max(0.0, rng.choice(events[st]) + rng.uniform(-0.05, 0.05))
                cmd = commands(st, inputs, cat, out, server.url)
                killed = kill_at(cmd, [out] if st == "export" else [os.path.join(work, "t")], offset, from_start=short)
                if not killed:
                    continue   # it finished first: draw again
                mid = {"torn_videos": 0, "duplicate_shot_ids": 0, "dangling_keyframes": 0}
                if os.path.exists(os.path.join(cat, "catalog.duckdb")):
                    mid = integrity(cat)
                    now = snapshot(cat, out_dir)
                    landed = ("before any write" if pre is not None and now == pre else
                              "after its writes" if now == after[st] else "midway")
                else:
                    landed = "before any write"
                _, _, rerun_rc, rerun_err = run_to_end(cmd)
                got = snapshot(cat, out_dir)
                cmp = compare(got, after[st], cat)
                trials.append({"offset_s": round(offset, 3), "from": "start" if short else "first write", "killed": killed,
                               "landed": landed, "rerun_rc": rerun_rc, "rerun_traceback": "Traceback" in rerun_err, **cmp,
                               **{f"at_kill_{k}": v for k, v in mid.items()}})
                if rerun_rc != 0 or "Traceback" in rerun_err:
                    print(f"  rerun rc {rerun_rc}: {rerun_err.strip()[-600:]}", file=sys.stderr, flush=True)
                print(f"{st} #{i + 1}: kill {offset:.2f} s after its {'start' if short else 'first write'} ({landed}) -> lost {cmp['lost']} "
                      f"doubled {cmp['doubled']} orphaned {cmp['orphaned_keyframes']} dangling {cmp['dangling_keyframes']}"
                      f" | at kill: {mid}", file=sys.stderr, flush=True)
            agg = {k: sum(t[k] for t in trials) for k in ("lost", "doubled", "orphaned_keyframes", "dangling_keyframes",
                                                           "leftover_staging", "at_kill_torn_videos",
                                                           "at_kill_duplicate_shot_ids", "at_kill_dangling_keyframes")}
            results[st] = {"kills": sum(t["killed"] for t in trials), "trials": len(trials),
                           "landed": dict(collections.Counter(t["landed"] for t in trials)),
                           "reruns_failed": sum(t["rerun_rc"] != 0 for t in trials),
                           "reruns_with_traceback": sum(t["rerun_traceback"] for t in trials),
                           "reference_wall_s": round(wall[st], 2), "reference_write_span_s": round(events[st][-1], 2),
                           "attempts": attempts,
                           **agg, "per_trial": trials}
            if args.json:   # after every stage: a late failure loses nothing measured
                with open(args.json, "w") as f:
                    json.dump({"stages": results, "partial": True}, f, indent=1)
        doc = {"videos": args.videos + 2, "reference_rows": ref_counts, "caption_requests": server.requests,
               "stages": results, "seed": args.seed, "cpus": os.cpu_count()}
        print("| stage | kills | landed before / midway / after writes | lost | doubled | orphaned kf | dangling kf (after rerun / at kill) | torn at kill |")
        print("|---|---|---|---|---|---|---|---|")
        for st, r in results.items():
            if "not_measured" in r:
                print(f"| {st} | not measured: {r['not_measured'][:120]} |")
                continue
            ld = r["landed"]
            print(f"| {st} | {r['kills']}/{r['trials']} | {ld.get('before any write', 0)} / {ld.get('midway', 0)} / "
                  f"{ld.get('after its writes', 0)} | {r['lost']} | {r['doubled']} | {r['orphaned_keyframes']} | "
                  f"{r['dangling_keyframes']} / {r['at_kill_dangling_keyframes']} | {r['at_kill_torn_videos']} |")
        if args.json:
            with open(args.json, "w") as f:
                json.dump(doc, f, indent=1)
        return 0
    finally:
        server.httpd.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
