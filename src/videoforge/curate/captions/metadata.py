"""An offline captioner that writes only what the measured metrics support.

It fills camera language (camera movement, shake), subject motion (only the overall motion
level, since the metrics cannot tell subject from camera), visual style (lighting,
contrast, bars) and the summary (duration, on-screen text as read by OCR). Subject and
environment stay empty: nothing measured says what is in the picture. Every caption is
marked `_backend: metadata` and lists the parts it leaves empty.
"""

from __future__ import annotations

from videoforge.curate.captions.base import Caption, Captioner, ShotInput

UNSUPPORTED = ["subject", "environment"]


def _num(m: dict, k: str) -> float | None:
    v = m.get(k)
    try:
        return None if v is None else float(v)
    except (TypeError, ValueError):
        return None


def motion_level(motion: float | None) -> str:
    """Words for mean optical-flow magnitude (% of frame diagonal per second)."""
    if motion is None:
        return ""
    word = "almost no" if motion < 0.5 else "little" if motion < 3 else "moderate" if motion < 10 else "strong"
    return f"{word} motion in the frame ({motion:.1f} % of the diagonal per second)"


def camera_words(m: dict) -> str:
    """Camera movement from `camera_move` (static/pan/tilt/zoom/shaky) or, without it, from the
    signed pan/tilt/zoom rates; zoom direction only, since its sign is defined (+ = in)."""
    move = (m.get("camera_move") or "").strip()
    pan, tilt, zoom = _num(m, "camera_pan"), _num(m, "camera_tilt"), _num(m, "camera_zoom")
    zoom_dir = "" if zoom is None else (" in" if zoom > 0 else " out")
    words = {"static": "static camera", "pan": "the camera pans", "tilt": "the camera tilts",
             "zoom": "the camera zooms" + zoom_dir, "shaky": "handheld, shaky camera"}
    parts = []
    if move:
        parts.append(words.get(move, f"camera {move.replace('_', ' ')}"))
    elif None not in (pan, tilt, zoom):
        moves = [w for w, v in (("pans", pan), ("tilts", tilt)) if abs(v) >= 2]
        if abs(zoom) >= 2:
            moves.append("zooms" + zoom_dir)
        parts.append("the camera " + " and ".join(moves) if moves else "static camera")
    shake = _num(m, "camera_shake")
    if shake is not None and shake >= 1.0 and move != "shaky":
        parts.append(f"shaky ({shake:.1f} % of the diagonal)")
    return ", ".join(parts)


def style_words(m: dict) -> str:
    parts = []
    b, c = _num(m, "brightness"), _num(m, "contrast")
    if b is not None:
        parts.append("dark, low-key lighting" if b < 0.25 else "bright, high-key lighting" if b > 0.7 else "normal exposure")
    if c is not None:
        parts.append("low contrast" if c < 0.1 else "high contrast" if c > 0.3 else "")
    border = _num(m, "border_ratio")
    if border is not None and border > 0.05:
        parts.append(f"black bars cover {border * 100:.0f} % of the frame")
    return ", ".join(p for p in parts if p)


def summary_words(m: dict) -> str:
    parts = []
    d = _num(m, "duration")
    if d is not None:
        parts.append(f"A {d:.1f}-second shot")
    text = " ".join(str(m.get("ocr_text") or "").split())
    area = _num(m, "text_area")
    if text:
        parts.append(f"on-screen text reads \"{text[:120]}\"")
    elif area is not None and area > 0.01:
        parts.append("with on-screen text")
    return ", ".join(parts)


class MetadataCaptioner(Captioner):
    name = "metadata"
    model = "metrics-v1"

    def caption_one(self, shot: ShotInput) -> Caption:
        m = shot.metrics
        fields = {
            "subject": "",
            "subject_motion": motion_level(_num(m, "motion")),
            "environment": "",
            "visual_style": style_words(m),
            "camera_language": camera_words(m),
            "summary": summary_words(m),
        }
        empty = [k for k, v in fields.items() if not v]
        return Caption(shot.shot_id, fields, self.name, self.model,
                       extra={"_source": "measured metrics only", "_empty": empty, "_unsupported": UNSUPPORTED})

    def caption_many(self, shots: list[ShotInput]) -> list[Caption]:
        return [self.caption_one(s) for s in shots]
