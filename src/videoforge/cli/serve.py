"""`videoforge serve`: the REST API and web page over one catalog (token-protected)."""

from __future__ import annotations

import argparse
import os
import sys


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "serve",
        help="serve a catalog over HTTP: JSON API, web page, shot thumbnails and clips",
        description=(
            "Serve CATALOG: a JSON API under /api (OpenAPI at /openapi.json, docs at /docs), a web page "
            "(videos, shot timelines, metric filters, clips, search, runs, errors) and shot media with HTTP "
            "range requests. Every request needs 'Authorization: Bearer TOKEN' or a session from the login "
            "page. The token comes from VIDEOFORGE_TOKEN, or is generated and printed at start."
        ),
        epilog="Runs started from the API may only read videos under --media-root; without it the API cannot start runs.",
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder made by `videoforge run`")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    p.add_argument("--media-root", default=None, metavar="DIR",
                   help="folder runs started from the API may read videos from (nothing outside it)")
    p.add_argument("--workers", type=int, default=None, metavar="N", help="parallel videos for API-started runs")
    p.add_argument("--engine", choices=["local", "ray"], default="local", help="backend for API-started runs")
    p.add_argument("--address", default=None, metavar="ray://HOST:PORT", help="Ray cluster for --engine ray")
    p.add_argument("--detector", default="videoforge", help="shot detector for API-started runs (as `videoforge run`)")
    p.add_argument("--no-ocr", action="store_true", help="API-started runs skip on-screen text recognition")
    return p


def main(args) -> int:
    from videoforge.cli import UsageError

    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be 1-65535, got {args.port}")
    if args.media_root and not os.path.isdir(args.media_root):
        raise UsageError(f"--media-root {args.media_root}: not a folder")

    import uvicorn

    from videoforge.engine.config import AnalysisConfig
    from videoforge.serve.app import create_app
    from videoforge.serve.auth import generate_token, token_weakness

    token = os.environ.get("VIDEOFORGE_TOKEN") or ""
    generated = not token
    if generated:
        token = generate_token()
    elif why := token_weakness(token):
        raise UsageError(f"VIDEOFORGE_TOKEN is too weak: {why}; choose a long random one, or unset it and "
                         "the server generates and prints one")
    if args.address and args.engine != "ray":
        raise UsageError("--address only applies with --engine ray")
    config = AnalysisConfig(detector=args.detector, ocr=not args.no_ocr)
    app = create_app(args.catalog, token, media_root=args.media_root, workers=args.workers, engine=args.engine,
                     address=args.address, run_config=config)
    url = f"http://{args.host}:{args.port}/"
    print(f"videoforge serve: {os.path.abspath(args.catalog)} at {url}", file=sys.stderr)
    if generated:
        # The token goes to stdout alone on its line so scripts can capture it.
        print(f"token: {token}", flush=True)
        print("  (set VIDEOFORGE_TOKEN to choose it; log in at the page or send 'Authorization: Bearer TOKEN')",
              file=sys.stderr)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: anyone who can reach it and has the token gets in; "
              "put it behind HTTPS for use beyond a trusted network", file=sys.stderr)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0
