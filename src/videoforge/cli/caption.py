"""`videoforge caption`: six-part structured captions into `shots.caption_json` / `shots.caption`."""

from __future__ import annotations

import argparse


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "caption",
        help="write six-part structured captions (OpenAI-compatible vision endpoint, or offline metadata)",
        description=(
            "Caption shots in six parts (subject, subject motion, environment, visual style, camera language, "
            "summary), stored as shots.caption_json plus a flattened shots.caption (Open-Sora `text`). "
            "--backend openai sends keyframes to any OpenAI-compatible chat endpoint with image input (vLLM, "
            "Ollama, LM Studio, ...); --backend metadata runs offline and fills only what the measured metrics "
            "support, leaving subject and environment empty. Cheap before expensive: by default shots below "
            "--min-suitability and duplicates are skipped (they stay in the catalog, uncaptioned); replies are "
            "cached per shot fingerprint, so a rerun costs nothing."
        ),
    )
    p.add_argument("catalog", metavar="CATALOG", help="catalog folder")
    p.add_argument("--backend", choices=["openai", "metadata"], required=True, help="captioner")
    p.add_argument("--base-url", default=None, metavar="URL", help="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
    p.add_argument("--model", default=None, metavar="NAME", help="model name the endpoint serves")
    p.add_argument("--api-key-env", default="OPENAI_API_KEY", metavar="VAR",
                   help="environment variable holding the API key (default OPENAI_API_KEY; unset = no key)")
    p.add_argument("--min-suitability", type=float, default=0.3,
                   help="skip shots scored below this (default 0.3; unscored shots are captioned)")
    p.add_argument("--include-duplicates", action="store_true", help="caption shots marked as duplicates too")
    p.add_argument("--all", action="store_true", help="no cascade: caption every shot (still cached)")
    p.add_argument("--where", default=None, metavar="SQL", help="only shots matching this SQL condition on shots")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="caption at most N of the selected shots")
    p.add_argument("--concurrency", type=int, default=4, help="requests in flight at once (default 4)")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per request (default 60)")
    p.add_argument("--max-retries", type=int, default=4, help="retries per shot with exponential backoff (default 4)")
    p.add_argument("--max-keyframes", type=int, default=4, help="keyframes sent per shot (default 4)")
    p.add_argument("--response-format", choices=["json_object", "json_schema", "none"], default="json_object",
                   help="ask the server for JSON output this way (some servers support only one)")
    p.add_argument("--price-input", type=float, default=0.0, metavar="USD", help="USD per million prompt tokens (cost report)")
    p.add_argument("--price-output", type=float, default=0.0, metavar="USD", help="USD per million completion tokens")
    p.add_argument("--no-cache", action="store_true", help="ignore cached captions and call the backend again")
    p.add_argument("--commit-every", type=int, default=16, metavar="N",
                   help="save captions (and the cache) every N replies as they arrive (default 16; also every 10 s): "
                        "an interrupted run keeps them and a rerun does not pay for them again")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    return p


def main(args) -> int:
    import os
    import sys

    from videoforge.catalog import Catalog
    from videoforge.cli import UsageError
    from videoforge.cli._common import print_json, print_table
    from videoforge.curate.caption_run import caption_catalog
    from videoforge.curate.captions import CaptionStopped, get_captioner
    from videoforge.curate.cascade import CascadePolicy

    if args.backend == "openai":
        if not args.base_url or not args.model:
            raise UsageError("--backend openai needs --base-url URL and --model NAME")
        if args.concurrency < 1:
            raise UsageError("--concurrency must be at least 1")
        captioner = get_captioner(
            "openai", base_url=args.base_url, model=args.model, api_key=os.environ.get(args.api_key_env) or None,
            concurrency=args.concurrency, timeout=args.timeout, max_retries=args.max_retries,
            max_keyframes=args.max_keyframes, response_format=None if args.response_format == "none" else args.response_format,
            price_input=args.price_input, price_output=args.price_output)
    else:
        captioner = get_captioner("metadata")
    if args.commit_every < 1:
        raise UsageError("--commit-every must be at least 1")
    policy = CascadePolicy(min_suitability=None if args.all else args.min_suitability,
                           skip_duplicates=not (args.all or args.include_duplicates))
    try:
        summary = caption_catalog(Catalog(args.catalog), captioner, policy, where=args.where, limit=args.limit,
                                  use_cache=not args.no_cache, batch_size=args.commit_every)
    except CaptionStopped as e:
        print(f"videoforge caption: stopped: {e}", file=sys.stderr)
        return 1
    finally:
        if hasattr(captioner, "close"):
            captioner.close()
    if args.json:
        print_json(summary)
    else:
        cols = ["shots", "selected", "captioned", "failed", "cache_hits", "calls_made", "calls_saved",
                "prompt_tokens", "completion_tokens", "cost_usd"]
        print_table(cols, [[summary[c] for c in cols]])
        print(f"cascade skipped {summary['skipped_low_suitability']} shots below suitability "
              f"{args.min_suitability if not args.all else '-'} and {summary['skipped_duplicates']} duplicates "
              f"(still in the catalog, uncaptioned)")
        for e in summary["errors"][:10]:
            print(f"  failed {e['shot_id']}: {e['error']}", file=sys.stderr)
    return 1 if summary["failed"] and not summary["captioned"] else 0
