"""Caption a catalog: cascade, cache by shot fingerprint, call the captioner, write columns."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import time

from videoforge.curate.captions.base import Caption, Captioner, ShotInput, flatten
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


def caption_catalog(catalog, captioner: Captioner, policy: CascadePolicy | None = None,
                    where: str | None = None, limit: int | None = None, use_cache: bool = True) -> dict:
    """Caption the shots the cascade selects and write `caption`, `caption_json`,
    `caption_backend`; returns a summary with calls made/saved, cache hits, tokens and cost."""
    from videoforge.curate.store import ensure_schema, write_shot_columns

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
    cached: dict[str, dict] = {}
    if use_cache and keys:
        _, crow = catalog.query("SELECT cache_key, caption_json FROM caption_cache WHERE backend = ?", [captioner.name])
        have = dict(crow)
        for k in keys:
            if k in have:
                cached[k] = json.loads(have[k])
    todo = [s for s, k in zip(shots, keys) if k not in cached]
    fresh = {c.shot_id: c for c in captioner.caption_many(todo)}

    results: list[Caption] = []
    for s, k in zip(shots, keys):
        if k in cached:
            doc = cached[k]
            fields = {f: doc.get(f, "") for f in doc if not f.startswith("_")}
            extra = {f: v for f, v in doc.items() if f.startswith("_") and f not in ("_backend", "_model")}
            results.append(Caption(s.shot_id, fields, captioner.name, doc.get("_model", captioner.model), cached=True, extra=extra))
        else:
            results.append(fresh[s.shot_id])
    ok = [c for c in results if c.fields]
    write_shot_columns(catalog, [c.shot_id for c in ok], {
        "caption": [flatten(c.fields) for c in ok],
        "caption_json": [c.to_json() for c in ok],
        "caption_backend": [c.backend for c in ok],
    })
    new_ok = [c for c in ok if not c.cached]
    if use_cache and new_ok and captioner.name != "metadata":  # metadata captions are free: no cache
        import pyarrow as pa

        key_of = dict(zip([s.shot_id for s in shots], keys))
        now = _dt.datetime.now(_dt.timezone.utc).replace(tzinfo=None)
        t = pa.table({"cache_key": [key_of[c.shot_id] for c in new_ok], "backend": [c.backend for c in new_ok],
                      "model": [c.model for c in new_ok], "caption_json": [c.to_json() for c in new_ok],
                      "prompt_tokens": pa.array([c.prompt_tokens for c in new_ok], pa.int64()),
                      "completion_tokens": pa.array([c.completion_tokens for c in new_ok], pa.int64()),
                      "created_at": pa.array([now] * len(new_ok), pa.timestamp("us"))})
        with catalog.write() as con:
            con.register("vf_new_captions", t)
            con.execute("INSERT OR REPLACE INTO caption_cache SELECT * FROM vf_new_captions")
            con.unregister("vf_new_captions")
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
