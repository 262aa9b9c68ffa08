"""Manifest and shard writers, swapped by format name: Open-Sora CSV, Parquet, WebDataset tars."""

from __future__ import annotations

import csv
import io
import json
import os
import tarfile

MANIFEST_CSV = "manifest.csv"
MANIFEST_PARQUET = "manifest.parquet"
SHARD_PATTERN = "shard-%06d.tar"


def write_opensora_csv(rows: list[dict], columns: list[str], out_dir: str) -> str:
    """One CSV for the export; `path` is relative to the CSV's folder. Returns the CSV's path."""
    path = os.path.join(out_dir, MANIFEST_CSV)
    tmp = path + ".tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else v) for k, v in r.items()})
    os.replace(tmp, path)  # a reader never sees half a manifest
    return path


# Arrow types of the fixed columns; metric columns take theirs from the catalog (DuckDB types).
_FIXED_ARROW = {"path": "string", "text": "string", "num_frames": "int64", "height": "int64", "width": "int64",
                "aspect_ratio": "float64", "fps": "float64", "resolution": "int64", "source_path": "string",
                "video_id": "string", "shot_id": "string", "start_time": "float64", "end_time": "float64",
                "start_frame": "int64", "end_frame": "int64"}
_DUCK_TO_ARROW = {"DOUBLE": "float64", "FLOAT": "float32", "REAL": "float32", "INTEGER": "int64", "BIGINT": "int64",
                  "SMALLINT": "int64", "TINYINT": "int64", "HUGEINT": "float64", "BOOLEAN": "bool"}


def write_parquet(rows: list[dict], columns: list[str], out_dir: str, duck_types: dict[str, str] | None = None) -> str:
    """A Parquet manifest (pyarrow) with the CSV's columns, typed (an all-NULL metric keeps its type). Returns its path."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    duck_types = duck_types or {}
    fields = []
    for c in columns:
        t = _FIXED_ARROW.get(c) or _DUCK_TO_ARROW.get(str(duck_types.get(c, "")).upper(), "string")
        fields.append(pa.field(c, pa.type_for_alias(t)))
    schema = pa.schema(fields)
    data = {c: [r.get(c) if schema.field(c).type != pa.string() or r.get(c) is None else str(r.get(c)) for r in rows]
            for c in columns}
    table = pa.table(data, schema=schema)
    path = os.path.join(out_dir, MANIFEST_PARQUET)
    tmp = path + ".tmp"
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    return path


def _add_member(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, 0  # fixed mtime: same shard bytes on every rerun
    tar.addfile(info, io.BytesIO(data))


def write_webdataset(rows: list[dict], columns: list[str], out_dir: str, shard_size: int = 1000) -> list[str]:
    """Tar shards of `shard_size` samples: `<shot_id>.mp4` + `<shot_id>.json` (the manifest row).

    WebDataset's format is a plain tar whose members sharing a basename form one sample, so the
    standard library writes it (the `webdataset` package is only needed to read). Each row's
    `path` is the clip file to pack; inside the shard the JSON's `path` names the sample's own
    member (`<shot_id>.mp4`). Returns the shard paths.
    """
    shards: list[str] = []
    os.makedirs(out_dir, exist_ok=True)
    for n, i in enumerate(range(0, len(rows), max(1, shard_size))):
        path = os.path.join(out_dir, SHARD_PATTERN % n)
        tmp = path + ".tmp"
        with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
            for r in rows[i: i + shard_size]:
                with open(r["path"], "rb") as f:
                    video = f.read()
                meta = {c: r.get(c) for c in columns}
                meta["path"] = f"{r['shot_id']}.mp4"
                _add_member(tar, f"{r['shot_id']}.mp4", video)
                if r.get("matte_path"):   # export --matte: the shot's alpha clip is one more member
                    with open(r["matte_path"], "rb") as f:
                        _add_member(tar, f"{r['shot_id']}.alpha.mkv", f.read())
                    meta["matte_path"] = f"{r['shot_id']}.alpha.mkv"
                _add_member(tar, f"{r['shot_id']}.json", json.dumps(meta, ensure_ascii=False).encode())
        os.replace(tmp, path)
        shards.append(path)
    return shards
