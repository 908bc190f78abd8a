"""Console sessions: the API token buys a signed, expiring session cookie; every writing
form carries a CSRF token derived from the session.

Stateless (an HMAC of the API token signs the cookie), so sessions survive a restart and
changing the token logs everyone out. Without a token (``serve --no-auth``, trusted
loopback only) the login page hands out a session without asking.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

COOKIE = "leadroute_console"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SESSION_TTL_S = 12 * 3600


@dataclass(frozen=True)
class Session:
    nonce: str
    csrf: str


class ConsoleAuth:
    """Issues and checks session cookies and CSRF tokens."""

    def __init__(self, api_token: str | None, *, ttl_s: int = SESSION_TTL_S) -> None:
        self.open = api_token is None
        self._token = api_token
        secret = (api_token or secrets.token_hex(32)).encode()
        self._key = hmac.new(secret, b"leadroute console session", hashlib.sha256).digest()
        self.ttl_s = ttl_s

    def token_ok(self, given: str) -> bool:
        if self._token is None:
            return True
        return secrets.compare_digest(given.strip().encode(), self._token.encode())

    def issue(self, now: float | None = None) -> str:
        expires = int((now if now is not None else time.time()) + self.ttl_s)
        body = f"{expires}.{secrets.token_urlsafe(18)}"
        return f"{body}.{self._sign('session', body)}"

    def session(self, cookie: str | None, now: float | None = None) -> Session | None:
        """The session a cookie stands for; None when missing, forged or expired."""
        if not cookie or cookie.count(".") != 2:
            return None
        expires, nonce, signature = cookie.split(".")
        body = f"{expires}.{nonce}"
        # bytes: compare_digest refuses non-ASCII str, and a cookie is whatever a client sent
        if not secrets.compare_digest(signature.encode(), self._sign("session", body).encode()):
            return None
        if not expires.isdigit() or int(expires) < (now if now is not None else time.time()):
            return None
        return Session(nonce=nonce, csrf=self._sign("csrf", nonce))

    def _sign(self, purpose: str, text: str) -> str:
        return hmac.new(self._key, f"{purpose}:{text}".encode(), hashlib.sha256).hexdigest()
