"""Logs on the way out carry no message text (issue 13): the wechaty transport's dropped, refused and
lost-connection lines, its crashes reading or handling a message, and the outbox's failed send. The
transport is driven without a puppet server: a stand-in client in place of the SDK's connection, whose
errors quote the message, as a service's error text can."""
from __future__ import annotations

import logging
import uuid
from types import SimpleNamespace

import pytest

from bot.transport import Incoming, Outgoing, TransportUnavailable

from tests.databases import unavailable

try:
    import bot.transport.wechaty_compat  # noqa: F401
except ImportError as err:
    unavailable(f"the wechaty SDK (optional group) is not installed: {err}")

from bot.transport import wechaty_compat as sdk  # noqa: E402
from bot.transport.wechaty import MAX_REFUSALS, WechatySettings, WechatyTransport  # noqa: E402

SECRET = "张阿姨家电话13972615843，门口井盖翻了"


def _logged(caplog) -> str:
    out = []
    for record in caplog.records:
        out.append(record.getMessage())
        if record.exc_info:
            out.append(logging.Formatter().formatException(record.exc_info))
    return "\n".join(out)


def _assert_no_text(logs: str) -> None:
    assert "13972615843" not in logs and "7261" not in logs and "井盖" not in logs, logs


class _Client:
    """What the transport uses of a connected SDK client: the puppet's sends, rooms and messages."""

    def __init__(self, send_error: BaseException | None = None, messages: dict | None = None) -> None:
        async def send_text(conversation_id, message, mention_ids):
            if send_error is not None:
                raise send_error
            return "sent-1"

        async def find_all():
            return [SimpleNamespace(room_id="g3@chatroom", payload=SimpleNamespace(topic="城南社区第3网格群"))]

        def load(message_id):
            found = (messages or {})[message_id]
            if isinstance(found, BaseException):
                raise found
            return found

        self.puppet = SimpleNamespace(message_send_text=send_text)
        self.Room = SimpleNamespace(find_all=find_all)
        self.Message = SimpleNamespace(load=load)


def _connected(tmp_path, client: _Client) -> WechatyTransport:
    transport = WechatyTransport(WechatySettings(token="t", endpoint="127.0.0.1:1", attachments_dir=tmp_path))
    # Logged in, as after on_login; the connection itself is what the stand-in replaces.
    transport._client, transport._online = client, True
    return transport


def _text_message(message_id: str, text: str):
    async def ready():
        return None

    talker = SimpleNamespace(contact_id="wxid_res_zhang", name="张阿姨")
    return SimpleNamespace(message_id=message_id, ready=ready, is_self=lambda: False,
                           type=lambda: sdk.MessageType.MESSAGE_TYPE_TEXT, talker=lambda: talker,
                           room=lambda: None, text=lambda: text, payload=SimpleNamespace(mention_ids=[]))


async def test_a_message_for_a_group_the_bot_is_not_in_is_dropped_without_its_text(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="gridbot")
    transport = _connected(tmp_path, _Client())
    await transport.send(Outgoing(text=SECRET, room_id="城南社区第4网格群", room_topic="城南社区第4网格群"))
    logs = _logged(caplog)
    assert "message dropped" in logs and f"{len(SECRET)} characters" in logs
    _assert_no_text(logs)


async def test_a_refused_message_is_retried_then_dropped_without_its_text(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="gridbot")
    transport = _connected(tmp_path, _Client(send_error=sdk.WechatyPuppetError(f"rejected: {SECRET}")))
    out = Outgoing(text=SECRET, to="wxid_res_zhang")
    for _ in range(MAX_REFUSALS - 1):
        with pytest.raises(TransportUnavailable) as waiting:
            await transport.send(out)
        _assert_no_text(str(waiting.value))
    await transport.send(out)          # the last refusal: dropped, so the queue behind it moves on
    logs = _logged(caplog)
    assert "will retry" in logs and "message dropped: WeChat refused it" in logs
    _assert_no_text(logs)


async def test_a_lost_connection_is_logged_without_the_message(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="gridbot")
    transport = _connected(tmp_path, _Client(send_error=ConnectionResetError(f"reset while sending {SECRET}")))
    with pytest.raises(TransportUnavailable) as waiting:
        await transport.send(Outgoing(text=SECRET, to="wxid_res_zhang"))
    logs = _logged(caplog)
    assert "WeChat connection lost" in logs and "ConnectionResetError" in logs
    _assert_no_text(logs + str(waiting.value))
    assert not transport.online


async def test_crashes_reading_or_handling_a_message_are_reported_without_its_text(tmp_path, caplog):
    caplog.set_level(logging.DEBUG, logger="gridbot")
    # Message ids are claimed in the SDK's process-wide set: fresh ones for every run.
    m1, m2 = (f"log-{uuid.uuid4().hex}" for _ in range(2))
    client = _Client(messages={m1: ValueError(f"bad payload {SECRET}"), m2: _text_message(m2, SECRET)})
    transport = _connected(tmp_path, client)
    handled: list[Incoming] = []

    async def dispatch(incoming: Incoming) -> None:
        handled.append(incoming)
        raise RuntimeError(f"handler choked on {incoming.text}")

    for message_id in (m1, m2):
        transport._arrived(client, message_id)
    transport._inbox.put_nowait(None)
    await transport._dispatch_loop(dispatch)

    assert [m.text for m in handled] == [SECRET]
    logs = _logged(caplog)
    assert "reading a WeChat message failed: ValueError" in logs and f"message_id={m1}" in logs
    assert "dispatch failed: RuntimeError" in logs and f"message_id={m2}" in logs
    assert "(message omitted)" in logs            # report_crash's stack, no exception messages
    _assert_no_text(logs)


async def test_a_failed_send_from_the_outbox_is_reported_without_the_text(harness, caplog):
    caplog.set_level(logging.DEBUG, logger="gridbot")

    async def broken_send(out: Outgoing) -> None:
        raise RuntimeError(f"cannot send {out.text}")

    harness.transport.send = broken_send
    with pytest.raises(RuntimeError):
        await harness.say("wxid_res_zhang", f"楼道里的水管爆了，{SECRET}", "5栋王建国中心户邻里群")
    logs = _logged(caplog)
    assert "send (the message returns to the queue) failed: RuntimeError" in logs and "outbox_id=" in logs
    _assert_no_text(logs)
