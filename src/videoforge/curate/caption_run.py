"""Caption a catalog: cascade, cache by shot fingerprint, call the captioner, write columns."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import time

from videoforge.catalog.commit import revalidate
from videoforge.catalog.transaction import transaction
from videoforge.curate.captions.base import Caption, Captioner, CaptionStopped, ShotInput, flatten
from videoforge.curate.cascade import CascadePolicy, select


def cache_key(captioner: Captioner, shot: ShotInput) -> str:
    """Shot fingerprint (content-derived shot_id + its keyframes) x captioner identity."""
    h = hashlib.blake2b(digest_size=16)
    h.update(captioner.cache_identity().encode())
    h.update(shot.shot_id.encode())
    for p in shot.keyframes:
        h.update(os.path.basename(p).encode())
    return h.hexdigest()


def _shot_inputs(catalog, rows: list[dict]) -> list[ShotInput]:
    kf = catalog.query_dicts("SELECT shot_id, path FROM keyframes ORDER BY shot_id, frame")
    by_shot: dict[str, list[str]] = {}
    for r in kf:
        if r["path"]:
            by_shot.setdefault(r["shot_id"], []).append(os.path.join(catalog.root, r["path"]))
    return [ShotInput(r["shot_id"], by_shot.get(r["shot_id"], []), r) for r in rows]


def _commit_batch(catalog, captions: list[Caption], key_of: dict[str, str], write_cache: bool) -> None:
    """One transaction: the batch's caption columns on `shots` and its new replies in
    `caption_cache`, so a kill leaves both or neither and a rerun asks for nothing twice."""
    ok = [c for c in captions if c.fields]
    if not ok:
        return
    fresh = [c for c in ok if not c.cached] if write_cache else []
    now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
    # the batch as temporary tables, each column one typed list parameter unnested side by side
    # (not Arrow tables: pyarrow's first array imports pandas, ~0.3 CPU-s of every process that
    # captions - session 11; the same rows and types are written); they are gone with the connection
    with catalog.write() as con:
        with transaction(con):
            con.execute("CREATE TEMP TABLE vf_caption_batch AS SELECT UNNEST(?::VARCHAR[]) AS shot_id, "
                        "UNNEST(?::VARCHAR[]) AS caption, UNNEST(?::VARCHAR[]) AS caption_json, "
                        "UNNEST(?::VARCHAR[]) AS caption_backend",
                        [[c.shot_id for c in ok], [flatten(c.fields) for c in ok], [c.to_json() for c in ok],
                         [c.backend for c in ok]])
            con.execute("UPDATE shots SET caption = n.caption, caption_json = n.caption_json, "
                        "caption_backend = n.caption_backend FROM vf_caption_batch n WHERE shots.shot_id = n.shot_id")
            revalidate(con, ["caption", "caption_json", "caption_backend"], "vf_caption_batch")
            if fresh:
                con.execute("CREATE TEMP TABLE vf_caption_cache AS SELECT UNNEST(?::VARCHAR[]) AS cache_key, "
                            "UNNEST(?::VARCHAR[]) AS backend, UNNEST(?::VARCHAR[]) AS model, "
                            "UNNEST(?::VARCHAR[]) AS caption_json, UNNEST(?::BIGINT[]) AS prompt_tokens, "
                            "UNNEST(?::BIGINT[]) AS completion_tokens, UNNEST(?::TIMESTAMP[]) AS created_at",
                            [[key_of[c.shot_id] for c in fresh], [c.backend for c in fresh], [c.model for c in fresh],
                             [c.to_json() for c in fresh], [c.prompt_tokens for c in fresh],
                             [c.completion_tokens for c in fresh], [now] * len(fresh)])
                con.execute("INSERT OR REPLACE INTO caption_cache SELECT * FROM vf_caption_cache")


def caption_catalog(catalog, captioner: Captioner, policy: CascadePolicy | None = None,
                    where: str | None = None, limit: int | None = None, use_cache: bool = True,
                    batch_size: int = 16, batch_seconds: float = 10.0) -> dict:
    """Caption the shots the cascade selects and write `caption`, `caption_json`,
    `caption_backend`; returns a summary with calls made/saved, cache hits, tokens and cost.

    Paid work is never lost: replies are committed (shots and cache in one transaction) every
    `batch_size` captions or `batch_seconds`, whichever comes first, and on the way out of an
    interrupt or error; a rerun finds them in the cache and sends no request for them.
    `use_cache=False` ignores cached replies but still caches the new ones. Raises
    CaptionStopped (after committing what arrived) when the backend refuses every request."""
    from videoforge.curate.store import ensure_schema

    t0 = time.perf_counter()
    ensure_schema(catalog)
    policy = policy or CascadePolicy()
    from videoforge.catalog.sqlfilter import parse_filter

    sql = "SELECT * FROM shots"
    where = parse_filter(where, "--where")   # exactly one expression, or SQLFilterError (exit 2)
    if where:
        sql += f" WHERE ({where})"
    sql += " ORDER BY video_id, start_frame"
    rows = catalog.query_dicts(sql)
    decision = select(rows, policy)
    chosen = decision.selected[:limit] if limit else decision.selected
    shots = _shot_inputs(catalog, chosen)

    keys = [cache_key(captioner, s) for s in shots]
    key_of = dict(zip([s.shot_id for s in shots], keys))
    write_cache = captioner.name != "metadata"   # metadata captions are free: no cache
    cached: dict[str, dict] = {}
    if use_cache and keys:
        _, crow = catalog.query("SELECT cache_key, caption_json FROM caption_cache WHERE backend = ?", [captioner.name])
        have = dict(crow)
        for k in keys:
            if k in have:
                cached[k] = json.loads(have[k])

    results: list[Caption] = []
    for s, k in zip(shots, keys):
        if k in cached:
            doc = cached[k]
            fields = {f: doc.get(f, "") for f in doc if not f.startswith("_")}
            extra = {f: v for f, v in doc.items() if f.startswith("_") and f not in ("_backend", "_model")}
            results.append(Caption(s.shot_id, fields, captioner.name, doc.get("_model", captioner.model), cached=True, extra=extra))
    todo = [s for s, k in zip(shots, keys) if k not in cached]

    pending: list[Caption] = list(results)   # cache hits are written to their shots in the first batch
    last = time.monotonic()
    try:
        for c in captioner.caption_stream(todo):
            results.append(c)
            pending.append(c)
            if len(pending) >= max(1, batch_size) or time.monotonic() - last >= batch_seconds:
                _commit_batch(catalog, pending, key_of, write_cache)
                pending, last = [], time.monotonic()
    except CaptionStopped as e:
        made = sum(1 for c in results if c.fields and not c.cached)
        raise CaptionStopped(f"{e}; stopped after {made} new caption(s), which are saved (a rerun will not ask "
                             f"for them again)") from None
    finally:
        # on success, Ctrl-C, a refusal or any error: what arrived is kept
        _commit_batch(catalog, pending, key_of, write_cache)

    ok = [c for c in results if c.fields]
    calls = [c for c in results if not c.cached]
    pt = sum(c.prompt_tokens for c in calls)
    ct = sum(c.completion_tokens for c in calls)
    cost = captioner.cost_usd(pt, ct) if hasattr(captioner, "cost_usd") else 0.0
    summary = {"backend": captioner.name, "model": captioner.model, "shots": len(rows), **decision.summary(),
               "limited_to": limit, "captioned": len(ok), "failed": len(results) - len(ok),
               "cache_hits": len(results) - len(calls), "calls_made": len(calls),
               "requests": sum(c.attempts for c in calls), "prompt_tokens": pt, "completion_tokens": ct,
               "cost_usd": round(cost, 6), "seconds": round(time.perf_counter() - t0, 3),
               "errors": [{"shot_id": c.shot_id, "error": c.error} for c in results if not c.fields][:50]}
    return summary
