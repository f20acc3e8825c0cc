"""The mock county server (tests/e2e/mock_county.mjs) seen from Python, and polling helpers.

Waiting is always polling for a condition with a deadline: the bot and the server are other
processes or tasks, and nothing here sleeps blindly."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MOCK = Path(__file__).with_name("mock_county.mjs")
ORG_SMALL = ROOT / "tests" / "data" / "org_small.yaml"
TOKEN = "county-e2e-token"
BOT_ID = "wxid_gridbot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def until(condition: Callable[[], object], timeout: float, what: str):
    """Poll `condition` (synchronously) until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


async def eventually(condition: Callable[[], object], timeout: float, what: str):
    """`until` for tests whose bot runs in this event loop: yields to it between polls."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.05)


class MockCounty:
    """The mock county server: inject messages as group members, read what the bot sent."""

    def __init__(self, workdir: Path) -> None:
        self.grpc_port = free_port()
        self.control_port = free_port()
        self.sent_log = workdir / "sent.jsonl"
        self.server_log = workdir / "mock-server.log"
        self.endpoint = f"127.0.0.1:{self.grpc_port}"
        self.proc: subprocess.Popen | None = None

    # ---- process ----------------------------------------------------------------------------
    def start(self) -> None:
        env = {**os.environ, "WECHATY_PUPPET_SERVICE_NO_TLS_INSECURE_SERVER": "true", "WECHATY_LOG": "warn"}
        with open(self.server_log, "ab") as log:
            self.proc = subprocess.Popen(
                ["node", str(MOCK), str(self.grpc_port), str(self.control_port), TOKEN, str(self.sent_log)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        until(self._healthy, 30, f"the mock puppet server to start (log: {self.server_log})")

    def _healthy(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"mock server exited with {self.proc.returncode}:\n{self.server_log.read_text()}")
        try:
            self._request("GET", "health")
            return True
        except (OSError, urllib.error.URLError):
            return False

    def kill(self) -> None:
        """A crash: no goodbye to the bot."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    # ---- control ----------------------------------------------------------------------------
    def _request(self, method: str, name: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"http://127.0.0.1:{self.control_port}/{name}", data=data, method=method,
                                     headers={"content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            return json.loads(resp.read())

    def say(self, sender: str, text: str, room: str | None = None, mentions: tuple[str, ...] = ()) -> str:
        return self._request("POST", "say", {"from": sender, "room": room, "text": text,
                                             "mentions": list(mentions)})["id"]

    def image(self, sender: str, room: str | None = None, name: str = "photo.png") -> str:
        return self._request("POST", "image", {"from": sender, "room": room, "name": name})["id"]

    def file(self, sender: str, name: str, content: str, room: str | None = None) -> str:
        return self._request("POST", "file", {"from": sender, "room": room, "name": name, "content": content})["id"]

    def record(self, sender: str, xml: str, room: str | None = None) -> str:
        return self._request("POST", "record", {"from": sender, "room": room, "xml": xml})["id"]

    def sent(self) -> list[dict]:
        """Everything the bot has sent, in order, across server restarts."""
        if not self.sent_log.exists():
            return []
        lines = self.sent_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip().endswith("}")]

    def sent_to(self, room: str | None = None, to: str | None = None, containing: str = "") -> list[dict]:
        return [m for m in self.sent() if (room is None or m["room"] == room) and (to is None or m["to"] == to)
                and containing in m["text"]]
