"""Audio presence and loudness per shot, from the audio frames of the same decode pass.

The first audio stream, mixed to mono, cut into blocks of `block_seconds` (default 50 ms):
- `audio_rms_db`: RMS level over the shot, dBFS (0 = full-scale square wave; a full-scale
  sine is -3; digital silence is clamped at -120).
- `audio_peak_db`: highest absolute sample in the shot, dBFS (-120 to 0).
- `audio_silence_ratio`: fraction of the shot's blocks whose RMS is below -50 dBFS, 0-1.
All three are NULL when the video has no audio stream or no audio covers the shot.
"""

from __future__ import annotations

import math

import numpy as np

from videoforge.metrics.base import Scorer, ShotContext

FLOOR_DB = -120.0
COLUMNS = ("audio_rms_db", "audio_peak_db", "audio_silence_ratio")

_INT_SCALE = {"s16": 32768.0, "s16p": 32768.0, "s32": 2147483648.0, "s32p": 2147483648.0,
              "u8": 128.0, "u8p": 128.0, "s64": 9223372036854775808.0, "s64p": 9223372036854775808.0}


def to_mono_float(af) -> np.ndarray:
    """A PyAV AudioFrame as mono float64 samples in [-1, 1]."""
    a = af.to_ndarray()
    fmt = af.format.name
    a = a.astype(np.float64)
    if fmt in ("u8", "u8p"):
        a = a - 128.0
    if fmt in _INT_SCALE:
        a = a / _INT_SCALE[fmt]
    channels = len(af.layout.channels) or 1
    if af.format.is_planar:
        a = a.reshape(channels, -1)
    else:  # packed: samples interleaved along the last axis
        a = a.reshape(-1, channels).T
    return a.mean(axis=0)


def db(x: float) -> float:
    return max(FLOOR_DB, 20.0 * math.log10(x)) if x > 0 else FLOOR_DB


class AudioScorer(Scorer):
    name = "audio"
    columns = COLUMNS

    def __init__(self, block_seconds: float = 0.05, silence_db: float = -50.0):
        self.block_seconds = block_seconds
        self.silence_db = silence_db
        self._rate: int | None = None
        self._next_t: float | None = None       # PTS (s) of the next sample
        self._pending = np.zeros(0)
        self._pending_t = 0.0
        # decoded frames gathered until about a second of samples (one NumPy pass per batch
        # instead of several per 20-ms frame); the batching depends on the audio stream alone
        self._batch: list[np.ndarray] = []
        self._batch_t = 0.0
        self._batch_n = 0
        # per block: start time (s), sum of squares, peak, sample count
        self._t: list[float] = []
        self._ss: list[float] = []
        self._peak: list[float] = []
        self._n: list[int] = []

    def process(self, frame) -> None:  # video frames: nothing to do
        pass

    # Segment analysis decodes the audio stream in one task of its own, through this scorer.
    audio_only = True
    segmentable = True

    def segment_state(self) -> dict:
        return dict(vars(self))

    def join_segments(self, states: list[dict], seams: list) -> None:
        (state,) = states   # the audio task's: one pass over the audio stream
        vars(self).update(state)

    def process_audio(self, af) -> None:
        rate = af.sample_rate or self._rate or 48000
        if self._rate is None:
            self._rate = rate
        x = to_mono_float(af)
        t = float(af.pts * af.time_base) if af.pts is not None and af.time_base else None
        if t is None:
            t = self._next_t if self._next_t is not None else 0.0
        if not self._batch:
            self._batch_t = t
        self._batch.append(x)
        self._batch_n += x.size
        self._next_t = t + x.size / rate
        if self._batch_n >= rate:
            self._flush_batch()

    def _flush_batch(self) -> None:
        if not self._batch:
            return
        rate = self._rate
        x = np.concatenate(self._batch) if len(self._batch) > 1 else self._batch[0]
        self._batch, self._batch_n = [], 0
        if not self._pending.size:
            self._pending_t = self._batch_t
        self._pending = np.concatenate([self._pending, x]) if self._pending.size else x
        block = max(1, int(round(self.block_seconds * rate)))
        full = self._pending.size // block
        if full:
            b = self._pending[: full * block].reshape(full, block)
            self._push(self._pending_t, b, rate)
            self._pending = self._pending[full * block:]
            self._pending_t += full * block / rate

    def _push(self, t0: float, blocks: np.ndarray, rate: int) -> None:
        n = blocks.shape[1]
        self._t.extend((t0 + np.arange(len(blocks)) * n / rate).tolist())
        self._ss.extend((blocks * blocks).sum(axis=1).tolist())
        self._peak.extend(np.abs(blocks).max(axis=1).tolist())
        self._n.extend([n] * len(blocks))

    def finish(self, ctx: ShotContext) -> list[dict]:
        if self._rate:
            self._flush_batch()
        if self._pending.size and self._rate:
            self._push(self._pending_t, self._pending[None, :], self._rate)
            self._pending = np.zeros(0)
        if not ctx.info.has_audio or not self._t:
            return [{c: None for c in COLUMNS} for _ in ctx.shots]
        t = np.asarray(self._t)
        ss, peak, n = np.asarray(self._ss), np.asarray(self._peak), np.asarray(self._n, dtype=np.float64)
        block_rms_db = np.array([db(math.sqrt(a / b)) for a, b in zip(ss, n)])
        out = []
        for shot in ctx.shots:
            start = ctx.stats.pts[shot.start_frame]
            end = ctx.stats.end_time(shot.end_frame)
            lo, hi = np.searchsorted(t, start, side="left"), np.searchsorted(t, end, side="left")
            if hi <= lo:
                out.append({c: None for c in COLUMNS})
                continue
            out.append({
                "audio_rms_db": db(math.sqrt(ss[lo:hi].sum() / n[lo:hi].sum())),
                "audio_peak_db": db(float(peak[lo:hi].max())),
                "audio_silence_ratio": float(np.mean(block_rms_db[lo:hi] < self.silence_db)),
            })
        return out
