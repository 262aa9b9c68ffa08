"""Each module sits where its job is (#20): I/O in io/, the demo driver beside the CLI, test
helpers under tests/, and no library module (the server included) imports the CLI package."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import videoforge

PKG = os.path.dirname(videoforge.__file__)
# the CLI itself, `python -m videoforge`, and the `make demo` driver (it prints a CLI table) may use cli/
MAY_IMPORT_CLI = ("cli" + os.sep, "__main__.py", "demo.py")


def library_modules():
    for root, _, files in os.walk(PKG):
        for f in files:
            if f.endswith(".py"):
                yield os.path.relpath(os.path.join(root, f), PKG)


def test_no_library_module_imports_the_cli():
    offenders = []
    for rel in library_modules():
        if rel.startswith(MAY_IMPORT_CLI):
            continue
        src = open(os.path.join(PKG, rel), encoding="utf-8").read()
        if re.search(r"^\s*(from|import)\s+videoforge\.cli\b", src, re.M):
            offenders.append(rel)
    assert offenders == []


def test_importing_the_server_loads_no_cli_module():
    code = ("import sys, videoforge.serve.app, videoforge.serve.runner; "
            "print([m for m in sys.modules if m.startswith('videoforge.cli')])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_modules_are_where_their_job_is():
    from videoforge.io.encode import write_video  # encoding is I/O
    from videoforge.jsonable import jsonable

    assert callable(write_video) and jsonable({"a": float("nan")}) == {"a": None}
    for gone in ("synth/writer.py", "synth/demo.py", "search/testing.py"):
        assert not os.path.exists(os.path.join(PKG, gone)), gone
    assert os.path.exists(os.path.join(PKG, "demo.py"))
    # no test helper ships inside the library
    assert not [m for m in library_modules() if os.path.basename(m) in ("testing.py", "conftest.py")]
    makefile = open(os.path.join(os.path.dirname(os.path.dirname(PKG)), "Makefile")).read()
    assert "-m videoforge.demo " in makefile
