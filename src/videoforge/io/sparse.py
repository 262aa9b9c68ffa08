"""A cheaper decode pass that decodes only some frames, with the frame count and times still exact.

`decode_frames` decodes every frame: on large footage decoding is most of what an analysis
costs (a 10-min 1080p file: ~46 of ~54 CPU-s of the cheapest full-coverage plan, docs/
benchmarks/plan.md). Here FFmpeg's `skip_frame` makes the decoder skip frames it need not
reconstruct:

  "keyframes"  AVDISCARD_NONKEY: only key frames (I/IDR) are decoded. x264 and most encoders
               put one at every scene cut they detect and at least every 250 frames, so a
               video's key frames are roughly one per shot (0.4-0.6 per second on our edited
               footage) and decoding them costs ~5-10 % of decoding everything.
  "reference"  AVDISCARD_NONREF: frames no other frame refers to (most B-frames) are skipped:
               ~55 % of frames decoded, ~0.65x the CPU on libx264 footage.

What is *not* decoded is still counted exactly: every frame is one packet in the containers
and codecs allowed here (`SPARSE_CODECS`: H.264 and HEVC; not AVI: AVI's packed B-frames and empty "dropped
frame" packets break the one packet = one frame rule, see `packet_times`), so the demuxed
packets' presentation timestamps, sorted, are the presentation times of every frame - the very
list a full decode builds (tests/test_plan_sparse.py compares both on a generated file;
benchmarks/plan_sparse_exact.py: 40 sparse passes on 20 files - the container matrix's 13 H.264 / HEVC
files in MP4, MKV, MOV and MPEG-TS, with and without B-frames (the others declined), the six
assembled real edits and the music video - 0 mismatches; after the session-10 review 38 passes on the
same files less the music video, 0 mismatches, and two files cut mid-GOP declined). A decoded frame's index is the position of its own PTS in that list. Where the rule
cannot be checked (another codec or container, a packet without PTS, two packets with the
same PTS, packets FFmpeg marks to discard or corrupt, a file that starts mid-GOP: its first packet in
decode order is not a key frame, or a packet shows before that key frame, which the decoder would drop),
`packet_times` returns None and the caller decodes
every frame instead (`sparse_frames` says which happened).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import av
from av.video.reformatter import VideoReformatter

from videoforge.frame_modes import SKIP_MODES
from videoforge.io.decode import ANALYSIS_WIDTH, DecodeStats, Frame, decode_frames, scale_small, scaled_geometry
from videoforge.io.errors import VideoError

# SKIP_MODES (imported above, re-exported): engine frame mode -> FFmpeg's skip_frame (AVDiscard)
# name, named once in videoforge/frame_modes.py
# codecs whose packets are one frame each in the containers we allow (not AVI)
# (VP9 was tried: FFmpeg's VP9 decoder ignores skip_frame and decodes every frame, so it is left
# to the full pass; other codecs were not checked)
SPARSE_CODECS = {"h264", "hevc"}


def _container_allows(c: av.container.InputContainer) -> bool:
    """The container's own format name (not the file's extension) and the first video stream's
    codec are ones where a packet is one frame: H.264 / HEVC, not AVI."""
    if not c.streams.video or "avi" in (c.format.name or "").split(","):
        return False
    vs = c.streams.video[0]
    return vs.codec_context.name in SPARSE_CODECS and bool(vs.time_base)


def sparse_capable(path: str | os.PathLike) -> bool:
    """Whether the key-frame mode can skip frames of this file at all, from its header only (no
    packet is read): False means the mode decodes every frame. True does not promise it: the
    packets may still be declined (`packet_times`)."""
    try:
        with av.open(str(path)) as c:
            return _container_allows(c)
    except (av.error.FFmpegError, OSError):
        return False


def packet_times(path: str | os.PathLike) -> tuple[list[int], float, float] | None:
    """(PTS of every video frame in presentation order, in stream ticks; the time base; the
    last frame's duration in seconds, 0 if unknown) from the demuxed packets alone, or None when
    the packets cannot be trusted to be one frame each (see the module doc)."""
    path = str(path)
    try:
        with av.open(path) as c:
            if not _container_allows(c):   # AVI by its format name, whatever the extension
                return None
            vs = c.streams.video[0]
            ticks: list[int] = []
            durations: dict[int, int] = {}
            for p in c.demux(vs):
                if not p.size:      # the demuxer's flush packet
                    continue
                if p.pts is None or getattr(p, "is_discard", False) or getattr(p, "is_corrupt", False):
                    return None
                # a file that starts mid-GOP (a cut capture, a stream-copy cut): the decoder drops
                # the packets before the first key frame and the leading frames that refer past it
                # (open GOP: PTS below that key frame's), so the packets would overcount the frames
                if not ticks and not p.is_keyframe:
                    return None
                ticks.append(int(p.pts))
                durations[int(p.pts)] = int(p.duration or 0)
            tb = float(vs.time_base)
    except (av.error.FFmpegError, OSError):
        return None
    if not ticks or min(ticks) < ticks[0]:   # ticks[0]: the first key frame, in decode order
        return None
    ticks.sort()
    if any(b <= a for a, b in zip(ticks, ticks[1:])):
        return None
    return ticks, tb, durations[ticks[-1]] * tb


def sparse_frames(
    path: str | os.PathLike,
    mode: str,
    width: int = ANALYSIS_WIDTH,
    stats: DecodeStats | None = None,
    on_audio: Callable[[av.AudioFrame], None] | None = None,
    threads: int = 0,
) -> Iterator[Frame]:
    """Like `decode_frames`, but only the frames `mode` keeps are decoded and yielded (indices
    and times exact, counting the frames skipped); `stats.frames` and `stats.pts` describe every
    frame; `stats.frames_decoded` counts those decoded. Where the packets cannot give an exact
    count (`packet_times` is None) every frame is decoded (`decode_frames`) and
    `stats.frames_decoded` equals `stats.frames`."""
    if mode not in SKIP_MODES:
        raise ValueError(f"unknown frame mode {mode!r}; choose one of {', '.join(SKIP_MODES)}")
    stats = stats if stats is not None else DecodeStats()
    known = packet_times(path)
    if known is None:
        yield from decode_frames(path, width=width, stats=stats, on_audio=on_audio, threads=threads)
        stats.frames_decoded = stats.frames
        return
    ticks, tb, last_dur = known
    path = str(path)
    index_of = {t: i for i, t in enumerate(ticks)}
    try:
        container = av.open(path)
    except Exception as e:  # noqa: BLE001
        raise VideoError(path, f"cannot open for decoding ({type(e).__name__}: {e})") from e
    decoded = 0
    with container:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        vs.codec_context.thread_count = threads
        vs.codec_context.skip_frame = SKIP_MODES[mode]
        rate = vs.average_rate or vs.guessed_rate
        stats.rate = float(rate) if rate else 0.0
        streams = [vs]
        a_stream = container.streams.audio[0] if (on_audio is not None and container.streams.audio) else None
        if a_stream is not None:
            streams.append(a_stream)
        scaler = VideoReformatter()
        size = None
        rotation = 0
        last = -1
        try:
            for packet in container.demux(*streams):
                if packet.stream.type == "audio":
                    try:
                        for af in packet.decode():
                            on_audio(af)
                    except av.error.FFmpegError:
                        stats.corrupt_packets += 1
                    continue
                try:
                    frames = packet.decode()
                except av.error.FFmpegError as e:
                    stats.corrupt_packets += 1
                    if stats.corrupt_packets > 50:
                        raise VideoError(path, f"too many undecodable packets ({e})") from e
                    continue
                for vf in frames:
                    i = index_of.get(int(vf.pts)) if vf.pts is not None else None
                    if i is None or i <= last:   # not a frame of the packet list, or out of order
                        continue
                    last = i
                    if size is None:
                        rotation, *size = scaled_geometry(vf, width)
                    decoded += 1
                    frame = Frame(index=i, pts_time=ticks[i] * tb, small=scale_small(scaler, vf, *size, rotation),
                                  rotation=rotation, _av=vf)
                    yield frame
                    frame._av = None   # the full-resolution picture is only valid during its step
        except VideoError:
            raise
        except av.error.FFmpegError as e:
            if decoded == 0:
                raise VideoError(path, f"video stream does not decode ({e})") from e
            stats.corrupt_packets += 1
    if decoded == 0:
        raise VideoError(path, "no video frames could be decoded")
    stats.pts = [t * tb for t in ticks]
    stats.frames = len(ticks)
    stats.frames_decoded = decoded
    stats.first_pts, stats.last_pts = stats.pts[0], stats.pts[-1]
    step = 1.0 / stats.rate if stats.rate else 1.0 / 25.0
    stats.last_duration = last_dur if last_dur > 0 else (stats.pts[-1] - stats.pts[-2] if len(ticks) > 1 else step)


__all__ = ["SKIP_MODES", "SPARSE_CODECS", "packet_times", "sparse_capable", "sparse_frames"]
