"""Per-shot measurements, one scorer per module, all fed by the same decode pass.

Scorers register here by name ("module:Class"; modules load only when a scorer is built).
Units, ranges and sampling rates of every column: docs/METRICS.md.
"""

from videoforge.metrics.base import register_scorer

register_scorer("motion", "videoforge.metrics.motion:MotionScorer")
register_scorer("camera", "videoforge.metrics.camera:CameraScorer")
register_scorer("sharpness", "videoforge.metrics.sharpness:SharpnessScorer")
register_scorer("exposure", "videoforge.metrics.exposure:ExposureScorer")
register_scorer("black_frozen", "videoforge.metrics.blackfrozen:BlackFrozenScorer")
register_scorer("border", "videoforge.metrics.border:BorderScorer")
register_scorer("audio", "videoforge.metrics.audio:AudioScorer")
register_scorer("text", "videoforge.metrics.text:TextScorer")   # OCR; `run --no-ocr` leaves it out
