"""Everything the wechaty 0.x Python SDK needs to run on this stack, kept in one place: the version
pins, the Python 3.11 shim and the workarounds for SDK traps. Import the SDK only through here.

Why the pins (mirrored in pyproject.toml, optional group `wechaty`): wechaty 0.10.7 is the last
Python SDK release; it works against a 1.x puppet-service gateway with wechaty-puppet-service 0.8.10
and wechaty-grpc 0.20.19, and breaks with pyee>=9 and urllib3>=2. It imports `telnetlib`, which
Python 3.13 removed, so it runs on Python 3.11 and 3.12 only.
"""
from __future__ import annotations

import os
import socket

PINS = ("wechaty==0.10.7", "wechaty-puppet-service==0.8.10", "wechaty-grpc==0.20.19", "pyee<9", "urllib3<2")

# The SDK gives each of its modules a logger with its own console handler at the level of WECHATY_LOG
# (default: info, i.e. every message logged twice). Quiet it before the first import; a user can
# still ask for more with WECHATY_LOG=info.
os.environ.setdefault("WECHATY_LOG", "error")

# Python 3.11 rejects a dataclass field whose default is an unhashable instance, and the SDK declares
# `puppet_options: PuppetOptions = PuppetOptions()`. Making PuppetOptions hashable by identity lets
# `import wechaty` succeed; always pass puppet_options explicitly so that shared default is never used.
import wechaty_puppet.schemas.puppet as _puppet_schemas  # noqa: E402

_puppet_schemas.PuppetOptions.__hash__ = object.__hash__  # type: ignore[method-assign]

import warnings  # noqa: E402

from grpclib.const import Status  # noqa: E402
from grpclib.exceptions import GRPCError, StreamTerminatedError  # noqa: E402

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "'telnetlib' is deprecated", DeprecationWarning)  # known: see PINS
    from wechaty import Contact, Message, Room, Wechaty, WechatyOptions
    from wechaty.utils.async_helper import SingleIdContainer
    from wechaty_puppet import FileBox, MessageType, PuppetOptions, ScanStatus
    from wechaty_puppet.exceptions import WechatyPuppetError

__all__ = [
    "PINS", "Contact", "FileBox", "GRPCError", "Message", "MessageType", "PuppetOptions", "Room", "ScanStatus",
    "Status", "StreamTerminatedError", "Wechaty", "WechatyOptions", "WechatyPuppetError", "connection_lost",
    "claim_message", "discard_client", "fresh_accessory_pools", "free_port", "port_in_use", "rejected_token",
]

# Errors that mean "the connection to the puppet service is gone", not "this request was wrong".
_GONE_STATUSES = {Status.UNAVAILABLE, Status.CANCELLED, Status.DEADLINE_EXCEEDED, Status.UNAUTHENTICATED}


def connection_lost(err: BaseException) -> bool:
    if isinstance(err, (StreamTerminatedError, ConnectionError, OSError, TimeoutError)):
        return True
    if isinstance(err, GRPCError):
        return err.status in _GONE_STATUSES
    # The SDK raises this when its stub was torn down under a pending call.
    return isinstance(err, WechatyPuppetError) and "puppet_stub" in str(err)


def rejected_token(err: BaseException) -> bool:
    return isinstance(err, GRPCError) and err.status == Status.UNAUTHENTICATED


def fresh_accessory_pools(client: Wechaty) -> None:
    """The SDK caches Room/Contact/Tag objects in a pool on the base class, shared by every
    connection; after a reconnect the cached objects still point at the old, stopped puppet.
    Give this connection's accessory classes pools of their own."""
    for name in ("Room", "Contact", "ContactSelf", "Tag"):
        cls = getattr(client, name, None)
        if cls is not None:
            cls._pool = {}


def claim_message(message_id: str) -> bool:
    """True the first time a message id is seen. The SDK loads every message in a task of its own and
    calls on_message when that load is done, so a quick message can overtake a slow one; the transport
    therefore takes message ids from the puppet's event stream itself, in order. Claiming the id in the
    SDK's own de-duplication set also makes the SDK's listener skip the message instead of loading it
    a second time (and it filters the duplicate deliveries some puppets make)."""
    return not SingleIdContainer.instance().exist(message_id)


def discard_client(client: Wechaty) -> None:
    """Stop what the SDK started for a connection and never stops itself (the plugin manager's
    scheduler, started at login), so a reconnect does not leave it behind."""
    manager = getattr(client, "_plugin_manager", None)
    scheduler = getattr(manager, "scheduler", None)
    if scheduler is not None and getattr(scheduler, "running", False):
        scheduler.shutdown(wait=False)


def port_in_use(port: int) -> bool:
    """What the SDK itself checks at login (a connect to 127.0.0.1:port): if it succeeds, the SDK
    refuses to start its plugin web server and `on_login` is never called."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
