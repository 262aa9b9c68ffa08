"""The server's ReadGate: readers always in flight, yet a writer in another process gets the file."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from test_serve_support import build_catalog
from videoforge.catalog import Catalog
from videoforge.serve.readgate import ReadGate

WRITER = """
import sys
from videoforge.catalog import Catalog
with Catalog(sys.argv[1], lock_timeout=60).write() as con:
    con.execute("INSERT INTO errors (path, stage, message) VALUES ('/w.mp4', 'test', 'written while readers were busy')")
"""


def test_signalling_writer_gets_in_while_reads_overlap(tmp_path):
    cat, _, _ = build_catalog(str(tmp_path))
    # max_hold so long that only the writer's signal can make the gate let go
    gate = ReadGate(Catalog(cat), max_hold=1e9, idle_close=1e9)
    stop = threading.Event()
    results: list[int] = []

    def reader(offset: float):
        time.sleep(offset)
        while not stop.is_set():
            with gate.read() as cur:
                results.append(cur.execute("SELECT count(*) FROM shots").fetchone()[0])
                time.sleep(0.05)   # hold the cursor: the two readers overlap, so one is always in flight

    threads = [threading.Thread(target=reader, args=(k * 0.025,)) for k in range(2)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.5)
        before = len(results)
        w = subprocess.run([sys.executable, "-c", WRITER, cat], capture_output=True, text=True, timeout=120)
        time.sleep(0.5)
        after = len(results)
    finally:
        stop.set()
        for t in threads:
            t.join()
        gate.close()
    assert w.returncode == 0, w.stderr
    assert before > 0 and after > before and set(results) == {5}
    assert Catalog(cat).query("SELECT count(*) FROM errors WHERE path = '/w.mp4'")[1][0][0] == 1
    assert not (tmp_path / "catalog" / "catalog.duckdb.write-wanted").exists()
