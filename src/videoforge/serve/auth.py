"""Who may use the server: one bearer token, or a signed session cookie obtained with it.

API clients send `Authorization: Bearer TOKEN`. A browser cannot add that header to the
requests its `<video>` and `<img>` elements make, so the login page trades the token for
a signed, HttpOnly, SameSite=Strict cookie (SameSite=Strict also keeps other sites from
making the browser send it, which is what stops cross-site request forgery here).
Nothing else is accepted: no query-string tokens, no unsigned cookies.
"""

from __future__ import annotations

import hmac
import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SESSION_COOKIE = "videoforge_session"
SESSION_MAX_AGE = 12 * 3600  # seconds a login lasts


def generate_token() -> str:
    """A fresh random token (~43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


class Auth:
    """Checks bearer tokens and session cookies against one server token."""

    def __init__(self, token: str, secret: bytes | None = None, max_age: int = SESSION_MAX_AGE):
        if not token or len(token) < 8:
            raise ValueError("the server token must be at least 8 characters (set VIDEOFORGE_TOKEN or let the server generate one)")
        self.token = token
        self.max_age = max_age
        # A per-process secret: sessions end when the server restarts, and a leaked cookie
        # says nothing about the token itself.
        self._signer = URLSafeTimedSerializer(secret or secrets.token_bytes(32), salt="videoforge-session")

    def check_token(self, candidate: str | None) -> bool:
        """Constant-time comparison with the server token."""
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def check_bearer(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and self.check_token(value.strip())

    def make_session(self) -> str:
        """A signed cookie value; valid for `max_age` seconds."""
        return self._signer.dumps({"v": 1})

    def check_session(self, cookie: str | None) -> bool:
        if not cookie:
            return False
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return False
        return isinstance(data, dict) and data.get("v") == 1

    def allowed(self, headers, cookies) -> bool:
        """True when the request carries a valid bearer token or session cookie."""
        return self.check_bearer(headers.get("authorization")) or self.check_session(cookies.get(SESSION_COOKIE))


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path on this server (never `//host` or `http://...`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
