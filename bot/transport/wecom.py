"""The WeCom (企业微信) transport: the intelligent bot's WebSocket long connection (SDK
`wecom-aibot-python-sdk`, through wecom_compat) behind the transport seam. No SDK object leaves this module.

Connection policy, as for wechaty: each connection is a fresh client with the SDK's own reconnect off;
this module notices a dead connection (closed, or heartbeats unanswered: the SDK closes it) and opens a
new one after 1, 2, 4 … 60 s. At start the bot must be authenticated within `login_timeout` seconds, and
a rejected bot_id/secret stops it at once (LoginFailed); after the first login it reconnects forever.
While not connected, send() raises TransportUnavailable, so the outbox keeps the messages, and
`Hooks.login` (delivery) sends them in order after each login.

In: messages WeCom pushes (group messages that mention the bot, and 1:1 chats) with the sender's userid
and the chat id; images and files are downloaded and decrypted into `attachments_dir`; `enter_chat` is
answered as `#帮助` (as WeCom's welcome reply when it is ready in time); a card button click is dispatched as the command it stands for (wecom_cards).
Out: every message through aibot_send_msg (markdown, or a button card); a rate-limit answer waits and
sends the same message again.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bot.errors import report_crash
from bot.transport import Dispatch, Hooks, Incoming, Outgoing, TransportUnavailable
from bot.transport import wecom_cards as cards
from bot.transport import wecom_compat as sdk

log = logging.getLogger("gridbot.wecom")

DEFAULT_WS_URL = "wss://openws.work.weixin.qq.com"
SEND_TIMEOUT = 15.0           # the SDK gives up on an acknowledgement after 5 s; this is a safety net
WELCOME_WINDOW = 4.0          # WeCom takes a welcome reply within 5 s of enter_chat
POLL_INTERVAL = 0.2           # how often the supervisor looks whether the connection still lives
# WeCom's "too often" answers: 45009 API frequency, 45033 concurrency, 45035 per-chat frequency.
RATE_LIMITED = frozenset({45009, 45033, 45035})
_LEADING_MENTIONS = re.compile(r"^(?:@[^\s\u2005]+[\s\u2005]+)+")


class LoginFailed(RuntimeError):
    """The bot could not log in to WeCom at start (wrong bot_id/secret, unreachable server)."""


@dataclass(frozen=True)
class WecomSettings:
    bot_id: str
    secret: str
    attachments_dir: Path
    ws_url: str = DEFAULT_WS_URL
    login_timeout: float = 60.0
    heartbeat_interval: float = 30.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    rate_limit_backoff: float = 2.0     # first wait after a rate-limit answer; doubles each time
    rate_limit_retries: int = 6         # then the message waits in the outbox for the next delivery


class WecomTransport:
    def __init__(self, settings: WecomSettings) -> None:
        self.settings = settings
        self.hooks = Hooks()
        self._client = None
        self._online = False
        self._stopping = asyncio.Event()
        self._inbox: asyncio.Queue = asyncio.Queue()
        self._welcome: dict[str, tuple[dict, float]] = {}     # userid -> (enter_chat frame, answer by)

    @property
    def online(self) -> bool:
        """Authenticated and connected: what is sent now goes out (for health checks and tests)."""
        return self._online

    # ---- the seam -------------------------------------------------------------------------
    async def start(self, dispatch: Dispatch, hooks: Hooks = Hooks()) -> None:
        self.hooks = hooks
        worker = asyncio.create_task(self._dispatch_loop(dispatch), name="wecom-dispatch")
        try:
            await self._supervise()
        finally:
            self._end_session()
            self._inbox.put_nowait(None)
            # Let the message being handled finish: cancelling it mid-delivery could strand an
            # outbox row in "sending".
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(worker), timeout=15)
            worker.cancel()

    async def stop(self) -> None:
        self._stopping.set()

    async def send(self, out: Outgoing) -> None:
        chat = out.to or out.room_id
        if chat is None:
            # WeCom has no group names to look up: a group is reached only once #绑定 stored its chat id.
            log.error("message dropped: the WeCom group %r is not bound (#绑定 in the group); "
                      "a message of %d characters", out.room_topic, len(out.text))
            return
        body = cards.body_for(out)
        wait = self.settings.rate_limit_backoff
        limited = 0
        while True:
            client = self._client
            if client is None or not self._online:
                raise TransportUnavailable("WeCom is not connected")
            welcome = self._welcome_for(out)
            try:
                if welcome is not None:
                    try:
                        await asyncio.wait_for(client.reply_welcome(welcome, {
                            "msgtype": "text", "text": {"content": out.text}}), SEND_TIMEOUT)
                        break
                    except Exception as err:
                        if sdk.ack_errcode(err) is None:
                            raise
                        log.info("WeCom took no welcome reply (errcode %d); sending it as a message",
                                 sdk.ack_errcode(err))
                await asyncio.wait_for(client.send_message(chat, body), SEND_TIMEOUT)
                break
            except Exception as err:
                code = sdk.ack_errcode(err)
                if code is None:
                    # No answer: the connection is gone (or the acknowledgement never came). The message
                    # goes back to the queue and out again after the reconnect.
                    self._connection_lost(client, f"send failed: {type(err).__name__}")
                    raise TransportUnavailable(type(err).__name__) from err
                if code in RATE_LIMITED:
                    limited += 1
                    if limited > self.settings.rate_limit_retries:
                        log.warning("WeCom still rate-limits (errcode %d); the message waits in the outbox", code)
                        raise TransportUnavailable(f"rate limited ({code})") from err
                    log.warning("WeCom rate limit (errcode %d); sending the same message again in %.1f s",
                                code, wait)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), timeout=wait)
                    wait = min(wait * 2, self.settings.backoff_max)
                    continue
                if body.get("msgtype") == "template_card":
                    # A card WeCom will not take goes out as the plain text it was made from.
                    log.warning("WeCom refused a card (errcode %d); sending it as text", code)
                    body = cards.markdown_body(out.text)
                    continue
                # Only the code is logged: WeCom's errmsg can quote the message.
                log.error("message dropped: WeCom refused it (errcode %d); to %s (a message of %d characters)",
                          code, chat, len(out.text))
                return
        if out.file_path:
            # The SDK cannot upload files; the text already names where the file was saved.
            log.info("file not sent over WeCom (no upload in the SDK): %s", out.file_path)

    def _welcome_for(self, out: Outgoing) -> dict | None:
        if out.to is None or out.to not in self._welcome:
            return None
        frame, deadline = self._welcome.pop(out.to)
        return frame if asyncio.get_running_loop().time() < deadline else None

    # ---- supervision ----------------------------------------------------------------------
    async def _supervise(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.login_timeout
        ever_logged_in = False
        failures = 0
        while not self._stopping.is_set():
            began = loop.time()
            logged_in, rejected, reason = await self._session(None if ever_logged_in else deadline)
            if self._stopping.is_set():
                return
            if not ever_logged_in and rejected is not None:
                raise LoginFailed(f"企业微信拒绝了机器人的 bot_id 或 secret（错误码 {rejected}），没有登录。"
                                  f"请检查 wecom_bot_id / wecom_secret（或环境变量 WECOM_BOT_ID、WECOM_BOT_SECRET）。")
            if not ever_logged_in and not logged_in and loop.time() >= deadline:
                raise LoginFailed(f"{self.settings.login_timeout:.0f} 秒内没有登录企业微信（{reason}）。"
                                  f"请检查 wecom_ws_url（现为 {self.settings.ws_url}）能否连通。")
            if logged_in:
                ever_logged_in = True
                if loop.time() - began >= self.settings.backoff_max:
                    failures = 0        # a session that held; one that drops at once keeps backing off
            failures += 1
            delay = min(self.settings.backoff_max, self.settings.backoff_initial * 2 ** (failures - 1))
            if not ever_logged_in:
                delay = min(delay, max(0.0, deadline - loop.time()))
            if logged_in:
                log.warning("WeCom disconnected (%s); reconnecting in %.0f s", reason, delay)
            else:
                log.warning("WeCom login failed (%s); retrying in %.0f s", reason, delay)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=delay)

    async def _session(self, deadline: float | None) -> tuple[bool, int | None, str]:
        """One connection: connect, authenticate, run until it dies. Returns whether it logged in, the
        errcode of a rejected secret, and why it ended."""
        loop = asyncio.get_running_loop()
        authenticated = asyncio.Event()
        rejected: list[int] = []
        client = sdk.new_client(self.settings.bot_id, self.settings.secret, self.settings.ws_url,
                                self.settings.heartbeat_interval)

        def on_error(err) -> None:
            code = sdk.auth_rejected(err) if isinstance(err, BaseException) else None
            if code is not None:
                rejected.append(code)
                authenticated.set()       # wakes the wait below
            else:
                log.debug("WeCom SDK error: %s", type(err).__name__)

        client.on("error", on_error)
        client.on("authenticated", authenticated.set)
        client.on("message", lambda frame: self._arrived(client, frame))
        client.on("event", lambda frame: self._arrived(client, frame))
        self._client = client
        log.info("connecting to WeCom at %s", self.settings.ws_url)
        try:
            with contextlib.suppress(Exception):
                await client.connect()
            while not authenticated.is_set():
                if self._stopping.is_set():
                    return False, None, "stopped"
                if not client.is_connected:
                    return False, None, "connection failed"
                if deadline is not None and loop.time() >= deadline:
                    return False, None, "no authentication answer"
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(authenticated.wait(), POLL_INTERVAL)
            if rejected:
                return False, rejected[0], f"secret rejected (errcode {rejected[0]})"
            self._online = True
            log.info("logged in to WeCom as bot %s", self.settings.bot_id)
            if self.hooks.login is not None:
                try:
                    await self.hooks.login([])     # WeCom lists no groups: they are bound by #绑定
                except Exception as exc:
                    report_crash(log, "login hook (delivery of queued messages)", exc)
            while sdk.alive(client) and client is self._client and not self._stopping.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), POLL_INTERVAL)
            return True, None, "connection closed"
        finally:
            self._end_session(client)

    def _end_session(self, client=None) -> None:
        if client is not None and client is not self._client:
            return
        client, self._client = self._client, None
        was_online, self._online = self._online, False
        if was_online and not self._stopping.is_set():
            log.warning("WeCom offline: messages wait in the outbox until the next login")
        elif was_online:
            log.info("WeCom transport stopped")
        if client is not None:
            with contextlib.suppress(Exception):
                client.disconnect()

    def _connection_lost(self, client, reason: str) -> None:
        if client is self._client and self._online:
            log.warning("WeCom connection lost: %s", reason)
            self._online = False
            with contextlib.suppress(Exception):
                client.disconnect()

    # ---- messages in ----------------------------------------------------------------------
    def _arrived(self, client, frame) -> None:
        if client is self._client and isinstance(frame, dict):
            self._inbox.put_nowait(frame)

    async def _dispatch_loop(self, dispatch: Dispatch) -> None:
        """Frames are read and handled one at a time, in the order the connection gave them."""
        while True:
            frame = await self._inbox.get()
            if frame is None:
                return
            body = frame.get("body") or {}
            self._note_welcome(frame, body)
            try:
                messages = await self._incoming(body)
            except Exception as exc:
                report_crash(log, "reading a WeCom message", exc, message_id=body.get("msgid"))
                continue
            for incoming in messages:
                try:
                    await dispatch(incoming)
                except Exception as exc:
                    report_crash(log, "dispatch", exc, message_id=incoming.msg_id)

    def _note_welcome(self, frame: dict, body: dict) -> None:
        """An enter_chat may be answered with a welcome message (aibot_respond_welcome_msg) within
        WELCOME_WINDOW seconds, on the event's req_id: the first message to that person in time goes so."""
        event = body.get("event") if isinstance(body.get("event"), dict) else {}
        sender = body.get("from", {}).get("userid") if isinstance(body.get("from"), dict) else None
        if body.get("msgtype") == "event" and event.get("eventtype") == "enter_chat" and sender:
            now = asyncio.get_running_loop().time()
            self._welcome = {user: pending for user, pending in self._welcome.items() if pending[1] > now}
            self._welcome[str(sender)] = ({"headers": dict(frame.get("headers") or {})}, now + WELCOME_WINDOW)

    async def _incoming(self, body: dict) -> list[Incoming]:
        msg_id = body.get("msgid")
        sender = (body.get("from") or {}).get("userid") if isinstance(body.get("from"), dict) else None
        if not msg_id or not sender:
            log.debug("ignored a WeCom frame without msgid or sender")
            return []
        in_group = body.get("chattype") == "group"
        room = str(body["chatid"]) if in_group and body.get("chatid") else None
        base = dict(sender_id=str(sender), room_id=room)
        key = f"wecom:{msg_id}"      # WeCom's msgid, apart from any WeChat id in the same database
        kind = body.get("msgtype")
        if kind == "event":
            return self._event(key, body.get("event") or {}, base)
        if kind == "text":
            return [Incoming(msg_id=key, text=self._text((body.get("text") or {}).get("content", ""), in_group),
                             **base)]
        if kind == "voice":         # WeCom gives the voice message's transcript
            return [Incoming(msg_id=key, text=self._text((body.get("voice") or {}).get("content", ""), in_group),
                             **base)]
        if kind in ("image", "file"):
            path = await self._save(key, body.get(kind) or {}, kind, body.get("create_time"))
            return [Incoming(msg_id=key, text="", kind=kind, attachment=str(path), **base)]
        if kind == "mixed":
            found, texts = [], []
            for n, item in enumerate((body.get("mixed") or {}).get("msg_item") or ()):
                if item.get("msgtype") == "text":
                    texts.append((item.get("text") or {}).get("content", ""))
                elif item.get("msgtype") == "image":
                    path = await self._save(f"{key}#{n}", item.get("image") or {}, "image", body.get("create_time"))
                    found.append(Incoming(msg_id=f"{key}#{n}", text="", kind="image", attachment=str(path), **base))
            text = self._text("\n".join(t for t in texts if t), in_group)
            # The text first: a picture right after its report is the report's evidence.
            return ([Incoming(msg_id=key, text=text, **base)] if text else []) + found
        log.debug("ignored WeCom message %s of type %s", msg_id, kind)
        return []

    def _event(self, key: str, event: dict, base: dict) -> list[Incoming]:
        kind = event.get("eventtype")
        if kind == "enter_chat":
            return [Incoming(msg_id=key, text="#帮助", **base)]
        if kind == "template_card_event":
            command = cards.command_for(str((event.get("template_card_event") or {}).get("event_key", "")))
            if command is None:
                log.warning("ignored a click on a WeCom card button this bot did not make")
                return []
            return [Incoming(msg_id=key, text=command, **base)]
        log.debug("ignored WeCom event %s", kind)
        return []

    @staticmethod
    def _text(text, in_group: bool) -> str:
        # In a group WeCom only passes on messages that mention the bot: the leading @bot is not content.
        text = text if isinstance(text, str) else ""
        return _LEADING_MENTIONS.sub("", text, count=1) if in_group else text

    async def _save(self, key: str, media: dict, kind: str, sent_at=None) -> Path:
        client = self._client
        if client is None:
            raise TransportUnavailable("WeCom is not connected")
        data, name = await client.download_file(media["url"], media.get("aeskey"))
        when = datetime.fromtimestamp(sent_at, UTC) if isinstance(sent_at, (int, float)) and sent_at > 0 else None
        folder = self.settings.attachments_dir / (f"{when:%Y-%m}" if when else "undated")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_safe(key)}-{_safe(name or media.get('filename') or kind)}"
        path.write_bytes(data)
        log.info("saved attachment of message %s to %s", key, path)
        return path


_UNSAFE = re.compile(r"[^\w.\-\u4e00-\u9fff]+")


def _safe(name: str) -> str:
    return _UNSAFE.sub("_", name).strip("._")[:80] or "file"
