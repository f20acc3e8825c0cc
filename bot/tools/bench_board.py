"""Benchmark (not a test): the web board's overview page over 100,000 tickets on SQLite, served through
the real app (session cookie, read transaction, queries, template, SVG charts), beside baselines
measured in the same run on the same database: the login page (the app and a template, no data) and
one GROUP BY scan of the ticket table. The target is ≤ 300 ms for the county's overview.

    python -m bot.tools.bench_board [--tickets 100000] [--rooms 2000]
"""
from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert, text

from bot.board.app import create_app
from bot.clock import VirtualClock
from bot.domain.board_login import BoardLogins
from bot.domain.org import OrgDirectory
from bot.domain.orgfile import parse_org
from bot.storage.db import make_engine, session
from bot.storage.models import Ticket
from bot.tools.bench import DEPARTMENTS, org_yaml

TARGET_MS = 300


def fill(engine, tickets: int, now: datetime) -> None:
    with session(engine) as s:
        node_ids = [n for (n,) in s.execute(text("SELECT id FROM node WHERE level = 'grid'"))]
        rng = random.Random(7)
        rows = []
        for i in range(tickets):
            created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
            status = rng.choice(("open", "accepted", "resolved", "closed", "closed"))
            done = created + timedelta(hours=rng.randrange(1, 120)) if status in ("resolved", "closed") else None
            rows.append(dict(no=f"T{i + 1}", status=status, department=rng.choice(DEPARTMENTS),
                             urgency=rng.choice(("normal",) * 9 + ("urgent",)), node_id=rng.choice(node_ids),
                             reporter_id=f"wxid_r{i % 5000}", text="基准", assignee_id=f"wxid_g{i % 300}",
                             created_at=created, accept_by=created + timedelta(hours=4),
                             resolve_by=created + timedelta(days=3), resolved_at=done,
                             rating=rng.choice((None, "满意", "基本满意", "不满意")) if done else None))
        for start in range(0, len(rows), 10_000):
            s.execute(insert(Ticket), rows[start:start + 10_000])
        s.commit()
        s.execute(text("ANALYZE"))


async def timed(call, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        best = min(best, time.perf_counter() - start)
    return best


async def run(tickets: int, rooms: int) -> None:
    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    clock = VirtualClock(now)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with session(engine) as s:
            OrgDirectory(s).import_spec(parse_org(org_yaml(rooms)), now)
            s.commit()
        fill(engine, tickets, now)
        with session(engine) as s:
            code, _ = BoardLogins(s, clock, OrgDirectory(s)).issue("wxid_admin")
            s.commit()
            town = s.execute(text("SELECT id FROM node WHERE level = 'town' LIMIT 1")).scalar()
        app = create_app(engine, clock)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as c:
            assert (await c.post("/login", data={"contact_id": "wxid_admin", "code": code})).status_code == 303

            async def get(path: str) -> None:
                r = await c.get(path)
                assert r.status_code == 200, (path, r.status_code)

            county = await timed(lambda: get("/"))
            one_town = await timed(lambda: get(f"/?node={town}"))
            summary = await timed(lambda: get("/api/summary"))
            login_page = await timed(lambda: get("/login"))

        def scan() -> None:
            with session(engine) as s:
                s.execute(text("SELECT status, count(*) FROM ticket GROUP BY status")).all()

        async def scan_async() -> None:
            scan()

        base_scan = await timed(scan_async)
    verdict = "within" if county * 1000 <= TARGET_MS else "OVER"
    print(f"board overview over {tickets} tickets: county {county * 1000:.0f} ms ({verdict} the {TARGET_MS} ms target), "
          f"one town {one_town * 1000:.0f} ms, /api/summary {summary * 1000:.0f} ms "
          f"(baselines: the login page {login_page * 1000:.1f} ms, one GROUP BY scan of the ticket table "
          f"{base_scan * 1000:.0f} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rooms", type=int, default=2_000)
    args = parser.parse_args()
    asyncio.run(run(args.tickets, args.rooms))


if __name__ == "__main__":
    main()
