"""Serving the board with uvicorn: alone (`gridbot board`) or beside a running bot in its event loop
(`gridbot run --board-port N`, `gridbot demo`), on a socket bound before start so the address shown
is the address served."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable

import uvicorn
from sqlalchemy.engine import Engine

from bot.board.app import create_app
from bot.clock import Clock

log = logging.getLogger("gridbot.board")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


def bind(host: str, port: int, *, fallback: bool = False) -> socket.socket:
    """A listening socket on host:port; with `fallback`, a free port when that one is taken (the demo)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        if not fallback:
            sock.close()
            raise
        sock.bind((host, 0))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def address(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """Inside the bot's loop the bot owns SIGINT/SIGTERM; uvicorn must not take them over."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


def server(engine: Engine, clock: Clock, *, on_change: Callable[[], Awaitable[None]] | None = None,
           embedded: bool = True) -> uvicorn.Server:
    app = create_app(engine, clock, on_change=on_change)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    return _Server(config) if embedded else uvicorn.Server(config)


async def serve_beside(srv: uvicorn.Server, sock: socket.socket) -> asyncio.Task:
    """Start serving in the current loop; returns the task (cancel it, or set should_exit, to stop)."""
    task = asyncio.create_task(srv.serve(sockets=[sock]))
    while not srv.started and not task.done():
        await asyncio.sleep(0.01)
    return task
