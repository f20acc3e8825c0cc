"""Board sessions: a signed cookie (HttpOnly, SameSite=Strict) naming the contact and a random nonce,
and a CSRF token derived from that nonce that every POST form carries. The signing key lives in the
board process, so a restart logs everyone out (they ask #登录 again)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from bot.clock import Clock

COOKIE = "gridbot_board"
SESSION_SECONDS = 12 * 3600


@dataclass(frozen=True)
class BoardSession:
    contact_id: str
    nonce: str
    expires: int


class Signer:
    """Signs and reads session cookies; expiry by the board's clock (the bot's, virtual in replay)."""

    def __init__(self, clock: Clock, secret: bytes | None = None) -> None:
        self.clock = clock
        self.secret = secret or secrets.token_bytes(32)

    def _sig(self, data: bytes) -> str:
        return base64.urlsafe_b64encode(hmac.new(self.secret, data, hashlib.sha256).digest()).decode().rstrip("=")

    def issue(self, contact_id: str) -> tuple[str, BoardSession]:
        expires = int(self.clock.now().timestamp()) + SESSION_SECONDS
        session = BoardSession(contact_id, secrets.token_urlsafe(16), expires)
        payload = base64.urlsafe_b64encode(json.dumps(
            {"c": session.contact_id, "n": session.nonce, "e": session.expires}).encode()).decode().rstrip("=")
        return f"{payload}.{self._sig(payload.encode())}", session

    def read(self, cookie: str | None) -> BoardSession | None:
        if not cookie or "." not in cookie:
            return None
        payload, sig = cookie.rsplit(".", 1)
        if not hmac.compare_digest(sig, self._sig(payload.encode())):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            session = BoardSession(str(data["c"]), str(data["n"]), int(data["e"]))
        except (ValueError, KeyError, TypeError):
            return None
        return session if session.expires > self.clock.now().timestamp() else None

    def csrf(self, session: BoardSession) -> str:
        return self._sig(f"csrf:{session.nonce}".encode())

    def csrf_ok(self, session: BoardSession, token: str | None) -> bool:
        return bool(token) and hmac.compare_digest(token, self.csrf(session))
