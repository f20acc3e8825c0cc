"""A local stand-in for WeCom's intelligent-bot long connection, speaking the frame protocol as the SDK's
own code defines it (aibot/ws.py, aibot/client.py): `aibot_subscribe` answered with errcode 0 (or a
rejection), `ping` answered, `aibot_msg_callback` / `aibot_event_callback` pushed, `aibot_send_msg` and
`aibot_respond_*` acknowledged with the request's req_id. Media are served over plain HTTP on the same
port, AES-256-CBC encrypted as WeCom does (IV = the key's first 16 bytes, PKCS#7 to 32 bytes).

A message counts as delivered when it is acknowledged (`sent`); the faults a test can ask for: drop the
connection on the n-th send before acknowledging it, answer sends with a rate-limit errcode, stop
answering pings."""
from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import time
from dataclasses import dataclass, field
from http import HTTPStatus

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.http11 import Response

BOT_ID = "aibot-test-0001"
SECRET = "s3cret-test"


def encrypt(data: bytes, aes_key: str) -> bytes:
    key = base64.b64decode(aes_key)
    pad = 32 - len(data) % 32
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()


@dataclass
class Sent:
    chatid: str
    body: dict

    @property
    def text(self) -> str:
        if self.body.get("msgtype") == "markdown":
            return self.body["markdown"]["content"]
        if self.body.get("msgtype") == "text":
            return self.body["text"]["content"]
        card = self.body.get("template_card", {})
        return card.get("main_title", {}).get("title", "") + "\n" + card.get("sub_title_text", "")

    @property
    def buttons(self) -> dict[str, str]:
        """label → key of a card's buttons."""
        return {b["text"]: b["key"] for b in self.body.get("template_card", {}).get("button_list", [])}


@dataclass
class WecomServer:
    bot_id: str = BOT_ID
    secret: str = SECRET
    sent: list[Sent] = field(default_factory=list)          # acknowledged aibot_send_msg, in order
    frames: list[dict] = field(default_factory=list)        # every frame the bot sent
    subscriptions: int = 0                                   # accepted aibot_subscribe frames
    answer_pings: bool = True
    rate_limit_next: int = 0                                 # answer this many sends with errcode 45009
    drop_on_send: int | None = None                          # close the connection on this (1-based) send
    refuse_cards: bool = False                               # answer template cards with an errcode
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._callbacks: dict[str, dict] = {}                 # req_id -> body of the callbacks pushed
        self._sends = 0
        self._conn = None
        self._authed = asyncio.Event()
        self._server = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await serve(self._handle, "127.0.0.1", 0, process_request=self._http)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """WeCom unreachable: the connections are closed and no new one is accepted."""
        self._authed.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def restart(self) -> None:
        """WeCom back, on the same address."""
        self._server = await serve(self._handle, "127.0.0.1", self.port, process_request=self._http)

    async def connected(self, timeout: float = 20) -> None:
        await asyncio.wait_for(self._authed.wait(), timeout)

    # ---- what people do in WeCom ----------------------------------------------------------
    async def say(self, userid: str, text: str, chatid: str | None = None, msgid: str | None = None) -> str:
        return await self._push("aibot_msg_callback", userid, chatid, {"msgtype": "text", "text": {"content": text}},
                                msgid)

    async def send_image(self, userid: str, data: bytes, chatid: str | None = None, name: str = "photo.jpg") -> str:
        aes_key = base64.b64encode(os.urandom(32)).decode().rstrip("=")    # WeCom's keys come unpadded
        token = f"m{next(self._ids)}"
        self.media[token] = (encrypt(data, aes_key + "=" * (-len(aes_key) % 4)), name)
        return await self._push("aibot_msg_callback", userid, chatid,
                                {"msgtype": "image", "image": {"url": f"http://127.0.0.1:{self.port}/media/{token}",
                                                               "aeskey": aes_key}})

    async def click(self, userid: str, key: str, chatid: str | None = None) -> str:
        event = {"eventtype": "template_card_event",
                 "template_card_event": {"card_type": "button_interaction", "event_key": key, "task_id": "t"}}
        return await self._push("aibot_event_callback", userid, chatid, {"msgtype": "event", "event": event})

    async def enter_chat(self, userid: str) -> str:
        return await self._push("aibot_event_callback", userid, None,
                                {"msgtype": "event", "event": {"eventtype": "enter_chat", "enter_chat": {}}})

    async def push_again(self, cmd: str, body: dict) -> None:
        """Deliver a callback a second time (WeCom retries when it is unsure the first one arrived)."""
        await self._conn.send(json.dumps({"cmd": cmd, "headers": {"req_id": f"cb_{next(self._ids)}"}, "body": body}))

    async def drop(self) -> None:
        await self._conn.close(code=1011, reason="gone")

    async def _push(self, cmd: str, userid: str, chatid: str | None, content: dict, msgid: str | None = None) -> str:
        await self.connected()
        msgid = msgid or f"msg{next(self._ids)}"
        body = {"msgid": msgid, "aibotid": self.bot_id, "chattype": "group" if chatid else "single",
                "from": {"userid": userid}, "create_time": int(time.time()), **content}
        if chatid:
            body["chatid"] = chatid
        self.last_body = body
        req_id = f"cb_{next(self._ids)}"
        self._callbacks[req_id] = body
        await self._conn.send(json.dumps({"cmd": cmd, "headers": {"req_id": req_id}, "body": body}))
        return msgid

    # ---- the protocol ---------------------------------------------------------------------
    def _http(self, connection, request):
        if not request.path.startswith("/media/"):
            return None                                         # a WebSocket handshake
        data, name = self.media.get(request.path.rsplit("/", 1)[1], (b"", ""))
        headers = Headers([("Content-Type", "application/octet-stream"), ("Content-Length", str(len(data))),
                           ("Content-Disposition", f"attachment; filename=\"{name}\"")])
        return Response(HTTPStatus.OK if data else HTTPStatus.NOT_FOUND, "OK", headers, data)

    async def _handle(self, conn) -> None:
        async for raw in conn:
            frame = json.loads(raw)
            cmd, req_id = frame.get("cmd"), frame.get("headers", {}).get("req_id", "")
            self.frames.append(frame)
            if cmd == "aibot_subscribe":
                body = frame.get("body", {})
                if body.get("bot_id") != self.bot_id or body.get("secret") != self.secret:
                    await conn.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 40001,
                                                "errmsg": "invalid secret"}))
                    await conn.close()
                    return
                self.subscriptions += 1
                self._conn = conn
                await conn.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}))
                self._authed.set()
            elif cmd == "ping":
                if self.answer_pings:
                    await conn.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}))
            elif cmd == "aibot_send_msg":
                self._sends += 1
                if self.drop_on_send is not None and self._sends == self.drop_on_send:
                    self.drop_on_send = None
                    self._authed.clear()
                    await conn.close(code=1011, reason="dropped mid fan-out")
                    return
                if self.rate_limit_next:
                    self.rate_limit_next -= 1
                    await conn.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 45009,
                                                "errmsg": "api freq out of limit"}))
                    continue
                if self.refuse_cards and frame["body"].get("msgtype") == "template_card":
                    await conn.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 40058,
                                                "errmsg": "invalid template_card"}))
                    continue
                body = dict(frame["body"])
                self.sent.append(Sent(body.pop("chatid"), body))
                await conn.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}))
            elif cmd and cmd.startswith("aibot_respond"):
                # A reply on a callback's req_id: a welcome to the person who entered the chat, …
                callback = self._callbacks.get(req_id)
                if callback is None:
                    await conn.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 40008,
                                                "errmsg": "invalid req_id"}))
                    continue
                self.sent.append(Sent(callback.get("chatid") or callback["from"]["userid"], frame["body"]))
                await conn.send(json.dumps({"headers": {"req_id": req_id}, "errcode": 0, "errmsg": "ok"}))

    # ---- reading what the bot sent --------------------------------------------------------
    def frames_of(self, cmd: str) -> list[dict]:
        return [f for f in self.frames if f.get("cmd") == cmd]

    def to(self, chatid: str) -> list[Sent]:
        return [s for s in self.sent if s.chatid == chatid]

    async def wait_for(self, predicate, what: str, timeout: float = 20) -> Sent:
        """The first acknowledged message that satisfies `predicate`, waiting for it to arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for s in self.sent:
                if predicate(s):
                    return s
            await asyncio.sleep(0.02)
        raise AssertionError(f"no message {what} within {timeout} s; sent: "
                             f"{[(s.chatid, s.text[:40]) for s in self.sent]}")


async def eventually(condition, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")
