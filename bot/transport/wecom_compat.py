"""Everything the WeCom intelligent-bot SDK (`wecom-aibot-python-sdk`, import name `aibot`) needs to run
behind the transport seam, kept in one place: the version pin, the SDK's traps and how the transport
works around them. Import the SDK only through here.

Why the pin (mirrored in pyproject.toml, optional group `wecom`): 1.0.2 is the release this code was
read against. It needs pyee>=11, which the wechaty SDK cannot live with (wechaty_compat.PINS): the two
optional groups are never installed into one environment (README "Connecting to WeCom").

The SDK's traps:
- Its own reconnect only runs when the WebSocket closes with an error code: a close with code 1000 —
  which is what its heartbeat watchdog itself does when pongs stop — ends its receive loop silently,
  and the client is dead without a word. The transport therefore turns the SDK's reconnect off
  (`max_reconnect_attempts=0`) and supervises the connection itself (`alive`).
- A rejected bot_id/secret is only an "error" event ("Authentication failed: … (code: N)").
- An error event with no listener raises inside pyee: always listen to "error".
- It always passes its TLS context to websockets.connect, which refuses one for a plain `ws://` address
  (a gateway on the county's own network, the tests' local server): `_Websockets` drops it there.
- Its default logger prints every frame body (message text) to stdout at debug level: give it `QuietLogger`.
"""
from __future__ import annotations

import logging
import re
import warnings

import websockets as _websockets

with warnings.catch_warnings():
    # The SDK imports websockets' legacy client module for a type hint (deprecated since websockets 14).
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="websockets")
    warnings.filterwarnings("ignore", "websockets", DeprecationWarning)
    import aibot.ws as _sdk_ws
    from aibot import WSClient, WSClientOptions, decrypt_file  # noqa: F401  (re-exported)

PINS = ("wecom-aibot-python-sdk==1.0.2", "pyee>=11", "websockets>=12")

__all__ = ["PINS", "QuietLogger", "WSClient", "WSClientOptions", "ack_errcode", "alive", "auth_rejected",
           "decrypt_file", "new_client"]

_log = logging.getLogger("gridbot.wecom.sdk")


class _Websockets:
    """The websockets module as the SDK sees it, with connect() taking no TLS context for ws:// URLs."""

    def __getattr__(self, name: str):
        return getattr(_websockets, name)

    @staticmethod
    def connect(uri: str, *args, **kwargs):
        if uri.startswith("ws://"):
            kwargs.pop("ssl", None)
        return _websockets.connect(uri, *args, **kwargs)


_sdk_ws.websockets = _Websockets()


class QuietLogger:
    """The SDK's log lines, at debug level only, and never one that quotes a frame (message text)."""

    def _line(self, message: str, *args: object) -> None:
        if "{" not in message:
            _log.debug("%s", message)

    debug = info = warn = error = _line


def new_client(bot_id: str, secret: str, ws_url: str, heartbeat_interval: float) -> WSClient:
    """A client for one connection: no reconnect of its own (see the module's docstring)."""
    return WSClient(WSClientOptions(bot_id=bot_id, secret=secret, ws_url=ws_url, max_reconnect_attempts=0,
                                    heartbeat_interval=int(heartbeat_interval * 1000), logger=QuietLogger()))


def alive(client: WSClient) -> bool:
    """Connected, and still reading frames (the receive loop ends silently on a normal close)."""
    manager = client._ws_manager
    task = manager._receive_task
    return client.is_connected and task is not None and not task.done()


_AUTH = re.compile(r"Authentication failed: .*\(code: (-?\d+)\)")
_ACK = re.compile(r"errcode=(-?\d+)")


def auth_rejected(err: BaseException) -> int | None:
    """The errcode of a rejected aibot_subscribe (wrong bot_id or secret), else None."""
    found = _AUTH.search(str(err))
    return int(found.group(1)) if found else None


def ack_errcode(err: BaseException) -> int | None:
    """The errcode WeCom answered a send with ("Reply ack error: errcode=N, …"); None when the error is
    not an answer (connection closed, not connected, no acknowledgement in time)."""
    if "Reply ack error" not in str(err):
        return None
    found = _ACK.search(str(err))
    return int(found.group(1)) if found else None
