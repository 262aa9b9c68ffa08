"""The server forgets old finished runs: it may live for months and start thousands of runs."""
import time

from videoforge.serve import runs
from videoforge.serve.runs import RunManager, RunState


def test_only_the_latest_finished_runs_are_kept(tmp_path):
    mgr = RunManager(str(tmp_path / "catalog"))
    for k in range(runs.KEEP_FINISHED + 30):
        mgr._runs[f"old{k}"] = RunState(run_id=f"old{k}", paths=["x"] * 1000, status="finished",
                                        started_at=k, finished_at=k + 0.5, events=[{"event": "x"}] * 500)
    run = mgr.start([])   # a real child process: launching it forgets the oldest records
    ids = {r["run_id"] for r in mgr.list()}
    assert run.run_id in ids and len(ids) == runs.KEEP_FINISHED + 1
    assert "old0" not in ids and "old29" not in ids and f"old{runs.KEEP_FINISHED + 29}" in ids
    deadline = time.time() + 60
    while mgr.get(run.run_id).status in ("starting", "running") and time.time() < deadline:
        time.sleep(0.1)
    assert mgr.get(run.run_id).finished_at is not None   # the run just started is never forgotten
