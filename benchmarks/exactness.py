"""Exactness on files we did not make (#18): per file, through the CLI as a user runs it.

For each file: the frames a plain PyAV decode delivers, the frames and fps `run` catalogs,
the frames and fps `shots --json --workers 2` reports, whether `run` and `shots` give the same
shot boundaries, and how many exported clips (`export --format opensora`) decode to exactly
end_frame - start_frame + 1 frames. Prints a Markdown table and the totals.

    .venv/bin/python benchmarks/exactness.py LABEL FILE...                 # e.g. the opencv-doc files
    .venv/bin/python benchmarks/exactness.py LABEL --generate DIR          # the test matrix + edge files
    PYTHONPATH=/path/to/old/src .venv/bin/python benchmarks/exactness.py before FILE...   # an older tree

`--generate DIR` writes the container x codec matrix and the timestamp edge cases of
tests/test_container_matrix.py into DIR and measures them.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile

import av
import duckdb


def cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "videoforge", *map(str, args)], capture_output=True, text=True)


def plain(path: str) -> tuple[int, float]:
    with av.open(path) as c:
        vs = c.streams.video[0]
        return sum(1 for _ in c.decode(vs)), float(vs.average_rate or vs.guessed_rate or 0)


def generate(d: str) -> list[str]:
    """The test's matrix and edge files (same writers, same settings)."""
    from pathlib import Path

    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests")
    sys.path.insert(0, here)
    import test_container_matrix as m
    from videoforge.io.encode import write_video

    src = Path(d)
    src.mkdir(parents=True, exist_ok=True)
    truth = m._truth_frames()
    for pair in m.PAIRS:
        if pair in m.NOT_APPLICABLE:
            continue
        opts, pix = m._options(pair[1], pair[2])
        try:
            write_video(src / m._name(*pair), truth, fps=m.FPS, codec=m.CODECS[pair[1]], pix_fmt=pix, gop=m.SCENE,
                        options=opts)
        except (ValueError, av.error.FFmpegError):
            (src / m._name(*pair)).unlink(missing_ok=True)
    m._write_edge_cases(src, truth)
    return sorted(glob.glob(str(src / "*.*")))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("label")
    ap.add_argument("files", nargs="*")
    ap.add_argument("--generate", metavar="DIR")
    a = ap.parse_args()
    files = [os.path.abspath(f) for f in (generate(a.generate) if a.generate else a.files)]
    d = tempfile.mkdtemp(prefix="exactness-")
    r = cli("run", *files, "--catalog", f"{d}/cat", "-q")
    if r.returncode != 0:
        print(r.stderr, file=sys.stderr)
    con = duckdb.connect(f"{d}/cat/catalog.duckdb", read_only=True)
    videos = {p: (n, fps, vid) for p, n, fps, vid in con.execute("SELECT path, frames, fps, video_id FROM videos").fetchall()}
    shots: dict[str, list] = {}
    for vid, s, e in con.execute("SELECT video_id, start_frame, end_frame FROM shots ORDER BY start_frame").fetchall():
        shots.setdefault(vid, []).append((s, e))
    con.close()
    cli("export", f"{d}/cat", "--out", f"{d}/out", "--format", "opensora")
    manifest = f"{d}/out/manifest.csv"
    rows = list(csv.DictReader(open(manifest, newline=""))) if os.path.exists(manifest) else []
    con = duckdb.connect(f"{d}/cat/catalog.duckdb", read_only=True)
    errors = con.execute("SELECT path, message FROM errors").fetchall()
    con.close()

    tot = {"files": 0, "frames_exact": 0, "fps_is_stream_rate": 0, "run_eq_shots": 0, "shots": 0, "clips_exact": 0}
    print(f"| {a.label} | file | plain PyAV frames | run frames | shots frames | run fps | shots fps | stream rate "
          "| run == shots | exact clips / shots |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for p in files:
        n, rate = plain(p)
        s = cli("shots", p, "--json", "--workers", "2")
        doc = json.loads(s.stdout) if s.returncode == 0 else {}
        frames, fps, vid = videos.get(p, (None, None, None))
        cat_shots = shots.get(vid, [])
        same = [(x["start_frame"], x["end_frame"]) for x in doc.get("shots", [])] == cat_shots
        ok = 0
        for row in rows:
            if row["video_id"] == vid:
                with av.open(os.path.join(d, "out", row["path"])) as c:
                    ok += sum(1 for _ in c.decode(video=0)) == int(row["end_frame"]) - int(row["start_frame"]) + 1
        tot["files"] += 1
        tot["frames_exact"] += frames == n == doc.get("frames")
        tot["fps_is_stream_rate"] += bool(fps and abs(fps - rate) < 1e-6 and abs(doc.get("fps", 0) - rate) < 1e-6)
        tot["run_eq_shots"] += same
        tot["shots"] += len(cat_shots)
        tot["clips_exact"] += ok
        print(f"| {a.label} | {os.path.basename(p)} | {n} | {frames} | {doc.get('frames')} | "
              f"{fps if fps is None else round(fps, 3)} | {round(doc.get('fps', 0), 3)} | {round(rate, 3)} | {same} | "
              f"{ok}/{len(cat_shots)} |")
    print(f"{a.label} totals: {tot}; errors rows: {len(errors)}")
    for path, message in errors[:8]:
        print(f"  error: {os.path.basename(path)}: {message[:200]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
