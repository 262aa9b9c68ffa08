"""Files the server sends: shot thumbnails (JPEG) and shot clips (MP4), kept inside the catalog.

Every file that goes out is resolved with symlinks followed and must lie inside the
catalog folder; source videos read to cut a clip must lie inside `--media-root` when the
server has one. Anything else is refused (`MediaRefused`), never opened.
Clips are cut on first request into `CATALOG/cache/clips/` and reused afterwards.
"""

from __future__ import annotations

import os
import threading

CACHE_DIR = "cache"


class MediaRefused(Exception):
    """A path points outside the folders the server may read (traversal, symlink out, absolute path)."""


class MediaMissing(Exception):
    """The shot exists but its media cannot be produced (no keyframe, source gone, decode failure)."""


class MediaUncuttable(MediaMissing):
    """The source is there but the shot's clip cannot be cut from it; the message says why."""

    def __init__(self, path: str, message: str):
        super().__init__(message)
        self.path = path


def inside(path: str, root: str) -> bool:
    """True when `path` (symlinks resolved) is `root` or lies under it."""
    real, base = os.path.realpath(path), os.path.realpath(root)
    return real == base or real.startswith(base.rstrip(os.sep) + os.sep)


def _inside_or_refused(root: str, stored: str, what: str) -> str:
    """`stored` (relative to `root`, or absolute) resolved, if it stays inside `root`."""
    if not stored or "\x00" in stored:
        raise MediaRefused("empty or invalid path")
    path = stored if os.path.isabs(stored) else os.path.join(root, stored)
    if not inside(path, root):
        raise MediaRefused(f"{stored}: outside {what}")
    return os.path.realpath(path)


def catalog_file(catalog_root: str, stored: str) -> str:
    """Resolve a path recorded in the catalog (relative to it, or absolute) and check it stays inside."""
    return _inside_or_refused(catalog_root, stored, "the catalog folder")


def existing_media_paths(media_root: str, requested: list[str]) -> list[str]:
    """Absolute paths of `requested` (relative to --media-root) for a run or a plan: MediaRefused
    when one leaves the root, MediaMissing naming every one that does not exist."""
    resolved = [media_path(media_root, p) for p in requested]
    missing = [p for p, r in zip(requested, resolved) if not os.path.exists(r)]
    if missing:
        raise MediaMissing(f"not found under --media-root: {', '.join(missing)}")
    return resolved


def requested_video_files(media_root: str, requested: list[str]) -> list[str]:
    """The video files a run or plan request names (files or folders under --media-root), for
    the API: HTTP 403 for a path out of the root, 404 for missing paths or no video in them.
    Folders are walked here, not in the run, so a symlink inside a folder that points out of
    --media-root is dropped like a path that names it directly."""
    from fastapi import HTTPException

    from videoforge.engine.discover import discover

    try:
        resolved = existing_media_paths(media_root, requested)
    except MediaRefused as e:
        raise HTTPException(403, f"refused: {e}") from None
    except MediaMissing as e:
        raise HTTPException(404, str(e)) from None
    files = [f for f in discover(resolved)[0] if inside(f, media_root)]
    if not files:
        raise HTTPException(404, "no video files under --media-root in: " + ", ".join(requested))
    return files


def media_path(media_root: str, requested: str) -> str:
    """A user-supplied path for a run: relative to `media_root`, or absolute but inside it."""
    return _inside_or_refused(media_root, requested, "--media-root")


def _cache(catalog_root: str, kind: str) -> str:
    d = os.path.join(catalog_root, CACHE_DIR, kind)
    os.makedirs(d, exist_ok=True)
    return d


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(key: str) -> threading.Lock:
    # One cut per clip at a time: concurrent requests for the same shot wait for the first.
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def _check_source(row: dict, media_root: str | None) -> str:
    src = row["source"]
    if media_root is not None and not inside(src, media_root):
        raise MediaRefused(f"{src}: source video is outside --media-root")
    if not os.path.isfile(src):
        raise MediaMissing(f"{src}: source video no longer exists")
    return os.path.realpath(src)


def thumbnail_file(catalog_root: str, row: dict, media_root: str | None) -> str:
    """A JPEG for the shot: its middle keyframe, or a frame decoded from mid-shot and cached."""
    kfs = [k for k in row.get("keyframes") or [] if k]
    if kfs:
        path = catalog_file(catalog_root, kfs[len(kfs) // 2])
        if os.path.isfile(path):
            return path
    out = os.path.join(_cache(catalog_root, "thumbs"), f"{row['shot_id']}.jpg")
    if os.path.isfile(out):
        return out
    src = _check_source(row, media_root)
    with _lock_for(out):
        if not os.path.isfile(out):
            _grab_frame(src, (row["start_time"] + row["end_time"]) / 2, out)
    return out


def _grab_frame(src: str, seconds: float, out: str, max_side: int = 320) -> None:
    import av
    import cv2
    import numpy as np

    try:
        with av.open(src) as c:
            vs = c.streams.video[0]
            if vs.time_base:
                c.seek(int(seconds / vs.time_base), stream=vs, backward=True)
            picked = None
            for f in c.decode(vs):
                picked = f
                if f.time is not None and f.time >= seconds:
                    break
            if picked is None:
                raise MediaMissing(f"{src}: no frame decodes near {seconds:.2f}s")
            img = picked.to_ndarray(format="bgr24")
            k = (int(round(getattr(picked, "rotation", 0) or 0)) // 90) % 4
            if k:
                img = np.ascontiguousarray(np.rot90(img, k=k))
    except av.error.FFmpegError as e:
        raise MediaMissing(f"{src}: cannot decode a thumbnail ({e})") from e
    h, w = img.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1:
        img = cv2.resize(img, (max(2, int(w * scale)), max(2, int(h * scale))), interpolation=cv2.INTER_AREA)
    tmp = out + f".{os.getpid()}.{threading.get_ident()}.tmp.jpg"
    if not cv2.imwrite(tmp, img, [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise MediaMissing(f"{out}: cannot write thumbnail")
    os.replace(tmp, out)


def clip_file(catalog_root: str, row: dict, media_root: str | None) -> str:
    """An MP4 of exactly the shot's frames: an exported clip if one is recorded, else cut once and cached."""
    for stored in row.get("export_clips") or []:
        try:
            path = catalog_file(catalog_root, stored)
        except MediaRefused:
            continue  # exports written outside the catalog are not served; cut our own
        if os.path.isfile(path):
            return path
    name = f"{row['shot_id']}-{row['start_frame']}-{row['end_frame']}.mp4"
    out = os.path.join(_cache(catalog_root, "clips"), name)
    if os.path.isfile(out):
        return out
    src = _check_source(row, media_root)
    with _lock_for(out):
        if os.path.isfile(out):
            return out
        from videoforge.io.clips import build_packet_index, cut_clip
        from videoforge.io.errors import VideoError

        tmp = out + f".{os.getpid()}.{threading.get_ident()}.tmp.mp4"
        try:
            idx = build_packet_index(src)
            # Browsers play H.264 in MP4; anything else is re-encoded (stream copy keeps H.264 as is).
            frames = row.get("source_frames")   # the decoder's count: cut_clip seeks only where packets agree
            cut_clip(src, tmp, int(row["start_frame"]), int(row["end_frame"]), index=idx,
                     reencode=idx.codec != "h264", crf=23, frames=int(frames) if frames is not None else None)
            os.replace(tmp, out)
        except VideoError as e:
            raise MediaUncuttable(src, str(e)) from e
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
    return out
