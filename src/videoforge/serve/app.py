"""The FastAPI application: JSON API under /api, media with HTTP ranges, the web page, login.

`create_app(catalog_dir, token, media_root)` builds everything; `videoforge serve` runs it
with uvicorn. Every route except the login page needs the bearer token or the session
cookie (see auth.py); that includes /docs and /openapi.json. Handlers are plain `def`
functions, so FastAPI runs them in its thread pool: catalog reads and clip cutting never
block the event loop. Catalog reads go through a ReadGate (readgate.py) so that a busy
server never locks a run's writer out of the catalog file.
"""

from __future__ import annotations

import asyncio
import os
import time
from importlib import resources
from urllib.parse import quote

from fastapi import Body, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from videoforge.catalog import Catalog, CatalogError
from videoforge.catalog.sqlfilter import SERVER_QUERY_TIMEOUT_S, QueryTimeout, SQLFilterError
from videoforge.jsonable import jsonable
from videoforge.serve import integrations, media, queries
from videoforge.serve.auth import SESSION_COOKIE, Auth, safe_next
from videoforge.serve.security import CSP, cross_site_refusal, docs_csp
from videoforge.serve.queries import Page, QueryError
from videoforge.serve.readgate import ReadGate
from videoforge.serve.runs import RunConflict, RunManager

PUBLIC_PATHS = {"/login", "/logout", "/static/login.css", "/static/login.js"}   # what the login page needs
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
EXPORT_FORMATS = ("opensora", "webdataset", "parquet")


def _json(doc, status: int = 200) -> JSONResponse:
    return JSONResponse(jsonable(doc), status_code=status)


def _error(status: int, message: str, **extra) -> JSONResponse:
    return JSONResponse({"error": message, "status": status, **extra}, status_code=status)


def _static_text(name: str) -> str:
    return resources.files("videoforge.serve").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def create_app(catalog_dir: str, token: str, media_root: str | None = None, workers: int | None = None,
               engine: str = "local", address: str | None = None, run_config=None,
               session_secret: bytes | None = None, query_timeout: float | None = SERVER_QUERY_TIMEOUT_S) -> FastAPI:
    """The server for one catalog folder. `media_root`: the only folder runs may read videos from.

    `run_config` (an AnalysisConfig) is what API-started runs analyse with; None = defaults.
    `query_timeout`: seconds after which a request's catalog queries (and an export's filter
    check) are interrupted. A weak `token` raises WeakTokenError (a ValueError).
    """
    from videoforge.catalog.store import NO_EXTERNAL_ACCESS_ENV

    # Request bodies carry SQL fragments (`where`, filters): no DuckDB file or network access
    # in this process or in the runs and exports it starts (they inherit the environment).
    os.environ[NO_EXTERNAL_ACCESS_ENV] = "1"
    catalog = Catalog(catalog_dir)
    if not catalog.exists():
        raise CatalogError(f"{catalog.root}: no catalog here (create one with `videoforge run INPUT --catalog {catalog.root}`)")
    media_root = os.path.realpath(media_root) if media_root else None
    if media_root and not os.path.isdir(media_root):
        raise CatalogError(f"{media_root}: --media-root is not a folder")
    auth = Auth(token, secret=session_secret)
    gate = ReadGate(catalog, query_timeout=3 * query_timeout if query_timeout else None)   # every read goes through it: shared, and it steps aside for a run's writer
    runs = RunManager(catalog.root, workers=workers, engine=engine, address=address,
                      config_json=run_config.to_json() if run_config is not None else None)

    # /docs and /redoc are served below with their own Content-Security-Policy
    app = FastAPI(title="videoforge", version="1", summary="Shots, metrics, search and runs over one videoforge catalog.",
                  docs_url=None, redoc_url=None)
    app.state.catalog, app.state.auth, app.state.runs, app.state.media_root = catalog, auth, runs, media_root

    # -- authentication: one gate in front of everything ----------------------------------
    def _harden(response: Response) -> Response:
        # every response, HTML or not, the login page and refusals included
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")   # nothing leaks to other sites; Origin stays real
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    @app.middleware("http")
    async def require_login(request: Request, call_next):
        path = request.url.path
        refusal = cross_site_refusal(request.method, request.headers)
        if refusal:
            return _harden(_error(403, refusal))
        allowed = path in PUBLIC_PATHS or auth.check_session(request.cookies.get(SESSION_COOKIE))
        if not allowed:
            client = request.client.host if request.client else None
            verdict = auth.bearer_attempt(request.headers.get("authorization"), client)
            if verdict == "locked":
                wait = max(1, round(auth.failures.retry_after(client)))
                return _harden(_error(429, f"too many failed logins on this server: no token is checked for {wait} s",
                                      retry_after_s=wait))
            allowed = verdict == "ok"
        if allowed:
            return _harden(await call_next(request))
        if path.startswith("/api") or path == "/openapi.json" or request.method != "GET":
            return _harden(JSONResponse(
                {"error": "authentication required: send 'Authorization: Bearer TOKEN' or log in at /login",
                 "status": 401}, status_code=401, headers={"WWW-Authenticate": "Bearer"}))
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return _harden(RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303))

    # -- errors as JSON with a clear message ----------------------------------------------
    @app.exception_handler(QueryError)
    async def _query_error(request: Request, exc: QueryError):
        return _error(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        problems = [f"{'.'.join(str(x) for x in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()]
        return _error(422, "invalid request: " + "; ".join(problems))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        return _error(exc.status_code, str(exc.detail))

    @app.exception_handler(CatalogError)
    async def _catalog_error(request: Request, exc: CatalogError):
        return _error(503, str(exc))

    @app.exception_handler(QueryTimeout)
    async def _query_timeout(request: Request, exc: QueryTimeout):
        return _error(503, str(exc))

    @app.exception_handler(SQLFilterError)
    async def _filter_error(request: Request, exc: SQLFilterError):
        return _error(400, str(exc))

    # -- login ----------------------------------------------------------------------------
    LOGIN_ERRORS = {"1": "Wrong token.", "locked": "Too many failed logins on this server: wait a minute and try again."}

    @app.get("/login", include_in_schema=False)
    def login_page(error: str | None = None):
        # only fixed messages reach the page: the query string picks one, it is never echoed
        html = _static_text("login.html").replace("{{error}}", LOGIN_ERRORS.get(error or "", "Wrong token." if error else ""))
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    @app.post("/login", include_in_schema=False)
    async def login(request: Request):
        form = await request.form()
        token = str(form.get("token") or "")
        nxt = safe_next(str(form.get("next") or request.query_params.get("next") or "/"))
        verdict = auth.attempt(token, request.client.host if request.client else None)
        if verdict != "ok":
            await asyncio.sleep(0.5)   # each wrong try costs its sender time too
            code = "locked" if verdict == "locked" else "1"
            return RedirectResponse(f"/login?error={code}&next={quote(nxt, safe='')}", status_code=303)
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(SESSION_COOKIE, auth.make_session(), max_age=auth.max_age, httponly=True,
                        samesite="strict", secure=request.url.scheme == "https", path="/")
        return resp

    @app.post("/logout", include_in_schema=False)
    def logout(request: Request):
        auth.end_session(request.cookies.get(SESSION_COOKIE))   # the session id is gone server-side
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(SESSION_COOKIE, path="/")
        return resp

    @app.get("/docs", include_in_schema=False)
    def docs():
        from fastapi.openapi.docs import get_swagger_ui_html

        html = get_swagger_ui_html(openapi_url="/openapi.json", title="videoforge API").body.decode()
        return HTMLResponse(html, headers={"Content-Security-Policy": docs_csp(html)})

    @app.get("/redoc", include_in_schema=False)
    def redoc():
        from fastapi.openapi.docs import get_redoc_html

        html = get_redoc_html(openapi_url="/openapi.json", title="videoforge API").body.decode()
        return HTMLResponse(html, headers={"Content-Security-Policy": docs_csp(html)})

    # -- the page -------------------------------------------------------------------------
    @app.get("/", include_in_schema=False)
    def index():
        return HTMLResponse(_static_text("index.html"), headers={"Cache-Control": "no-store"})

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str):
        ext = os.path.splitext(name)[1]
        if "/" in name or "\\" in name or name.startswith(".") or ext not in STATIC_TYPES:
            raise HTTPException(404, f"no static file {name!r}")
        try:
            body = _static_text(name)
        except (FileNotFoundError, OSError):
            raise HTTPException(404, f"no static file {name!r}") from None
        return Response(body, media_type=STATIC_TYPES[ext])

    # -- catalog API ----------------------------------------------------------------------
    @app.get("/api/status", tags=["catalog"], summary="Catalog counts and server settings")
    def status():
        doc = queries.summary(gate)
        doc.update({"catalog": catalog.root, "media_root": media_root, "runs_allowed": media_root is not None,
                    "active_run": (r.run_id if (r := runs.active()) else None)})
        return _json(doc)

    @app.get("/api/metrics", tags=["catalog"], summary="Filterable shot columns with their ranges (slider bounds)")
    def metrics():
        return _json(queries.metric_ranges(gate))

    @app.get("/api/videos", tags=["catalog"], summary="One page of videos")
    def videos(limit: int = Query(50, description="page size, 1-500"), offset: int = Query(0, ge=0),
               q: str | None = Query(None, description="case-insensitive substring of the path")):
        return _json(queries.list_videos(gate, Page(limit, offset), q))

    @app.get("/api/videos/{video_id}", tags=["catalog"], summary="A video with its shots and transitions")
    def video(video_id: str):
        doc = queries.get_video(gate, video_id)
        if doc is None:
            raise HTTPException(404, f"no video {video_id!r} in the catalog")
        return _json(doc)

    metric_doc = ("Filters: min_<column>=X / max_<column>=X on any numeric shot column listed by /api/metrics "
                  "(motion, sharpness, brightness, duration, ...). order: a column, '-' prefix for descending.")

    @app.get("/api/shots", tags=["catalog"], summary="One page of shots, filtered on metrics", description=metric_doc)
    def shots(request: Request, limit: int = Query(50), offset: int = Query(0, ge=0), video_id: str | None = None,
              order: str | None = None, camera_move: str | None = None):
        known = {"limit", "offset", "video_id", "order", "camera_move"}
        filters = {k: v for k, v in request.query_params.items() if k not in known}
        return _json(queries.list_shots(gate, Page(limit, offset), filters, video_id=video_id, order=order,
                                        camera_move=camera_move))

    @app.get("/api/shots/{shot_id}", tags=["catalog"], summary="A shot: metrics, keyframes, transitions, caption")
    def shot(shot_id: str):
        doc = queries.get_shot(gate, shot_id)
        if doc is None:
            raise HTTPException(404, f"no shot {shot_id!r} in the catalog")
        return _json(doc)

    def _media_row(shot_id: str) -> dict:
        row = queries.shot_media_row(gate, shot_id)
        if row is None:
            raise HTTPException(404, f"no shot {shot_id!r} in the catalog")
        return row

    def _media_response(shot_id: str, resolve, media_type: str) -> FileResponse:
        """A shot's media file, or 403 (refused path) / 404 (missing); FileResponse does ranges."""
        try:
            path = resolve(catalog.root, _media_row(shot_id), media_root)
        except media.MediaRefused as e:
            raise HTTPException(403, f"refused: {e}") from None
        except media.MediaUncuttable as e:   # the file is there but cannot be cut: say why (#18)
            return _error(422, str(e), path=e.path)
        except media.MediaMissing as e:
            raise HTTPException(404, str(e)) from None
        return FileResponse(path, media_type=media_type, headers={"Cache-Control": "private, max-age=3600"})

    @app.get("/api/shots/{shot_id}/thumbnail", tags=["media"], summary="JPEG thumbnail (range requests supported)",
             response_class=FileResponse)
    def thumbnail(shot_id: str):
        return _media_response(shot_id, media.thumbnail_file, "image/jpeg")

    @app.get("/api/shots/{shot_id}/clip", tags=["media"], summary="MP4 of exactly the shot (range requests supported)",
             response_class=FileResponse)
    def clip(shot_id: str):
        return _media_response(shot_id, media.clip_file, "video/mp4")

    @app.get("/api/search", tags=["search"], summary="Shots matching a text query ([] without a query or an index)")
    def search(q: str = Query("", description="text query"), k: int = Query(10, ge=1, le=200)):
        try:
            with gate.hold():   # search opens its own connections: they share the gate's instance
                hits = integrations.search(catalog.root, q, k=k)
        except Exception as e:  # noqa: BLE001 - the search stage's own errors name the problem
            if type(e).__name__ in ("SearchError", "IndexCorruptError"):
                return _error(503, str(e))
            raise
        return _json(hits)

    @app.get("/api/errors", tags=["runs"], summary="One page of files that failed, newest first")
    def errors(limit: int = Query(50), offset: int = Query(0, ge=0)):
        return _json(queries.list_errors(gate, Page(limit, offset)))

    # -- runs -----------------------------------------------------------------------------
    def _require_media_root():
        if media_root is None:
            raise HTTPException(403, "this server was started without --media-root: it may not start runs")

    @app.get("/api/runs", tags=["runs"], summary="Runs started by this server, newest first")
    def list_runs():
        return _json(runs.list())

    @app.post("/api/runs", tags=["runs"], status_code=202, summary="Start a run over paths under --media-root")
    def start_run(body: dict = Body(..., examples=[{"paths": ["clips/"], "force": False}])):
        _require_media_root()
        paths = body.get("paths")
        if not isinstance(paths, list) or not paths or not all(isinstance(p, str) for p in paths):
            raise HTTPException(400, "body needs 'paths': a non-empty list of paths relative to --media-root")
        files = media.requested_video_files(media_root, paths)
        try:
            run = runs.start(files, force=bool(body.get("force", False)))
        except RunConflict as e:
            raise HTTPException(409, str(e)) from None
        return _json(run.to_dict(), status=202)

    @app.get("/api/runs/{run_id}", tags=["runs"], summary="A run's progress and events")
    def get_run(run_id: str):
        run = runs.get(run_id)
        if run is None:
            raise HTTPException(404, f"no run {run_id!r} on this server")
        return _json(run.to_dict())

    @app.post("/api/runs/{run_id}/cancel", tags=["runs"], summary="Stop a run after the videos in flight")
    def cancel_run(run_id: str):
        run = runs.cancel(run_id)
        if run is None:
            raise HTTPException(404, f"no run {run_id!r} on this server")
        return _json(run.to_dict(events=False))

    @app.post("/api/errors/retry", tags=["runs"], status_code=202, summary="Start a run over the files in errors")
    def retry_errors():
        _require_media_root()
        paths = queries.error_paths(gate)
        allowed = [p for p in paths if media.inside(p, media_root) and os.path.exists(p)]
        if not allowed:
            raise HTTPException(409, f"nothing to retry: {len(paths)} error row(s), none is an existing file under --media-root")
        try:
            run = runs.start(allowed, force=False)
        except RunConflict as e:
            raise HTTPException(409, str(e)) from None
        doc = run.to_dict()
        doc["not_retried"] = sorted(set(paths) - set(allowed))
        return _json(doc, status=202)

    @app.post("/api/export", tags=["export"], status_code=202,
              summary="Export shots into CATALOG/exports/NAME (a background job; follow it under /api/runs/{run_id})")
    def export(body: dict = Body(..., examples=[{"name": "train-v1", "format": "opensora", "min_seconds": 1.0}])):
        name = body.get("name") or time.strftime("export-%Y%m%d-%H%M%S")
        fmt = body.get("format", "opensora")
        if not isinstance(name, str) or not name.replace("-", "").replace("_", "").replace(".", "").isalnum() \
                or name.startswith("."):
            raise HTTPException(400, "name must be letters, digits, '-', '_' or '.' (it becomes CATALOG/exports/NAME)")
        if fmt not in EXPORT_FORMATS:
            raise HTTPException(400, f"format must be one of {', '.join(EXPORT_FORMATS)}, got {fmt!r}")
        min_seconds = body.get("min_seconds")
        if min_seconds is not None and (isinstance(min_seconds, bool) or not isinstance(min_seconds, (int, float))):
            raise HTTPException(400, "min_seconds must be a number")
        where = body.get("where")
        if where is not None and not isinstance(where, str):
            raise HTTPException(400, "where must be an SQL condition string over shots columns")
        try:
            from videoforge.export.select import SelectionError, select_shots
        except ImportError:
            raise HTTPException(501, "the export stage (videoforge.export) is not available in this install") from None
        try:   # check the filter here (read-only) so a bad one is a 400 now, not a failed job later
            with gate.hold():
                select_shots(catalog, where, min_seconds, limit=1, timeout=query_timeout)
        except SelectionError as e:
            raise HTTPException(400, str(e)) from None
        out = os.path.join(catalog.root, "exports", name)
        if os.path.exists(out):
            raise HTTPException(409, f"export {name!r} already exists in {os.path.dirname(out)}")
        try:
            job = runs.start_export(out, fmt, where, min_seconds)
        except RunConflict as e:
            raise HTTPException(409, str(e)) from None
        return _json(job.to_dict(), status=202)

    # -- decision center (issue 25): /api/stages, /api/plans, the /plans page --------------
    from videoforge.serve.plans import add_plan_routes

    add_plan_routes(app, gate, media_root, _json, _static_text)

    @app.on_event("shutdown")
    def _stop_runs():
        runs.shutdown()
        gate.close()

    return app
