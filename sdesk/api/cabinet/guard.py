"""The cabinet's defences, in one place (ARCHITECTURE.md, "The web cabinet"):

- every response carries a strict Content-Security-Policy (no script at all, no framing),
  ``nosniff``, ``no-referrer`` (a sign-in link in the address bar never leaks) and
  ``no-store`` (a shared computer's back button shows nothing after sign-out);
- the session cookie is HttpOnly, SameSite=Lax, ``Secure`` and ``__Host-`` when the desk's
  public URL is https;
- every form carries a CSRF token: the session's (``core/websession.csrf_token``) once signed
  in, a double-submit cookie before; a POST from another origin is refused as well;
- a request body is read only when it declares its length and that length is within the
  limit (413 before anything is parsed);
- sign-in POSTs are limited per client in memory (the desk limits links per address and per
  client in the store as well, ``core/signin.py``).
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from urllib.parse import urlsplit

from fastapi import Request, Response

from sdesk.config import HttpSettings

CSP = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}
SESSION_DAYS = 7
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # all files of one form
MAX_FORM_BYTES = 256 * 1024  # a form without files
MAX_BODY_BYTES = MAX_UPLOAD_BYTES + MAX_FORM_BYTES


def secure(settings: HttpSettings | None) -> bool:
    url = settings.public_url if settings else None
    return bool(url) and urlsplit(url or "").scheme == "https"


class Cookies:
    """The cabinet's two cookies, named and flagged for the desk's scheme."""

    def __init__(self, settings: HttpSettings | None) -> None:
        self.secure = secure(settings)
        # ``__Host-`` makes the browser refuse the cookie unless Secure, Path=/ and no Domain:
        # a sibling subdomain cannot plant or overwrite it.
        prefix = "__Host-" if self.secure else ""
        self.session = f"{prefix}sdesk_session"
        self.csrf = f"{prefix}sdesk_csrf"

    def set_session(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.session,
            token,
            max_age=SESSION_DAYS * 86400,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def clear_session(self, response: Response) -> None:
        response.delete_cookie(
            self.session, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    def anonymous_token(self, request: Request) -> tuple[str, bool]:
        """The double-submit token for forms shown before sign-in, and whether it is new
        (then ``remember`` sets its cookie on the page that carries it)."""
        token = request.cookies.get(self.csrf, "")
        if _well_formed(token):
            return token, False
        return secrets.token_urlsafe(24), True

    def remember(self, response: Response, token: str) -> None:
        response.set_cookie(
            self.csrf, token, path="/", secure=self.secure, httponly=True, samesite="lax"
        )

    def anonymous_ok(self, request: Request, given: str) -> bool:
        token = request.cookies.get(self.csrf, "")
        return _well_formed(token) and hmac.compare_digest(token, given)


def _well_formed(token: str) -> bool:
    return 16 <= len(token) <= 100 and token.isascii()


def same_origin(request: Request, settings: HttpSettings | None) -> bool:
    """False only when the browser says the POST comes from another site: by
    ``Sec-Fetch-Site`` when it sends one, else by ``Origin``. Under ``no-referrer`` a browser
    sends ``Origin: null`` even from our own pages, which says nothing either way. The CSRF
    token is the defence; this is the second lock."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    allowed = {request.headers.get("host", "")}
    if settings is not None and settings.public_url:
        allowed.add(urlsplit(settings.public_url).netloc)
    return urlsplit(origin).netloc in allowed


def body_too_big(request: Request, limit: int = MAX_BODY_BYTES) -> int | None:
    """An HTTP status refusing the body before it is read (411, 413), or None to go on."""
    length = request.headers.get("content-length")
    if length is None:
        return 411 if request.headers.get("transfer-encoding") else None
    if not length.isdigit():
        return 400
    return 413 if int(length) > limit else None


class ClientLimiter:
    """At most ``limit`` hits per client within ``window`` seconds (a sliding window), for
    ``clients`` clients at most (the least recent are forgotten first: bounded memory)."""

    def __init__(self, limit: int, window: float, clients: int = 10_000) -> None:
        self.limit, self.window, self.clients = limit, window, clients
        self.hits: OrderedDict[str, deque[float]] = OrderedDict()
        self.lock = threading.Lock()

    def retry_after(self, client: str) -> int | None:
        """Seconds to wait when over the limit, else None (and the hit is counted)."""
        now = time.monotonic()
        with self.lock:
            hits = self.hits.pop(client, None) or deque()
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            self.hits[client] = hits
            while len(self.hits) > self.clients:
                self.hits.popitem(last=False)
            if len(hits) >= self.limit:
                return max(1, int(hits[0] + self.window - now) + 1)
            hits.append(now)
            return None


def client_of(request: Request) -> str:
    return request.client.host if request.client else ""
