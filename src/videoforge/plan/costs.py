"""What each input is (probe) and what a chain of stage variants costs on it.

A chain's CPU cost on one input is the sum over its stages of cost-per-unit x the input's
units (megapixels decoded, frames, seconds); an engine call adds its fixed costs (one per
distinct chain in a plan: the call itself, model loading, spawned workers) and the plan's
process adds its start-up once. All per-unit figures come from the registry (shipped, or
the catalog's measured running averages); decode, which varies most between codecs, is
refined per input by timing the decode of its first seconds when nothing was measured.
"""

from __future__ import annotations

import os
import resource
import time
from dataclasses import asdict, dataclass, field

from videoforge.plan.registry import Variant

BASE_STAGES = [("overhead", "video"), ("decode", "default"), ("keyframes", "default")]


@dataclass
class InputInfo:
    path: str
    duration: float
    frames: int
    width: int
    height: int
    decode_cpu_per_mpx: float | None = None   # measured on a sample of this input (None: not sampled)
    error: str | None = None
    text_pass: float | None = None   # share of 2 Hz samples the text gate passed in the sample (None: not sampled)
    # CPU per frame of the suitability features' own decoding (OpenCV, source size) on this
    # input: the flash series (every frame of a shot) and the quality frames (its first 72)
    suit_luma_cpu_per_frame: float | None = None
    suit_quality_cpu_per_frame: float | None = None
    # shots the detector finds in this input, forecast from its sample (cuts per sampled second x
    # duration + 1; the exact count when the sample is the whole input). None: not sampled
    shots_sampled: float | None = None
    # key frames in this input, counted from its packets (frames/keyframes decodes only these);
    # None: not counted (the registry's forecast/keyframes_per_second)
    keyframes: int | None = None

    @property
    def mpx(self) -> float:
        return self.frames * self.width * self.height / 1e6

    def units(self, unit: str) -> float:
        return {"mpx": self.mpx, "frame": float(self.frames), "second": self.duration, "video": 1.0}.get(unit, 0.0)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["mpx"] = self.mpx
        return d


def probe_input(path: str) -> InputInfo:
    """Duration, frame count and size from the container (no decode). A file that cannot be
    probed is returned with `error` set (the planner leaves it out and says so)."""
    from videoforge.io.errors import VideoError
    from videoforge.io.probe import probe

    path = os.path.abspath(path)
    try:
        info = probe(path)
    except VideoError as e:
        return InputInfo(path, 0.0, 0, 0, 0, error=str(e))
    except OSError as e:
        return InputInfo(path, 0.0, 0, 0, 0, error=f"{path}: cannot read file ({e.strerror or e})")
    duration = float(info.duration or 0.0)
    frames = int(info.frames or 0) or int(round(duration * float(info.fps or 0.0)))
    return InputInfo(path, duration, frames, int(info.width or 0), int(info.height or 0))


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sample_decode(info: InputInfo, seconds: float = 4.0, max_frames: int = 120, gate_hz: float = 2.0,
                  shots_seconds: float = 12.0) -> None:
    """Time decoding the first `seconds` of an input the way the engine does (analysis width);
    sets `decode_cpu_per_mpx`. The first frames are excluded (opening the container and the
    decoder's start are paid once per file, not per megapixel). Every 1/gate_hz seconds the
    engine's cheap text gate looks at the frame (`text_pass`: the share it passes): OCR's cost
    follows how much text-like content the gate lets through. The gate is not timed.

    The decode goes on to `shots_seconds` (0: stop with the timing) through the default shot
    detector (`shots_sampled`): the per-shot stages' cost follows how many shots an input has,
    and footage differs most there (3-s shots of an edit vs one long take)."""
    from videoforge.io.decode import DecodeStats, decode_frames

    if info.error or not info.width:
        return
    n, t_start, gate_time, t_end = 0, None, 0.0, None
    px = info.width * info.height / 1e6
    gated, passed, next_t = 0, 0, 0.0
    gate = det = None
    if gate_hz > 0:
        try:
            from videoforge.metrics.text import gate_frame as gate
        except Exception:   # noqa: BLE001 - no gate (OCR extra missing): decode only
            gate = None
    if shots_seconds > 0:
        try:
            from videoforge.shots.base import get_detector

            det = get_detector("videoforge")
        except Exception:   # noqa: BLE001 - no detector: the registry's shots-per-second forecast
            det = None
    stats = DecodeStats()
    timed_frames, t, cut_short = 0, 0.0, False
    try:
        for frame in decode_frames(info.path, threads=1, prefetch=0, stats=stats):
            n += 1
            if n == 3:
                t_start = _cpu()
            t = float(getattr(frame, "pts_time", 0.0) or 0.0)
            timing = t_end is None
            if gate is not None and t >= next_t and timing:
                g0 = _cpu()
                try:
                    passed += int(gate(frame).passed)
                    gated += 1
                except Exception:   # noqa: BLE001 - a frame the gate cannot read: not counted
                    pass
                if t_start is not None:   # frames 1-2 are before the timed window
                    gate_time += _cpu() - g0
                next_t = t + 1.0 / gate_hz
            if timing and (n >= max_frames or t >= seconds):
                t_end, timed_frames = _cpu(), n
            if det is not None:
                d0 = _cpu()
                det.process(frame)
                if t_start is not None and t_end is None:   # inside the timed window: not decoding
                    gate_time += _cpu() - d0
            if t_end is not None and (det is None or t >= shots_seconds or n >= 30 * shots_seconds):
                cut_short = True
                break
    except Exception:   # noqa: BLE001 - a file that fails here fails the run too; keep the shipped figure
        if t_end is None:
            return
        det = None   # failed past the timed window: keep the timing, not the shot forecast
    if t_end is None:   # the input is shorter than the timed window
        t_end, timed_frames = _cpu(), n
    if t_start is not None and timed_frames > 8:
        info.decode_cpu_per_mpx = max(t_end - t_start - gate_time, 0.0) / ((timed_frames - 3) * px)
    if gated:
        info.text_pass = passed / gated
    if det is not None and n >= 8:
        try:
            shots, _ = det.finish(stats)
        except Exception:   # noqa: BLE001 - the forecast stays the registry's
            return
        whole = not cut_short
        sampled = max(t + (stats.last_duration or 0.0), 1e-6)
        info.shots_sampled = float(len(shots)) if whole else 1.0 + (len(shots) - 1) / sampled * info.duration


def sample_suitability(info: InputInfo, frames: int = 48) -> None:
    """Time the suitability features' decoding on this input's first `frames` frames, the way
    they run per shot (curate/frame_features.luma_series: every frame, thumbnail luma;
    curate/quality_features: grey frames at <= 256 px and the measures on them). Their cost per
    frame follows the source size and codec, with per-frame overheads a per-megapixel figure
    misses (small clips cost 1.5-4x more per megapixel than the large ones the registry was
    measured on): sets `suit_luma_cpu_per_frame` and `suit_quality_cpu_per_frame`."""
    if info.error or not info.width or info.frames < 8:
        return
    try:
        from videoforge.curate.frame_features import luma_series
        from videoforge.curate.quality_features import frames_features, read_frames, step_measures

        n = int(min(frames, info.frames))
        luma_series(info.path, 0, 1)            # warm-up: OpenCV's backends load once per process
        c0 = _cpu()
        got = len(luma_series(info.path, 0, n - 1))
        c1 = _cpu()
        g = read_frames(info.path, 0, n - 1)
        frames_features(g)
        step_measures(g)
        c2 = _cpu()
    except Exception:   # noqa: BLE001 - an unreadable sample keeps the registry's figures
        return
    if got and g:
        info.suit_luma_cpu_per_frame = (c1 - c0) / got
        info.suit_quality_cpu_per_frame = (c2 - c1) / len(g)


# the per-shot frame limits of the suitability features (curate/frame_features.MAX_FRAMES,
# curate/quality_features.MAX_FRAMES)
SUIT_LUMA_MAX, SUIT_QUALITY_MAX = 600, 72


def suitability_frame_cpu(info: InputInfo, shots: float, reg: dict[str, Variant]) -> float:
    """CPU of the suitability features' decoding on one input with `shots` shots: each shot
    decodes up to 600 frames for the flash series and its first 72 for the quality measures.
    Per-frame costs measured on this input (sample_suitability), else the registry's
    `forecast/suit_cpu_per_frame` + `forecast/suit_cpu_per_mpx` x megapixels per frame."""
    shots = max(shots, 1.0)
    length = info.frames / shots
    lf, qf = info.suit_luma_cpu_per_frame, info.suit_quality_cpu_per_frame
    if lf is None or qf is None:
        per = reg["forecast/suit_cpu_per_frame"].cpu_seconds + reg["forecast/suit_cpu_per_mpx"].cpu_seconds * (
            info.width * info.height / 1e6)
        lf = per if lf is None else lf
        qf = per if qf is None else qf
    return shots * (min(length, SUIT_LUMA_MAX) * lf + min(length, SUIT_QUALITY_MAX) * qf)


# OCR's CPU per second of video: the gate's part (every 2 Hz sample) does not depend on the
# footage, the reads after it grow with what the gate passes. Split from docs/BENCHMARKS.md
# (run row, CPU per frame: text gate + crops 0.50 ms, OCR after the pass 0.9-1.3 ms): 0.3 / 0.7.
OCR_GATE_SHARE = 0.3


def ocr_factor(info: InputInfo, reg: dict[str, Variant]) -> float:
    """How much dearer (or cheaper) OCR is per second on this input than on the footage its
    registry figure was measured on (`forecast/ocr_gate_pass`): 1 when either is unknown."""
    ref = reg["forecast/ocr_gate_pass"].cpu_seconds if "forecast/ocr_gate_pass" in reg else 0.0
    if info.text_pass is None or ref <= 0:
        return 1.0
    return OCR_GATE_SHARE + (1.0 - OCR_GATE_SHARE) * info.text_pass / ref


# ocr/lowres reads its pictures at <= this many pixels on the long side (registry.OCR_PARAMS); an
# input no larger gives it the very pictures ocr/on reads
LOWRES_SIDE = 640


def ocr_size_factor(info: InputInfo, variant: str, reg: dict[str, Variant]) -> float:
    """`ocr/lowres` on an input at or below its picture size costs what ocr/on costs (the same
    pictures; its registry figure is measured on larger footage): the factor to on's level."""
    if variant != "lowres" or max(info.width, info.height) > LOWRES_SIDE:
        return 1.0
    low, on = reg.get("ocr/lowres"), reg.get("ocr/on")
    return on.cpu_seconds / low.cpu_seconds if low is not None and on is not None and low.cpu_seconds > 0 else 1.0


def sampled_decode_factor(reg: dict[str, Variant]) -> float:
    """The engine's decoding CPU over what the plan's single-threaded sample measured on the same
    file (its decode threads and prefetch cost more, the more so on a loaded machine): learnt
    by every run --plan (plan/feedback.py), 1 until then."""
    v = reg.get("forecast/decode_vs_sample")
    return v.cpu_seconds if v is not None and v.cpu_seconds > 0 else 1.0


def decode_per_mpx(info: InputInfo, reg: dict[str, Variant]) -> float:
    """CPU-s per megapixel of decoding this input: its own sample (x the learnt engine/sample
    factor), else the registry's figure."""
    if info.decode_cpu_per_mpx is not None:
        return info.decode_cpu_per_mpx * sampled_decode_factor(reg)
    return reg["decode/default"].cpu_seconds


def decode_cost(info: InputInfo, reg: dict[str, Variant]) -> float:
    """CPU seconds to decode one input: its own measured rate when sampled, else the registry's."""
    return decode_per_mpx(info, reg) * info.mpx


def count_keyframes(info: InputInfo) -> None:
    """Count an input's key frames from its packets (demuxing only; `keyframes`), where the
    engine's key-frame mode would decode only them (io/sparse.packet_times accepts the file)."""
    if info.error or not info.width:
        return
    try:
        import av

        from videoforge.io.sparse import packet_times

        if packet_times(info.path) is None:   # the mode decodes every frame of this file
            info.keyframes = info.frames
            return
        with av.open(info.path) as c:
            vs = c.streams.video[0]
            info.keyframes = sum(1 for p in c.demux(vs) if p.size and p.is_keyframe)
    except Exception:   # noqa: BLE001 - not counted: the registry's forecast
        info.keyframes = None


def mark_not_sparse(info: InputInfo) -> None:
    """For an input whose key frames are not counted (`plan --no-sample`): where the container's
    format or the codec rules the key-frame mode's skipping out (AVI, VP9, MPEG-4, ...: io/sparse.
    sparse_capable, the header only), the mode decodes every frame, so it is priced as the full
    decode (`keyframes` = frames) instead of with the key frames/s forecast (~15x too cheap)."""
    if info.error or not info.width or info.keyframes is not None:
        return
    from videoforge.io.sparse import sparse_capable

    if not sparse_capable(info.path):
        info.keyframes = info.frames


def keyframes_of(info: InputInfo, reg: dict[str, Variant]) -> float:
    """Frames the key-frame mode decodes in one input: counted, else forecast per second."""
    if info.keyframes is not None:
        return float(info.keyframes)
    kps = reg["forecast/keyframes_per_second"].cpu_seconds if "forecast/keyframes_per_second" in reg else 0.5
    return float(min(info.frames, max(1.0, kps * info.duration)))


# metrics, keyframe candidates and the text gate sample about 2 frames a second at full rate;
# in the key-frame mode every decoded frame is a sample, and there are fewer of them
SAMPLE_HZ = 2.0


def sparse_scale(info: InputInfo, unit: str, reg: dict[str, Variant]) -> float:
    """The share of a stage's per-unit work a key-frame pass still does on this input: per frame,
    the decoded fraction; per second, decoded frames per second over the 2 Hz sample grid."""
    k = keyframes_of(info, reg)
    if unit == "frame":
        return k / max(info.frames, 1)
    if unit == "second":
        return min(1.0, k / max(info.duration, 1e-6) / SAMPLE_HZ)
    return 1.0


def sparse_decode_cost(info: InputInfo, reg: dict[str, Variant]) -> float:
    """CPU seconds of the key-frame pass's decoding on one input: demuxing every packet (twice:
    the pre-pass that counts them, then the decode pass) per frame, plus the key frames' decoding
    at this input's decode rate x how much dearer a key frame is than the average frame."""
    v = reg["frames/keyframes"]
    f = reg["forecast/keyframe_decode_factor"].cpu_seconds if "forecast/keyframe_decode_factor" in reg else 1.0
    if info.keyframes is not None and info.keyframes >= info.frames:
        f = 1.0   # a file the mode decodes whole (AVI, VP9, ...: count_keyframes): the full decode's rate
    px = info.width * info.height / 1e6
    return v.cpu_seconds * info.frames + decode_per_mpx(info, reg) * f * keyframes_of(info, reg) * px


def chain_cost(info: InputInfo, chain: dict[str, str], reg: dict[str, Variant]) -> float:
    """CPU seconds of a chain's per-unit work on one input (no fixed costs)."""
    if f"frames/{chain.get('frames')}" in reg and chain.get("frames") != "all":
        return _sparse_chain_cost(info, chain, reg)
    total = 0.0
    for stage, variant in [*BASE_STAGES, *chain.items()]:
        v = reg[f"{stage}/{variant}"]
        per = v.cpu_seconds
        if stage == "decode":
            per = decode_per_mpx(info, reg)   # measured on this very file when sampled
        if stage == "ocr" and variant != "off":
            per *= ocr_factor(info, reg)    # what the gate passed on this very file
            per *= ocr_size_factor(info, variant, reg)
        total += per * info.units(v.unit)
    return total


def _sparse_chain_cost(info: InputInfo, chain: dict[str, str], reg: dict[str, Variant]) -> float:
    """chain_cost for a chain with a sparse frame mode: its decoding, and the other stages scaled
    by the share of frames / samples the pass still sees.

    The learnt factor (`forecast/sparse_vs_predicted`) corrects the modelled work only, not
    `overhead/video`: that figure is learnt on its own from every call, sparse or not, and a
    key-frame call moves both by its ratio (feedback._observe_sparse), so with the factor on it
    too the per-video overhead of a key-frame chain was corrected by the ratio squared (session 11:
    the over-correction of key-frame feedback the session-10 summary suspected)."""
    work = sparse_decode_cost(info, reg)
    overhead = 0.0
    for stage, variant in [*BASE_STAGES, *chain.items()]:
        if stage in ("decode", "frames"):
            continue
        v = reg[f"{stage}/{variant}"]
        if stage == "overhead":
            overhead += v.cpu_seconds * info.units(v.unit)
        else:
            work += v.cpu_seconds * info.units(v.unit) * sparse_scale(info, v.unit, reg)
    return overhead + work * sparse_factor(reg)


def sparse_factor(reg: dict[str, Variant]) -> float:
    """A sparse pass's measured / modelled per-unit CPU, learnt by run --plan (1 until then)."""
    v = reg.get("forecast/sparse_vs_predicted")
    return v.cpu_seconds if v is not None and v.cpu_seconds > 0 else 1.0


def chain_usd(info: InputInfo, chain: dict[str, str], reg: dict[str, Variant]) -> float:
    return sum(reg[f"{s}/{v}"].usd * (1.0 if reg[f"{s}/{v}"].unit in ("call", "video") else info.units(reg[f"{s}/{v}"].unit))
               for s, v in chain.items())


def workers_for(n_videos: int) -> int:
    """Spawned workers of one engine call: a single video runs in the calling process."""
    return 0 if n_videos <= 1 else min(n_videos, os.cpu_count() or 1)


def fixed_costs(groups: list[tuple[dict[str, str], int]], reg: dict[str, Variant], inline: bool = False) -> list[float]:
    """Fixed CPU of each engine call of a plan, in execution order: [(chain, videos), ...].

    Each call pays `overhead/group`. A call over two or more videos spawns workers, and each
    worker pays the engine's imports (`overhead/worker`) and each variant's loading
    (`fixed_cpu_seconds`). A call over one video - or any call when `inline` (pool/inline) -
    runs in the calling process, which pays each variant's loading once, however many such calls
    follow. The calling process imports the engine whatever the pool (run --plan imports it
    before its first call): that is part of its start-up, `overhead/run`, which feedback
    measures as everything outside the calls and per-shot stages (session 9: charging the
    in-process imports again as `overhead/worker` counted them twice once a run had been fed back)."""
    out = []
    for (chain, k), loads in zip(groups, variant_loading(groups, reg, inline)):
        f = reg["overhead/group"].cpu_seconds + sum(loads.values())
        if k >= 2 and not inline:
            f += workers_for(k) * reg["overhead/worker"].cpu_seconds
        out.append(f)
    return out


def variant_loading(groups: list[tuple[dict[str, str], int]], reg: dict[str, Variant],
                    inline: bool = False) -> list[dict[str, float]]:
    """Per engine call (as fixed_costs, in execution order): the loading (`fixed_cpu_seconds`) each
    variant of the call pays, by variant key: every spawned worker loads; in the calling process
    only the first call needing a variant does. The one rule behind fixed_costs and paid_loading."""
    paid: set[str] = set()
    out = []
    for chain, k in groups:
        loads: dict[str, float] = {}
        for s, v in chain.items():
            x = f"{s}/{v}"
            if k >= 2 and not inline:
                loads[x] = loads.get(x, 0.0) + workers_for(k) * reg[x].fixed_cpu_seconds
            elif k >= 1 and x not in paid:
                paid.add(x)
                loads[x] = loads.get(x, 0.0) + reg[x].fixed_cpu_seconds
        out.append(loads)
    return out


def paid_loading(groups: list[tuple[dict[str, str], int]], reg: dict[str, Variant], inline: bool = False) -> list[dict[str, float]]:
    """Per engine call (as fixed_costs, in execution order): the loading each call pays inside the
    engine's per-stage timings, by stage. Only variants that load lazily inside their timed code
    count (`Variant.loads_in_timing`: the OCR models load in the text stage, ~0.3 s of a short
    clip's text timing; TransNet's model in the shot detector's finish); the metrics and the other
    detectors load when the engine builds its components, outside every timing (engine/analyze.py),
    so nothing of theirs is in a timing to take out (session 11 review). Feedback takes this out
    before splitting the work by those timings."""
    out = []
    for loads in variant_loading(groups, reg, inline):
        by_stage: dict[str, float] = {}
        for x, c in loads.items():
            if c > 0 and reg[x].loads_in_timing:
                by_stage[reg[x].stage] = by_stage.get(reg[x].stage, 0.0) + c
        out.append(by_stage)
    return out


def group_fixed(chain: dict[str, str], n_videos: int, reg: dict[str, Variant], inline: bool = False) -> float:
    """Fixed CPU of one engine call alone (see fixed_costs)."""
    return fixed_costs([(chain, n_videos)], reg, inline)[0]


def reap_children(timeout: float = 60.0) -> None:
    """Wait until every child process the engine started has exited and been reaped.

    The local pool shuts down without waiting for its workers; a child's CPU reaches
    RUSAGE_CHILDREN only once it is reaped, so a measurement taken before that would miss
    it (and the next one would count it)."""
    import multiprocessing

    deadline = time.monotonic() + timeout
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.01)


@dataclass
class Timer:
    """Process-tree CPU (user + system of this process and its reaped children) and wall time."""

    cpu0: float = field(default=0.0)
    wall0: float = field(default=0.0)

    @staticmethod
    def tree_cpu() -> float:
        s = resource.getrusage(resource.RUSAGE_SELF)
        c = resource.getrusage(resource.RUSAGE_CHILDREN)
        return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime

    def start(self) -> "Timer":
        self.cpu0, self.wall0 = self.tree_cpu(), time.perf_counter()
        return self

    def cpu(self) -> float:
        return self.tree_cpu() - self.cpu0

    def wall(self) -> float:
        return time.perf_counter() - self.wall0
