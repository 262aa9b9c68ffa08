"""Detect shots for a path: one decode pass through a registered detector.

With `workers` > 1 and a detector whose per-frame work depends on each frame alone (the
default one), the video is cut at clean keyframes (io/segments.py) and the segments are
decoded and analysed in parallel processes, each decoder on one thread: on 2 cores this
beats one frame-threaded decoder, whose threads wait on each other and on the GIL. The
joined result is bit-identical to one pass; whenever a segment cannot guarantee that, the
video is decoded in one pass instead.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from videoforge.io.decode import DecodeStats, SegmentError, decode_frames
from videoforge.io.errors import VideoError
from videoforge.shots.base import Shot, Transition, get_detector


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def detect(path: str | os.PathLike, detector: str = "videoforge", with_info: bool = True, workers: int = 1,
           **params):
    """Shots and transitions of one video -> (shots, transitions, stats, info).

    `stats` is the DecodeStats of the pass (per-frame PTS in seconds, frames decoded);
    `info` the probe result (VideoInfo), or None when `with_info` is False or probing fails
    but decoding works. `workers` > 1 decodes segments in that many processes (forked: call
    it from a process that has no threads of its own running, as the CLI does).
    Raises VideoError naming the file when it cannot be read.
    """
    from videoforge.io.probe import probe

    path = str(path)
    if not os.path.exists(path):
        raise VideoError(path, "no such file", stage="probe")
    info = None
    if with_info:  # the CLI skips it: the decode pass alone gives frames, PTS and fps
        try:
            info = probe(path)
        except VideoError:
            raise
        except Exception:  # noqa: BLE001 - probing is informative only; decoding decides
            info = None
    det = get_detector(detector, **params)
    if workers > 1 and getattr(det, "segmentable", False):
        done = _detect_in_segments(path, det, detector, params, workers)
        if done is not None:
            return (*done, info)
        det = get_detector(detector, **params)
    stats = DecodeStats()
    # The same decode as `videoforge run`, so both commands find the same shots.
    for frame in decode_frames(path, stats=stats):
        det.process(frame)
    shots, transitions = det.finish(stats)
    return shots, transitions, stats, info


# More, shorter segments than processes, costliest first, each taken by the next free
# worker: keyframes fall where the encoder put them and busy pictures take longer to decode,
# so segments differ in cost, and with one segment per worker a core would idle while the
# costliest finishes.
SEGMENTS_PER_WORKER = 4
# Decoding a segment costs about one frame's worth of time per this many compressed bytes
# on top of a fixed cost per frame (fitted on 640x360 H.264: 0.78 ms per frame + 0.15 ms
# per KB on the 2-core reference machine; the ratio is what matters, not the machine).
BYTES_PER_FRAME_COST = 5200


def segment_cost(seg) -> float:
    """Estimated decode-and-analysis time of a planned segment, in frames."""
    return seg.frames + (seg.nbytes / BYTES_PER_FRAME_COST if seg.nbytes else 0.0)


def _keep_freed_memory() -> None:
    """Let glibc reuse freed heap memory instead of handing it back to the kernel.

    The feature arrays of a segment are a few MB each; by default glibc maps and unmaps
    allocations that size, so every temporary costs fresh zeroed pages (~90,000 page
    faults per 4,000-frame video). A segment worker is short-lived, so holding on to its
    peak heap is harmless. Run once per worker process (the pool's initializer). No-op where
    mallopt is unavailable."""
    import ctypes

    try:
        libc = ctypes.CDLL(None)
        m_trim_threshold, m_mmap_threshold = -1, -3
        libc.mallopt(m_mmap_threshold, 32 << 20)   # the largest glibc documents
        libc.mallopt(m_trim_threshold, 1 << 30)
    except (OSError, AttributeError):
        pass


def _segment(path: str, detector: str, params: dict, start: int | None, stop: int | None) -> dict:
    """Decode frames start <= PTS < stop through a fresh detector; its result and the PTS."""
    det = get_detector(detector, **params)
    stats = DecodeStats()
    # no prefetch thread: the processes already keep every core busy
    for frame in decode_frames(path, stats=stats, start_pts=start, stop_pts=stop, prefetch=0):
        det.process(frame)
    if not stats.frames:
        raise SegmentError(f"{path}: empty segment")
    return {"result": det.segment_result(), "pts": stats.pts, "last_duration": stats.last_duration,
            "rate": stats.rate}


def _detect_in_segments(path: str, det, detector: str, params: dict, workers: int):
    """(shots, transitions, stats) from parallel segments, or None to decode in one pass."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return None   # spawning re-imports everything: slower than it saves on short videos
    from videoforge.io import segments

    need = det.min_segment_frames
    plan = segments.plan_segments(path, workers * SEGMENTS_PER_WORKER, max(segments.MIN_SEGMENT_FRAMES, need))
    if len(plan) < 2:
        return None
    spans = [(seg.start_pts, seg.stop_pts) for seg in plan]
    cost = [segment_cost(seg) for seg in plan]
    # The forked workers share the parent's imported modules copy-on-write; a garbage
    # collection in a worker would walk (and so copy) all of them. Frozen, they are skipped.
    # (Left alone when the host program froze its heap itself: unfreezing would undo that.)
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(spans)), initializer=_keep_freed_memory,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            pending = {pool.submit(_segment, path, detector, params, *spans[i]): i
                       for i in sorted(range(len(spans)), key=lambda i: -cost[i])}
            done: dict[int, dict] = {}
            joins: dict[int, object] = {}
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    i = pending.pop(fut)
                    if fut.exception() is not None:   # do not decode the rest: one pass will redo it all
                        pool.shutdown(wait=False, cancel_futures=True)
                        raise fut.exception()
                    done[i] = fut.result()
                    # join rows as soon as both sides are in: only the last join is left for the end
                    for j in (i - 1, i):
                        if j in done and j + 1 in done and j not in joins:
                            joins[j] = det.join_probabilities(done[j]["result"], done[j + 1]["result"])
            parts = [done[i] for i in range(len(spans))]
    except Exception:  # noqa: BLE001 - SegmentError, a bad file, a worker that died: one pass decides and reports
        return None
    finally:
        if freeze:
            gc.unfreeze()
    if any(len(part["pts"]) < need for part in parts):   # the plan's lengths are estimates
        return None
    pts = [t for part in parts for t in part["pts"]]
    if any(b <= a for a, b in zip(pts, pts[1:])):
        return None
    stats = DecodeStats(frames=len(pts), first_pts=pts[0], last_pts=pts[-1],
                        last_duration=parts[-1]["last_duration"], pts=pts, segments=len(parts),
                        rate=parts[0]["rate"])
    shots, transitions = det.finish_segments([part["result"] for part in parts], joins)
    return shots, transitions, stats


def shots_document(path: str, shots: list[Shot], transitions: list[Transition], stats: DecodeStats) -> dict:
    """The `videoforge shots --json` document: inclusive frame ranges, times from PTS (s)."""
    return {
        "video": str(path),
        "fps": stats.average_fps,
        "frames": stats.frames,
        "shots": [
            {"start_frame": s.start_frame, "end_frame": s.end_frame,
             "start_time": stats.pts[s.start_frame], "end_time": stats.end_time(s.end_frame)}
            for s in shots
        ],
        "transitions": [
            {"kind": t.kind, "start_frame": t.start_frame, "end_frame": t.end_frame,
             "confidence": round(float(t.confidence), 4)}
            for t in transitions
        ],
    }
