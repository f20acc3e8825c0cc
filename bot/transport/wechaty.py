"""The WeChat transport: the wechaty Python SDK behind the transport seam, plus what the SDK lacks —
a supervised connection restarted with backoff, a login watchdog, room lookup by id or topic, and
attachments saved to disk. No wechaty object leaves this module.

Connection policy: each connection is a fresh Wechaty instance (the SDK's own reconnect sleeps 60 s,
retries once and then crashes, and never calls on_login again). Until the first login, the bot must
log in within `login_timeout` seconds of starting (a QR scan in progress extends it) or start() raises
LoginFailed; after that it reconnects forever, waiting 1, 2, 4 … 60 s between attempts (reset by a
login). While not logged in, send() raises TransportUnavailable, so the outbox keeps the messages;
the login hook (`Hooks.login`, wired to room binding + delivery by the runtime) sends them in order after each login.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bot.errors import report_crash
from bot.transport import Dispatch, ForwardedItem, Hooks, Incoming, Outgoing, RoomInfo, TransportUnavailable
from bot.transport import wechaty_compat as sdk

log = logging.getLogger("gridbot.wechaty")

SEND_TIMEOUT = 30.0          # a send that hangs this long means the connection is dead
ROOM_REFRESH_INTERVAL = 30.0  # an unknown room triggers at most one room-list refresh this often
SCAN_GRACE = 300.0           # a QR code being shown gives the person this long to scan it
MAX_REFUSALS = 3             # a message the service refuses this many times is dropped


class LoginFailed(RuntimeError):
    """The bot could not log in to WeChat at start (wrong token, unreachable service, no scan)."""


class PortTaken(RuntimeError):
    """The configured plugin web-server port is in use (the SDK would silently skip on_login)."""


@dataclass(frozen=True)
class WechatySettings:
    token: str
    endpoint: str                        # host:port of the puppet service (plain h2c, no TLS)
    attachments_dir: Path
    plugin_port: int | None = None       # the SDK's plugin web server; None: a free port
    login_timeout: float = 60.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0




class _Client(sdk.Wechaty):
    """One connection. The SDK calls these hooks; they only hand over to the transport."""

    def __init__(self, transport: WechatyTransport, options) -> None:
        super().__init__(options)
        self._transport = transport

    async def connect(self) -> None:
        """Open the connection and run until the event stream ends (or raise why it could not)."""
        await self.init_puppet()
        sdk.fresh_accessory_pools(self)
        # Registered before the SDK's bridge, and synchronous: runs first, in stream order.
        self.puppet.on("message", lambda payload: self._transport._arrived(self, payload.message_id))
        await self.init_puppet_event_bridge(self.puppet)
        await self.puppet.start()

    async def on_login(self, contact) -> None:
        await self._transport._logged_in(self, contact)

    async def on_logout(self, contact) -> None:
        self._transport._logged_out(self, contact)

    async def on_scan(self, qr_code: str, status, data=None) -> None:
        self._transport._scan(self, qr_code, status)



class WechatyTransport:
    def __init__(self, settings: WechatySettings) -> None:
        self.settings = settings
        self.hooks = Hooks()
        self.plugin_port: int | None = None
        self._client: _Client | None = None
        self._online = False
        self._session_over = asyncio.Event()
        self._login_seen = asyncio.Event()
        self._stopping = asyncio.Event()
        self._login_deadline = 0.0
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._rooms: dict[str, str] = {}          # room id -> topic, as of the last refresh
        self._room_by_topic: dict[str, str] = {}
        self._rooms_refreshed = 0.0
        self._refusals: dict[tuple[str | None, str], int] = {}
        self._sent_ids: dict[str, None] = {}       # insertion-ordered: the oldest go first

    @property
    def online(self) -> bool:
        """Logged in and connected: what is sent now goes out (for health checks and tests)."""
        return self._online

    # ---- the seam -------------------------------------------------------------------------
    async def start(self, dispatch: Dispatch, hooks: Hooks = Hooks()) -> None:
        self.hooks = hooks
        self.plugin_port = self._pick_plugin_port()
        worker = asyncio.create_task(self._dispatch_loop(dispatch), name="wechaty-dispatch")
        try:
            await self._supervise()
        finally:
            await self._end_session()
            self._inbox.put_nowait(None)
            # Let the message being handled finish: cancelling it mid-delivery could strand an
            # outbox row in "sending".
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(worker), timeout=15)
            worker.cancel()

    async def stop(self) -> None:
        self._stopping.set()
        self._session_over.set()

    async def send(self, out: Outgoing) -> None:
        client = self._client
        if client is None or not self._online:
            raise TransportUnavailable("WeChat is not connected")
        try:
            if out.to is not None:
                conversation = out.to
            else:
                conversation = await self._room_id(out.room_id, out.room_topic)
                if conversation is None:
                    # Logs never carry message text: its length is enough to find it in the outbox.
                    log.error("message dropped: the bot is in no WeChat group with id or topic %r "
                              "(a message of %d characters)", out.room_topic or out.room_id, len(out.text))
                    return
            sent_id = await asyncio.wait_for(client.puppet.message_send_text(
                conversation_id=conversation, message=out.text, mention_ids=list(out.mentions)), SEND_TIMEOUT)
            self._remember_sent(sent_id)
            if out.file_path:
                await self._send_file(client, conversation, out.file_path)
        except TransportUnavailable:
            raise
        except Exception as err:
            # Only the error's type is logged or passed on: the service's error text can quote the message.
            if sdk.connection_lost(err) or client is not self._client or not self._online:
                self._connection_lost(client, f"send failed: {_error_name(err)}")
                raise TransportUnavailable(_error_name(err)) from err
            # The service refused this message. It may be passing (the account being logged out, a
            # hiccup), so it waits for the next delivery; refused again and again it is dropped, since it
            # would otherwise block every message queued behind it (e.g. a contact who is not a friend).
            key = (out.to or out.room_id, out.text)
            self._refusals[key] = self._refusals.get(key, 0) + 1
            if self._refusals[key] < MAX_REFUSALS:
                log.warning("WeChat refused a message (%s), will retry; to %s (a message of %d characters)",
                            _error_name(err), out.to or out.room_topic or out.room_id, len(out.text))
                raise TransportUnavailable(_error_name(err)) from err
            del self._refusals[key]
            log.error("message dropped: WeChat refused it %d times (%s); to %s (a message of %d characters)",
                      MAX_REFUSALS, _error_name(err), out.to or out.room_topic or out.room_id, len(out.text))
        else:
            self._refusals.pop((out.to or out.room_id, out.text), None)

    async def _send_file(self, client: _Client, conversation: str, path: str) -> None:
        try:
            box = sdk.FileBox.from_file(path)
        except OSError as err:
            log.error("file not sent, cannot read %s: %s", path, err)
            return
        self._remember_sent(await asyncio.wait_for(
            client.puppet.message_send_file(conversation_id=conversation, file=box), SEND_TIMEOUT))

    def _remember_sent(self, message_id: str | None) -> None:
        # The bot's own messages come back as events; knowing their ids spares loading each one only
        # to find it is ours (msg.is_self() still catches any the puppet sent without an id).
        if message_id:
            if len(self._sent_ids) >= 5000:
                self._sent_ids.pop(next(iter(self._sent_ids)))
            self._sent_ids[message_id] = None

    # ---- supervision ----------------------------------------------------------------------
    def _pick_plugin_port(self) -> int:
        port = self.settings.plugin_port
        if port is None:
            return sdk.free_port()
        if sdk.port_in_use(port):
            raise PortTaken(f"wechaty_port {port} 已被占用：微信 SDK 的插件服务需要一个空闲端口"
                            f"（不设 wechaty_port 则自动选择空闲端口）")
        return port

    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        self._login_deadline = loop.time() + self.settings.login_timeout
        ever_logged_in = False
        failures = 0
        reason = ""
        while not self._stopping.is_set():
            if not ever_logged_in and reason and loop.time() >= self._login_deadline:
                raise LoginFailed(self._login_failure(reason))
            if ever_logged_in:
                self._login_deadline = loop.time() + max(self.settings.login_timeout, SCAN_GRACE)
            began = loop.time()
            logged_in, reason = await self._session()
            if self._stopping.is_set():
                return
            if logged_in:
                ever_logged_in = True
                if loop.time() - began >= self.settings.backoff_max:
                    failures = 0        # a session that held; one that drops at once keeps backing off
            elif not ever_logged_in and reason.startswith("token"):
                raise LoginFailed(self._login_failure(reason))
            failures += 1
            delay = min(self.settings.backoff_max, self.settings.backoff_initial * 2 ** (failures - 1))
            if not ever_logged_in:
                delay = min(delay, max(0.0, self._login_deadline - loop.time()))
            if logged_in:
                log.warning("WeChat disconnected (%s); reconnecting in %.0f s", reason, delay)
            else:
                log.warning("WeChat login failed (%s); retrying in %.0f s", reason, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    def _login_failure(self, reason: str) -> str:
        where = (f"WECHATY_PUPPET_SERVICE_TOKEN（wechaty_token）是否正确、WECHATY_PUPPET_SERVICE_ENDPOINT"
                 f"（wechaty_endpoint，现为 {self.settings.endpoint}）能否连通")
        if reason.startswith("token"):
            return f"微信 puppet 服务拒绝了令牌，没有登录微信（{reason}）。请检查 {where}。"
        return (f"{self.settings.login_timeout:.0f} 秒内没有登录微信（{reason}）。请检查 {where}，"
                f"以及微信号是否已在 puppet 服务上扫码登录。")

    async def _session(self) -> tuple[bool, str]:
        """One connection: connect, wait for login, run until the stream ends. Returns whether it
        logged in, and why it ended."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        if self.settings.plugin_port is None and sdk.port_in_use(self.plugin_port):
            self.plugin_port = sdk.free_port()      # taken since the last connection
        self._session_over.clear()
        self._login_seen.clear()
        self._online = False
        log.info("connecting to the WeChat puppet service at %s", self.settings.endpoint)
        client = _Client(self, sdk.WechatyOptions(
            puppet="wechaty-puppet-service",
            puppet_options=sdk.PuppetOptions(token=self.settings.token, end_point=self.settings.endpoint),
            host="127.0.0.1", port=self.plugin_port))
        self._client = client
        stream = asyncio.create_task(client.connect(), name="wechaty-stream")
        over = asyncio.create_task(self._session_over.wait())
        try:
            while not self._login_seen.is_set():
                remaining = self._login_deadline - loop.time()
                if remaining <= 0:
                    return False, f"no login within {loop.time() - began:.0f} s"
                login = asyncio.create_task(self._login_seen.wait())
                await asyncio.wait({stream, over, login}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                login.cancel()
                if self._login_seen.is_set():
                    break
                if stream.done():
                    return False, self._stream_end(stream)
                if over.done():
                    return False, "stopped"
            await asyncio.wait({stream, over}, return_when=asyncio.FIRST_COMPLETED)
            return True, self._stream_end(stream) if stream.done() else "connection closed"
        finally:
            over.cancel()
            await self._end_session()
            if not stream.done():
                stream.cancel()
            with contextlib.suppress(BaseException):
                await stream

    def _stream_end(self, stream: asyncio.Task) -> str:
        if stream.cancelled():
            return "cancelled"
        err = stream.exception()
        if err is None:
            return "event stream ended"
        if sdk.rejected_token(err):
            return "token rejected by the puppet service (UNAUTHENTICATED)"
        if "ping endpoint" in str(err):
            return f"puppet service unreachable at {self.settings.endpoint}"
        return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__

    async def _end_session(self) -> None:
        client, self._client = self._client, None
        was_online, self._online = self._online, False
        if was_online and not self._stopping.is_set():
            log.warning("WeChat offline: messages wait in the outbox until the next login")
        elif was_online:
            log.info("WeChat transport stopped")
        if client is None:
            return
        with contextlib.suppress(Exception):
            if client._puppet is not None:
                await asyncio.wait_for(client.puppet.stop(), timeout=5)
        sdk.discard_client(client)

    def _connection_lost(self, client: _Client | None, reason: str) -> None:
        if client is self._client and self._online:
            log.warning("WeChat connection lost: %s", reason)
            self._online = False
            self._session_over.set()

    # ---- SDK events -----------------------------------------------------------------------
    async def _logged_in(self, client: _Client, contact) -> None:
        if client is not self._client:
            return
        try:
            rooms = await self._refresh_rooms(client)
        except Exception as err:
            report_crash(log, "listing the WeChat groups after login", err)
            self._connection_lost(client, f"room list failed: {_error_name(err)}")
            self._login_seen.set()
            return
        self._online = True
        self._login_seen.set()
        log.info("logged in to WeChat as %s (%s); the bot is in %d groups", contact.name, contact.contact_id,
                 len(rooms))
        if self.hooks.login is not None:
            try:
                await self.hooks.login(rooms)
            except Exception as exc:
                report_crash(log, "login hook (room binding / delivery of queued messages)", exc)

    def _logged_out(self, client: _Client, contact) -> None:
        if client is self._client:
            log.warning("WeChat logged out (%s)", getattr(contact, "contact_id", contact))
            self._online = False
            self._session_over.set()

    def _scan(self, client: _Client, qr_code: str, status) -> None:
        if client is not self._client:
            return
        if status == sdk.ScanStatus.Waiting and qr_code:
            log.warning("WeChat needs a QR scan to log in: https://wechaty.js.org/qrcode/%s", qr_code)
            loop = asyncio.get_running_loop()
            self._login_deadline = max(self._login_deadline, loop.time() + SCAN_GRACE)
        else:
            log.info("WeChat login scan: %s", getattr(status, "name", status))

    def _arrived(self, client: _Client, message_id: str) -> None:
        if client is self._client and sdk.claim_message(message_id):
            self._inbox.put_nowait((client, message_id))

    async def _dispatch_loop(self, dispatch: Dispatch) -> None:
        """Messages are read and handled one at a time, in the order the event stream gave them."""
        while True:
            item = await self._inbox.get()
            if item is None:
                return
            client, message_id = item
            if message_id in self._sent_ids:
                continue
            try:
                incoming = await self._incoming(client, message_id)
            except Exception as exc:
                report_crash(log, "reading a WeChat message", exc, message_id=message_id)
                continue
            if incoming is None:
                continue
            try:
                await dispatch(incoming)
            except Exception as exc:
                report_crash(log, "dispatch", exc, message_id=incoming.msg_id)

    # ---- messages in ----------------------------------------------------------------------
    async def _incoming(self, client: _Client, message_id: str) -> Incoming | None:
        msg = client.Message.load(message_id)
        await msg.ready()
        if msg.is_self():       # the bot's own messages come back as events
            return None
        kind = msg.type()
        talker = msg.talker()
        room = msg.room()
        room_id = room.room_id if room is not None else None
        topic = None
        if room is not None:
            topic = room.payload.topic if room.payload is not None else await room.topic()
            self._remember_room(room_id, topic)
        base = dict(msg_id=msg.message_id, sender_id=talker.contact_id, sender_name=talker.name or "",
                    room_id=room_id, room_topic=topic)
        types = sdk.MessageType
        if kind == types.MESSAGE_TYPE_TEXT:
            return Incoming(text=msg.text(), mentions=tuple(msg.payload.mention_ids or ()), **base)
        if kind in (types.MESSAGE_TYPE_IMAGE, types.MESSAGE_TYPE_ATTACHMENT, types.MESSAGE_TYPE_VIDEO):
            path = await self._save_attachment(msg)
            label = "image" if kind == types.MESSAGE_TYPE_IMAGE else "file"
            return Incoming(text="", kind=label, attachment=str(path), **base)
        if kind == types.MESSAGE_TYPE_CHAT_HISTORY:
            # Puppets differ: some give the record's XML, some nothing. Empty items means "could not
            # read it", which the handlers answer by asking for the messages one by one.
            return Incoming(text="", kind="chat_history", items=parse_chat_history(msg.text() or ""), **base)
        log.debug("ignored WeChat message %s of type %s", msg.message_id, getattr(kind, "name", kind))
        return None

    async def _save_attachment(self, msg) -> Path:
        box = await msg.to_file_box()
        when = msg.date() if msg.payload.timestamp else None
        folder = self.settings.attachments_dir / (f"{when:%Y-%m}" if isinstance(when, datetime) else "undated")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_safe(msg.message_id)}-{_safe(box.name or 'file')}"
        await box.to_file(str(path), overwrite=True)
        log.info("saved attachment of message %s to %s", msg.message_id, path)
        return path

    # ---- rooms ----------------------------------------------------------------------------
    async def _refresh_rooms(self, client: _Client) -> list[RoomInfo]:
        rooms = await client.Room.find_all()
        found: list[RoomInfo] = []
        self._rooms, self._room_by_topic = {}, {}
        for room in rooms:
            topic = room.payload.topic if room.payload is not None else await room.topic()
            found.append(RoomInfo(room.room_id, topic or ""))
            self._remember_room(room.room_id, topic or "")
        self._rooms_refreshed = asyncio.get_running_loop().time()
        return found

    def _remember_room(self, room_id: str, topic: str) -> None:
        self._rooms[room_id] = topic
        if topic:
            self._room_by_topic.setdefault(topic, room_id)

    async def _room_id(self, key: str | None, topic: str | None) -> str | None:
        """An Outgoing's room_id is a WeChat room id once the room is bound, or the org's topic for a
        room not bound yet (the outbox falls back to it); resolve either to a room id."""
        for attempt in range(2):
            if key in self._rooms:
                return key
            for name in (key, topic):
                if name and name in self._room_by_topic:
                    return self._room_by_topic[name]
            loop = asyncio.get_running_loop()
            if attempt or loop.time() - self._rooms_refreshed < ROOM_REFRESH_INTERVAL or self._client is None:
                return None
            await self._refresh_rooms(self._client)     # the bot may have joined the group since login
        return None


def _error_name(err: BaseException) -> str:
    """An error as logs may name it: its type, and a gRPC status; never its text."""
    status = getattr(err, "status", None)
    return f"{type(err).__name__} {getattr(status, 'name', status)}" if status is not None else type(err).__name__


_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._")[:80] or "file"


def parse_chat_history(xml: str) -> tuple[ForwardedItem, ...]:
    """Items of a forwarded chat record from WeChat's app-message XML (<recorditem> holds a
    <recordinfo> whose <datalist> has one <dataitem> per message); () when there is none."""
    if "<" not in xml:
        return ()
    try:
        root = ET.fromstring(xml.strip())
    except ET.ParseError:
        return ()
    record = root if root.tag == "recordinfo" else root.find(".//recordinfo")
    if record is None:
        inner = root.findtext(".//recorditem")
        if not inner:
            return ()
        try:
            record = ET.fromstring(inner.strip())
        except ET.ParseError:
            return ()
    items = []
    for item in record.iter("dataitem"):
        text = (item.findtext("datadesc") or "").strip()
        if text:
            items.append(ForwardedItem(name=(item.findtext("sourcename") or "").strip(), text=text))
    return tuple(items)
