"""Benchmark (not a test): planning a notice to ~2,000 rooms, and #统计 over 100,000 tickets, on
SQLite. Each figure is printed beside a baseline measured in the same run on the same database.

    python -m bot.tools.bench [--tickets 100000] [--rooms 2000]
"""
from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text

from bot.clock import VirtualClock
from bot.domain import stats
from bot.domain.notices import NoticeRequest, NoticeService
from bot.domain.org import OrgDirectory, Room
from bot.domain.tickets import Actor
from bot.domain.orgfile import parse_org
from bot.outbox import Outbox
from bot.storage.db import make_engine, session
from bot.storage.models import Node, OutboxMessage, Ticket

DEPARTMENTS = ("water", "power", "urban_mgmt", "police", "fire", "traffic", "justice", "housing")


def org_yaml(rooms: int) -> str:
    """A county with 10 towns × 10 communities × N grids, every node with a room."""
    grids = max(1, (rooms - 110) // 100)
    lines = ["county: 基准县", "nodes:", "  - name: 基准县", "    level: county", "    room: 县指挥中心",
             "    members: [{id: wxid_admin, name: 主任, role: admin}]", "    children:"]
    for t in range(10):
        lines += [f"      - name: 镇{t}", "        level: town", f"        room: 镇{t}群", "        children:"]
        for c in range(10):
            lines += [f"          - name: 社区{t}_{c}", "            level: community", f"            room: 社区{t}_{c}群",
                      "            children:"]
            for g in range(grids):
                lines += [f"              - name: 网格{t}_{c}_{g}", "                level: grid",
                          f"                room: 网格{t}_{c}_{g}群",
                          f"                members: [{{id: wxid_g{t}_{c}_{g}, name: 网格员{t}_{c}_{g}, role: grid_worker}}]"]
    return "\n".join(lines) + "\n"


def timed(fn, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--rooms", type=int, default=2_000)
    args = parser.parse_args()
    now = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
    clock = VirtualClock(now)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        with session(engine) as s:
            OrgDirectory(s).import_spec(parse_org(org_yaml(args.rooms)), now)
            s.commit()
            root = OrgDirectory(s).root()
            rooms = len(OrgDirectory(s).descendants(root))

        def plan_notice() -> None:
            with session(engine) as s:
                org = OrgDirectory(s)
                NoticeService(s, clock, org, Outbox(s, clock)).send(
                    NoticeRequest(None, "基准测试通知", None), Actor("wxid_admin", "主任"), Room(node=org.root()),
                    "县指挥中心", "县指挥中心")
                s.rollback()

        def baseline_rows() -> None:
            with session(engine) as s:
                s.add_all([OutboxMessage(created_at=now, not_before=now, text="基准测试通知", room_id=str(i))
                           for i in range(rooms)])
                s.flush()
                s.rollback()

        plan = timed(plan_notice)
        base = timed(baseline_rows)
        print(f"notice to {rooms} rooms: plan {plan * 1000:.0f} ms "
              f"(baseline: flushing {rooms} bare outbox rows {base * 1000:.0f} ms, ratio {plan / base:.1f}x)")

        with session(engine) as s:
            node_ids = [n for (n,) in s.execute(text("SELECT id FROM node WHERE level = 'grid'"))]
            rng = random.Random(7)
            rows = []
            for i in range(args.tickets):
                created = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
                status = rng.choice(("open", "accepted", "resolved", "closed", "closed"))
                done = created + timedelta(hours=rng.randrange(1, 120)) if status in ("resolved", "closed") else None
                rows.append(dict(no=f"T{i + 1}", status=status, department=rng.choice(DEPARTMENTS), urgency="normal",
                                 node_id=rng.choice(node_ids), reporter_id=f"wxid_r{i % 5000}", text="基准",
                                 assignee_id=f"wxid_g{i % 300}", created_at=created,
                                 accept_by=created + timedelta(hours=4), resolve_by=created + timedelta(days=3),
                                 resolved_at=done, resolved_by_id=f"wxid_g{i % 300}" if done else None,
                                 rating=rng.choice((None, "满意", "基本满意", "不满意")) if done else None))
            for start in range(0, len(rows), 10_000):
                s.execute(insert(Ticket), rows[start:start + 10_000])
            s.commit()
            s.execute(text("ANALYZE"))
            org = OrgDirectory(s)
            county = org.root()
            community = s.execute(text("SELECT id FROM node WHERE level = 'community' LIMIT 1")).scalar()
            community = s.get(Node, community)
            since = stats.period_start("本月", now, org.settings.tz)
            scan = timed(lambda: s.execute(text("SELECT status, count(*) FROM ticket GROUP BY status")).all())
            whole = timed(lambda: stats.summary(s, county, since, now))
            part = timed(lambda: stats.summary(s, community, since, now))
            rank = timed(lambda: stats.ranking(s, county, since))
        print(f"#统计 over {args.tickets} tickets: county {whole * 1000:.0f} ms, one community {part * 1000:.0f} ms, "
              f"#排行 county {rank * 1000:.0f} ms (baseline: one GROUP BY scan of the ticket table {scan * 1000:.0f} ms)")


if __name__ == "__main__":
    main()
