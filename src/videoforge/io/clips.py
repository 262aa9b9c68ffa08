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
    `out_path` (MP4).

    `frames` is the number of frames the decoder delivers for the source (the catalog's
    `videos.frames`), when known: a packet index that counts otherwise is not used to seek.
    Stream copy when possible and verified frame-exact, else libx264 re-encode (or always,
    with `reencode=True`): from the keyframe before the shot where the packet index can be
    trusted and the result verifies, else by decoded frame index from the first frame.
    Raises VideoError (stage "export") naming the file and the problem.
    """
    source, out_path = str(source), str(out_path)
    idx = index or build_packet_index(source)
    total = frames if frames is not None else idx.frames
    if not 0 <= start_frame <= end_frame < total:
        raise VideoError(source, f"frame range [{start_frame}, {end_frame}] outside the source's {total} frames", stage="export")
    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    part = out_path + ".part"   # written aside and renamed: a killed export leaves no half clip under the real name
    want = end_frame - start_frame + 1
    seekable = idx.timestamped and (frames is None or frames == idx.frames) and end_frame < idx.frames
    method, span, reason = None, None, None
    try:
        if not reencode and seekable and idx.copyable(start_frame, end_frame):
            try:
                span = _write(idx, part, start_frame, end_frame, "copy", audio, crf, preset)
                if count_frames(part) == want:
                    method = "copy"
            except (av.error.FFmpegError, ValueError):
                pass  # some containers' packets cannot go into MP4 as they are: re-encode
        if method is None and seekable:
            try:
                span = _write(idx, part, start_frame, end_frame, "seek", audio, crf, preset)
                if _count_packets(part) == want:
                    method = "reencode"
            except (_Unreliable, av.error.FFmpegError):
                pass  # labels out of order or a seek that misses: select by decoded index instead
        if method is None:
            try:
                span = _write(idx, part, start_frame, end_frame, "index", audio, crf, preset)
            except av.error.FFmpegError as e:
                raise VideoError(source, f"cannot re-encode frames {start_frame}-{end_frame} ({e})", stage="export") from e
            except _Unreliable as e:
                reason = str(e)
            got = _count_packets(part) if os.path.exists(part) else 0  # no frame muxed: no file
            if got != want:
                raise VideoError(source, f"clip of frames {start_frame}-{end_frame} has {got} decodable frames, "
                                         f"expected {want}" + (f" ({reason})" if reason else ""), stage="export")
            method = "reencode"
        os.replace(part, out_path)
    finally:
        if os.path.exists(part):
            os.remove(part)
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
    """Write the clip by `mode` ("copy", "seek" or "index"); returns its source time span (s)."""
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
        if mode == "index":
            start_t, end_t = _encode_by_index(out, ovs, idx, start_frame, end_frame)
        else:
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


def _encode_by_index(out, ovs, idx: PacketIndex, start_frame: int, end_frame: int) -> tuple[float, float]:
    """Encode decoded frames start_frame..end_frame, counted from the first frame by the
    analysis pass's own decode (so the indices are the catalog's), with timestamps
    regenerated from presentation order. Returns the source time span (s)."""
    tb = ovs.codec_context.time_base
    t0 = end_t = None
    last = None
    prev_t = None
    step = 1.0 / float(idx.average_rate) if idx.average_rate else 1.0 / 25.0
    frames = decode_frames(idx.path, width=16, prefetch=0)
    try:
        for fr in frames:
            if fr.index < start_frame:
                continue
            if fr.index > end_frame:
                end_t = fr.pts_time
                break
            t0 = fr.pts_time if t0 is None else t0
            pts = int(round((fr.pts_time - t0) / tb))
            pts = pts if last is None or pts > last else last + 1   # strictly increasing for the muxer
            last, prev_t = pts, fr.pts_time
            f = fr._av
            if f.format.name != ovs.pix_fmt:
                f = f.reformat(format=ovs.pix_fmt)
            f.pts, f.time_base = pts, tb
            for p in ovs.encode(f):
                out.mux(p)
    finally:
        frames.close()
    for p in ovs.encode():
        out.mux(p)
    if t0 is None:
        raise _Unreliable(f"the decoder delivers no frame {start_frame}")
    return t0, end_t if end_t is not None else prev_t + step
