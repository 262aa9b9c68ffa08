"""Captions from any OpenAI-compatible chat endpoint with image input (vLLM, Ollama,
LM Studio, llama.cpp server, OpenAI): keyframes go as base64 JPEG data URLs, the reply must
be a JSON object with the six caption parts.

Robustness: retries with exponential backoff and jitter on timeouts, connection errors,
429 (honouring Retry-After) and 5xx, and on replies that are not a valid caption (a model
sampled again often answers properly); other 4xx fail that shot at once, and 401/403 (a bad
key, no access: every request would be refused) stop the whole run (CaptionStopped). Requests run on a bounded
thread pool sharing one HTTP connection pool. Tokens are summed over every attempt, since
each one is billed.
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

from videoforge.curate.captions.base import (
    CAPTION_FIELDS, CAPTION_JSON_SCHEMA, Caption, CaptionFormatError, Captioner, CaptionStopped, ShotInput,
    validate_caption,
)

# Refusals that would repeat for every shot: stop the run instead of paying for the rest.
FATAL_STATUS = {401: "the API key is missing or invalid", 403: "the API key has no access to this model or endpoint"}

PROMPT_VERSION = "1"

SYSTEM_PROMPT = (
    "You write precise, factual captions of video shots for training a text-to-video model. "
    "Describe only what is visible; do not guess names, places or events you cannot see."
)

USER_PROMPT = (
    "The images are {n} keyframes, in time order, of one video shot lasting {duration:.1f} seconds. "
    "Describe the shot in six parts:\n"
    "- subject: the main subject(s) and their appearance\n"
    "- subject_motion: what the subject does and how it moves over the shot\n"
    "- environment: the setting, background and time of day\n"
    "- visual_style: lighting, colour and composition\n"
    "- camera_language: shot size (close-up, medium, wide, ...) and camera movement (static, pan, tilt, zoom, handheld, ...)\n"
    "- summary: one or two sentences that summarise the shot, with any world knowledge it shows\n"
    "Answer with only a JSON object with exactly these string keys: " + ", ".join(CAPTION_FIELDS) + "."
)


class _Retryable(Exception):
    def __init__(self, msg: str, wait: float | None = None):
        super().__init__(msg)
        self.wait = wait


def extract_json(content) -> object:
    """The JSON object in a chat reply's content (tolerates ```json fences and text around it)."""
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str) or not content.strip():
        raise CaptionFormatError("reply has no text content")
    s = content.strip()
    try:
        return json.loads(s)
    except json.JSONDecodeError:
        pass
    a, b = s.find("{"), s.rfind("}")
    if a < 0 or b <= a:
        raise CaptionFormatError(f"reply is not JSON: {s[:80]!r}")
    try:
        return json.loads(s[a:b + 1])
    except json.JSONDecodeError as e:
        raise CaptionFormatError(f"reply is not valid JSON ({e.msg} at {e.pos}): {s[:80]!r}") from None


def _data_url(path: str) -> str:
    with open(path, "rb") as f:
        return "data:image/jpeg;base64," + base64.b64encode(f.read()).decode("ascii")


class OpenAICaptioner(Captioner):
    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, concurrency: int = 4,
                 timeout: float = 60.0, max_retries: int = 4, backoff: float = 0.5, max_keyframes: int = 4,
                 max_tokens: int = 500, response_format: str | None = "json_object",
                 price_input: float = 0.0, price_output: float = 0.0):
        """`price_*`: USD per million prompt/completion tokens, for the cost estimate."""
        import httpx

        if not base_url:
            raise ValueError("the openai backend needs --base-url (e.g. http://127.0.0.1:8000/v1)")
        if not model:
            raise ValueError("the openai backend needs --model (the served model's name)")
        self.base_url, self.model = base_url.rstrip("/"), model
        self.concurrency, self.max_retries, self.backoff = max(1, concurrency), max(0, max_retries), backoff
        self.max_keyframes, self.max_tokens, self.response_format = max(1, max_keyframes), max_tokens, response_format
        self.price_input, self.price_output = price_input, price_output
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout),
                                    limits=httpx.Limits(max_connections=self.concurrency))
        self._lock = threading.Lock()

    def cache_identity(self) -> str:
        return f"openai:{self.base_url}:{self.model}:p{PROMPT_VERSION}:k{self.max_keyframes}"

    def close(self) -> None:
        self._client.close()

    # -- one request ----------------------------------------------------------------------
    def _frames(self, shot: ShotInput) -> list[str]:
        kfs = shot.keyframes
        if len(kfs) > self.max_keyframes:  # spread evenly over the shot
            step = (len(kfs) - 1) / (self.max_keyframes - 1) if self.max_keyframes > 1 else 0
            kfs = [kfs[int(round(i * step))] for i in range(self.max_keyframes)]
        return kfs

    def request_body(self, shot: ShotInput) -> dict:
        frames = self._frames(shot)
        dur = float(shot.metrics.get("duration") or 0.0)
        content = [{"type": "text", "text": USER_PROMPT.format(n=len(frames), duration=dur)}]
        content += [{"type": "image_url", "image_url": {"url": _data_url(p)}} for p in frames]
        body = {"model": self.model, "temperature": 0.2, "max_tokens": self.max_tokens,
                "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": content}]}
        if self.response_format == "json_object":
            body["response_format"] = {"type": "json_object"}
        elif self.response_format == "json_schema":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "shot_caption", "schema": CAPTION_JSON_SCHEMA, "strict": True}}
        return body

    def _attempt(self, body: dict, cap: Caption) -> dict:
        import httpx

        try:
            r = self._client.post("/chat/completions", json=body)
        except httpx.TimeoutException as e:
            raise _Retryable(f"timed out ({type(e).__name__})") from None
        except httpx.TransportError as e:
            raise _Retryable(f"connection failed ({type(e).__name__}: {e})") from None
        if r.status_code == 429 or r.status_code >= 500:
            wait = None
            ra = r.headers.get("retry-after")
            if ra:
                try:
                    wait = min(30.0, float(ra))
                except ValueError:
                    pass
            raise _Retryable(f"HTTP {r.status_code}: {r.text[:120]}", wait)
        if r.status_code in FATAL_STATUS:
            raise CaptionStopped(f"HTTP {r.status_code} from {self.base_url}/chat/completions "
                                 f"({FATAL_STATUS[r.status_code]}): {r.text[:200]}")
        if r.status_code >= 400:
            raise RuntimeError(f"HTTP {r.status_code} from {self.base_url}/chat/completions: {r.text[:200]}")
        try:
            doc = r.json()
        except ValueError:
            raise _Retryable(f"reply is not JSON: {r.text[:80]!r}") from None
        usage = doc.get("usage") if isinstance(doc, dict) else None
        usage = usage if isinstance(usage, dict) else {}
        cap.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        cap.completion_tokens += int(usage.get("completion_tokens") or 0)
        try:
            content = doc["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise _Retryable("reply has no choices[0].message.content") from None
        try:
            return validate_caption(extract_json(content))
        except CaptionFormatError as e:
            raise _Retryable(f"malformed caption: {e}") from None

    def caption_one(self, shot: ShotInput) -> Caption:
        cap = Caption(shot.shot_id, None, self.name, self.model)
        if not shot.keyframes:
            cap.error = "no keyframes to show the model"
            return cap
        try:
            body = self.request_body(shot)
        except OSError as e:
            cap.error = f"cannot read keyframe ({e})"
            return cap
        for attempt in range(self.max_retries + 1):
            cap.attempts = attempt + 1
            try:
                cap.fields = self._attempt(body, cap)
                cap.error = None
                return cap
            except _Retryable as e:
                cap.error = str(e)
                if attempt == self.max_retries:
                    break
                delay = e.wait if e.wait is not None else min(20.0, self.backoff * 2 ** attempt) * (0.5 + random.random())
                time.sleep(delay)
            except RuntimeError as e:
                cap.error = str(e)
                break
        cap.error = f"gave up after {cap.attempts} attempt(s): {cap.error}"
        return cap

    def caption_many(self, shots: list[ShotInput]) -> list[Caption]:
        if not shots:
            return []
        by_id = {c.shot_id: c for c in self.caption_stream(shots)}
        return [by_id[s.shot_id] for s in shots]

    def caption_stream(self, shots: list[ShotInput], chunk: int = 0) -> Iterator[Caption]:
        """Captions as replies arrive, `concurrency` requests in flight. A CaptionStopped from
        any request sends no further request: the replies already in flight are yielded (they
        are paid for), then it is raised."""
        todo = iter(shots)
        stopped: CaptionStopped | None = None
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            running = set()
            while True:
                while stopped is None and len(running) < self.concurrency:
                    s = next(todo, None)
                    if s is None:
                        break
                    running.add(pool.submit(self.caption_one, s))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for f in finished:
                    try:
                        yield f.result()
                    except CaptionStopped as e:
                        stopped = stopped or e
        if stopped is not None:
            raise stopped

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.price_input + completion_tokens * self.price_output) / 1e6
