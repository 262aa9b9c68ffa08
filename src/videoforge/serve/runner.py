"""Child process of a server-started run or export:
`python -m videoforge.serve.runner --request-file FILE` (FILE: the request as JSON; read, then
removed) or, for small requests, `python -m videoforge.serve.runner REQUEST_JSON`.

Prints one JSON event per line on stdout (run_videos' events, then a "summary" or
"failed" event); a "cancel" line on stdin, or stdin closing (the server went away), sets
the cancel event so the run stops between videos with everything finished committed.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading


def _emit(ev: dict) -> None:
    from videoforge.jsonable import jsonable

    sys.stdout.write(json.dumps(jsonable(ev), allow_nan=False) + "\n")
    sys.stdout.flush()


def main(argv: list[str]) -> int:
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos

    if argv[:1] == ["--request-file"]:
        with open(argv[1], encoding="utf-8") as f:
            req = json.load(f)
        with contextlib.suppress(OSError):
            os.remove(argv[1])
    else:
        req = json.loads(argv[0])
    config = AnalysisConfig(**json.loads(req["config"])) if req.get("config") else None
    cancel = threading.Event()

    def watch_stdin():
        for line in sys.stdin:
            if line.strip() == "cancel":
                cancel.set()
        cancel.set()  # EOF: the server is gone

    threading.Thread(target=watch_stdin, daemon=True).start()
    try:
        if req.get("kind") == "plan":   # decision center: execute a plan, report predicted vs actual
            from videoforge.plan.execute import execute

            out = execute(req["plan"], req["catalog"], progress=False, on_event=_emit)
            _emit({"event": "summary", "summary": {k: out.get(k) for k in (
                "run_id", "goal", "predicted", "actual", "run", "post", "not_analysed", "feedback")}})
            return 0
        if req.get("kind") == "export":
            from videoforge.export import export_catalog

            summary = export_catalog(req["catalog"], req["out"], format=req["format"], where=req.get("where"),
                                     min_seconds=req.get("min_seconds"), workers=req.get("workers"),
                                     cancel=cancel, on_event=_emit)
            _emit({"event": "summary", "summary": summary.to_dict()})
            return 0
        summary = run_videos(req["inputs"], req["catalog"], workers=req.get("workers"), force=bool(req.get("force")),
                             engine=req.get("engine") or "local", address=req.get("address"), config=config,
                             progress=False, cancel=cancel, on_event=_emit)
    except Exception as e:  # noqa: BLE001 - reported to the server as an event
        _emit({"event": "failed", "message": f"{type(e).__name__}: {e}"})
        return 1
    _emit({"event": "summary", "summary": summary.to_dict()})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
