"""A clip's audio: the source's first audio stream, trimmed to the shot with sample precision, as AAC.

Copying AAC packets would trim only in 1024-sample steps (about 21-64 ms), so the samples are
decoded, cut at the shot's exact start and end times, and encoded again from t = 0.
"""

from __future__ import annotations

import av
import numpy as np


def encode_audio_range(path: str, out, oas, start_t: float, end_t: float) -> None:
    """Decode the source's first audio stream, keep samples in [start_t, end_t), encode AAC from t=0."""
    rate = oas.codec_context.sample_rate
    first_sample, last_sample = int(round(start_t * rate)), int(round(end_t * rate))
    resampler = av.AudioResampler(format="fltp", layout=oas.layout, rate=rate)
    pending: list[np.ndarray] = []
    emitted = 0
    frame_size = oas.codec_context.frame_size or 1024

    def emit(block: np.ndarray) -> None:
        nonlocal emitted
        af = av.AudioFrame.from_ndarray(np.ascontiguousarray(block), format="fltp", layout=oas.layout)
        af.sample_rate, af.pts = rate, emitted
        emitted += block.shape[1]
        for p in oas.encode(af):
            out.mux(p)

    with av.open(path) as src:
        a = src.streams.audio[0]
        try:
            src.seek(max(0, int((start_t - 1.0) / float(a.time_base))) if a.time_base else 0, stream=a, backward=True)
        except av.error.FFmpegError:
            src.seek(0)
        cursor = None  # absolute sample position of the next resampled sample
        try:
            for frame in src.decode(a):
                for rf in resampler.resample(frame):
                    if rf.pts is not None and rf.time_base:
                        cursor = int(round(float(rf.pts * rf.time_base) * rate))
                    elif cursor is None:
                        cursor = 0
                    data = rf.to_ndarray()
                    lo, hi = max(first_sample - cursor, 0), min(last_sample - cursor, data.shape[1])
                    cursor += data.shape[1]
                    if hi > lo:
                        pending.append(data[:, lo:hi])
                    buf = np.concatenate(pending, axis=1) if pending else np.zeros((data.shape[0], 0), np.float32)
                    while buf.shape[1] >= frame_size:
                        emit(buf[:, :frame_size])
                        buf = buf[:, frame_size:]
                    pending = [buf] if buf.shape[1] else []
                if cursor is not None and cursor >= last_sample:
                    break
        except av.error.FFmpegError:
            pass  # damaged audio tail: keep what decoded
    if pending:
        tail = np.concatenate(pending, axis=1)
        if tail.shape[1]:
            emit(tail)
    for p in oas.encode():
        out.mux(p)
