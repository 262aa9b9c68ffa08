"""On-screen text search end to end, as a user runs it: `run` -> `index` -> `search "WORD"`.

    nice -n 5 .venv/bin/python benchmarks/search_text_e2e.py --set D --out /tmp/vf-text-e2e-D

Generates held-out videos (`videoforge.synth.text_scenes`, split `heldout`: fonts, styles,
photos and clips never used to tune the text gate; words are generated non-words, unique
over the whole set), then runs the real CLI in subprocesses with default settings:
`videoforge run VIDEOS --catalog CAT`, `videoforge index CAT`, and per burned-in word
`videoforge search CAT QUERY --json --k 1` with the query in another letter case than drawn
(UPPER -> lower, lower -> Capitalised, Capitalised -> UPPER; the headline). The case check
asks again with the word as drawn, through `videoforge.search.search` (the call the CLI makes)
in this process, and compares the top hits.

A query is right when the top hit is the video that shows the word and the hit's
[start_time, end_time) covers the time the word is on screen (first to last frame showing
it, within one frame). Every planted word counts, also the ones the OCR cannot read.
Reported: recall@1 with 95 % bootstrap intervals that resample videos (words of one video are
not independent) and, separately, background sources (photo / clip); the share of words whose
shot was found (right video, the hit overlaps the word's time) and among those the share whose
span covers the word's time; the case check; recall by style, by timing (whole shot / mid-shot)
and for second words of a shot; and for each miss what the catalog's shots at the word's time
hold in `ocr_text` (so a miss is put on the OCR side or on the search side).

Named sets (`--set`) fix seeds and generator settings so a set is never reused for tuning.
Sets 1-3 are history (docs/benchmarks/text.md). Set D is the larger fresh set of session 5:
its seeds (8800-8823) and settings (960x540, 30 fps, 8 shots of 2-4.5 s, a word on 90 % of
shots, 40 % of words mid-shot, a second word on 40 % of texted shots) were never used before
and must not be used to tune anything. Set E (seeds 8900-8911, same settings) is kept unseen
as a confirmation set for search-side changes that set D's misses suggested.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

SETS = {
    # history: scored once each, see docs/benchmarks/text.md
    "1": dict(seed=7000, videos=20, shots=6, size="854x480", fps=25.0, shot_seconds=(2.5, 5.0)),
    "2": dict(seed=7500, videos=20, shots=6, size="854x480", fps=25.0, shot_seconds=(2.5, 5.0)),
    "3": dict(seed=7700, videos=20, shots=6, size="854x480", fps=25.0, shot_seconds=(2.5, 5.0)),
    # session 5: never used for tuning
    "D": dict(seed=8800, videos=24, shots=8, size="960x540", fps=30.0, shot_seconds=(2.0, 4.5),
              text_prob=0.9, mid_shot_prob=0.4, second_word_prob=0.4),
    "E": dict(seed=8900, videos=12, shots=8, size="960x540", fps=30.0, shot_seconds=(2.0, 4.5),
              text_prob=0.9, mid_shot_prob=0.4, second_word_prob=0.4),
    # session 6: made after the event-triggered reads, the steady-box crops and the gate's cost
    # changes were final, scored once. Per video one of four (size, fps) pairs in turn (two of them
    # never used before: 1280x720 at 24 fps, 29.97 fps), shots of 1.5-5 s, half the words mid-shot,
    # a second word on half the texted shots
    "F": dict(seed=9000, videos=24, shots=8, size="mixed", fps=None, shot_seconds=(1.5, 5.0),
              variants=[("1280x720", 24.0), ("640x360", 25.0), ("960x540", 30000 / 1001), ("854x480", 30.0)],
              text_prob=0.9, mid_shot_prob=0.5, second_word_prob=0.5),
    # session 7: made after the read-skipping changes (metrics/text.py) were final, scored once. F's
    # generator settings, new seeds, four (size, fps) pairs none of which any earlier set used
    "H": dict(seed=9200, videos=24, shots=8, size="mixed", fps=None, shot_seconds=(1.5, 5.0),
              variants=[("1024x576", 25.0), ("640x360", 24.0), ("1280x720", 30000 / 1001), ("768x432", 30.0)],
              text_prob=0.9, mid_shot_prob=0.5, second_word_prob=0.5),
    # session 8: made after the recall changes (event re-reads, enlarged small event crops, lines
    # carried across cuts) were final, scored once. F/H's generator settings, 16 videos (size fixed
    # before scoring: 48 were planned, cut to 24 and then 16 for the time left on the loaded machine
    # while generating and cataloguing, before any search), new seeds (9300-9315), four (size, fps)
    # pairs no earlier set used
    "I": dict(seed=9300, videos=16, shots=8, size="mixed", fps=None, shot_seconds=(1.5, 5.0),
              variants=[("1152x648", 24.0), ("704x396", 30.0), ("1280x720", 25.0), ("896x504", 30000 / 1001)],
              text_prob=0.9, mid_shot_prob=0.5, second_word_prob=0.5),
}


def cli(*args: str) -> subprocess.CompletedProcess:
    exe = os.path.join(os.path.dirname(sys.executable), "videoforge")
    cmd = [exe, *args] if os.path.exists(exe) else [sys.executable, "-m", "videoforge", *args]
    return subprocess.run(cmd, capture_output=True, text=True)


def requery(word: str) -> str:
    if word.isupper():
        return word.lower()
    if word.islower():
        return word.capitalize()
    return word.upper()


def top_hit(cat: str, q: str) -> dict | None:
    r = cli("search", cat, q, "--json", "--k", "1")
    hits = json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else []
    return hits[0] if hits else None


def boot(x: np.ndarray, groups: list, n: int = 5000, seed: int = 0) -> tuple[float, float]:
    """95 % interval of the mean of x, resampling whole groups (videos or sources) with replacement."""
    keys = sorted(set(groups))
    idx = {k: np.flatnonzero(np.asarray([g == k for g in groups])) for k in keys}
    sums = np.array([x[idx[k]].sum() for k in keys])
    cnts = np.array([len(idx[k]) for k in keys])
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(keys), (n, len(keys)))
    means = sums[pick].sum(1) / cnts[pick].sum(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def norm(s: str) -> str:
    return "".join(c for c in (s or "").casefold() if c.isalnum())


def diagnose(video: str, start: float, end: float, word: str, hz: float = 2.0) -> dict:
    """On the word's frames at `hz` (the engine's sampling rate): how many the text gate passes
    (`metrics.text.gate_frame`), how many PP-OCR reads the word on (whole frame, the engine's
    instance, case and spaces ignored), and what it read there. Puts a miss on the gate, the
    OCR, or the OCR's scheduling (the gate and OCR see the word, the shot's reads did not)."""
    from videoforge.io.decode import decode_frames
    from videoforge.metrics import text as T

    want, nxt = norm(word), start
    out = {"frames": 0, "gate_passed": 0, "ocr_reads_word": 0, "ocr_read": []}
    for fr in decode_frames(video):
        if fr.pts_time < nxt:
            continue
        if fr.pts_time >= end:
            break
        nxt = fr.pts_time + 1.0 / hz
        out["frames"] += 1
        out["gate_passed"] += int(T.gate_frame(fr).passed)
        _, lines = T.ocr_image(fr.bgr())
        out["ocr_reads_word"] += int(any(want in norm(x) for x in lines))
        out["ocr_read"].append(" | ".join(lines))
    return out


def generate(a, cfg: dict, vids: str) -> list[dict]:
    from videoforge.synth.text_scenes import make_text_video, pseudo_words, truth_json

    variants = cfg.get("variants") or [(cfg["size"], cfg["fps"])]
    os.makedirs(vids, exist_ok=True)
    rng = np.random.default_rng(cfg["seed"])
    per_video = cfg["shots"] * (2 if cfg.get("second_word_prob") else 1)
    words = pseudo_words(rng, cfg["videos"] * per_video)
    gen_kw = {k: cfg[k] for k in ("text_prob", "mid_shot_prob", "second_word_prob") if k in cfg}
    truth = []
    for v in range(cfg["videos"]):
        size, fps = variants[v % len(variants)]
        W, H = (int(x) for x in size.split("x"))
        path = os.path.abspath(os.path.join(vids, f"{a.split}-{cfg['seed'] + v}.mp4"))
        tpath = path + ".json"
        if not os.path.exists(tpath):
            shots = make_text_video(path, a.split, cfg["seed"] + v, shots=cfg["shots"], size=(W, H), fps=fps,
                                    shot_seconds=cfg["shot_seconds"],
                                    words=words[v * per_video: (v + 1) * per_video], **gen_kw)
            with open(tpath, "w") as f:
                json.dump(truth_json(shots), f)
        with open(tpath) as f:
            for t in json.load(f):
                for i, w in enumerate([t, *t.get("extra", [])]):
                    if w["word"] and w["text_start"] is not None:
                        truth.append(dict(w, video=path, second=i > 0, fps=fps, size=size,
                                          mid=w["text_start"] > t["start_frame"] or w["text_end"] < t["end_frame"]))
    return truth


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=sorted(SETS), help="a named set (seeds and generator settings fixed)")
    ap.add_argument("--videos", type=int, help="override the set's number of videos (a smaller smoke run)")
    ap.add_argument("--seed", type=int, help="without --set: first seed (set 1's settings otherwise)")
    ap.add_argument("--split", default="heldout", choices=("heldout", "tune"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--reuse-catalog", action="store_true",
                    help="skip `run` when OUT/catalog exists (search-side changes only; index is rebuilt)")
    ap.add_argument("--jobs", type=int, default=2, help="search subprocesses at a time")
    ap.add_argument("--no-diagnose", dest="diagnose", action="store_false",
                    help="skip the gate / whole-frame OCR look at each miss's frames")
    a = ap.parse_args(argv)
    cfg = dict(SETS[a.set or "1"])
    if a.seed is not None:
        cfg["seed"] = a.seed
    if a.videos:
        cfg["videos"] = a.videos
    vids = os.path.join(a.out, "videos")
    cat = os.path.join(a.out, "catalog")
    t0 = time.time()
    truth = generate(a, cfg, vids)
    print(f"set {a.set}: {cfg}; generated/loaded {cfg['videos']} videos in {time.time() - t0:.0f} s; "
          f"{len(truth)} words on screen", file=sys.stderr)

    t_run = None
    if not (a.reuse_catalog and os.path.exists(os.path.join(cat, "catalog.duckdb"))):
        t0 = time.time()
        r = cli("run", vids, "--catalog", cat, "-q")
        t_run = time.time() - t0
        if r.returncode != 0:
            print(r.stdout, r.stderr, file=sys.stderr)
            return 1
    t0 = time.time()
    r = cli("index", cat)
    t_index = time.time() - t0
    if r.returncode != 0:
        print(r.stdout, r.stderr, file=sys.stderr)
        return 1

    t0 = time.time()
    queries = [requery(t["word"]) for t in truth]
    with ThreadPoolExecutor(max(1, a.jobs)) as ex:
        swapped = list(ex.map(lambda q: top_hit(cat, q), queries))
    t_search = time.time() - t0
    # the case check: the word as drawn, through the library call the CLI makes (one process:
    # a second round of CLI start-ups would double the benchmark's time on a loaded machine)
    from videoforge.search import search as lib_search

    drawn = []
    for t in truth:
        h = lib_search(cat, text=t["word"], k=1)
        drawn.append({**h[0].to_json()} if h else None)
    answers = [x for pair in zip(swapped, drawn) for x in pair]

    import duckdb

    con = duckdb.connect(os.path.join(cat, "catalog.duckdb"), read_only=True)
    rows = []
    for i, t in enumerate(truth):
        hit, hit_drawn = answers[2 * i], answers[2 * i + 1]
        fps = t["fps"]
        frame = 1.0 / fps + 1e-3
        shown = (t["text_start"] / fps, (t["text_end"] + 1) / fps)
        right_video = bool(hit) and os.path.abspath(hit["video"]) == t["video"]
        found = right_video and hit["start_time"] < shown[1] and hit["end_time"] > shown[0]
        covers = found and hit["start_time"] <= shown[0] + frame and hit["end_time"] >= shown[1] - frame
        same = (hit or {}).get("shot_id") == (hit_drawn or {}).get("shot_id")
        ok_drawn = bool(hit_drawn) and os.path.abspath(hit_drawn["video"]) == t["video"] and \
            hit_drawn["start_time"] <= shown[0] + frame and hit_drawn["end_time"] >= shown[1] - frame
        row = dict(video=os.path.basename(t["video"]), size=t["size"], background=t["background"], word=t["word"], style=t["style"],
                   font=t["font"], height=t["text_height"], angle=round(t["angle"], 1), mid=t["mid"],
                   second=t["second"], shown=[round(shown[0], 3), round(shown[1], 3)], ok=int(covers),
                   found=int(found), ok_drawn=int(ok_drawn), same_case=int(same),
                   hit=[os.path.basename(hit["video"]), round(hit["start_time"], 3), round(hit["end_time"], 3)]
                   if hit else None)
        if not covers:   # what the catalog holds where the word is on screen
            vid = con.execute("SELECT video_id FROM videos WHERE path = ?", [t["video"]]).fetchone()
            row["catalog_at_word"] = [
                [round(s, 3), round(e, 3), o] for s, e, o in con.execute(
                    "SELECT start_time, end_time, ocr_text FROM shots WHERE video_id = ? AND start_time < ? "
                    "AND end_time > ? ORDER BY start_time", [vid[0] if vid else "", shown[1], shown[0]]).fetchall()]
            if a.diagnose:
                row["diagnosis"] = diagnose(t["video"], shown[0], shown[1], t["word"])
        rows.append(row)
    con.close()

    x = np.array([r["ok"] for r in rows], float)
    videos = [r["video"] for r in rows]
    sources = [r["background"] for r in rows]
    lo_v, hi_v = boot(x, videos)
    lo_s, hi_s = boot(x, sources)
    lo_w, hi_w = boot(x, list(range(len(x))))
    found = np.array([r["found"] for r in rows], float)
    cover_of_found = x.sum() / max(1, found.sum())
    drawn = np.array([r["ok_drawn"] for r in rows], float)
    same = np.array([r["same_case"] for r in rows], float)

    def by(key):
        out = {}
        for r in rows:
            out.setdefault(str(r[key]), []).append(r["ok"])
        return {k: (round(float(np.mean(v)), 3), len(v)) for k, v in sorted(out.items())}

    print(f"recall@1 {x.mean():.3f}  95% CI by video [{lo_v:.3f}, {hi_v:.3f}]  by source [{lo_s:.3f}, {hi_s:.3f}]  "
          f"by word [{lo_w:.3f}, {hi_w:.3f}]  n={len(x)} words, {len(set(videos))} videos, {len(set(sources))} sources "
          f"(split {a.split}, set {a.set}, seeds {cfg['seed']}-{cfg['seed'] + cfg['videos'] - 1}, "
          f"{cfg.get('variants') or (cfg['size'], cfg['fps'])})")
    print(f"shot found@1 {found.mean():.3f}; time span covers the word in {cover_of_found:.3f} of found hits")
    print(f"case check: query as drawn recall@1 {drawn.mean():.3f}; same top hit in both cases {same.mean():.3f}")
    print(f"times: run {t_run if t_run is None else round(t_run)} s, index {t_index:.0f} s, "
          f"{len(queries)} CLI searches {t_search:.0f} s")
    print("by style:", by("style"))
    print("mid-shot:", by("mid"), " second word of a shot:", by("second"), " by size:", by("size"))
    for r in rows:
        if not r["ok"]:
            print("miss:", json.dumps({k: r[k] for k in ("video", "word", "style", "font", "height", "angle", "mid",
                                                         "second", "shown", "hit", "catalog_at_word", "diagnosis") if k in r}))
    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump({"set": a.set, "config": cfg, "recall_at_1": float(x.mean()),
                   "ci95_by_video": [lo_v, hi_v], "ci95_by_source": [lo_s, hi_s], "ci95_by_word": [lo_w, hi_w],
                   "n": len(x), "found_at_1": float(found.mean()), "covers_given_found": float(cover_of_found),
                   "recall_at_1_drawn_case": float(drawn.mean()), "same_top_hit_both_cases": float(same.mean()),
                   "by_style": by("style"), "by_mid": by("mid"), "by_second": by("second"), "by_size": by("size"),
                   "run_s": t_run, "index_s": t_index, "search_s": t_search, "rows": rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
