"""PySceneDetect (`--detector pyscenedetect`) fed with our decoded frames: hard cuts only.

ContentDetector by default, AdaptiveDetector with `method="adaptive"`. Frames are handed over
at PySceneDetect's own default analysis width (its auto-downscale targets >= 256 px), so the
scores match what its CLI computes on the same video. Imported only when picked.
"""

from __future__ import annotations

from videoforge.io.decode import DecodeStats, Frame
from videoforge.shots.base import Shot, ShotDetector, Transition, shots_from_transitions

PSD_WIDTH = 256  # scenedetect.scene_manager.DEFAULT_MIN_WIDTH


class PySceneDetectDetector(ShotDetector):
    name = "pyscenedetect"

    def __init__(self, method: str = "content", threshold: float | None = None, min_scene_len: int = 15):
        from scenedetect import AdaptiveDetector, ContentDetector

        if method == "content":
            self.det = ContentDetector(min_scene_len=min_scene_len,
                                       **({"threshold": threshold} if threshold is not None else {}))
        elif method == "adaptive":
            self.det = AdaptiveDetector(min_scene_len=min_scene_len,
                                        **({"adaptive_threshold": threshold} if threshold is not None else {}))
        else:
            raise ValueError(f"unknown PySceneDetect method {method!r} (content, adaptive)")
        self.method = method
        self.cuts: list[int] = []
        self._last = None

    def process(self, frame: Frame) -> None:
        from scenedetect import FrameTimecode

        try:
            img = frame.bgr(max_side=PSD_WIDTH)  # full picture down to PySceneDetect's analysis size
        except RuntimeError:
            img = frame.small
        tc = FrameTimecode(frame.index, fps=25.0)  # frame numbers are what we use back
        self._last = tc
        self.cuts += [c.frame_num for c in self.det.process_frame(tc, img)]

    def finish(self, stats: DecodeStats) -> tuple[list[Shot], list[Transition]]:
        if self._last is not None:
            self.cuts += [c.frame_num for c in self.det.post_process(self._last)]
        trans = [Transition("cut", c, c) for c in sorted(set(self.cuts)) if 0 < c < stats.frames]
        return shots_from_transitions(stats.frames, trans), trans
