"""Decision-center routes (issue 25): the stage registry, planning, and executed plans' costs.

Added to the app by `add_plan_routes`; the app's one authentication gate (a middleware in
front of every path) covers them like every other /api route. Plans name videos under
--media-root only, checked exactly as `POST /api/runs` checks its paths.
"""

from __future__ import annotations


from fastapi import Body, HTTPException, Query
from fastapi.responses import HTMLResponse


def add_plan_routes(app, gate, media_root: str | None, json_response, static_text) -> None:
    from videoforge.plan.execute import plan_runs
    from videoforge.plan.registry import available
    from videoforge.plan.store import load_registry, registry_rows
    from videoforge.serve import media

    @app.get("/api/stages", tags=["plans"], summary="The stage registry: each variant's cost per unit and quality, with sources")
    def stages():
        reg = load_registry(gate)
        rows = registry_rows(reg)
        for r, v in zip(rows, reg.values()):
            r["available"] = available(v)
        return json_response({"stages": rows})

    @app.post("/api/plans", tags=["plans"], summary="Plan a run over paths under --media-root within a budget "
              "(\"execute\": true also runs it as a background job: 202 with the plan and the job)")
    def post_plan(body: dict = Body(..., examples=[{"paths": ["clips/"], "goal": "search", "budget_cpu_hours": 0.5,
                                                    "min": {"text_recall": 0.9}, "execute": False}])):
        from videoforge.plan.api import PlanRequest, make_plan
        from videoforge.plan.planner import GOALS, Infeasible, PlanError

        if media_root is None:
            raise HTTPException(403, "this server was started without --media-root: it may not plan runs")
        paths = body.get("paths")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise HTTPException(400, "body needs 'paths': a non-empty list of paths relative to --media-root")
        goal = body.get("goal")
        if goal not in GOALS:
            raise HTTPException(400, f"body needs 'goal': one of {', '.join(GOALS)}")
        nums = {}
        for k in ("budget_cpu_hours", "budget_usd", "margin"):
            v = body.get(k)
            if v is not None and (not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0):
                raise HTTPException(400, f"'{k}' must be a number >= 0")
            nums[k] = None if v is None else float(v)
        if nums["margin"] is not None and nums["margin"] >= 1:
            raise HTTPException(400, "'margin' must be below 1")
        mins = body.get("min") or {}
        if not isinstance(mins, dict) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in mins.values()):
            raise HTTPException(400, "'min' must map quality names to numbers, e.g. {\"text_recall\": 0.9}")
        files = media.requested_video_files(media_root, paths)
        execute = body.get("execute", False)
        if not isinstance(execute, bool):
            raise HTTPException(400, "'execute' must be true or false")
        full = body.get("full_coverage", False)
        if not isinstance(full, bool):
            raise HTTPException(400, "'full_coverage' must be true or false")
        probe = body.get("probe", True)   # plan/probe.py: a timed run on a sample while costs are shipped
        if not isinstance(probe, bool):
            raise HTTPException(400, "'probe' must be true or false")
        if probe and app.state.runs.active() is not None:
            # a probe timed beside a running job would bake the contention into the plan's costs
            probe = False
        req = PlanRequest(inputs=files, goal=goal, budget_cpu_hours=nums["budget_cpu_hours"], budget_usd=nums["budget_usd"],
                          mins={str(k): float(v) for k, v in mins.items()}, margin=nums["margin"], catalog=None,
                          full_coverage=full, probe=probe)
        try:
            doc = make_plan(req, reader=gate)   # the catalog's measured costs, read through the gate
        except PlanError as e:
            raise HTTPException(400, str(e)) from None
        except Infeasible as e:
            return json_response({"error": "infeasible", "message": str(e), "status": 422, **e.info}, 422)
        if not execute:
            return json_response(doc)
        from videoforge.serve.runs import RunConflict

        try:   # the same one-job-at-a-time rule as POST /api/runs; follow it at GET /api/runs/{run_id}
            run = app.state.runs.start_plan(doc)
        except RunConflict as e:
            raise HTTPException(409, str(e)) from None
        return json_response({"plan": doc, "run": run.to_dict(events=False)}, 202)

    @app.get("/api/plans", tags=["plans"], summary="Executed plans with predicted and actual cost, newest first")
    def list_plans(limit: int = Query(50, ge=1, le=1000)):
        return json_response({"items": plan_runs(gate, limit)})

    @app.get("/plans", include_in_schema=False)
    def plans_page():
        return HTMLResponse(static_text("plans.html"), headers={"Cache-Control": "no-store"})
