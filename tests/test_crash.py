"""Crash safety with real processes: kill -9 midway (local and Ray), a full disk, an unwritable catalog.

After each, a rerun must leave exactly the catalog an uninterrupted run makes: the same
rows in videos/shots/transitions/keyframes (timestamps aside) and the same keyframe files.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import VIDEOFORGE, gradient_clip, run_cli
from test_serve_support import catalog_rows
from videoforge.catalog import Catalog
from videoforge.io.encode import write_video

N_VIDEOS = 14
RUN_ARGS = ["--detector", "none", "--no-ocr", "-q"]
KILLED_ARGS = ["--detector", "none", "--no-ocr"]   # with the progress bar: it tells when to kill


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("crashin")
    for k in range(N_VIDEOS):
        write_video(d / f"v{k:02d}.mp4", gradient_clip(90, w=160, h=96, seed=900 + k), fps=25)
    (d / "broken.mp4").write_bytes(b"not a video at all" * 50)
    return str(d)


@pytest.fixture(scope="module")
def reference(inputs, tmp_path_factory):
    """The catalog of one uninterrupted run."""
    cat = str(tmp_path_factory.mktemp("ref") / "cat")
    r = run_cli("run", inputs, "--catalog", cat, "--workers", "2", *RUN_ARGS)
    completed(r)
    rows = catalog_rows(cat)
    assert len(rows["videos"]) == N_VIDEOS and len(rows["errors"]) == 1
    return rows


def completed(r: subprocess.CompletedProcess) -> None:
    """A run that finished: every video handled, broken.mp4 reported as the one failure."""
    assert "1 video(s) failed" in r.stderr and "Traceback" not in r.stderr, r.stderr[-2000:]


def committed(cat: str) -> int:
    return Catalog(cat).query("SELECT count(*) FROM videos")[1][0][0]


def kill9_after(cmd: list[str], at_least: int, timeout: float = 240) -> int:
    """Start `cmd` in its own session and SIGKILL its whole process group once its progress bar
    says `at_least` outcomes are committed (the bar advances right after each commit).
    Returns the run's pid, which is also its session id.

    Polling the catalog instead would race: a run committing back to back holds the file most
    of the time, so a reader sees counts in jumps.
    """
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    done = 0
    deadline = time.time() + timeout
    buf = b""
    try:
        while done < at_least:
            chunk = proc.stderr.read1(4096) if hasattr(proc.stderr, "read1") else proc.stderr.read(1)
            if not chunk:
                raise AssertionError(f"run ended before it could be killed: {buf.decode(errors='replace')[-2000:]}")
            buf += chunk
            counts = re.findall(rb"(\d+)/(\d+) \[", buf[-400:])
            if counts:
                done = int(counts[-1][0])
            if time.time() > deadline:
                raise AssertionError("run made no progress")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)   # the run and every worker it started, at once
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return proc.pid   # also the session id of everything it started


def test_kill9_local_run_then_rerun_equals_uninterrupted(inputs, reference, tmp_path):
    cat = str(tmp_path / "cat")
    cmd = [*VIDEOFORGE, "run", inputs, "--catalog", cat, "--workers", "2", *KILLED_ARGS]
    # progress counts outcomes, and broken.mp4's error row is one of them (retried on every run)
    kill9_after(cmd, 3)
    first = committed(cat)
    kill9_after(cmd, 4)   # the first attempt's videos are skipped: these are new ones
    second = committed(cat)
    assert 2 <= first < second < N_VIDEOS, (first, second)   # both kills landed midway
    # the killed catalog is readable and never torn: each committed video has all its shots
    c = Catalog(cat)
    assert c.query("SELECT count(*) FROM videos v WHERE num_shots != (SELECT count(*) FROM shots s WHERE s.video_id = v.video_id)")[1][0][0] == 0
    completed(run_cli(*cmd[3:], "-q"))
    assert catalog_rows(cat) == reference
    assert not os.listdir(os.path.join(cat, ".staging")) if os.path.isdir(os.path.join(cat, ".staging")) else True


def test_kill9_ray_run_then_rerun_equals_uninterrupted(inputs, reference, tmp_path):
    pytest.importorskip("ray")
    cat = str(tmp_path / "cat")
    cmd = [*VIDEOFORGE, "run", inputs, "--catalog", cat, "--workers", "2", "--engine", "ray", *KILLED_ARGS]
    sid = kill9_after(cmd, 3)
    n = committed(cat)
    assert 2 <= n < N_VIDEOS, n
    time.sleep(1)
    for pid in _session_pids(sid):   # Ray daemons of the killed run that left its process group
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    completed(run_cli(*cmd[3:], "-q"))
    assert catalog_rows(cat) == reference


def _session_pids(sid: int) -> list[int]:
    """Processes in session `sid` (the killed run's own session): only what that run started."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == sid and fields[0] != "Z":   # field 6 of stat: session id
                pids.append(int(d))
    return pids


# -- disk full, unwritable catalog --------------------------------------------------------------
def _can_mount_tmpfs(where: str) -> bool:
    if os.geteuid() != 0 or not shutil.which("unshare"):
        return False
    r = subprocess.run(["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=1m tmpfs '{where}'"], capture_output=True)
    return r.returncode == 0


DISK_FULL = r"""
set -u
CAT=$1; IN=$2; OUT=$3; shift 3
mount -t tmpfs -o size=6m tmpfs "$CAT" || exit 90
"$@" run $IN/v00.mp4 $IN/v01.mp4 $IN/v02.mp4 --catalog "$CAT" --workers 2 --detector none --no-ocr -q > /dev/null 2>&1 || exit 91
dd if=/dev/zero of="$CAT/filler" bs=16k 2>/dev/null   # take every free byte: the disk is now full
"$@" run "$IN" --catalog "$CAT" --workers 2 --detector none --no-ocr -q > "$OUT/full.out" 2> "$OUT/full.err"
echo $? > "$OUT/full.rc"
rm -f "$CAT/filler"
mkdir -p "$OUT/after_full" && cp -a "$CAT/." "$OUT/after_full/"
"$@" run "$IN" --catalog "$CAT" --workers 2 --detector none --no-ocr -q > /dev/null 2> "$OUT/final.err"
echo $? > "$OUT/final.rc"
mkdir -p "$OUT/final" && cp -a "$CAT/." "$OUT/final/"
"""


def test_disk_full_gives_a_clear_error_and_a_valid_catalog(inputs, reference, tmp_path):
    """A real full disk: a small tmpfs in a private mount namespace, filled up between two runs."""
    cat, out = tmp_path / "cat", tmp_path / "out"
    cat.mkdir()
    out.mkdir()
    if not _can_mount_tmpfs(str(cat)):
        pytest.skip("needs root and mount namespaces (unshare -m) to mount a small tmpfs")
    script = tmp_path / "full.sh"
    script.write_text(DISK_FULL)
    r = subprocess.run(["unshare", "-m", "sh", str(script), str(cat), inputs, str(out), *VIDEOFORGE],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    err = (out / "full.err").read_text()
    assert (out / "full.rc").read_text().strip() == "1"
    assert "No space left on device" in err and "cannot write to the catalog" in err, err
    assert "Traceback" not in err
    # the catalog left by the failed run opens, and every committed video is whole
    after = Catalog(str(out / "after_full"))
    n = after.query("SELECT count(*) FROM videos")[1][0][0]
    assert 3 <= n <= N_VIDEOS
    assert after.query("SELECT count(*) FROM videos v WHERE num_shots != (SELECT count(*) FROM shots s WHERE s.video_id = v.video_id)")[1][0][0] == 0
    # with space again, a rerun completes to the uninterrupted catalog
    assert "1 video(s) failed" in (out / "final.err").read_text()   # broken.mp4 still fails, as in the reference
    assert catalog_rows(str(out / "final")) == reference


def test_unwritable_catalog_folder(inputs, reference, tmp_path):
    """Root ignores permission bits, so the folder is made immutable (chattr +i) instead."""
    cat = tmp_path / "cat"
    r = run_cli("run", os.path.join(inputs, "v00.mp4"), os.path.join(inputs, "v01.mp4"), "--catalog", cat, *RUN_ARGS)
    assert r.returncode == 0, r.stderr
    before = catalog_rows(str(cat))
    if subprocess.run(["chattr", "+i", str(cat)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i not supported on this filesystem")
    try:
        r = run_cli("run", inputs, "--catalog", cat, *RUN_ARGS)
        assert r.returncode == 1
        assert str(cat) in r.stderr and "not writable" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
        assert catalog_rows(str(cat)) == before   # still readable, unchanged
    finally:
        subprocess.run(["chattr", "-i", str(cat)], check=True)
    completed(run_cli("run", inputs, "--catalog", cat, *RUN_ARGS))
    assert catalog_rows(str(cat)) == reference


def test_a_file_where_the_catalog_folder_should_be(inputs, tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    r = run_cli("run", inputs, "--catalog", blocker / "cat", *RUN_ARGS)
    assert r.returncode == 1
    assert "cannot create catalog folder" in r.stderr and str(blocker / "cat") in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and blocker.read_text() == "a file, not a folder"
