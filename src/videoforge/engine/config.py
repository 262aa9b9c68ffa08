"""What an analysis run does, as one typed object whose signature is recorded per video."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field

from videoforge.frame_modes import FRAME_MODES

# Bump when analysis output changes meaning: videos analysed under another version are redone.
ANALYSIS_VERSION = "3"   # 2: motion_peak; 3: samples and keyframe candidates on a fixed PTS grid
# AnalysisConfig.frames: every frame, or a sparse mode of io/sparse.py (its SKIP_MODES); both
# names come from videoforge/frame_modes.py (FRAME_MODES is re-exported here)


@dataclass
class AnalysisConfig:
    detector: str = "videoforge"
    detector_params: dict = field(default_factory=dict)
    scorers: list[str] | None = None          # None = every registered scorer
    scorer_params: dict = field(default_factory=dict)   # name -> params
    ocr: bool = True
    analysis_width: int = 160
    keyframe_params: dict = field(default_factory=dict)
    decode_threads: int = 0                   # how fast, not what: left out of the recorded parameters
    # > 1: decode a long video in segments in this many processes (engine/segments.py); the
    # result is identical to one pass, so it is left out of the recorded parameters too
    segment_workers: int = 0
    # frames decoded ahead in a background thread during a one-pass analysis (None = the
    # decoder's default); 0 when worker processes already keep every core busy: the thread's
    # handoffs then only cost CPU. How fast, not what: left out of the recorded parameters
    decode_prefetch: int | None = None
    # which frames the pass decodes: "all" (the default), or a sparse mode of io/sparse.py
    # ("keyframes": key frames only; "reference": frames others refer to), frame count and
    # times still exact. Recorded only when not "all", so the default signature is unchanged
    frames: str = "all"

    def __post_init__(self) -> None:
        # a misspelt mode would otherwise reach the decoder only when a video is analysed (or,
        # for a value like "All", silently record another signature): refuse it when built
        if self.frames not in FRAME_MODES:
            raise ValueError(f"AnalysisConfig.frames must be one of {', '.join(map(repr, FRAME_MODES))}, "
                             f"not {self.frames!r}")

    def to_json(self) -> str:
        """The parameters that decide the results (recorded per video as `analysis_params`)."""
        d = asdict(self)
        d.pop("decode_threads")
        d.pop("segment_workers")
        d.pop("decode_prefetch")
        if d.get("frames") == "all":
            d.pop("frames")
        return json.dumps(d, sort_keys=True)

    def signature(self) -> str:
        """Analysis version + parameters: a video analysed under the same signature is skipped."""
        h = hashlib.blake2b(self.to_json().encode(), digest_size=6).hexdigest()
        return f"{ANALYSIS_VERSION}-{h}"
