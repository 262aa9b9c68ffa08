"""A tiny OpenAI-protocol chat server on 127.0.0.1 for caption tests (real HTTP, threads)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GOOD = {"subject": "a textured scene with coloured shapes", "subject_motion": "shapes drift sideways",
        "environment": "an abstract studio backdrop", "visual_style": "bright, saturated colours",
        "camera_language": "wide shot, slow pan", "summary": "Coloured shapes drift across a textured backdrop."}


class FakeOpenAI:
    """Scripted replies: `script` is a list of modes consumed one per request, then `default`.
    Modes: good | fenced | malformed | missing_key | not_json_body | no_choices | slow | e500 | e429 | e400 |
    e401 | e403."""

    def __init__(self, script=None, default="good", slow_seconds=2.0, delay=0.0):
        self.script, self.default = list(script or []), default
        self.slow_seconds, self.delay = slow_seconds, delay
        self.requests: list[dict] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):  # keep test output clean
                pass

            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(n) or b"{}")
                with outer.lock:
                    outer.requests.append({"path": self.path, "body": body, "auth": self.headers.get("authorization")})
                    mode = outer.script.pop(0) if outer.script else outer.default
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                try:
                    if outer.delay:
                        time.sleep(outer.delay)
                    outer.reply(self, mode)
                finally:
                    with outer.lock:
                        outer.in_flight -= 1

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *a):
        self.server.shutdown()
        self.server.server_close()

    def reply(self, h, mode: str) -> None:
        def send(code, payload, headers=None):
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            try:
                h.send_response(code)
                h.send_header("content-type", "application/json")
                h.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    h.send_header(k, v)
                h.end_headers()
                h.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)

        def chat(content):
            return {"id": "x", "object": "chat.completion", "model": "fake",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}

        if mode == "good":
            send(200, chat(json.dumps(GOOD)))
        elif mode == "fenced":
            send(200, chat("Here is the caption:\n```json\n" + json.dumps(GOOD) + "\n```"))
        elif mode == "malformed":
            send(200, chat('{"subject": "a cat", "subject_motion": '))
        elif mode == "missing_key":
            send(200, chat(json.dumps({k: v for k, v in GOOD.items() if k != "environment"})))
        elif mode == "not_json_body":
            send(200, b"<html>gateway</html>")
        elif mode == "no_choices":
            send(200, {"id": "x", "choices": []})
        elif mode == "slow":
            time.sleep(self.slow_seconds)
            send(200, chat(json.dumps(GOOD)))
        elif mode == "e500":
            send(500, {"error": {"message": "overloaded"}})
        elif mode == "e429":
            send(429, {"error": {"message": "rate limited"}}, {"retry-after": "0.05"})
        elif mode == "e400":
            send(400, {"error": {"message": "image input not supported"}})
        elif mode == "e401":
            send(401, {"error": {"message": "invalid api key", "type": "invalid_request_error"}})
        elif mode == "e403":
            send(403, {"error": {"message": "forbidden: this key cannot use the model"}})
        else:
            raise ValueError(mode)
