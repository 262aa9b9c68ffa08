"""Who may use the server: one bearer token, or a session cookie obtained with it.

API clients send `Authorization: Bearer TOKEN`. A browser cannot add that header to the
requests its `<video>` and `<img>` elements make, so the login page trades the token for
a session: a random session id kept in this process (so logout really ends it), sent as a
signed, HttpOnly, SameSite=Strict cookie. State-changing requests must also come from this
server's own pages (Origin / Sec-Fetch-Site, checked in app.py). Nothing else is accepted:
no query-string tokens, no unsigned cookies.

Guessing is bounded twice: the token must be strong (`token_weakness`, checked when the
server starts), and failed attempts are counted across all clients (`FailureLimit`): past
the limit no token is checked until the window has passed for any client address that sent a
wrong token in the window, so guessing from many connections of one address is no faster
than from one, and a guesser cannot lock out the clients that never guessed wrong (their
tokens are still checked). Behind a proxy that hides client addresses everyone shares one
address, and the limit falls back to locking all token checks.
"""

from __future__ import annotations

import collections
import hmac
import math
import re
import secrets
import threading
import time

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

SESSION_COOKIE = "videoforge_session"
SESSION_MAX_AGE = 12 * 3600  # seconds a login lasts
MIN_TOKEN_LENGTH = 16
MIN_TOKEN_BITS = 64          # estimated entropy of what is left after known words and runs
MAX_SESSIONS = 10_000
# Global failed-attempt limit: at most this many wrong tokens per window, from all clients together.
FAILURES_PER_WINDOW = 20
FAILURE_WINDOW_S = 60.0

# Words and keyboard runs people put in tokens; matched case-insensitively after undoing
# the usual digit-for-letter swaps (p4ssw0rd -> password).
COMMON_WORDS = (
    "password", "passwort", "passphrase", "secret", "token", "videoforge", "video", "admin", "administrator",
    "root", "user", "guest", "login", "letmein", "welcome", "changeme", "default", "test", "testing", "example",
    "hello", "iloveyou", "monkey", "dragon", "master", "qwerty", "qwertz", "azerty", "asdf", "zxcv", "trustno",
    "football", "baseball", "sunshine", "shadow", "princess", "abc", "server", "access", "key", "demo",
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})


class WeakTokenError(ValueError):
    """The server token is too short or too easy to guess; the message says why."""


def _runs_mask(s: str) -> list[bool]:
    """False for characters in runs of 3+ that step by -1, 0 or +1 (aaa, abc, 321, 1234...)."""
    keep = [True] * len(s)
    i = 0
    while i < len(s) - 2:
        step = ord(s[i + 1]) - ord(s[i])
        j = i + 1
        if step in (-1, 0, 1):
            while j < len(s) and ord(s[j]) - ord(s[j - 1]) == step:
                j += 1
        if j - i >= 3:
            keep[i:j] = [False] * (j - i)
            i = j
        else:
            i += 1
    return keep


def token_weakness(token: str) -> str | None:
    """Why `token` is too weak to guard the server, or None when it is acceptable.

    Refused: fewer than 16 characters; fewer than 8 distinct characters; a short unit
    repeated; and tokens whose remaining part, after removing common words, keyboard rows
    and runs like `aaaa` or `1234`, is estimated below 64 bits (length x log2 of the size
    of the character classes it uses).
    """
    n = len(token)
    if n < MIN_TOKEN_LENGTH:
        return f"it is {n} characters long; use at least {MIN_TOKEN_LENGTH} (e.g. `python -c \"import secrets; print(secrets.token_urlsafe(32))\"`)"
    if len(set(token)) < 8:
        return f"it uses only {len(set(token))} distinct characters"
    m = re.fullmatch(r"(.{1,%d}?)\1+" % (n // 2), token, flags=re.S)
    if m:
        return f"it repeats {m.group(1)!r}"
    keep = _runs_mask(token.lower())
    plain = token.lower().translate(_LEET)   # one character for one: positions stay aligned
    for w in sorted(COMMON_WORDS, key=len, reverse=True):
        for m in re.finditer(re.escape(w), plain):
            keep[m.start():m.end()] = [False] * len(w)
    kept = [c for c, k in zip(token, keep) if k]
    pool = 0
    if any(c.islower() for c in kept):
        pool += 26
    if any(c.isupper() for c in kept):
        pool += 26
    if any(c.isdigit() for c in kept):
        pool += 10
    if any(not c.isalnum() for c in kept):
        pool += 33
    bits = len(kept) * math.log2(pool) if kept else 0.0
    if bits < MIN_TOKEN_BITS:
        return (f"it is mostly common words, keyboard rows or runs, or uses too few kinds of character "
                f"(about {bits:.0f} bits left; at least {MIN_TOKEN_BITS} needed)")
    return None


def generate_token() -> str:
    """A fresh random token (~43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


class FailureLimit:
    """Wrong tokens: at most `limit` per `window` seconds from one client address, and past
    `limit` from all clients together, every address with a wrong token in the window is
    locked too; an address without one is still checked (so a guesser cannot lock it out)."""

    def __init__(self, limit: int = FAILURES_PER_WINDOW, window: float = FAILURE_WINDOW_S):
        self.limit, self.window = limit, window
        self._times: collections.deque[tuple[float, str | None]] = collections.deque()
        self._lock = threading.Lock()

    def _prune(self, now: float) -> None:
        while self._times and now - self._times[0][0] >= self.window:
            self._times.popleft()

    def retry_after(self, client: str | None = None) -> float:
        """0 when a token from `client` (its address; None = unknown) may be checked now, else the
        seconds until enough failures age out."""
        with self._lock:
            now = time.monotonic()
            self._prune(now)
            own = [t for t, who in self._times if who == client] if client is not None else []
            if client is not None and len(own) >= self.limit:
                return max(0.0, self.window - (now - own[-self.limit]))
            if len(self._times) < self.limit or (client is not None and not own):
                return 0.0
            return max(0.0, self.window - (now - self._times[-self.limit][0]))

    def record(self, client: str | None = None) -> None:
        with self._lock:
            now = time.monotonic()
            self._prune(now)
            self._times.append((now, client))

    @property
    def failures(self) -> int:
        with self._lock:
            self._prune(time.monotonic())
            return len(self._times)


class Auth:
    """Checks bearer tokens and session cookies against one server token."""

    def __init__(self, token: str, secret: bytes | None = None, max_age: int = SESSION_MAX_AGE,
                 failures: FailureLimit | None = None):
        why = token_weakness(token or "")
        if why:
            raise WeakTokenError(f"the server token is too weak: {why} "
                                 "(set a strong VIDEOFORGE_TOKEN, or unset it and let the server generate one)")
        self.token = token
        self.max_age = max_age
        self.failures = failures or FailureLimit()
        # A per-process secret: sessions end when the server restarts, and a leaked cookie
        # says nothing about the token itself.
        self._signer = URLSafeTimedSerializer(secret or secrets.token_bytes(32), salt="videoforge-session")
        # Live session ids -> expiry (monotonic): logout deletes the id, so a copied cookie
        # stops working with it; a restart forgets them all.
        self._sessions: dict[str, float] = {}
        self._lock = threading.Lock()

    def check_token(self, candidate: str | None) -> bool:
        """Constant-time comparison with the server token (no failure accounting: see `attempt`)."""
        if not candidate:
            return False
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def attempt(self, candidate: str | None, client: str | None = None) -> str:
        """Check a token presented by `client` (its address) under the failure limit: 'ok',
        'wrong' or 'locked'. While locked, not even the right token is checked (else the limit
        would leak answers)."""
        if self.failures.retry_after(client) > 0:
            return "locked"
        if self.check_token(candidate):
            return "ok"
        self.failures.record(client)
        return "wrong"

    def check_bearer(self, header: str | None) -> bool:
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        return scheme.lower() == "bearer" and self.check_token(value.strip())

    def bearer_attempt(self, header: str | None, client: str | None = None) -> str | None:
        """None without an Authorization header, else `attempt`'s answer for it."""
        if not header:
            return None
        scheme, _, value = header.partition(" ")
        return self.attempt(value.strip() if scheme.lower() == "bearer" else "", client)

    def make_session(self) -> str:
        """A new server-side session; returns its signed cookie value, valid for `max_age` seconds."""
        sid = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            for k in [k for k, exp in self._sessions.items() if exp <= now]:
                del self._sessions[k]
            while len(self._sessions) >= MAX_SESSIONS:   # oldest logins go first
                del self._sessions[min(self._sessions, key=self._sessions.get)]
            self._sessions[sid] = now + self.max_age
        return self._signer.dumps({"v": 2, "sid": sid})

    def _session_id(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            data = self._signer.loads(cookie, max_age=self.max_age)
        except (BadSignature, SignatureExpired):
            return None
        return data.get("sid") if isinstance(data, dict) and data.get("v") == 2 else None

    def check_session(self, cookie: str | None) -> bool:
        sid = self._session_id(cookie)
        if sid is None:
            return False
        with self._lock:
            exp = self._sessions.get(sid)
            return exp is not None and exp > time.monotonic()

    def end_session(self, cookie: str | None) -> bool:
        """Logout: the session id is forgotten, so this cookie (and any copy of it) is dead."""
        sid = self._session_id(cookie)
        with self._lock:
            return sid is not None and self._sessions.pop(sid, None) is not None

    def allowed(self, headers, cookies) -> bool:
        """True when the request carries a valid bearer token or session cookie."""
        return self.check_bearer(headers.get("authorization")) or self.check_session(cookies.get(SESSION_COOKIE))


def safe_next(target: str | None) -> str:
    """Where to go after login: only a path on this server (never `//host` or `http://...`)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
