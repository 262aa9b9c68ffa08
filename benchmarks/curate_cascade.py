"""Cascade figure: on the suitability benchmark's HELDOUT catalog (scored by the model trained
on TRAIN), how many expensive caption calls the default cascade saves, and what it skips.

    .venv/bin/python benchmarks/curate_cascade.py --work /tmp/vf-suit

Runs `videoforge dedup` and `videoforge caption --backend openai` against a local
OpenAI-protocol test server (tests/curate_helpers.py) so calls are real HTTP requests,
then reports calls made / saved and the share of skipped shots that were degraded.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", default="/tmp/vf-suit")
    ap.add_argument("--min-suitability", type=float, default=0.3)
    a = ap.parse_args()
    from curate_helpers import FakeOpenAI

    from videoforge.catalog import Catalog

    cat = os.path.join(a.work, "cat_heldout")
    vf = [sys.executable, "-m", "videoforge"]
    subprocess.run(vf + ["dedup", cat, "--json"], check=True, capture_output=True)
    with open(os.path.join(a.work, "heldout", "labels.csv")) as f:
        deg = {os.path.abspath(r["path"]): r["degraded"] == "1" for r in csv.DictReader(f)}
    print(f"| cascade | shots | captioned (HTTP requests) | skipped: suitability < {a.min_suitability} | skipped: duplicates | "
          "calls saved | skipped-for-suitability shots that were degraded | captioned shots that were clean |\n"
          "|---|---|---|---|---|---|---|---|")
    for name, extra in (("default (suitability + duplicates)", []), ("suitability only (--include-duplicates)", ["--include-duplicates"])):
        with FakeOpenAI() as srv:
            r = subprocess.run(vf + ["caption", cat, "--backend", "openai", "--base-url", srv.base_url, "--model", "fake",
                                     "--min-suitability", str(a.min_suitability), "--no-cache", "--json", *extra],
                               check=True, capture_output=True, text=True)
            requests = len(srv.requests)
        s = json.loads(r.stdout)
        rows = Catalog(cat).query_dicts("SELECT s.shot_id, s.suitability, s.duplicate_of, v.path FROM shots s JOIN videos v USING (video_id)")
        low = [r for r in rows if r["suitability"] is not None and r["suitability"] < a.min_suitability
               and (extra or not r["duplicate_of"])]
        done = [r for r in rows if r["suitability"] is not None and r["suitability"] >= a.min_suitability
                and (extra or not r["duplicate_of"])]
        print(f"| {name} | {s['shots']} | {s['captioned']} ({requests}) | {s['skipped_low_suitability']} | {s['skipped_duplicates']} | "
              f"{s['calls_saved']} ({s['calls_saved'] / max(1, s['shots']):.0%}) | "
              f"{sum(deg.get(r['path'], False) for r in low)}/{len(low)} | "
              f"{sum(not deg.get(r['path'], True) for r in done)}/{len(done)} |")
        with Catalog(cat).write() as con:   # next configuration starts uncaptioned
            con.execute("UPDATE shots SET caption = NULL, caption_json = NULL, caption_backend = NULL")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
