"""The captioner interface and the six-part caption (Koala-36M's structure)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

# Order matters: it is the order of the flattened text.
CAPTION_FIELDS = (
    "subject",           # who/what the shot is about
    "subject_motion",    # what the subject does / how it moves
    "environment",       # where: setting, background, time of day
    "visual_style",      # lighting, colour, composition
    "camera_language",   # shot size, camera movement
    "summary",           # world knowledge / one-line summary
)

CAPTION_JSON_SCHEMA = {
    "type": "object",
    "properties": {k: {"type": "string"} for k in CAPTION_FIELDS},
    "required": list(CAPTION_FIELDS),
    "additionalProperties": False,
}


class CaptionFormatError(ValueError):
    """A reply that is not a valid six-part caption; the message says what is wrong."""


class CaptionStopped(Exception):
    """The backend refuses every request (401/403: bad key or no access): going on would only
    repeat the refusal, so the run stops at once; the message says why."""


@dataclass
class ShotInput:
    shot_id: str
    keyframes: list[str]            # absolute JPEG paths, in time order
    metrics: dict                   # the shot's catalog row (metric columns, duration, ocr_text, ...)


@dataclass
class Caption:
    shot_id: str
    fields: dict | None             # the six parts (None when failed)
    backend: str
    model: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    attempts: int = 0
    error: str | None = None
    extra: dict = field(default_factory=dict)   # e.g. which parts are unsupported by the backend

    def to_json(self) -> str:
        doc = dict(self.fields or {})
        doc["_backend"] = self.backend
        if self.model:
            doc["_model"] = self.model
        doc.update(self.extra)
        return json.dumps(doc, ensure_ascii=False, sort_keys=False)


class Captioner:
    """One method: six-part captions for a batch of shots (implementations may run them concurrently)."""

    name = "base"
    model = ""

    def caption_many(self, shots: list[ShotInput]) -> list[Caption]:
        raise NotImplementedError

    def caption_stream(self, shots: list[ShotInput], chunk: int = 32) -> Iterator[Caption]:
        """Captions as they are made (any order), so the caller can commit them as they come."""
        for i in range(0, len(shots), chunk):
            yield from self.caption_many(shots[i:i + chunk])

    def cache_identity(self) -> str:
        """What, besides the shot, determines the caption (backend, model, prompt version)."""
        return f"{self.name}:{self.model}"


def validate_caption(doc) -> dict:
    """The six parts as stripped strings; raises CaptionFormatError naming the problem."""
    if not isinstance(doc, dict):
        raise CaptionFormatError(f"caption is a JSON {type(doc).__name__}, not an object")
    missing = [k for k in CAPTION_FIELDS if k not in doc]
    if missing:
        raise CaptionFormatError(f"caption lacks {', '.join(missing)}")
    out = {}
    for k in CAPTION_FIELDS:
        v = doc[k]
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            v = ", ".join(v)   # some models answer a list of phrases; the meaning is intact
        if not isinstance(v, str):
            raise CaptionFormatError(f"caption part {k!r} is a {type(v).__name__}, not text")
        out[k] = " ".join(v.split())
    if not any(out.values()):
        raise CaptionFormatError("caption parts are all empty")
    return out


def flatten(fields: dict | None) -> str | None:
    """One text for training (Open-Sora `text`) and search: the non-empty parts, in order."""
    if not fields:
        return None
    parts = [str(fields.get(k) or "").strip().rstrip(".") for k in CAPTION_FIELDS]
    text = ". ".join(p[0].upper() + p[1:] for p in parts if p)
    return text + "." if text else None


def get_captioner(backend: str, **params) -> Captioner:
    """A captioner by name: 'openai' (any OpenAI-compatible endpoint) or 'metadata' (offline)."""
    if backend == "openai":
        from videoforge.curate.captions.openai import OpenAICaptioner

        return OpenAICaptioner(**params)
    if backend == "metadata":
        from videoforge.curate.captions.metadata import MetadataCaptioner

        return MetadataCaptioner(**params)
    raise ValueError(f"unknown caption backend {backend!r}; choose openai or metadata")
