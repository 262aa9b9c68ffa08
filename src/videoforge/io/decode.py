"""The single decode pass: every analysis (shots, metrics, keyframes, audio) is fed from it.

Decoding is the physical limit of the data engine, so each decoded frame is turned once,
inside FFmpeg's swscale, into a small BGR analysis frame; the full-resolution picture stays
available on demand (`Frame.full_luma()`, `Frame.bgr()`) for the few consumers that need
detail (sharpness, OCR, keyframes) on the frames they sample.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import os
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import av
import numpy as np
from av.video.reformatter import Interpolation, VideoReformatter

from videoforge.io.errors import VideoError

ANALYSIS_WIDTH = 160  # px; 640x360 -> 160x90. Shot and cheap metric features need no more.
# Frame.bgr's scaler, kept between calls (a fresh swscale context per call costs ~2x the
# scaling); one per thread, since a swscale context must not be shared by concurrent calls.
_BGR_SCALERS = threading.local()


def analysis_size(width: int, height: int, target_width: int = ANALYSIS_WIDTH) -> tuple[int, int]:
    """(w, h) of the analysis frame: `target_width` wide (never upscaled), aspect kept, even sizes."""
    w = min(target_width, width)
    h = max(2, int(round(height * w / max(1, width))))
    return max(2, w - w % 2), h - h % 2 if h > 2 else 2


def _rotate(img: np.ndarray, rotation: int) -> np.ndarray:
    """Turn a stored picture upright: FFmpeg's rotation is counter-clockwise degrees."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(img, k=k)) if k else img


def scaled_geometry(vf: av.VideoFrame, width: int) -> tuple[int, int, int]:
    """(rotation, scaled width, scaled height) of a stream's analysis frames, from its first frame:
    the analysis size is chosen for the upright picture, the scaler works on the stored one."""
    rotation = int(round(getattr(vf, "rotation", 0) or 0)) % 360
    w0, h0 = (vf.height, vf.width) if rotation in (90, 270) else (vf.width, vf.height)
    dw, dh = analysis_size(w0, h0, width)
    sw, sh = (dh, dw) if rotation in (90, 270) else (dw, dh)
    return rotation, sw, sh


def scale_small(scaler: VideoReformatter, vf: av.VideoFrame, sw: int, sh: int, rotation: int) -> np.ndarray:
    """The upright analysis picture (BGR). threads=1: swscale's default (one thread per core) costs
    more to hand out and join for a 160-px picture than the scaling itself; same pixels either way."""
    small = scaler.reformat(vf, width=sw, height=sh, format="bgr24", interpolation=Interpolation.AREA,
                            threads=1).to_ndarray()
    return _rotate(small, rotation)


@dataclass
class Frame:
    """One decoded frame as analysis sees it. Valid only during its iteration step."""

    index: int              # 0-based, in decoder output order
    pts_time: float         # seconds
    small: np.ndarray       # (h, w, 3) uint8 BGR, upright, analysis size
    rotation: int = 0
    _av: av.VideoFrame | None = field(default=None, repr=False)
    _luma: np.ndarray | None = field(default=None, repr=False)

    @property
    def luma(self) -> np.ndarray:
        """(h, w) uint8 luma of the analysis frame (BT.601 weights, as OpenCV's BGR2GRAY)."""
        if self._luma is None:
            import cv2

            self._luma = cv2.cvtColor(self.small, cv2.COLOR_BGR2GRAY)
        return self._luma

    def full_luma(self) -> np.ndarray:
        """Full-resolution upright 8-bit luma (the Y plane; 10-bit sources are scaled to 8 bits)."""
        if self._av is None:
            raise RuntimeError("full-resolution picture is only available during decode")
        f = self._av
        if f.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"):
            plane = f.planes[0]
            y = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
        else:
            y = f.to_ndarray(format="gray")
        return _rotate(y, self.rotation)

    def bgr(self, max_side: int | None = None) -> np.ndarray:
        """Upright BGR picture, scaled by swscale so its longest side is at most `max_side`."""
        if self._av is None:
            raise RuntimeError("full-resolution picture is only available during decode")
        f = self._av
        w, h = f.width, f.height
        if max_side and max(w, h) > max_side:
            s = max_side / max(w, h)
            w, h = max(2, int(round(w * s)) // 2 * 2), max(2, int(round(h * s)) // 2 * 2)
        scaler = getattr(_BGR_SCALERS, "scaler", None)
        if scaler is None:
            scaler = _BGR_SCALERS.scaler = VideoReformatter()
        img = scaler.reformat(f, width=w, height=h, format="bgr24").to_ndarray()
        return _rotate(img, self.rotation)


@dataclass
class DecodeStats:
    frames: int = 0
    first_pts: float = 0.0
    last_pts: float = 0.0
    last_duration: float = 0.0
    pts: list[float] = field(default_factory=list)   # per-frame presentation time (s); 8 bytes/frame
    corrupt_packets: int = 0
    segments: int = 1   # > 1 when shot detection decoded the video in parallel segments
    rate: float = 0.0   # the stream's frame rate (average_rate, else guessed_rate); 0 if unknown
    retimed: bool = False   # frame timestamps were missing, duplicated or out of order and were rebuilt
    frames_decoded: int = 0   # io/sparse.py: frames actually decoded when some were skipped (0: not set)

    def frame_duration(self, index: int) -> float:
        """Duration (s) of frame `index`: gap to the next PTS, or the last frame's own duration."""
        if index + 1 < len(self.pts):
            return self.pts[index + 1] - self.pts[index]
        return self.last_duration

    def end_time(self, index: int) -> float:
        return self.pts[index] + self.frame_duration(index)

    @property
    def duration(self) -> float:
        return (self.last_pts + self.last_duration - self.first_pts) if self.frames else 0.0

    @property
    def fps(self) -> float:
        """The stream's frame rate (FFmpeg's average_rate, else guessed_rate); frames / duration
        only when the stream states none. A timestamp average is wrong on files with gaps or
        rebuilt timestamps (OpenCV's Megamind.avi: 23.89 instead of 24000/1001)."""
        return self.rate if self.rate > 0 else self.measured_fps

    @property
    def average_fps(self) -> float:
        """Kept for callers: the stream's rate (see `fps`)."""
        return self.fps

    @property
    def measured_fps(self) -> float:
        """Frames decoded / time they span."""
        d = self.duration
        return self.frames / d if d > 0 else 0.0

    @property
    def vfr(self) -> bool:
        """True when PTS spacing varies by more than 10 % of the median frame step."""
        if len(self.pts) < 3:
            return False
        d = np.diff(np.asarray(self.pts, dtype=np.float64))
        med = float(np.median(d))
        return med > 0 and float(np.mean(np.abs(d - med) > 0.1 * med)) > 0.01


def presentation_times(labels: list[float | None], step: float) -> list[float]:
    """Presentation time (s) of each frame, given the timestamp each frame came out of the
    decoder with (`labels`, decoder output order, None where it had none).

    The decoder delivers frames in presentation order, so the i-th frame's time is the i-th
    smallest timestamp: this undoes labels attached to the wrong frames (packed B-frames in
    AVI: Megamind.avi's frames come out labelled 1, 2, 3, 5, 4, 6, ...). Frames without a
    label are placed between their neighbours (or `step` after the previous one); duplicated
    labels are spread `step` apart, so times always increase strictly. Labels that are
    already strictly increasing are returned unchanged.
    """
    n = len(labels)
    if n == 0:
        return []
    if all(x is not None for x in labels) and all(b > a for a, b in zip(labels, labels[1:])):
        return list(labels)
    step = step if step > 0 else 1.0 / 25.0
    have = [i for i, x in enumerate(labels) if x is not None]
    t: list[float | None] = [None] * n
    for i, v in zip(have, sorted(labels[i] for i in have)):
        t[i] = v
    known = [i for i in range(n) if t[i] is not None]
    if not known:
        return [i * step for i in range(n)]
    first = known[0]
    for i in range(first - 1, -1, -1):          # before the first label: step back from it
        t[i] = t[i + 1] - step
    for a, b in zip(known, known[1:]):          # gaps between labels: evenly between them
        for i in range(a + 1, b):
            t[i] = t[a] + (t[b] - t[a]) * (i - a) / (b - a)
    for i in range(known[-1] + 1, n):           # after the last label: step on
        t[i] = t[i - 1] + step
    out = [float(t[0])]
    for x in t[1:]:
        out.append(x if x > out[-1] else out[-1] + step)
    return out


# Frames held back so a frame's time can be taken as the smallest label among the next few
# (the streaming form of presentation_times); only the pass's final stats.pts see further.
REORDER_DEPTH = 4


_TAIL = object()  # end-of-stream marker fed after the demuxer's own flush packets


def _frames_lost_at_flush(path: str, after_pts: float | None, until_pts: float | None = None) -> list:
    """Frames (PTS in stream ticks, after `after_pts`, up to `until_pts`) re-decoded single-threaded.

    Frame-threaded decoding holds several frames in flight; when the file ends inside a packet
    (a truncated download) they can be lost silently at the flush, so a truncated file would
    decode to a different frame count on machines with a different thread count. This
    re-decodes from the keyframe before `after_pts` with one thread and returns only the frames
    after it (the few that were in flight: bounded memory).
    """
    out = []
    try:
        with av.open(path) as c:
            s = c.streams.video[0]
            s.codec_context.thread_count = 1
            if after_pts is not None:
                c.seek(int(round(after_pts)), stream=s, backward=True)
            for packet in c.demux(s):
                try:
                    frames = packet.decode()
                except av.error.FFmpegError:
                    continue
                for f in frames:
                    if f.pts is None or (after_pts is not None and f.pts <= after_pts + 0.5):
                        continue
                    if until_pts is not None and f.pts > until_pts:
                        return out
                    out.append(f)
    except av.error.FFmpegError:
        pass
    return out


PREFETCH = 4  # frames decoded ahead in a background thread (bounded: full-res frames are held)


class SegmentError(Exception):
    """A segment of the stream cannot be decoded on its own exactly as in one pass (no clean
    keyframe at its start, missing or unordered timestamps, a corrupt packet): decode the
    whole video in one pass instead."""


def decode_frames(
    path: str | os.PathLike,
    width: int = ANALYSIS_WIDTH,
    stats: DecodeStats | None = None,
    on_audio: Callable[[av.AudioFrame], None] | None = None,
    threads: int = 0,
    prefetch: int = PREFETCH,
    start_pts: int | None = None,
    stop_pts: int | None = None,
) -> Iterator[Frame]:
    """Stream a video once, yielding analysis frames; audio frames go to `on_audio` in the same pass.

    With `prefetch` > 0, demuxing, decoding and the scaling to analysis size run in a
    background thread (FFmpeg releases the GIL), overlapping with the caller's analysis of
    earlier frames; audio frames are still delivered in stream order on the caller's thread.
    Memory is bounded: `prefetch` decoded frames plus the codec's own buffers.
    Raises VideoError naming the file when the container or the stream cannot be read at all;
    a few corrupt packets are skipped and counted in `stats.corrupt_packets`.

    `start_pts` / `stop_pts` (stream time-base ticks) decode one segment, the frames with
    start_pts <= PTS < stop_pts, for parallel shot detection (io/segments.py): `start_pts`
    must be the PTS of a keyframe that decoding can start from (segments.split_points finds
    them). Indices then count from 0 at the segment's first frame. A segment is decoded
    strictly: anything that would make it differ from the same frames of a one-pass decode
    raises SegmentError.
    """
    items = _decode_items(path, width, stats, on_audio is not None, threads, start_pts, stop_pts)
    if prefetch > 0:
        items = _prefetched(items, prefetch)
    for item in items:
        if isinstance(item, Frame):
            yield item
            item._av = None   # the full-resolution picture is only valid during its step
        else:
            on_audio(item)


# Items handed from the decode thread to the caller in lists of this many: one queue handoff
# (locks, a thread switch) per item cost ~0.09 ms of CPU per frame, more than the handoff saves
# on 2 cores; in lists the handoffs are a quarter as many.
PREFETCH_CHUNK = 4


def _prefetched(items: Iterator, depth: int) -> Iterator:
    """Run a generator in a thread, about `depth` items ahead (handed over in lists of up to
    PREFETCH_CHUNK); exceptions re-raised in the caller."""
    chunk = max(1, min(PREFETCH_CHUNK, depth))
    q: queue.Queue = queue.Queue(maxsize=max(1, depth // chunk))
    stop = threading.Event()
    done = object()

    def put(x) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        batch: list = []
        try:
            for item in items:
                batch.append(item)
                if len(batch) >= chunk:
                    if not put(batch):
                        break
                    batch = []
            else:
                if batch:
                    put(batch)
            q.put((done, None))
        except BaseException as e:  # noqa: BLE001 - handed to the consumer
            if batch:
                put(batch)   # the items decoded before the error come first, as without a thread
            q.put((done, e))
        finally:
            items.close()

    worker = threading.Thread(target=produce, name="videoforge-decode", daemon=True)
    worker.start()
    try:
        while True:
            batch = q.get()
            if isinstance(batch, tuple) and batch[0] is done:
                if batch[1] is not None:
                    raise batch[1]
                return
            yield from batch
    finally:
        stop.set()
        while worker.is_alive():   # unblock a producer waiting on a full queue
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(0.05)


def _decode_items(path, width: int, stats: DecodeStats | None, want_audio: bool, threads: int,
                  start_pts: int | None = None, stop_pts: int | None = None) -> Iterator:
    """Frames (and audio frames, in stream order) of one decode pass (or of one segment)."""
    path = str(path)
    segment = start_pts is not None or stop_pts is not None
    if segment:
        threads = 1   # one thread per segment: the segments themselves are the parallelism
    stats = stats if stats is not None else DecodeStats()
    try:
        container = av.open(path)
    except Exception as e:  # noqa: BLE001
        raise VideoError(path, f"cannot open for decoding ({type(e).__name__}: {e})") from e
    with container:
        if not container.streams.video:
            raise VideoError(path, "no video stream")
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        vs.codec_context.thread_count = threads
        if start_pts is not None:
            # lands on the keyframe at start_pts (split_points only offers keyframe PTS)
            container.seek(start_pts, stream=vs, backward=True)
        streams = [vs]
        a_stream = container.streams.audio[0] if (want_audio and container.streams.audio) else None
        if a_stream is not None:
            streams.append(a_stream)
        tb = float(vs.time_base) if vs.time_base else 0.0
        rate = vs.average_rate or vs.guessed_rate
        stats.rate = float(rate) if rate else 0.0
        nominal_step = 1.0 / float(rate) if rate else 1.0 / 25.0
        sw = sh = None
        rotation = 0
        # One reformatter for the whole stream: it keeps its swscale context between frames
        # (a fresh context per frame costs more than the scaling itself).
        scaler = VideoReformatter()
        index = 0
        labels: list[float | None] = []   # each frame's own timestamp (s), decoder output order
        # Frames wait here until REORDER_DEPTH later ones are decoded: a frame's time is the
        # smallest label among them (labels can sit on the wrong frames; see presentation_times).
        pending: collections.deque = collections.deque()
        window: list[float] = []          # heap of the pending frames' labels
        emitted = {"t": None, "dur": 0.0}
        depth = 0 if segment else REORDER_DEPTH

        # max_frame_pts: the latest label seen (not the last frame's: labels may be out of order)
        tail = {"max_packet_pts": None, "last_frame_pts": None, "max_frame_pts": None}

        def frames_from(packet):
            if packet is _TAIL:  # after the flush: recover frames a threaded decoder dropped
                m, last = tail["max_packet_pts"], tail["max_frame_pts"]
                if m is None or last is None or m <= last or vs.codec_context.thread_count == 1:
                    return []
                return _frames_lost_at_flush(path, last)
            if packet.stream is vs and packet.pts is not None and packet.size:
                m = tail["max_packet_pts"]
                if m is None and start_pts is not None and (packet.pts != start_pts or not packet.is_keyframe):
                    raise SegmentError(f"{path}: segment does not start on the keyframe at {start_pts}")
                tail["max_packet_pts"] = packet.pts if m is None else max(m, packet.pts)
            try:
                return packet.decode()
            except av.error.InvalidDataError:
                if segment:
                    raise SegmentError(f"{path}: corrupt packet in segment") from None
                stats.corrupt_packets += 1
                return []
            except av.error.FFmpegError as e:
                if segment:
                    raise SegmentError(f"{path}: undecodable packet in segment ({e})") from None
                # Mid-stream corruption: keep what decoded; too much means the file is broken.
                stats.corrupt_packets += 1
                if stats.corrupt_packets > 50:
                    raise VideoError(path, f"too many undecodable packets ({e})") from e
                return []

        def emit():
            """Time the oldest pending frame and hand it out."""
            frame, label, dur = pending.popleft()
            prev = emitted["t"]
            # A frame without a label of its own takes none from the window: popping would hand
            # every later frame its successor's time (presentation_times places it between neighbours).
            t = heapq.heappop(window) if label is not None and window else None
            if t is None or (prev is not None and t <= prev):
                t = prev + nominal_step if prev is not None else (label if label is not None else 0.0)
            frame.pts_time = t
            emitted["t"], emitted["dur"] = t, dur
            return frame

        try:
            for packet in itertools.chain(container.demux(*streams), [_TAIL]):
                if packet is not _TAIL and packet.stream.type == "audio":
                    yield from frames_from(packet)
                    continue
                for vf in frames_from(packet):
                    if segment:
                        if vf.pts is None or (start_pts is not None and vf.pts < start_pts) \
                                or (tail["last_frame_pts"] is not None and vf.pts <= tail["last_frame_pts"]):
                            raise SegmentError(f"{path}: frame timestamps in segment are missing or out of order")
                        if stop_pts is not None and vf.pts >= stop_pts:
                            break
                    if vf.pts is not None:
                        tail["last_frame_pts"] = vf.pts
                        m = tail["max_frame_pts"]
                        tail["max_frame_pts"] = vf.pts if m is None else max(m, vf.pts)
                    if sw is None:
                        rotation, sw, sh = scaled_geometry(vf, width)
                    label = float(vf.pts * tb) if vf.pts is not None and tb else None
                    labels.append(label)
                    if label is not None:
                        heapq.heappush(window, label)
                    frame = Frame(index=index, pts_time=0.0, small=scale_small(scaler, vf, sw, sh, rotation),
                                  rotation=rotation, _av=vf)
                    dur = float(vf.duration * tb) if getattr(vf, "duration", None) and tb else 0.0
                    pending.append((frame, label, dur))
                    index += 1
                    stats.frames = index
                    if len(pending) > depth:
                        yield emit()
                else:
                    continue
                break   # a segment reached its stop
        except VideoError:
            raise
        except av.error.FFmpegError as e:
            if segment:
                raise SegmentError(f"{path}: segment does not decode ({e})") from None
            if index == 0:
                raise VideoError(path, f"video stream does not decode ({e})") from e
            stats.corrupt_packets += 1  # truncated tail: keep the frames we have
        while pending:
            yield emit()
        if index:
            # The whole pass seen: each frame's time from all labels (exact where the window was too short).
            stats.pts = presentation_times(labels, nominal_step)
            stats.retimed = stats.pts != labels
            stats.first_pts, stats.last_pts = stats.pts[0], stats.pts[-1]
            last = emitted["dur"]
            stats.last_duration = last if last > 0 else (stats.pts[-1] - stats.pts[-2] if index > 1 else nominal_step)
        if index == 0:
            raise VideoError(path, "no video frames could be decoded")
