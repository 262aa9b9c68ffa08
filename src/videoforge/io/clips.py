"""Frame-accurate clip cutting: one shot [start_frame, end_frame] of a source into an MP4.

Stream copy when the shot starts on a keyframe and the copied packets decode to exactly
the shot's frames (checked by decoding the clip and counting); otherwise the shot is
re-encoded with libx264 through PyAV. Audio, when the source has it, is decoded, trimmed to
the shot's time range with sample precision and encoded to AAC (a copied AAC packet holds
1024 samples, too coarse to trim at a frame boundary). The source's display rotation is
written onto the clip's video stream, so the clip shows upright wherever the source did.

Frame indices are the catalog's: 0-based in presentation (decoder output) order. Where the
source's timestamps can be trusted (a container that stores PTS, every packet with its own
PTS, DTS increasing, a keyframe first) they are mapped to timestamps through a packet index
(one demux pass, no decoding, built once per source and shared by all its shots), so a cut
seeks to the keyframe before the shot. Everywhere else (AVI, whose PTS the demuxer guesses
and the decoder may attach to the wrong frames; missing, repeated or out-of-order stamps; a
stream that starts mid-GOP; a decoder that delivers another count than the packets) and
whenever the seeking cut does not verify, frames are selected by decoded frame index: the
same decode as the analysis pass, counted from the first frame, re-encoded with timestamps
regenerated from presentation order. Every clip is checked to hold exactly the shot's frames.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from fractions import Fraction

import av

from videoforge.io.clip_audio import encode_audio_range
from videoforge.io.decode import _frames_lost_at_flush, decode_frames
from videoforge.io.errors import VideoError
from videoforge.io.segments import has_stored_pts

# Pixel formats libx264 encodes as they are; anything else is converted to yuv420p.
_X264_PIX_FMTS = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p",
                  "yuv420p10le", "yuv422p10le", "yuv444p10le", "gray", "gray10le"}


@dataclass
class PacketIndex:
    """Video packets of one source, read by demuxing only: maps frame index -> PTS, finds keyframes."""

    path: str
    time_base: Fraction
    pts: list[int]                  # presentation timestamps, sorted: pts[i] is frame i
    keyframe_pts: set[int]
    decode_order: list[int]         # pts of each packet in file (decode) order
    rotation: int = 0
    width: int = 0                  # stored (coded) size, before rotation
    height: int = 0
    pix_fmt: str = "yuv420p"
    codec: str = ""
    average_rate: Fraction | None = None
    has_audio: bool = False
    # True when frame index -> PTS through the packets is trustworthy (see build_packet_index)
    timestamped: bool = True
    _pos: dict[int, int] = field(default_factory=dict, repr=False)  # pts -> decode position

    @property
    def frames(self) -> int:
        return len(self.pts)

    def time_of(self, frame: int) -> float:
        """PTS (s) of frame `frame`."""
        return float(self.pts[frame] * self.time_base)

    def frame_at(self, seconds: float) -> int:
        """Index of the first frame whose PTS is at or after `seconds` (half a tick of slack)."""
        tick = int(round(seconds / self.time_base)) if self.time_base else 0
        return bisect.bisect_left(self.pts, tick)

    def frame_duration(self, frame: int) -> int:
        """Duration of frame `frame` in time-base ticks (the last frame repeats the previous step)."""
        if frame + 1 < len(self.pts):
            return self.pts[frame + 1] - self.pts[frame]
        if len(self.pts) > 1:
            return self.pts[-1] - self.pts[-2]
        rate = self.average_rate or Fraction(25)
        return max(1, int(round(1 / (rate * self.time_base))))

    def copyable(self, start_frame: int, end_frame: int) -> bool:
        """True when the packets of [start_frame, end_frame] begin with a keyframe and are contiguous in decode order."""
        start_pts, end_pts = self.pts[start_frame], self.pts[end_frame]
        if start_pts not in self.keyframe_pts:
            return False
        first = self._pos[start_pts]
        n = end_frame - start_frame + 1
        # The range's packets must be one unbroken run in decode order starting at the keyframe:
        # then no frame in it can reference a frame outside it (a reference is decoded before
        # the frames that use it, so it would sit inside the run).
        window = self.decode_order[first: first + n]
        return len(window) == n and all(start_pts <= p <= end_pts for p in window)


def build_packet_index(path: str | os.PathLike) -> PacketIndex:
    """Demux the first video stream of `path` (no decoding) into a PacketIndex. Raises VideoError."""
    path = str(path)
    if not os.path.exists(path):
        raise VideoError(path, "source file does not exist", stage="export")
    try:
        container = av.open(path)
    except Exception as e:  # noqa: BLE001 - FFmpeg reports many error kinds
        raise VideoError(path, f"cannot open source ({type(e).__name__}: {e})", stage="export") from e
    with container:
        if not container.streams.video:
            raise VideoError(path, "source has no video stream", stage="export")
        vs = container.streams.video[0]
        tb = vs.time_base or Fraction(1, 90000)
        order: list[int] = []
        keys: set[int] = set()
        last = None
        # PTS can be trusted only where the container stores it for every packet, DTS increases
        # and the stream starts on a keyframe (else the decoder drops the leading frames)
        trusted = has_stored_pts(container)
        last_dts = None
        try:
            for pkt in container.demux(vs):
                if pkt.size == 0:
                    continue  # flush packet
                p = pkt.pts if pkt.pts is not None else pkt.dts
                if pkt.pts is None or (not order and not pkt.is_keyframe):
                    trusted = False
                if pkt.dts is not None:
                    if last_dts is not None and pkt.dts <= last_dts:
                        trusted = False
                    last_dts = pkt.dts
                if p is None:  # e.g. AVI without timestamps: packets are frames in order
                    p = 0 if last is None else last + 1
                last = p
                order.append(p)
                if pkt.is_keyframe:
                    keys.add(p)
        except av.error.FFmpegError:
            trusted = False  # truncated tail: keep the packets read so far
        rotation = 0
        try:
            container.seek(0)
            for f in container.decode(vs):
                rotation = int(round(getattr(f, "rotation", 0) or 0)) % 360
                break
        except av.error.FFmpegError:
            pass
        cc = vs.codec_context
        idx = PacketIndex(
            path=path, time_base=tb, pts=sorted(set(order)), keyframe_pts=keys, decode_order=order,
            rotation=rotation, width=int(cc.width or 0), height=int(cc.height or 0),
            pix_fmt=cc.pix_fmt or "yuv420p", codec=cc.name or "", average_rate=vs.average_rate or vs.guessed_rate,
            has_audio=bool(container.streams.audio), timestamped=trusted and len(set(order)) == len(order),
        )
        idx._pos = {}
        for i, p in enumerate(order):
            idx._pos.setdefault(p, i)
        if not idx.pts:
            raise VideoError(path, "source has no video packets", stage="export")
        return idx


@dataclass
class ClipResult:
    """What was written: frames counted in the clip, its upright size, how it was made."""

    path: str
    num_frames: int
    width: int           # upright (displayed) width, px
    height: int          # upright (displayed) height, px
    fps: float           # frames / duration
    duration: float      # seconds
    start_time: float    # source PTS of the first frame, s
    end_time: float      # source PTS of the last frame plus its duration, s
    method: str          # "copy" | "reencode"
    has_audio: bool


def count_frames(path: str | os.PathLike) -> int:
    """Frames that actually decode from `path`'s first video stream."""
    n = 0
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        vs.thread_type = "AUTO"   # clips we just wrote are whole files: threading loses no frames
        for _ in c.decode(vs):
            n += 1
    return n


def cut_clip(
    source: str | os.PathLike,
    out_path: str | os.PathLike,
    start_frame: int,
    end_frame: int,
    index: PacketIndex | None = None,
    reencode: bool = False,
    audio: bool = True,
    crf: int = 18,
    preset: str = "veryfast",
    frames: int | None = None,
) -> ClipResult:
    """Write frames [start_frame, end_frame] (inclusive, decoded frame indices) of `source` to
    `out_path` (MP4). One shot of `cut_clips`; raises its VideoError (stage "export")."""
    (result,) = cut_clips(source, [(start_frame, end_frame, out_path)], index=index, reencode=reencode,
                          audio=audio, crf=crf, preset=preset, frames=frames)
    if isinstance(result, VideoError):
        raise result
    return result


def cut_clips(
    source: str | os.PathLike,
    ranges: list[tuple[int, int, str | os.PathLike]],
    index: PacketIndex | None = None,
    reencode: bool = False,
    audio: bool = True,
    crf: int = 18,
    preset: str = "veryfast",
    frames: int | None = None,
) -> list[ClipResult | VideoError]:
    """Cut each (start_frame, end_frame, out_path) of `source` into an MP4: a ClipResult, or the
    VideoError (stage "export") naming the file and the problem, per range, in order.

    Frame indices count the frames the decoder delivers (the catalog's). `frames` is that
    count for the source (`videos.frames`), when known: a packet index that counts otherwise
    is not used to seek. Per range: stream copy when possible and verified frame-exact, else
    libx264 from the keyframe before the range where the packet index can be trusted and the
    result verifies (`reencode=True` skips the copy). The ranges left are re-encoded in one
    decode pass from the first frame, selected by decoded index (so a long source with many
    shots is decoded once, not once per shot). Raises VideoError only when the source cannot
    be opened at all.
    """
    source = str(source)
    idx = index or build_packet_index(source)
    total = frames if frames is not None else idx.frames
    seekable = idx.timestamped and (frames is None or frames == idx.frames)
    results: list[ClipResult | VideoError | None] = [None] * len(ranges)
    left: list[int] = []
    for i, (start, end, out_path) in enumerate(ranges):
        out_path = str(out_path)
        if not 0 <= start <= end < total:
            results[i] = VideoError(source, f"frame range [{start}, {end}] outside the source's {total} frames", stage="export")
            continue
        os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
        part = out_path + ".part"   # written aside and renamed: a killed export leaves no half clip under the real name
        want = end - start + 1
        method = span = None
        try:
            if not reencode and seekable and idx.copyable(start, end):
                try:
                    span = _write(idx, part, start, end, "copy", audio, crf, preset)
                    if count_frames(part) == want:
                        method = "copy"
                except (av.error.FFmpegError, ValueError):
                    pass  # some containers' packets cannot go into MP4 as they are: re-encode
            if method is None and seekable:
                try:
                    span = _write(idx, part, start, end, "seek", audio, crf, preset)
                    if _count_packets(part) == want:
                        method = "reencode"
                except (_Unreliable, av.error.FFmpegError):
                    pass  # labels out of order or a seek that misses: select by decoded index instead
            if method is not None:
                os.replace(part, out_path)
                results[i] = _result(idx, out_path, want, span, method, audio)
            else:
                left.append(i)
        finally:
            if os.path.exists(part):
                os.remove(part)
    if left:
        items = [(ranges[i][0], ranges[i][1], str(ranges[i][2]) + ".part") for i in left]
        try:
            outcomes = _encode_ranges_by_index(idx, items, audio, crf, preset)
            for i, (start, end, part), outcome in zip(left, items, outcomes):
                out_path, want = str(ranges[i][2]), end - start + 1
                if isinstance(outcome, av.error.FFmpegError):
                    results[i] = VideoError(source, f"cannot re-encode frames {start}-{end} ({outcome})", stage="export")
                    continue
                if isinstance(outcome, VideoError):
                    results[i] = VideoError(source, f"cannot cut frames {start}-{end}: the source stops decoding "
                                                    f"({outcome.problem})", stage="export")
                    continue
                got = _count_packets(part) if os.path.exists(part) else 0  # no frame muxed: no file
                if got != want or isinstance(outcome, _Unreliable):
                    why = f" ({outcome})" if isinstance(outcome, _Unreliable) else ""
                    results[i] = VideoError(source, f"clip of frames {start}-{end} has {got} decodable frames, "
                                                    f"expected {want}{why}", stage="export")
                    continue
                os.replace(part, out_path)
                results[i] = _result(idx, out_path, want, outcome, "reencode", audio)
        finally:
            for _, _, part in items:
                if os.path.exists(part):
                    os.remove(part)
    return results


def _result(idx: PacketIndex, out_path: str, want: int, span: tuple[float, float], method: str,
            audio: bool) -> ClipResult:
    start_t, end_t = span
    w, h = (idx.height, idx.width) if idx.rotation in (90, 270) else (idx.width, idx.height)
    dur = end_t - start_t
    return ClipResult(
        path=out_path, num_frames=want, width=w, height=h, fps=want / dur if dur > 0 else 0.0,
        duration=dur, start_time=start_t, end_time=end_t, method=method, has_audio=bool(audio and idx.has_audio),
    )


def _count_packets(path: str) -> int:
    with av.open(path) as c:
        return sum(1 for p in c.demux(c.streams.video[0]) if p.size)


def _write(idx: PacketIndex, out_path: str, start_frame: int, end_frame: int, mode: str,
           audio: bool, crf: int, preset: str) -> tuple[float, float]:
    """Write the clip by `mode` ("copy" or "seek"); returns its source time span (s)."""
    with av.open(idx.path) as src, av.open(out_path, "w", format="mp4") as out:
        vs = src.streams.video[0]
        ovs = out.add_stream_from_template(vs) if mode == "copy" else _add_encoder(out, idx, crf, preset)
        if idx.rotation:
            ovs.set_display_rotation(idx.rotation)
        oas = None
        if audio and src.streams.audio:
            a = src.streams.audio[0].codec_context
            oas = out.add_stream("aac", rate=int(a.sample_rate or 44100))
            oas.layout = a.layout.name if a.layout else "stereo"
        start_pts, end_pts = idx.pts[start_frame], idx.pts[end_frame]
        start_t = float(start_pts * idx.time_base)
        end_t = float((end_pts + idx.frame_duration(end_frame)) * idx.time_base)
        if mode == "copy":
            _copy_video(src, vs, out, ovs, start_pts, end_pts)
        else:
            _encode_video(src, vs, out, ovs, idx, start_pts, end_pts)
        if oas is not None:
            encode_audio_range(idx.path, out, oas, start_t, end_t)
    return start_t, end_t


def _clip_time_base(idx: PacketIndex) -> Fraction:
    """The clip's time base: the source's when MP4 can hold it (1/N), else 1/90000."""
    tb = idx.time_base
    return tb if tb and tb.numerator == 1 else Fraction(1, 90000)


def _add_encoder(out, idx: PacketIndex, crf: int, preset: str):
    rate = idx.average_rate or Fraction(25)
    ovs = out.add_stream("libx264", rate=Fraction(rate).limit_denominator(100000))
    pix = idx.pix_fmt if idx.pix_fmt in _X264_PIX_FMTS else "yuv420p"
    odd_w, odd_h = idx.width % 2, idx.height % 2
    if ("420" in pix and (odd_w or odd_h)) or ("422" in pix and odd_w):
        # 4:2:0 / 4:2:2 chroma needs even sizes; 4:4:4 keeps every pixel of an odd-sized frame.
        pix = "yuv444p10le" if "10" in pix else "yuv444p"
    ovs.width, ovs.height, ovs.pix_fmt = idx.width, idx.height, pix
    tb = _clip_time_base(idx)
    ovs.time_base = tb
    ovs.codec_context.time_base = tb  # keep every source PTS (VFR) exactly
    ovs.options = {"crf": str(crf), "preset": preset}
    return ovs


def _seek(src, vs, pts: int) -> None:
    try:
        src.seek(pts, stream=vs, backward=True, any_frame=False)
    except av.error.FFmpegError:
        src.seek(0)


def _copy_video(src, vs, out, ovs, start_pts: int, end_pts: int) -> None:
    """Mux the range's packets unchanged, timestamps shifted so the clip starts at 0."""
    _seek(src, vs, start_pts)
    started = False
    for pkt in src.demux(vs):
        if pkt.size == 0:
            continue
        p = pkt.pts if pkt.pts is not None else pkt.dts
        if p is None:
            continue
        started = started or p == start_pts
        if not started:
            continue
        if p > end_pts:
            if pkt.dts is not None and pkt.dts > end_pts:
                break  # decode order has passed the range for good
            continue
        if p < start_pts:
            continue
        pkt.pts = p - start_pts
        if pkt.dts is not None:
            pkt.dts -= start_pts
        pkt.stream = ovs
        out.mux(pkt)


class _Overshoot(Exception):
    """A seek landed after the wanted frame (file without a usable index)."""


class _Unreliable(Exception):
    """The frames' timestamps cannot select the range (out of order), or the decoder delivered
    fewer frames than the range asks."""


def _frames_in_range(src, vs, start_pts: int, end_pts: int, seek: bool):
    if seek:
        _seek(src, vs, start_pts)
    else:
        src.seek(0)
    first = True
    last = None
    for pkt in src.demux(vs):
        try:
            frames = pkt.decode()
        except av.error.InvalidDataError:
            continue
        for f in frames:
            if f.pts is None or (last is not None and f.pts <= last):
                raise _Unreliable("frame timestamps missing or out of order")
            last = f.pts
            if first and seek and f.pts > start_pts:
                raise _Overshoot
            first = False
            if f.pts < start_pts:
                continue
            if f.pts > end_pts:
                return
            yield f


def _encode_video(src, vs, out, ovs, idx: PacketIndex, start_pts: int, end_pts: int) -> None:
    """Decode the range (seeking to the keyframe before it) and encode it with libx264."""
    vs.thread_type = "AUTO"

    tb = ovs.codec_context.time_base

    def encode(f):
        pts = int(round((f.pts - start_pts) * idx.time_base / tb))
        if f.format.name != ovs.pix_fmt:
            f = f.reformat(format=ovs.pix_fmt)
        f.pts, f.time_base = pts, tb
        for p in ovs.encode(f):
            out.mux(p)

    last = None
    try:
        for f in _frames_in_range(src, vs, start_pts, end_pts, seek=True):
            last = f.pts
            encode(f)
    except _Overshoot:
        for f in _frames_in_range(src, vs, start_pts, end_pts, seek=False):
            last = f.pts
            encode(f)
    if last is None or last < end_pts:
        # A frame-threaded decoder can drop its in-flight frames at a truncated file's end;
        # decode.py recovers them single-threaded for analysis, so the clip must have them too.
        for f in _frames_lost_at_flush(idx.path, last if last is not None else start_pts - 1, end_pts):
            encode(f)
    for p in ovs.encode():
        out.mux(p)


class _Clip:
    """One range being encoded during the by-index pass."""

    def __init__(self, idx: PacketIndex, part: str, audio_params, crf: int, preset: str):
        self.part = part
        self.out = av.open(part, "w", format="mp4")
        self.ovs = _add_encoder(self.out, idx, crf, preset)
        if idx.rotation:
            self.ovs.set_display_rotation(idx.rotation)
        self.oas = None
        if audio_params is not None:
            self.oas = self.out.add_stream("aac", rate=audio_params[0])
            self.oas.layout = audio_params[1]
        self.tb = self.ovs.codec_context.time_base
        self.t0 = self.prev_t = None
        self.last = None

    def encode(self, fr) -> None:
        self.t0 = fr.pts_time if self.t0 is None else self.t0
        pts = int(round((fr.pts_time - self.t0) / self.tb))
        pts = pts if self.last is None or pts > self.last else self.last + 1   # strictly increasing for the muxer
        self.last, self.prev_t = pts, fr.pts_time
        f = fr._av
        if f.format.name != self.ovs.pix_fmt:
            f = f.reformat(format=self.ovs.pix_fmt)
        f.pts, f.time_base = pts, self.tb
        for p in self.ovs.encode(f):
            self.out.mux(p)

    def finish(self, path: str, end_t: float) -> tuple[float, float]:
        try:
            for p in self.ovs.encode():
                self.out.mux(p)
            if self.oas is not None:
                encode_audio_range(path, self.out, self.oas, self.t0, end_t)
        finally:
            self.out.close()
        return self.t0, end_t

    def abandon(self) -> None:
        try:
            self.out.close()
        except av.error.FFmpegError:
            pass


def _encode_ranges_by_index(idx: PacketIndex, items: list[tuple[int, int, str]], audio: bool,
                            crf: int, preset: str) -> list:
    """Encode each (start_frame, end_frame, part_path) from one decode pass that counts frames
    from the first (the analysis pass's own decode, so the indices are the catalog's), with
    timestamps regenerated from presentation order. Per item: its source time span (s), an
    FFmpegError that stopped it, the VideoError that stopped the whole decode part-way, or
    _Unreliable when the decoder delivers none of its frames."""
    audio_params = None
    if audio and idx.has_audio:
        with av.open(idx.path) as src:
            a = src.streams.audio[0].codec_context
            audio_params = (int(a.sample_rate or 44100), a.layout.name if a.layout else "stereo")
    step = 1.0 / float(idx.average_rate) if idx.average_rate else 1.0 / 25.0
    order = sorted(range(len(items)), key=lambda k: items[k][0])
    outcome: list = [None] * len(items)
    active: dict[int, _Clip] = {}
    nxt = 0
    last_end = max(e for _, e, _ in items)
    prev_t = None
    failure: VideoError | None = None
    frames = decode_frames(idx.path, width=16, prefetch=0)
    try:
        try:
            for fr in frames:
                for k, clip in list(active.items()):   # ranges that ended on the previous frame
                    if fr.index > items[k][1]:
                        del active[k]
                        try:
                            outcome[k] = clip.finish(idx.path, fr.pts_time)
                        except av.error.FFmpegError as e:
                            outcome[k] = e
                if fr.index > last_end:
                    break
                while nxt < len(order) and items[order[nxt]][0] <= fr.index:
                    k = order[nxt]
                    nxt += 1
                    if items[k][0] == fr.index:
                        try:
                            active[k] = _Clip(idx, items[k][2], audio_params, crf, preset)
                        except av.error.FFmpegError as e:
                            outcome[k] = e
                for k, clip in list(active.items()):
                    try:
                        clip.encode(fr)
                    except av.error.FFmpegError as e:
                        del active[k]
                        clip.abandon()
                        outcome[k] = e
                prev_t = fr.pts_time
        except VideoError as e:
            # The source stops decoding part-way: ranges finished before keep their clips; the
            # rest fail with the decoder's reason instead of the whole call (and every clip) failing.
            failure = e
    finally:
        frames.close()
        for k, clip in active.items():   # the stream ended inside these ranges
            if failure is not None:
                clip.abandon()
                outcome[k] = failure
                continue
            try:
                outcome[k] = clip.finish(idx.path, prev_t + step)
            except av.error.FFmpegError as e:
                clip.abandon()
                outcome[k] = e
    for k, (start, _, _) in enumerate(items):
        if outcome[k] is None:
            outcome[k] = failure or _Unreliable(f"the decoder delivers no frame {start}")
    return outcome
