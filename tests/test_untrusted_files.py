"""Untrusted files (#20): a checkpoint is data, not code. Loading one that carries a pickled
callable must refuse it with a clear message and run nothing."""

from __future__ import annotations

import os

import pytest

torch = pytest.importorskip("torch")

from conftest import run_cli  # noqa: E402


class _RunsCode:
    """Unpickling this calls os.system: what a hostile .pt file can do under weights_only=False."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def hostile_checkpoint(tmp_path) -> tuple[str, str]:
    marker = str(tmp_path / "code-ran")
    path = str(tmp_path / "evil.pt")
    torch.save({"format": "videoforge-generator/1", "payload": _RunsCode(marker)}, path)
    return path, marker


def test_generate_refuses_a_checkpoint_that_carries_code(tmp_path):
    path, marker = hostile_checkpoint(tmp_path)
    r = run_cli("generate", path, "a red square", "--out", tmp_path / "x.mp4")
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "refused" in r.stderr and "evil.pt" in r.stderr
    assert not os.path.exists(marker) and not (tmp_path / "x.mp4").exists()


def test_training_loads_refuse_code_too(tmp_path):
    import pickle

    from videoforge.train.tasks import load_checkpoint

    path, marker = hostile_checkpoint(tmp_path)
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path)
    assert not os.path.exists(marker)
    # plain data (tensors, dicts, lists, numbers, strings) loads as before
    good = str(tmp_path / "good.pt")
    torch.save({"format": "x", "state": {"w": torch.ones(2)}, "cfg": {"dims": [1, 2], "name": "a", "lr": 1e-3}}, good)
    assert load_checkpoint(good)["cfg"]["dims"] == [1, 2]
