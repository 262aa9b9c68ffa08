"""suitability/lite's per-shot CPU on edits with many shots (session 11).

Session 10 priced `suitability/lite` as its loading only (0.441 CPU-s; per-shot work below the
resolution of 15 shots). Half-budget plans on the real assembled edits (~100 shots) then ran it at
1.6-1.9x that. Here: the three assembled edits NOT used by plan_eval's part H (assembled_19_3-5) are
analysed once; then, in fresh processes that import what `run --plan` imports, the lite stage alone
scores the shots of 1 and of all 3 videos (copies of the catalog); per shot = the difference / the
difference in shots, loading = the 1-video run less its shots' work. Minimum of --tries per case.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/plan_lite_per_shot.py [--tries 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

EDITS = [f"/tmp/vf-real-cuts/assembled_19_{k}.mp4" for k in (3, 4, 5)]   # benchmarks/shots_real.py --build
_ONE = ("import videoforge.plan.execute, videoforge.engine.run\n"
        "import json, sys\n"
        "from videoforge.catalog import Catalog\n"
        "from videoforge.plan.post import OFF, run_post\n"
        "from videoforge.plan.costs import Timer\n"
        "cat = Catalog(sys.argv[1]); vids = json.loads(sys.argv[2])\n"
        "c0 = Timer.tree_cpu()\n"
        "res = run_post(cat, {**OFF, 'suitability': 'lite'}, vids)\n"
        "assert not res.get('error'), res\n"
        "print(json.dumps({'cpu': Timer.tree_cpu() - c0, 'shots': res['shots']}))\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tries", type=int, default=3)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    from videoforge.catalog import Catalog
    from videoforge.engine.config import AnalysisConfig
    from videoforge.engine.run import run_videos

    with tempfile.TemporaryDirectory(prefix="vf-lite-") as tmp:
        cat = os.path.join(tmp, "cat")
        run_videos(EDITS, cat, config=AnalysisConfig(ocr=False), progress=False)
        vids = [r[0] for r in Catalog(cat).query("SELECT video_id FROM videos ORDER BY path")[1]]
        out: dict = {"one": [], "all": []}
        for t in range(args.tries):
            for case, ids in (("one", vids[:1]), ("all", vids)) if t % 2 == 0 else (("all", vids), ("one", vids[:1])):
                copy = os.path.join(tmp, f"c{t}{case}")
                shutil.copytree(cat, copy, ignore=shutil.ignore_patterns("*.lock"))
                r = subprocess.run([sys.executable, "-c", _ONE, copy, json.dumps(ids)], capture_output=True, text=True)
                if r.returncode:
                    sys.exit(r.stderr[-2000:])
                out[case].append(json.loads(r.stdout.strip().splitlines()[-1]))
    one = min(out["one"], key=lambda x: x["cpu"])
    allv = min(out["all"], key=lambda x: x["cpu"])
    per_shot = (allv["cpu"] - one["cpu"]) / max(allv["shots"] - one["shots"], 1)
    s = {"per_shot": per_shot, "loading": one["cpu"] - per_shot * one["shots"], "one": one, "all": allv, "runs": out,
         "load_average": os.getloadavg(),
         "note": "CPU-s of run_post with suitability/lite alone in fresh run --plan-like processes; assembled_19_3-5 "
                 "(480x270 real edits); minimum of the tries; busy 2-core machine"}
    print(json.dumps(s, indent=1))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(s, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
