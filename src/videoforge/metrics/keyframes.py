"""Keyframes: a few small JPEGs per shot that represent it, chosen in the same decode pass.

During the pass (shots are not known yet) candidate frames are encoded as JPEGs of at most
`max_side` px and held in memory up to `MEMORY_BYTES`; beyond that they are written to a
private temp folder (removed after selection, or by the next selector if the process was
killed), so memory stays bounded for hour-long and 4K input (beyond the allowance: a
16x9 thumbnail per candidate, ~0.5 KB). Candidates are:
- the first frame, then the first frame at or after each multiple of `1 / candidate_rate_hz`
  seconds of PTS (fixed step on a grid of the timeline),
- a frame whose thumbnail differs from the previous frame's by more than `change_threshold`
  (a cut),
- gradual change: at each multiple of `min_gap_seconds`, the frame there when its thumbnail
  differs from the one at the previous multiple by more than `change_threshold`,
- the first calm frame after a run of changing frames (the end of a dissolve or a whip pan),
  so a shot that starts after a gradual transition has a candidate at its start.
Each rule looks back a bounded, known way (grid slots, the previous frame, the current run),
so segments of a video analysed in parallel give the candidates of one pass: a worker spills
the few frames at its segment's head whose fate depends on the segment before, and the join
replays the rules over every frame's thumbnail (`segment_state`, `join_segments`).

After the pass, per shot: the first candidate inside it, then each later one that is
`step_seconds` on from the last kept or differs from it by `change_threshold`; a candidate
within `dedup_threshold` of any kept one is dropped (near-identical), change-triggered ones come at
least `min_gap_seconds` apart, and at most 2 + duration / `step_seconds` (and never more than
`max_per_shot`) are kept, evenly spread. Every shot gets at least one keyframe: a shot with
no candidate inside it (shorter than the candidate step, starting without a change) takes
the nearest candidate, whose frame index then lies just outside the shot.

Thumbnail distance: mean absolute difference of 16x9 BGR thumbnails, 8-bit levels (0-255).
Files: `<catalog_root>/keyframes/<video_id>/<frame>.jpg` (written as temp + rename), path
stored relative to the catalog root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass

import numpy as np

from videoforge.io.decode import Frame
from videoforge.metrics.sampling import crossed

_THUMB = (16, 9)
_PREFIX = "vf-keyframes-"
# Candidate JPEGs are held in memory up to this many bytes per selector (~1,500 candidates of
# 384 px; writing and later deleting a file per candidate cost more CPU than encoding it),
# then spilled to the temp folder, so memory stays bounded on hour-long input.
MEMORY_BYTES = 32 << 20


def _sweep_dead(tmp_dir: str | None) -> None:
    """Remove candidate folders left by processes that died mid-pass (a killed run)."""
    base = tmp_dir or tempfile.gettempdir()
    try:
        names = [n for n in os.listdir(base) if n.startswith(_PREFIX)]
    except OSError:
        return
    for name in names:
        try:
            pid = int(name[len(_PREFIX):].split("-", 1)[0])
        except ValueError:
            continue
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
        except OSError:
            pass   # alive (another user's) or unknown: leave it


@dataclass
class Candidate:
    frame: int
    pts_time: float
    thumb: np.ndarray   # (9, 16, 3) uint8
    file: str | bytes   # the JPEG: its bytes while the selector's memory allowance lasts, else a temp file
    width: int
    height: int


def thumb_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two uint8 thumbnails, 8-bit levels."""
    import cv2

    return cv2.norm(a, b, cv2.NORM_L1) / a.size


class KeyframeSelector:
    """Keyframes per shot from one decode pass: `process` every frame, then `finish(ctx)` (see above).

    Times in seconds, thresholds in 8-bit levels of the 16x9 thumbnail distance.
    """

    def __init__(self, max_side: int = 384, quality: int = 90, candidate_rate_hz: float = 0.5,
                 step_seconds: float = 2.0, change_threshold: float = 18.0, dedup_threshold: float = 5.0,
                 max_per_shot: int = 6, min_gap_seconds: float = 1.0, busy_level: float = 4.0, calm_level: float = 1.5,
                 tmp_dir: str | None = None, spill_dir: str | None = None, segment: bool = False):
        self.max_side = max_side
        self.quality = quality
        self.period = 1.0 / candidate_rate_hz
        self.step_seconds = step_seconds
        self.change_threshold = change_threshold
        self.dedup_threshold = dedup_threshold
        self.max_per_shot = max_per_shot
        self.min_gap_seconds = min_gap_seconds
        self.busy_level = busy_level
        self.calm_level = calm_level
        self.candidates: list[Candidate] = []
        self._held = 0   # bytes of candidate JPEGs held in memory
        if spill_dir is None:
            _sweep_dead(tmp_dir)
            self._tmp = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-", dir=tmp_dir)
            self._cleanup = weakref.finalize(self, shutil.rmtree, self._tmp, True)
        else:   # a segment worker writes into its parent's folder; the parent cleans it up
            os.makedirs(spill_dir, exist_ok=True)
            self._tmp = spill_dir
            self._cleanup = lambda: None
        # segment=True: this pass is one segment of a video (engine/segments.py): the state
        # before its first frame is unknown, so the frames whose fate depends on it are spilled
        # too, and every frame's thumbnail and time are kept for the join's replay
        self.segment = segment
        self._seen: list[tuple[np.ndarray, float]] | None = [] if segment else None
        self._chosen: list[int] = []          # segment: frames this worker's own rules chose
        self._synced: int | None = None       # segment: the frame after which its state is one pass's
        self._prev_index = -2
        self._prev_thumb: np.ndarray | None = None
        self._prev_t: float | None = None
        self._ref_thumb: np.ndarray | None = None   # thumbnail at the last min_gap grid point
        self._busy_run = 0
        self._tick_known = self._busy_known = True

    # -- during the pass -------------------------------------------------------------------
    def process(self, frame: Frame) -> None:
        import cv2

        thumb = cv2.resize(frame.small, _THUMB, interpolation=cv2.INTER_AREA)
        chosen, unsure = self._decide(thumb, frame.pts_time, frame.index)
        if self._seen is not None:
            self._seen.append((thumb, frame.pts_time))
            if chosen:
                self._chosen.append(frame.index)
            if self._synced is None and self._tick_known and self._busy_known:
                # both looks back (the min_gap reference, the busy run) now start inside the
                # segment: from the next frame on, its decisions are the one pass's
                self._synced = frame.index
        if chosen or unsure:
            self._spill(frame, thumb)

    def _decide(self, thumb: np.ndarray, t: float, index: int) -> tuple[bool, bool]:
        """(is this frame a candidate, might it be one under a state this segment cannot see)."""
        if index != self._prev_index + 1:   # a new pass (or a segment's start): nothing before it
            self._prev_thumb = self._prev_t = self._ref_thumb = None
            self._busy_run = 0
            self._tick_known = self._busy_known = not self.segment
        self._prev_index = index
        first = self._prev_thumb is None
        unsure = first and self.segment
        d = thumb_distance(thumb, self._prev_thumb) if not first else 0.0
        step_due = crossed(self._prev_t, t, self.period)
        cut = d > self.change_threshold
        changed = False
        if crossed(self._prev_t, t, self.min_gap_seconds):
            changed = self._ref_thumb is not None and thumb_distance(thumb, self._ref_thumb) > self.change_threshold
            if not first and not self._tick_known:   # compared against a reference it could not see
                unsure, self._tick_known = True, True
            self._ref_thumb = thumb
        settled = False
        if not first:
            if d > self.busy_level:
                self._busy_run += 1
            else:
                settled = self._busy_run >= 3 and d < self.calm_level
                if d < self.calm_level:
                    # the run may have begun before the segment: only the first calm frame can tell
                    unsure = unsure or (not self._busy_known and not settled)
                    self._busy_run, self._busy_known = 0, True
        self._prev_thumb, self._prev_t = thumb, t
        return step_due or cut or changed or settled, unsure

    # -- segments ----------------------------------------------------------------------------
    def segment_state(self) -> dict:
        """Every frame's thumbnail and time, and the candidates spilled (indices in the segment)."""
        seen = self._seen or []
        return {"thumbs": np.stack([th for th, _ in seen]) if seen else np.zeros((0, _THUMB[1], _THUMB[0], 3), np.uint8),
                "times": [t for _, t in seen], "candidates": self.candidates,
                # where the segment's own decisions become the one pass's, those decisions, and
                # the state it ends with (the join replays only the frames up to `synced`)
                "synced": self._synced, "chosen": list(self._chosen),
                "end": (self._ref_thumb, self._busy_run)}

    def join_segments(self, states: list[dict], seams: list, full_replay: bool = False) -> None:
        """The candidates one pass picks, each taken from the frames a worker spilled (it spills
        every frame it could not rule out): the rules are replayed over each segment's head, up
        to the frame where its own state became the one pass's (`synced`), and its own
        decisions taken after that; over the whole segment when it never synced
        (`full_replay`: every frame, as a check)."""
        replay = KeyframeSelector.__new__(KeyframeSelector)
        vars(replay).update(vars(self))
        replay.segment, replay._prev_index = False, -2
        self.candidates = []
        offset = 0
        for k, st in enumerate(states):
            offset = seams[k - 1].offset if k else 0
            spilled = {c.frame: c for c in st["candidates"]}

            def take(i: int) -> None:
                c = spilled.get(i)
                if c is None:
                    raise RuntimeError(f"keyframe candidate {offset + i} was not spilled by its segment")
                self.candidates.append(Candidate(offset + i, c.pts_time, c.thumb, c.file, c.width, c.height))

            n = len(st["times"])
            synced = st.get("synced") if full_replay is False else None
            head = n if synced is None else synced + 1
            for i, (thumb, t) in enumerate(zip(st["thumbs"][:head], st["times"][:head])):
                if replay._decide(thumb, t, offset + i)[0]:
                    take(i)
            if synced is not None:
                # after `synced` the segment's state is the one pass's (same previous frame,
                # same min_gap reference, same busy run): its own decisions stand, and the
                # replay continues from the state it ended with
                for i in st["chosen"]:
                    if i > synced:
                        take(i)
                replay._prev_thumb, replay._prev_t = st["thumbs"][n - 1], st["times"][n - 1]
                replay._ref_thumb, replay._busy_run = st["end"]
                replay._prev_index = offset + n - 1
                replay._tick_known = replay._busy_known = True

    def _spill(self, frame: Frame, thumb: np.ndarray) -> None:
        import cv2

        img = frame.bgr(self.max_side)
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            return
        data = buf.tobytes()
        if self._held + len(data) <= MEMORY_BYTES:
            self._held += len(data)
            where: str | bytes = data
        else:
            where = os.path.join(self._tmp, f"{frame.index}.jpg")
            with open(where, "wb") as f:
                f.write(data)
        self.candidates.append(Candidate(frame.index, frame.pts_time, thumb, where, img.shape[1], img.shape[0]))

    # -- after the pass --------------------------------------------------------------------
    def select(self, shots) -> list[list[Candidate]]:
        """Per shot, the chosen candidates (at least one each when there is any candidate)."""
        frames = np.asarray([c.frame for c in self.candidates], dtype=np.int64)
        out = []
        for shot in shots:
            lo = int(np.searchsorted(frames, shot.start_frame, side="left"))
            hi = int(np.searchsorted(frames, shot.end_frame, side="right"))
            inside = self.candidates[lo:hi]
            if not inside:
                if not self.candidates:
                    out.append([])
                    continue
                # nearest candidate outside the shot (prefer the one before: same content so far)
                near = min(self.candidates, key=lambda c: (abs(c.frame - shot.start_frame) if c.frame < shot.start_frame
                                                           else abs(c.frame - shot.end_frame) + 0.5))
                out.append([near])
                continue
            kept = [inside[0]]
            for c in inside[1:]:
                gap = c.pts_time - kept[-1].pts_time
                due = gap >= self.step_seconds - 1e-6
                moved = gap >= self.min_gap_seconds and thumb_distance(c.thumb, kept[-1].thumb) > self.change_threshold
                if (due or moved) and min(thumb_distance(c.thumb, k.thumb) for k in kept) >= self.dedup_threshold:
                    kept.append(c)
            # "a few": one per step of the shot's length plus two for changes, at most max_per_shot
            duration = inside[-1].pts_time - inside[0].pts_time
            cap = min(self.max_per_shot, 2 + int(duration // self.step_seconds))
            if len(kept) > cap:
                idx = np.unique(np.round(np.linspace(0, len(kept) - 1, cap)).astype(int))
                kept = [kept[i] for i in idx]
            out.append(kept)
        return out

    def finish(self, ctx) -> list[list[dict]]:
        """Write the chosen JPEGs under `ctx.catalog_root/keyframes/<video_id>/`; rows per shot."""
        chosen = self.select(ctx.shots)
        if not ctx.catalog_root:
            raise ValueError("KeyframeSelector.finish needs ctx.catalog_root (where keyframes/ is written)")
        rel_dir = f"keyframes/{ctx.video_id}"
        out_dir = os.path.join(ctx.catalog_root, "keyframes", ctx.video_id)
        os.makedirs(out_dir, exist_ok=True)
        written: set[int] = set()
        rows = []
        for per_shot in chosen:
            shot_rows = []
            for c in per_shot:
                name = f"{c.frame}.jpg"
                if c.frame not in written:
                    dst = os.path.join(out_dir, name)
                    tmp = dst + ".tmp"
                    if isinstance(c.file, bytes):
                        with open(tmp, "wb") as f:
                            f.write(c.file)
                    else:
                        shutil.copyfile(c.file, tmp)
                    os.replace(tmp, dst)   # readers never see a half-written JPEG
                    written.add(c.frame)
                # the pass's final times (stats.pts): exact also where the decoder's labels were rebuilt
                t = ctx.stats.pts[c.frame] if c.frame < len(ctx.stats.pts) else c.pts_time
                shot_rows.append({"frame": c.frame, "pts_time": t, "path": f"{rel_dir}/{name}",
                                  "width": c.width, "height": c.height})
            rows.append(shot_rows)
        self.close()
        return rows

    def close(self) -> None:
        """Remove the temp candidates (also done when the selector is garbage-collected)."""
        self._cleanup()
