"""Browser-facing protections: the Content-Security-Policy and the same-origin check.

- CSP: the page's own script and style files only. No inline script, no inline event
  handlers, no `javascript:` URLs, no inline styles, nothing from other hosts, no framing.
  Even if some value slipped into the page's markup unescaped, the browser would refuse to
  run it. The API docs pages (/docs, /redoc) load their viewer from its CDN and run one
  fixed inline script: they get a policy naming that CDN and the script's own hash.
- Same origin: a state-changing request (POST, PUT, PATCH, DELETE) carrying browser
  headers must come from this server's own pages. The SameSite=Strict cookie already keeps
  other sites' requests unauthenticated; this also refuses login CSRF and forged logouts,
  and holds where SameSite is not enforced. Clients that send neither header (curl,
  scripts with a bearer token) are not browsers acting for someone else and pass.
"""

from __future__ import annotations

import base64
import hashlib
import re
from urllib.parse import urlsplit

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
       "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; "
       "frame-ancestors 'none'; object-src 'none'")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
SAME_ORIGIN_FETCH = {"same-origin", "none"}   # "none": typed in the address bar / a bookmark


def _hashes(html: str, tag: str) -> list[str]:
    out = []
    for body in re.findall(rf"<{tag}(?:\s[^>]*)?>(.*?)</{tag}>", html, flags=re.S | re.I):
        if body.strip():
            out.append("'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'")
    return out


def docs_csp(html: str) -> str:
    """A policy for a third-party docs page: its CDN, plus the hashes of its inline scripts/styles."""
    cdn = "https://cdn.jsdelivr.net"
    scripts = " ".join(["'self'", cdn, *[h for h in _hashes(html, "script")]])
    styles = " ".join(["'self'", cdn, "https://fonts.googleapis.com", "'unsafe-inline'"])  # styles only; no script
    return (f"default-src 'none'; script-src {scripts}; style-src {styles}; img-src 'self' data: {cdn} "
            f"https://fastapi.tiangolo.com; font-src https://fonts.gstatic.com; connect-src 'self'; worker-src blob:; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")


def cross_site_refusal(method: str, headers) -> str | None:
    """Why a state-changing request must be refused as cross-site, or None when it may proceed."""
    if method.upper() in SAFE_METHODS:
        return None
    site = headers.get("sec-fetch-site")
    if site is not None:
        # set by the browser itself (no page can forge it): it decides when present. It also
        # covers `Origin: null`, which browsers send for same-origin form posts under some
        # referrer policies.
        return None if site.lower() in SAME_ORIGIN_FETCH else f"cross-site request refused (Sec-Fetch-Site: {site})"
    origin = headers.get("origin")
    if origin is not None:
        host = headers.get("host", "")
        parts = urlsplit(origin)
        if origin == "null" or parts.scheme not in ("http", "https") or parts.netloc.lower() != host.lower():
            return f"cross-site request refused (Origin {origin!r} is not this server, {host!r})"
    return None
