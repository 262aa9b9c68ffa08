"""`videoforge enhance` as a library call: super-resolve a video x2 or x4 with the shipped
recurrent network, keeping frame count, frame rate and audio.

Two x4 networks ship (session 8): 'clean' (fine-tuned on PIL-bicubic downscales) and 'blind'
(on the second-order degradations). By default (model='auto') the first SELECT_FRAMES frames
go through degrade_estimate.DegradationSelector, which picks one per video; its pick and
estimate are in the result (`model`, `degradation`).

The video is read by the data engine's decoder (io.decode_frames: a bad input fails with
the same named VideoError as `run`). The bidirectional network needs future frames, so the
frames are processed in windows: `chunk` frames are emitted per window and `context` frames
on each side are run through the network but not emitted (so propagation sees neighbours
across window edges). The window length adapts to the frame size so that the stored
features stay near `feature_budget` floats; memory does not grow with the video's length.

--scale 4 is the network's own output. --scale 2 runs the x4 network, then downsizes its
output by 2 with PIL's antialiased BICUBIC filter (no separate x2 head was trained).

Output: H.264 (libx264, CRF 10, yuv420p, preset veryfast) in the container OUT's
extension names (.mkv, .mp4, .mov); the audio streams of the input are copied when the
container takes their codec, else re-encoded to AAC.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import dataclass, field
from fractions import Fraction

import av
import cv2
import numpy as np
from PIL import Image

from videoforge.io.errors import VideoError

OUT_EXTS = {".mkv", ".mp4", ".mov"}
CRF = 10                       # near-lossless (#24 asks for CRF <= 12)
# audio codecs the MP4/MOV muxers take as they are; others are re-encoded to AAC
MP4_AUDIO = {"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"}
MOV_AUDIO = MP4_AUDIO | {"pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_f32le"}


class EnhanceUsageError(ValueError):
    """An argument that cannot work (scale, extension, output over input)."""


def _ext(path: str) -> str:
    return os.path.splitext(str(path))[1].lower()


class Upscaler:
    """super_resolve(frames (T,h,w,3) uint8) -> iterator of (4h,4w,3) uint8 frames."""

    def __init__(self, weights_path: str | None = None, threads: int | None = None):
        import torch

        from videoforge.enhance import weights

        self.torch = torch
        if threads:
            torch.set_num_threads(threads)
        self.model, self.meta = weights.load_sr(weights_path or weights.DEFAULT_SR)
        self.recurrent = bool(self.meta.get("recurrent", True))

    def super_resolve(self, frames: np.ndarray):
        from videoforge.enhance.sr_model import lr_flows

        torch = self.torch
        lr = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)[None].float() / 255
        fn = fp = None
        if self.recurrent and len(frames) > 1:
            n, p = lr_flows(frames)
            fn, fp = torch.from_numpy(n)[None], torch.from_numpy(p)[None]
        with torch.inference_mode():
            for out in self.model.frames(lr, fn, fp):
                yield (out[0].clamp(0, 1).permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)


def window_sizes(width: int, height: int, ch: int = 32, feature_budget: float = 1.2e9) -> tuple[int, int]:
    """(chunk, context) for a frame size: the stored backward features of a window
    (chunk + 2 context frames of ch x h x w floats) stay near feature_budget bytes."""
    per_frame = 4.0 * ch * width * height
    total = int(max(5, min(48, feature_budget // max(per_frame, 1))))
    context = 2 if total < 16 else 3
    return max(1, total - 2 * context), context


def windowed(frames_iter, chunk: int, context: int):
    """Yield (window frames, index of the first emitted frame in the window, count to emit)
    over a frame stream: each frame is emitted exactly once, in order."""
    buf: list[np.ndarray] = []
    b0 = 0          # absolute index of buf[0]
    e = 0           # next absolute index to emit
    for f in frames_iter:
        buf.append(f)
        if b0 + len(buf) >= e + chunk + context:
            yield np.stack(buf), e - b0, chunk
            e += chunk
            drop = max(0, (e - context) - b0)
            del buf[:drop]
            b0 += drop
    if b0 + len(buf) > e:
        yield np.stack(buf), e - b0, b0 + len(buf) - e


@dataclass
class EnhanceResult:
    video: str
    out: str
    scale: int
    frames: int
    width: int
    height: int
    fps: float
    out_width: int
    out_height: int
    audio_streams: int = 0
    audio: list = field(default_factory=list)
    seconds: float = 0.0
    model: str = "custom"          # which network ran: clean | blind | custom (--weights)
    weights: str = ""
    degradation: dict = field(default_factory=dict)   # the selector's estimate (auto mode)

    def to_dict(self) -> dict:
        return {"video": self.video, "out": self.out, "scale": self.scale, "frames": self.frames,
                "width": self.width, "height": self.height, "fps": self.fps,
                "out_width": self.out_width, "out_height": self.out_height,
                "audio_streams": self.audio_streams, "audio": self.audio, "seconds": round(self.seconds, 3),
                "frames_per_second": round(self.frames / self.seconds, 3) if self.seconds > 0 else None,
                "model": self.model, "weights": os.path.basename(self.weights), "degradation": self.degradation}


def _video_writer(path: str, width: int, height: int, fps: float):
    out = av.open(path, "w")
    st = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
    st.width, st.height = width, height
    st.pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    st.options = {"crf": str(CRF), "preset": "veryfast"}
    return out, st


def _transcode_audio_aac(src: str, index: int, dst: str) -> None:
    """Audio stream `index` of src -> AAC in an .m4a file (for containers that refuse its codec)."""
    with av.open(src) as inp, av.open(dst, "w") as out:
        a = inp.streams.audio[index]
        rate = a.codec_context.sample_rate or 48000
        st = out.add_stream("aac", rate=rate)
        st.layout = a.codec_context.layout.name if a.codec_context.layout else "stereo"
        res = av.AudioResampler(format="fltp", layout=st.layout, rate=rate)
        for fr in inp.decode(a):
            fr.pts = None
            for r in res.resample(fr):
                for p in st.encode(r):
                    out.mux(p)
        for r in res.resample(None):
            for p in st.encode(r):
                out.mux(p)
        for p in st.encode():
            out.mux(p)


def _mux(video_only: str, src: str, out_path: str, tmpdir: str) -> list[dict]:
    """Write out_path = the video of video_only + every audio stream of src (copied, or AAC
    when the container refuses the codec), packets interleaved by time."""
    ext = _ext(out_path)
    with av.open(src) as probe_in:
        audio = [(i, s.codec_context.name) for i, s in enumerate(probe_in.streams.audio)]
    sources = []   # (path, audio index within that file, how)
    for i, codec in audio:
        ok = ext == ".mkv" or (ext == ".mp4" and codec in MP4_AUDIO) or (ext == ".mov" and codec in MOV_AUDIO)
        if ok:
            sources.append((src, i, "copied", codec))
        else:
            dst = os.path.join(tmpdir, f"audio{i}.m4a")
            _transcode_audio_aac(src, i, dst)
            sources.append((dst, 0, "aac", codec))
    inputs = [av.open(video_only)] + [av.open(p) for p, _, _, _ in sources]
    try:
        with av.open(out_path, "w") as out:
            vin = inputs[0].streams.video[0]
            vout = out.add_stream_from_template(vin)
            pairs = [(inputs[0], vin, vout)]
            for c, (_, idx, _, _) in zip(inputs[1:], sources):
                ain = c.streams.audio[idx]
                pairs.append((c, ain, out.add_stream_from_template(ain)))
            iters = [(c.demux(s), s, o) for c, s, o in pairs]
            heads = [_next_packet(it) for it, _, _ in iters]
            while any(h is not None for h in heads):
                # the packet that comes first in time goes next (muxers want interleaving)
                k = min((i for i, h in enumerate(heads) if h is not None),
                        key=lambda i: float((heads[i].dts if heads[i].dts is not None else 0) * heads[i].time_base))
                pkt = heads[k]
                pkt.stream = iters[k][2]
                out.mux(pkt)
                heads[k] = _next_packet(iters[k][0])
    finally:
        for c in inputs:
            c.close()
    return [{"codec": codec, "how": how} for _, _, how, codec in sources]


def _next_packet(it):
    for p in it:
        if p.size:   # skip the demuxer's empty flush packets
            return p
    return None


SELECT_FRAMES = 16   # frames looked at by the degradation estimate (the first ones)
MODELS = ("auto", "clean", "blind")


def enhance_video(video: str, out: str, scale: int = 4, weights_path: str | None = None,
                  threads: int | None = 1, progress: bool = False, model: str = "auto",
                  single_frame: bool = False) -> EnhanceResult:
    """Super-resolve `video` into `out` (see the module docstring). Raises VideoError (bad
    input, named) or EnhanceUsageError (bad arguments).

    model: 'auto' (default) measures the degradation of the first SELECT_FRAMES frames
    (degrade_estimate.py) and runs the 'clean' network on clean input, the 'blind' one on
    degraded input; 'clean' / 'blind' force one. weights_path overrides both.
    single_frame: run the chosen network's single-frame twin (the equal-size baseline of the
    figures) instead."""
    from videoforge.io.decode import decode_frames
    from videoforge.io.probe import probe

    if scale not in (2, 4):
        raise EnhanceUsageError(f"--scale {scale}: must be 2 or 4")
    if _ext(out) not in OUT_EXTS:
        raise EnhanceUsageError(f"--out {out}: container must be one of {sorted(OUT_EXTS)}")
    if os.path.abspath(out) == os.path.abspath(video):
        raise EnhanceUsageError(f"{out}: the output would overwrite the input")
    if model not in MODELS:
        raise EnhanceUsageError(f"--model {model}: must be one of {list(MODELS)}")
    info = probe(video)
    w, h, fps = info.width, info.height, info.fps if info.fps > 0 else 25.0
    ow, oh = w * scale, h * scale

    def rgb_frames():
        for f in decode_frames(video, width=16):
            yield cv2.cvtColor(f.bgr(), cv2.COLOR_BGR2RGB)

    t0 = time.perf_counter()      # the degradation pick below counts in the reported speed
    frames_iter = rgb_frames()
    degradation: dict = {}
    if weights_path:
        kind = "custom"
    else:
        head = []
        if model == "auto":
            import itertools

            from videoforge.enhance.degrade_estimate import DegradationSelector

            head = list(itertools.islice(frames_iter, SELECT_FRAMES))
            kind, degradation = DegradationSelector.load().choose(np.stack(head)) if head else ("clean", {})
            frames_iter = itertools.chain(head, frames_iter)
        else:
            kind = model
        from videoforge.enhance import weights as _w

        weights_path = _w.sr_model_path(kind, single=single_frame)
    up = Upscaler(weights_path, threads=threads)
    chunk, context = window_sizes(w, h, up.model.ch)
    os.makedirs(os.path.dirname(os.path.abspath(out)) or ".", exist_ok=True)
    n = 0
    bar = None
    with tempfile.TemporaryDirectory(prefix="vf_enhance_", dir=os.path.dirname(os.path.abspath(out))) as tmp:
        vtmp = os.path.join(tmp, "video" + _ext(out))
        container, stream = _video_writer(vtmp, ow, oh, fps)
        try:
            if progress:
                from tqdm import tqdm

                bar = tqdm(total=info.frames or None, unit="frame", desc=f"enhance x{scale} {os.path.basename(video)}")

            for win, first, count in windowed(frames_iter, chunk, context):
                for j, sr in enumerate(up.super_resolve(win)):
                    if j < first or j >= first + count:
                        continue
                    if scale == 2:
                        sr = np.asarray(Image.fromarray(sr).resize((ow, oh), Image.BICUBIC))
                    for p in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(sr), format="rgb24")):
                        container.mux(p)
                    n += 1
                    if bar is not None:
                        bar.update(1)
            for p in stream.encode():
                container.mux(p)
        finally:
            container.close()
            if bar is not None:
                bar.close()
        if n == 0:
            raise VideoError(video, "no video frame could be decoded", stage="enhance")
        audio = _mux(vtmp, video, out, tmp) if info.has_audio else []
        if not info.has_audio:
            os.replace(vtmp, out)
    return EnhanceResult(video=video, out=os.path.abspath(out), scale=scale, frames=n, width=w, height=h,
                         fps=fps, out_width=ow, out_height=oh, audio_streams=len(audio), audio=audio,
                         seconds=time.perf_counter() - t0, model=kind, weights=weights_path, degradation=degradation)
