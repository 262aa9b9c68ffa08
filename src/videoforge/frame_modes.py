"""The analysis frame modes, named once (engine/config.FRAME_MODES and io/sparse.SKIP_MODES both
come from here; a top-level module with no imports, so the engine's config stays light).

"all" decodes every frame; each sparse mode is decoded by io/sparse.py with FFmpeg's
`skip_frame` set to the AVDiscard name it maps to."""

# sparse frame mode -> FFmpeg's skip_frame (AVDiscard) name
SKIP_MODES = {"keyframes": "NONKEY", "reference": "NONREF"}
# AnalysisConfig.frames: every frame, or a sparse mode
FRAME_MODES = ("all", *SKIP_MODES)

__all__ = ["FRAME_MODES", "SKIP_MODES"]
