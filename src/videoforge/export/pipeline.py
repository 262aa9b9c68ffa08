"""`export_catalog`: selected shots -> one clip file per shot -> a manifest (or shards) in one folder.

Clips are cut per source video (one packet index per source, shared by its shots), in a
process pool over videos. A shot that cannot be cut (missing or damaged source) becomes an
`errors` row with stage "export" and the rest continue.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field

from videoforge.catalog import Catalog
from videoforge.catalog.markers import EXPORT_MARKER, mark
from videoforge.engine.backends import get_backend
from videoforge.export.manifest import LINEAGE_COLUMNS, OPENSORA_COLUMNS, manifest_row, metric_columns
from videoforge.export.select import select_shots, shot_column_types
from videoforge.export.writers import write_opensora_csv, write_parquet, write_webdataset

FORMATS = ("opensora", "webdataset", "parquet")


@dataclass
class ExportSummary:
    format: str
    out_dir: str
    manifest: str | None = None          # CSV / Parquet path (None for webdataset)
    shards: list[str] = field(default_factory=list)
    selected: int = 0                     # shots matching the filter
    exported: int = 0                     # clips written
    failed: int = 0
    copied: int = 0                       # clips stream-copied
    reencoded: int = 0                    # clips re-encoded with libx264
    frames: int = 0                       # frames in all exported clips
    seconds: float = 0.0                  # wall time of the export
    errors: list[dict] = field(default_factory=list)  # {path, stage, message, shot_id}
    cancelled: bool = False
    matted: int = 0                       # alpha-matte clips written (--matte)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class _VideoJob:
    source: str
    shots: list[dict]
    clips_dir: str
    reencode: bool
    audio: bool


def _frame_range(idx, shot: dict) -> tuple[int, int]:
    """The shot's frame indices: the catalog's, which count the frames the decoder delivers.
    cut_clip selects by them (seeking through the packet index only where it counts the same
    frames), so a decoder that drops a damaged frame or a stream that starts mid-GOP is cut
    at the catalog's frames, not at the packets' (export tests: mid-GOP start)."""
    return int(shot["start_frame"]), int(shot["end_frame"])


def _cut_video(job: _VideoJob) -> list[tuple[dict, object | None, str | None]]:
    """Cut every selected shot of one source (cut_clips: shots that cannot seek share one
    decode pass). Returns (shot, ClipResult or None, error message) per shot, in order."""
    from videoforge.io.clips import build_packet_index, cut_clips
    from videoforge.io.errors import VideoError

    try:
        idx = build_packet_index(job.source)
    except VideoError as e:
        return [(s, None, str(e)) for s in job.shots]
    out: dict[int, tuple] = {}
    ranges, cut = [], []
    for k, shot in enumerate(job.shots):
        s, e = _frame_range(idx, shot)
        if e < s:
            out[k] = (shot, None, f"{job.source}: shot {shot['shot_id']} has no frames in the source")
            continue
        ranges.append((s, e, os.path.join(job.clips_dir, shot["video_id"], f"{shot['shot_id']}.mp4")))
        cut.append(k)
    if ranges:
        first = job.shots[cut[0]]
        frames = first.get("source_frames")
        try:
            results = cut_clips(job.source, ranges, index=idx, reencode=job.reencode,
                                audio=job.audio and bool(first.get("source_has_audio", True)),
                                frames=int(frames) if frames is not None else None)
        except VideoError as err:
            results = [err] * len(ranges)
        except Exception as err:  # noqa: BLE001 - one bad source never stops the export
            results = [f"{job.source}: cannot cut shots ({type(err).__name__}: {err})"] * len(ranges)
        for k, r in zip(cut, results):
            shot = job.shots[k]
            out[k] = (shot, None, str(r)) if isinstance(r, (Exception, str)) else (shot, r, None)
    return [out[k] for k in range(len(job.shots))]


def export_catalog(
    catalog_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    format: str = "opensora",  # noqa: A002 - the CLI's word
    where: str | None = None,
    min_seconds: float | None = None,
    limit: int | None = None,
    workers: int | None = None,
    reencode: bool = False,
    audio: bool = True,
    shard_size: int = 1000,
    record_errors: bool = True,
    progress: bool = False,
    absolute_paths: bool = False,
    cancel=None,
    on_event=None,
    matte: bool = False,
) -> ExportSummary:
    """Export the selected shots of a catalog as clips plus a manifest; returns an ExportSummary.

    `where` is an SQL boolean over `shots` columns (videos' columns as `v.<name>`);
    `min_seconds` keeps shots at least that long (s). Manifest `path`s are relative to the
    manifest's folder unless `absolute_paths`. `cancel` (a threading.Event-like object) stops
    between videos, keeping what was cut; `on_event(dict)` receives progress events.
    Raises SelectionError for bad SQL, CatalogError for a missing catalog, ValueError for an
    unknown format.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; choose one of {', '.join(FORMATS)}")
    t0 = time.perf_counter()
    catalog = Catalog(catalog_dir)
    out_dir = os.path.abspath(os.fspath(out_dir))
    shots = select_shots(catalog, where=where, min_seconds=min_seconds, limit=limit)
    summary = ExportSummary(format=format, out_dir=out_dir, selected=len(shots))
    os.makedirs(out_dir, exist_ok=True)
    mark(out_dir, EXPORT_MARKER)   # `videoforge run` never re-ingests exported clips
    clips_dir = os.path.join(out_dir, ".clips-tmp" if format == "webdataset" else "clips")

    by_source: dict[str, list[dict]] = {}
    for s in shots:
        by_source.setdefault(s["source_path"], []).append(s)
    jobs = [_VideoJob(src, rows, clips_dir, reencode, audio) for src, rows in by_source.items()]

    results: dict[str, tuple[dict, object | None, str | None]] = {}
    emit = on_event or (lambda e: None)
    emit({"event": "start", "done": 0, "total": len(shots)})
    bar = None
    if progress and shots:
        from tqdm import tqdm

        bar = tqdm(total=len(shots), unit="clip", file=sys.stderr, desc="exporting", dynamic_ncols=True)
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(jobs) or 1))
    backend = get_backend("inline" if n_workers == 1 else "local", workers=n_workers)

    def crashed(job: _VideoJob):
        msg = f"{job.source}: worker process crashed while cutting clips (decoder fault or out of memory)"
        return [(s, None, msg) for s in job.shots]

    try:
        for outcome in backend.imap_unordered(_cut_video, jobs, crashed=crashed, cancel=cancel):
            for shot, clip, err in outcome or []:
                results[shot["shot_id"]] = (shot, clip, err)
                if bar is not None:
                    bar.update(1)
            emit({"event": "clips_done", "done": len(results), "total": len(shots)})
    finally:
        backend.close()
        if bar is not None:
            bar.close()
    if cancel is not None and cancel.is_set():
        summary.cancelled = True
        shots = [s for s in shots if s["shot_id"] in results]   # the manifest lists what was cut

    metrics = metric_columns(list(shots[0].keys())) if shots else []
    columns = OPENSORA_COLUMNS + metrics + LINEAGE_COLUMNS
    rows = []
    for s in shots:  # catalog order: source path, then start frame
        shot, clip, err = results[s["shot_id"]]
        if clip is None:
            summary.failed += 1
            summary.errors.append({"path": shot["source_path"], "stage": "export", "message": err,
                                   "shot_id": shot["shot_id"]})
            continue
        summary.exported += 1
        summary.frames += clip.num_frames
        summary.copied += clip.method == "copy"
        summary.reencoded += clip.method == "reencode"
        keep_abs = absolute_paths or format == "webdataset"   # webdataset: the packer reads the file
        path = os.path.abspath(clip.path) if keep_abs else os.path.relpath(clip.path, out_dir)
        rows.append(manifest_row(shot, clip, path, metrics))

    if matte:   # per-shot alpha clips next to the clips (enhance/matte_export.py)
        from videoforge.enhance.matte_export import MATTE_COLUMN, add_mattes

        columns = columns + [MATTE_COLUMN]
        summary.matted, matte_errors = add_mattes(rows, out_dir, absolute_paths or format == "webdataset",
                                                  progress=progress, cancel=cancel)
        summary.errors.extend(matte_errors)

    if format == "opensora":
        summary.manifest = write_opensora_csv(rows, columns, out_dir)
    elif format == "parquet":
        summary.manifest = write_parquet(rows, columns, out_dir, shot_column_types(catalog))
    else:
        summary.shards = write_webdataset(rows, columns, out_dir, shard_size=shard_size)
        shutil.rmtree(clips_dir, ignore_errors=True)

    if record_errors and summary.errors:
        _record(catalog, summary.errors)
    summary.seconds = time.perf_counter() - t0
    emit({"event": "finished", "done": summary.exported + summary.failed, "total": summary.selected,
          "exported": summary.exported, "failed": summary.failed, "cancelled": summary.cancelled})
    return summary


def _record(catalog: Catalog, errors: list[dict]) -> None:
    """One `errors` row per failed source (stage "export"), naming the file and the problem."""
    from videoforge.catalog.commit import record_error

    seen: dict[str, str] = {}
    for e in errors:
        seen.setdefault(e["path"], e["message"])
    with catalog.write() as con:
        for path, message in seen.items():
            record_error(con, path, "export", message)
