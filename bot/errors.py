"""A UserError carries the Chinese sentence the user sees; anything else is a crash, and every crash —
a handler's or a due item's — is logged by `report_crash`, the one error hook."""
from __future__ import annotations

import logging
import traceback
from dataclasses import dataclass
from pathlib import Path


class UserError(Exception):
    def __init__(self, reply: str) -> None:
        super().__init__(reply)
        self.reply = reply


_ROOT = Path(__file__).resolve().parent.parent
_OWN_PACKAGES = ("bot", "handlers", "nlp", "scheduler")


@dataclass(frozen=True)
class Crash:
    """What went wrong, without the exception's message: SQL parameters, openpyxl's "… cannot be used
    in worksheets" and the like quote the user's text, and logs never carry message text."""

    type: str        # LookupError, IntegrityError …
    where: str       # the innermost frame of our own code: bot/domain/org.py:236 in node

    def __str__(self) -> str:
        return f"{self.type} at {self.where}"


def describe(exc: BaseException) -> Crash:
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if _own_path(f.filename) is not None]
    frame = (own or frames)[-1] if frames else None
    where = f"{_own_path(frame.filename) or frame.filename}:{frame.lineno} in {frame.name}" if frame else "?"
    return Crash(type=type(exc).__name__, where=where)


def stack(exc: BaseException) -> str:
    """The traceback as Python prints it, chained exceptions included, each exception's message left out."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    parts: list[str] = []
    for i, link in enumerate(reversed(chain)):
        if i:
            parts.append("\nThe above exception was the direct cause of the following exception:\n\n"
                         if link.__cause__ is not None else
                         "\nDuring handling of the above exception, another exception occurred:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts += traceback.format_list(traceback.extract_tb(link.__traceback__))
        parts.append(f"{_qualified(type(link))} (message omitted)\n")
    return "".join(parts).rstrip("\n")


def report_crash(log: logging.Logger, what: str, exc: BaseException, **context: object) -> Crash:
    """Log a crash once, with its context ids (message id, ticket number, due time …) and a stack with
    no exception messages. Handlers (`Bot.dispatch`) and due work (`scheduler/due.py`) both come here."""
    crash = describe(exc)
    details = " ".join(f"{key}={value}" for key, value in context.items() if value is not None)
    log.error("%s failed: %s%s\n%s", what, crash, f"; {details}" if details else "", stack(exc))
    return crash


def _own_path(filename: str) -> str | None:
    try:
        relative = Path(filename).resolve().relative_to(_ROOT)
    except ValueError:
        return None
    return relative.as_posix() if relative.parts[0] in _OWN_PACKAGES else None


def _qualified(cls: type) -> str:
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
