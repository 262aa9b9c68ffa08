"""`export --matte`: one alpha-matte clip per exported shot clip, next to it.

For every clip the export wrote, the shipped matting network (enhance/matte.py, the same call
as `videoforge matte CLIP --out ALPHA`) writes `<shot_id>.alpha.mkv` beside `<shot_id>.mp4`:
a grey FFV1 video (lossless), same size and frame count as the clip, 255 = foreground. The
manifest gets one more column, `matte_path` (relative to the manifest like `path`, or
absolute with --absolute-paths); WebDataset samples get a `<shot_id>.alpha.mkv` member.
A clip whose matte fails keeps its row with an empty matte_path and adds an error naming
the clip and the problem; the export goes on.
"""

from __future__ import annotations

import os
import sys

MATTE_COLUMN = "matte_path"
ALPHA_SUFFIX = ".alpha.mkv"


def alpha_path_for(clip_path: str) -> str:
    return os.path.splitext(clip_path)[0] + ALPHA_SUFFIX


def add_mattes(rows: list[dict], out_dir: str, absolute: bool, progress: bool = False,
               cancel=None) -> tuple[int, list[dict]]:
    """Matte every row's clip, set row[MATTE_COLUMN]; returns (clips matted, error dicts). Once `cancel`
    (a threading.Event-like object) is set, the remaining rows keep no matte."""
    from videoforge.enhance.matte import matte_video

    done, errors = 0, []
    bar = None
    if progress and rows:
        from tqdm import tqdm

        bar = tqdm(total=len(rows), unit="clip", file=sys.stderr, desc="matting", dynamic_ncols=True)
    try:
        for r in rows:
            if cancel is not None and cancel.is_set():
                r[MATTE_COLUMN] = None
                continue
            clip = r["path"] if os.path.isabs(r["path"]) else os.path.join(out_dir, r["path"])
            alpha = alpha_path_for(clip)
            try:
                res = matte_video(clip, alpha)
                if res.frames != r["num_frames"]:
                    raise RuntimeError(f"matte has {res.frames} frames, the clip {r['num_frames']}")
                r[MATTE_COLUMN] = alpha if absolute else os.path.relpath(alpha, out_dir)
                done += 1
            except Exception as e:  # noqa: BLE001 - one clip's matte never stops the export
                r[MATTE_COLUMN] = None
                if os.path.exists(alpha):
                    os.remove(alpha)
                errors.append({"path": r["source_path"], "stage": "export",
                               "message": f"{clip}: matte failed ({type(e).__name__}: {e})", "shot_id": r["shot_id"]})
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return done, errors
