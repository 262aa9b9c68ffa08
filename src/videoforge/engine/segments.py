"""One video's analysis in parallel segments, joined into exactly what one pass gives.

The video is cut at clean keyframes (io/segments.py, as `videoforge shots` does). Each
segment is decoded once by a forked worker that feeds the shot detector, the keyframe
selector and every scorer the frames of its segment, and returns their states (per-frame
signatures and class probabilities, sample logs, spilled keyframe candidates); full-
resolution work (sharpness, keyframe JPEGs) is done by the worker that holds the frame. The
audio stream is decoded by one more task. The parent then joins:

- shots: rows near each seam recomputed from both sides' signatures (shots/css.py), so the
  boundaries are bit-identical to one pass;
- sampled metrics: samples sit on a fixed grid of the PTS timeline (metrics/sampling.py),
  so only a segment's first frame needs the time of the frame before it, which the join
  knows; pair measures across a seam (flow, frozen) are computed from the two analysis
  frames each side hands over (`Seam`);
- keyframe candidates: the rules are replayed over every frame's thumbnail; a worker
  spills every frame at its head it could not rule out (metrics/keyframes.py);
- then, with the shots known, every scorer's own `finish` runs as after one pass (OCR on
  the chosen keyframes included).

Where anything could differ from one pass (a segment that does not start on its keyframe,
unordered timestamps, a corrupt packet, a component that cannot be joined), `analyze_in_segments`
returns None and the caller decodes the video in one pass.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass

from videoforge.engine.config import AnalysisConfig
from videoforge.io.decode import DecodeStats, Frame, SegmentError, decode_frames

# At least this many frames per worker before a video is split: shorter videos are decoded
# in one pass (forking and joining cost more than they save).
MIN_FRAMES_PER_WORKER = 600
_INHERITED: list = []   # a worker's copies of the parent's per-thread objects (see _segment_work)


@dataclass
class SegmentedPass:
    """The components after a joined pass, ready for `finish` as after one pass."""

    stats: DecodeStats
    shots: list
    transitions: list
    scorers: list
    keyframer: object
    timings: dict


def _edge(frame: Frame) -> Frame:
    """The analysis picture of a frame at a segment's edge, without its full-resolution part."""
    return Frame(index=frame.index, pts_time=frame.pts_time, small=frame.small, rotation=frame.rotation,
                 _luma=frame.luma)


def _segment_work(path: str, config: AnalysisConfig, spill_dir: str, start: int | None, stop: int | None) -> dict:
    """Decode frames start <= PTS < stop through fresh components; return their states."""
    from videoforge.engine.analyze import _build_components
    from videoforge.io import decode as decode_module
    from videoforge.metrics import flow

    # A forked copy of the parent's flow trackers must not carry over, nor its swscale context
    # for full-resolution pictures: that context's slice threads were not forked, so using or
    # even freeing it would wait on them forever. Both are put aside, never freed (a forked
    # worker ends with os._exit), and fresh ones made.
    _INHERITED.append((getattr(flow._SHARED, "trackers", None), decode_module._BGR_SCALERS))
    flow._SHARED.trackers = {}
    decode_module._BGR_SCALERS = threading.local()
    # Nor is OpenCV's thread count changed here: cv2.setNumThreads in a forked worker waits on
    # the parent's pool threads, which were not forked (tried: the workers hung).
    detector, scorers, keyframer = _build_components(config, keyframe_extra={"spill_dir": spill_dir, "segment": True})
    video_scorers = [s for s in scorers if not s.audio_only]
    stats = DecodeStats()
    t = {}
    pc = time.perf_counter
    first = last = None
    t0 = pc()
    inner = 0.0
    for frame in decode_frames(path, width=config.analysis_width, stats=stats, start_pts=start, stop_pts=stop,
                               prefetch=0):
        a = pc()
        detector.process(frame)
        b = pc()
        t["shots"] = t.get("shots", 0.0) + b - a
        keyframer.process(frame)
        c = pc()
        t["keyframes"] = t.get("keyframes", 0.0) + c - b
        b = c
        for s in video_scorers:
            s.process(frame)
            c = pc()
            t[s.name] = t.get(s.name, 0.0) + c - b
            b = c
        if first is None:
            first = _edge(frame)
        last = frame
        inner += b - a
    t["decode"] = pc() - t0 - inner
    if last is None:
        raise SegmentError(f"{path}: empty segment")
    a = pc()
    out = {"stats": stats, "detector": detector.segment_result(), "keyframes": keyframer.segment_state(),
           "scorers": {s.name: s.segment_state() for s in video_scorers}, "first": first, "last": _edge(last)}
    t["shots"] += pc() - a
    out["timings"] = t
    return out


def _audio_work(path: str, config: AnalysisConfig) -> dict:
    """The audio-only scorers over the whole audio stream, decoded alone."""
    import av

    from videoforge.engine.analyze import _build_components

    _, scorers, _ = _build_components(config, with_keyframes=False)
    scorers = [s for s in scorers if s.audio_only]
    t0 = time.perf_counter()
    errors = 0
    with av.open(path) as c:
        if c.streams.audio:
            stream = c.streams.audio[0]
            for packet in c.demux(stream):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    errors += 1   # counted as the one pass counts them
                    continue
                for af in frames:
                    for s in scorers:
                        s.process_audio(af)
    return {"scorers": {s.name: s.segment_state() for s in scorers}, "errors": errors,
            "timings": {"audio": time.perf_counter() - t0}}


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's running workers. Otherwise a worker stuck in its decoder outlives
    the pass, and the interpreter's exit (which joins every pool's workers) hangs on it, with
    the catalog lock held. The executor has no public way to do this; `_processes` is its
    pid -> Process map (shutdown() sets it to None, so call this first)."""
    for proc in list((getattr(pool, "_processes", None) or {}).values()):
        if proc.is_alive():
            proc.terminate()


def analyze_in_segments(path: str, config: AnalysisConfig, detector, scorers: list, keyframer,
                        workers: int) -> SegmentedPass | None:
    """Decode and analyse `path` in up to `workers` processes at a time; None = do one pass."""
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return None
    if not getattr(detector, "segmentable", False) or not all(getattr(s, "segmentable", False) for s in scorers):
        return None
    from videoforge.io import segments
    from videoforge.shots.detection import SEGMENTS_PER_WORKER, _keep_freed_memory, segment_cost

    min_frames = max(segments.MIN_SEGMENT_FRAMES, detector.min_segment_frames)
    plan = segments.plan_segments(path, workers * SEGMENTS_PER_WORKER, min_frames)
    if len(plan) < 2 or sum(seg.frames for seg in plan) < MIN_FRAMES_PER_WORKER * 2:
        return None
    spans = [(seg.start_pts, seg.stop_pts) for seg in plan]
    cost = [segment_cost(seg) for seg in plan]
    want_audio = any(s.audio_only for s in scorers)
    # forked workers share the parent's modules copy-on-write; frozen, a collection in a
    # worker does not touch (and so copy) them (see shots/detection.py)
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    # One OpenCV thread in each worker: the workers already fill the cores, and OpenCV's own
    # pool (one thread per core in every worker) spent ~0.2 ms of CPU per frame handing out and
    # joining work on these small pictures (1.56 -> 1.34 ms per frame for a segment). Set here,
    # in the parent, before the fork: a forked worker cannot change it (setNumThreads there
    # waits on the parent's pool threads, which a fork does not copy). The parent's own count
    # comes back after the pass. Same boundaries, keyframes and metrics; OpenCV's DIS flow
    # may round differently (motion columns within ~1e-8 relative on the benchmark's long
    # video, as between one pass and segments already: docs/benchmarks/metrics.md).
    import cv2

    cv_threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    parts: dict[int, dict] = {}
    joins: dict[int, object] = {}
    audio = None
    try:
        with ProcessPoolExecutor(max_workers=min(workers, len(spans) + want_audio), initializer=_keep_freed_memory,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            pending = {}
            order = sorted(range(len(spans)), key=lambda i: -cost[i])
            for i in order:
                spill = os.path.join(keyframer._tmp, f"segment-{i}")
                pending[pool.submit(_segment_work, path, config, spill, *spans[i])] = i
                if want_audio and i == order[0]:
                    # the audio stream after the costliest segment: it is cheap, and must not be last
                    pending[pool.submit(_audio_work, path, config)] = -1
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in finished:
                    i = pending.pop(fut)
                    if fut.exception() is not None:   # the rest would be wasted: one pass redoes it all
                        _stop_workers(pool)   # before shutdown(), which forgets the processes
                        pool.shutdown(wait=False, cancel_futures=True)
                        raise fut.exception()
                    if i < 0:
                        audio = fut.result()
                        continue
                    parts[i] = fut.result()
                    for j in (i - 1, i):   # join shot rows as soon as both sides are in
                        if j in parts and j + 1 in parts and j not in joins:
                            joins[j] = detector.join_probabilities(parts[j]["detector"], parts[j + 1]["detector"])
    except Exception:  # noqa: BLE001 - SegmentError, a bad file, a dead worker: one pass decides and reports
        return None
    finally:
        cv2.setNumThreads(cv_threads)
        if freeze:
            gc.unfreeze()
    ordered = [parts[i] for i in range(len(spans))]
    if any(p["stats"].frames < detector.min_segment_frames for p in ordered):   # plans are estimates
        return None
    pts = [t for p in ordered for t in p["stats"].pts]
    if any(b <= a for a, b in zip(pts, pts[1:])):
        return None

    t0 = time.perf_counter()
    first_stats, last_stats = ordered[0]["stats"], ordered[-1]["stats"]
    stats = DecodeStats(frames=len(pts), first_pts=pts[0], last_pts=pts[-1], last_duration=last_stats.last_duration,
                        pts=pts, segments=len(ordered))
    for name in ("rate",):   # fields of the pass as a whole, where this DecodeStats has them
        if hasattr(first_stats, name):
            setattr(stats, name, getattr(first_stats, name))
    stats.corrupt_packets = sum(p["stats"].corrupt_packets for p in ordered) + (audio["errors"] if audio else 0)

    from videoforge.metrics.base import Seam

    seams = []
    offset = 0
    for k, p in enumerate(ordered):
        if k:
            before, after = ordered[k - 1]["last"], p["first"]
            before.index, after.index = offset - 1, offset
            seams.append(Seam(offset=offset, before=before, after=after))
        offset += p["stats"].frames
    shots, transitions = detector.finish_segments([p["detector"] for p in ordered], joins)
    keyframer.join_segments([p["keyframes"] for p in ordered], seams)
    for s in scorers:
        if s.audio_only:
            s.join_segments([audio["scorers"][s.name]] if audio else [], seams)
        else:
            s.join_segments([p["scorers"][s.name] for p in ordered], seams)
    timings: dict[str, float] = {}
    for p in ordered + ([audio] if audio else []):
        for k, v in p["timings"].items():
            timings[k] = timings.get(k, 0.0) + v
    timings["join"] = time.perf_counter() - t0
    return SegmentedPass(stats=stats, shots=shots, transitions=transitions, scorers=scorers, keyframer=keyframer,
                         timings=timings)
