"""Structured captions behind one interface: an OpenAI-compatible vision endpoint, or an
offline captioner that states only what the measured metrics support."""

from videoforge.curate.captions.base import (
    CAPTION_FIELDS, Caption, Captioner, CaptionStopped, ShotInput, flatten, get_captioner,
)

__all__ = ["CAPTION_FIELDS", "Caption", "CaptionStopped", "Captioner", "ShotInput", "flatten", "get_captioner"]
