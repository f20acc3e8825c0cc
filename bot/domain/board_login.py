"""One-time codes for the command centre's web board (SPEC §5.1 `#登录`, §6.4): six digits, valid
10 minutes, used once, kept only as a salted hash; five wrong tries lock the contact for 15 minutes."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.clock import Clock
from bot.domain.org import OrgDirectory
from bot.domain.texts import BOARD_LOCKED_NOW as LOCKED_NOW, BOARD_WRONG_CODE as WRONG_CODE, board_locked as locked_text
from bot.domain.permissions import ADMINS_AND_WORKERS
from bot.errors import UserError
from bot.storage.models import BoardLogin

CODE_LIFETIME = timedelta(minutes=10)
MAX_FAILURES = 5
LOCK_TIME = timedelta(minutes=15)
CODE_DIGITS = 6


def _hash(salt: str, code: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", code.encode(), salt.encode(), 50_000).hex()


def may_use_board(org: OrgDirectory, contact_id: str) -> bool:
    """Admins and grid workers have a board (SPEC §5.1); residents do not."""
    return bool(org.role_names(contact_id) & ADMINS_AND_WORKERS)


class BoardLogins:
    def __init__(self, session: Session, clock: Clock, org: OrgDirectory) -> None:
        self.s = session
        self.clock = clock
        self.org = org

    def _row(self, contact_id: str) -> BoardLogin:
        # Locked: two logins racing for one code must not both use it.
        row = self.s.exec(select(BoardLogin).where(BoardLogin.contact_id == contact_id).with_for_update()).first()
        return row or BoardLogin(contact_id=contact_id)

    def issue(self, contact_id: str) -> tuple[str, datetime]:
        """A new code for the contact (the previous one stops working): (code, valid until)."""
        now = self.clock.now()
        row = self._row(contact_id)
        if row.locked_until is not None and row.locked_until > now:
            raise UserError(locked_text(row.locked_until, self.org.settings.tz))
        code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
        row.salt = secrets.token_hex(8)
        row.code_hash = _hash(row.salt, code)
        row.issued_at = now
        row.expires_at = now + CODE_LIFETIME
        self.s.add(row)
        return code, row.expires_at

    def verify(self, contact_id: str, code: str) -> None:
        """Use the contact's code, or raise UserError saying why not (and count the wrong try)."""
        now = self.clock.now()
        row = self._row(contact_id)
        if row.locked_until is not None and row.locked_until > now:
            raise UserError(locked_text(row.locked_until, self.org.settings.tz))
        live = row.code_hash is not None and row.expires_at is not None and row.expires_at > now
        if live and hmac.compare_digest(row.code_hash, _hash(row.salt, code.strip())) \
                and may_use_board(self.org, contact_id):
            row.code_hash = None          # used once
            row.failures = 0
            row.locked_until = None
            self.s.add(row)
            return
        row.failures += 1
        if row.failures >= MAX_FAILURES:
            row.failures = 0
            row.code_hash = None
            row.locked_until = now + LOCK_TIME
            self.s.add(row)
            raise UserError(LOCKED_NOW)
        self.s.add(row)
        raise UserError(WRONG_CODE.format(left=MAX_FAILURES - row.failures))

