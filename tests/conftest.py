"""Shared fixtures: tiny real videos (libx264 via PyAV) with known truth."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from videoforge.io.encode import write_video

VIDEOFORGE = [sys.executable, "-m", "videoforge"]


def run_cli(*args, check=False, env=None, timeout=600) -> subprocess.CompletedProcess:
    """Run the real `videoforge` CLI in a fresh process."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([*VIDEOFORGE, *map(str, args)], capture_output=True, text=True, check=check,
                          env=e, timeout=timeout)


@pytest.fixture
def cli_here(monkeypatch, capsys):
    """`videoforge ARGS...` through `videoforge.cli.main` in this process: the exit status, stdout and
    stderr a user sees, without Python's start-up and `import torch` (~2 s) per call. Tests that
    check the real process (console script, signals, exit at start-up) use run_cli instead."""
    from videoforge.cli import main

    def run(*args, env=None) -> subprocess.CompletedProcess:
        capsys.readouterr()
        with monkeypatch.context() as m:
            for k, v in (env or {}).items():
                m.setenv(k, v)
            rc = main([str(a) for a in args])
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["videoforge", *map(str, args)], rc, out.out, out.err)

    return run


def gradient_clip(n: int, w: int = 96, h: int = 64, seed: int = 0, speed: float = 2.0) -> list[np.ndarray]:
    """A textured picture drifting sideways: real content with motion, distinct per seed."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h // 8 + 1, (w + int(speed * n)) // 8 + 2, 3), dtype=np.uint8)
    import cv2

    big = cv2.resize(base, (base.shape[1] * 8, base.shape[0] * 8), interpolation=cv2.INTER_CUBIC)
    return [np.ascontiguousarray(big[:h, int(i * speed): int(i * speed) + w]) for i in range(n)]


@pytest.fixture(scope="session")
def tiny_videos(tmp_path_factory) -> str:
    """A folder with three small distinct videos (30-45 frames)."""
    d = tmp_path_factory.mktemp("tiny")
    for k, n in enumerate((30, 38, 45)):
        write_video(d / f"clip{k}.mp4", gradient_clip(n, seed=k), fps=25)
    return str(d)
