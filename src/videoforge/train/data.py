"""Training data from a videoforge export: Open-Sora CSV or WebDataset shards, decoded with PyAV.

Rows keep every manifest column (`text` is the caption, metric columns condition the
model). Each row goes to one (frames, height, width) bucket: the closest aspect ratio among
the buckets it has enough frames for, then the largest. Batches are drawn from one bucket
at a time by `BucketSampler`, as a pure function of (seed, step): resuming at step s
replays exactly the batches a straight run would have drawn.
"""

from __future__ import annotations

import glob
import hashlib
import io
import json
import math
import os
import tarfile

import numpy as np

from videoforge.train.config import DataConfig


def read_manifest(cfg: DataConfig) -> list[dict]:
    """Rows of the export (CSV or WebDataset), filtered by `cfg.where`; `_src` is a path or mp4 bytes."""
    path = cfg.manifest
    if not path or not os.path.exists(path):
        raise ValueError(f"data.manifest {path!r}: no such file or folder (an Open-Sora CSV or WebDataset shards)")
    if path.endswith(".csv"):
        rows = _select(_read_csv(path), cfg.where, path)
        base = os.path.dirname(os.path.abspath(path))
        for r in rows:
            r["_src"] = r["path"] if os.path.isabs(r["path"]) else os.path.join(base, r["path"])
    else:
        shards = sorted(glob.glob(os.path.join(path, "*.tar"))) if os.path.isdir(path) else [path]
        if not shards:
            raise ValueError(f"{path}: no WebDataset .tar shards here")
        rows = _select(_read_webdataset(shards), cfg.where, path)
    if cfg.captions:
        rows = join_captions(rows, cfg.captions)
    for r in rows:
        r["caption"] = str(r.get(cfg.caption_column) or "")
    return rows


def _read_csv(path: str) -> list[dict]:
    import duckdb

    con = duckdb.connect()
    try:
        cur = con.execute("SELECT * FROM read_csv_auto(?, header = true)", [path])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row)) for row in cur.fetchall()]
    finally:
        con.close()


def _read_webdataset(shards: list[str]) -> list[dict]:
    """One row per sample key holding both an .mp4 and a .json member; the mp4 bytes go in `_src`."""
    rows = []
    for shard in shards:
        groups: dict[str, dict] = {}
        with tarfile.open(shard) as tar:
            for m in tar.getmembers():
                if not m.isfile():
                    continue
                key, _, ext = m.name.rpartition("/")[-1].partition(".")
                groups.setdefault(key, {})[ext] = tar.extractfile(m).read()
        for key, g in sorted(groups.items()):
            if "mp4" in g and "json" in g:
                row = json.loads(g["json"])
                row["_src"] = g["mp4"]
                row.setdefault("path", f"{shard}#{key}")
                rows.append(row)
    return rows


def _select(rows: list[dict], where: str | None, what: str) -> list[dict]:
    """Apply an SQL WHERE over the rows' columns with DuckDB (same dialect as `videoforge export --where`)."""
    from videoforge.catalog.sqlfilter import parse_filter

    where = parse_filter(where, f"{what}: data.where")   # exactly one expression, or SQLFilterError (a ValueError)
    if not where or not rows:
        return rows
    import duckdb
    import pyarrow as pa

    plain = [{k: v for k, v in r.items() if k != "_src"} for r in rows]
    for i, r in enumerate(plain):
        r["_row"] = i
    con = duckdb.connect()
    try:
        con.register("manifest", pa.Table.from_pylist(plain))
        keep = [x[0] for x in con.execute(f"SELECT _row FROM manifest WHERE {where}").fetchall()]
    except duckdb.Error as e:
        raise ValueError(f"{what}: data.where {where!r} failed: {e}") from e
    finally:
        con.close()
    return [rows[i] for i in sorted(keep)]


def join_captions(rows: list[dict], captions_path: str) -> list[dict]:
    """Fill empty `text` from a JSON map keyed by source_path (or its basename) or video_id."""
    with open(captions_path) as f:
        caps = json.load(f)
    by_base = {os.path.basename(k): v for k, v in caps.items()}
    for r in rows:
        if r.get("text"):
            continue
        sp = str(r.get("source_path") or "")
        r["text"] = caps.get(sp) or by_base.get(os.path.basename(sp)) or caps.get(str(r.get("video_id"))) or ""
    return rows


def assign_bucket(row: dict, buckets: list[list[int]]) -> int | None:
    """Index of the bucket for `row`: enough frames, closest aspect ratio, then largest; None if none fits."""
    n = int(row.get("num_frames") or 0)
    h, w = int(row.get("height") or 0), int(row.get("width") or 0)
    if n <= 0 or h <= 0 or w <= 0:
        return None
    ar = math.log(h / w)
    fits = [i for i, (f, bh, bw) in enumerate(buckets) if f <= n]
    if not fits:
        return None
    return min(fits, key=lambda i: (round(abs(math.log(buckets[i][1] / buckets[i][2]) - ar), 3),
                                    -buckets[i][0] * buckets[i][1] * buckets[i][2]))


def decode_rgb(src, frames: int, height: int, width: int, start: int = 0) -> np.ndarray:
    """`frames` frames (frames, height, width, 3) uint8 RGB from a path or mp4 bytes, centre-cropped to the aspect.

    For frames == 1 the middle frame is taken (the image stage samples stills from clips).
    """
    import av
    import cv2

    what = src if isinstance(src, str) else "<mp4 bytes>"
    try:
        with av.open(src if isinstance(src, str) else io.BytesIO(src)) as c:
            stream = c.streams.video[0]
            stream.thread_type = "AUTO"
            imgs = [f.to_ndarray(format="rgb24") for f in c.decode(stream)]
    except (av.error.FFmpegError, OSError) as e:
        raise ValueError(f"{what}: cannot decode ({e})") from e
    if not imgs:
        raise ValueError(f"{what}: no video frames")
    if frames == 1:
        imgs = [imgs[len(imgs) // 2]]
    else:
        imgs = imgs[start: start + frames]
        imgs += [imgs[-1]] * (frames - len(imgs))   # short clip: hold the last frame
    out = np.empty((frames, height, width, 3), np.uint8)
    for i, im in enumerate(imgs):
        h, w = im.shape[:2]
        if h * width > w * height:        # too tall: crop rows
            ch = w * height // width
            im = im[(h - ch) // 2: (h - ch) // 2 + ch]
        elif h * width < w * height:      # too wide: crop columns
            cw = h * width // height
            im = im[:, (w - cw) // 2: (w - cw) // 2 + cw]
        out[i] = cv2.resize(im, (width, height), interpolation=cv2.INTER_AREA)
    return out


class ClipSet:
    """Rows + their buckets; `clip(i)` decodes (and caches in memory and on disk) a row's frames."""

    def __init__(self, rows: list[dict], buckets: list[list[int]], cache_dir: str | None = None):
        self.buckets = [list(b) for b in buckets]
        kept = [(r, assign_bucket(r, self.buckets)) for r in rows]
        self.rows = [r for r, b in kept if b is not None]
        self.bucket_of = [b for _, b in kept if b is not None]
        self.dropped = len(rows) - len(self.rows)
        if not self.rows:
            raise ValueError(f"no manifest row fits the buckets {self.buckets} (too few frames?)")
        self.cache_dir = cache_dir
        self._mem: dict[int, np.ndarray] = {}

    def __len__(self):
        return len(self.rows)

    def key(self, i: int) -> str:
        r = self.rows[i]
        ident = str(r.get("shot_id") or r.get("path"))
        return hashlib.sha1(f"{ident}|{self.buckets[self.bucket_of[i]]}".encode()).hexdigest()[:16]

    def clip(self, i: int) -> np.ndarray:
        """Frames (T, H, W, 3) uint8 of row i at its bucket's size."""
        if i in self._mem:
            return self._mem[i]
        path = os.path.join(self.cache_dir, "clips", self.key(i) + ".npy") if self.cache_dir else None
        if path and os.path.exists(path):
            arr = np.load(path)
        else:
            f, h, w = self.buckets[self.bucket_of[i]]
            arr = decode_rgb(self.rows[i]["_src"], f, h, w)
            if path:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                # a temp name per process: ranks of one run fill the same cache at the same time
                tmp = f"{path}.{os.getpid()}.tmp.npy"
                np.save(tmp, arr)
                os.replace(tmp, path)
        self._mem[i] = arr
        return arr


class BucketSampler:
    """Batch indices as a pure function of (seed, step, rank): one bucket per global batch."""

    def __init__(self, bucket_of: list[int], batch_size: int, seed: int = 0):
        self.batch_size, self.seed = batch_size, seed
        self.members: dict[int, np.ndarray] = {}
        for i, b in enumerate(bucket_of):
            self.members.setdefault(b, []).append(i)
        self.members = {b: np.array(v) for b, v in sorted(self.members.items())}
        sizes = np.array([len(v) for v in self.members.values()], dtype=np.float64)
        self.p = sizes / sizes.sum()

    def batch(self, step: int, rank: int = 0, world: int = 1) -> list[int]:
        rng = np.random.default_rng([self.seed, step])
        b = list(self.members)[rng.choice(len(self.members), p=self.p)]
        idx = self.members[b]
        n = self.batch_size * world
        pick = rng.permutation(idx)[:n] if len(idx) >= n else rng.choice(idx, n, replace=True)
        return [int(i) for i in pick[rank * self.batch_size:(rank + 1) * self.batch_size]]
