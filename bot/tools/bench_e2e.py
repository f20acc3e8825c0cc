"""Benchmark (not a test): reports processed per second end to end — replay processes reading chat
messages, classifying, opening tickets, queueing and delivering the messages — on SQLite and on
PostgreSQL, with 1, 2 and 3 processes sharing a PostgreSQL database and one on SQLite (which refuses
a second bot process on its file). The baseline, measured in the same run, is the start-up of one
process with an empty scenario; it is subtracted from each timing.

    python -m bot.tools.bench_e2e [--reports 300] [--pg postgresql+psycopg://root@127.0.0.1:5432/postgres]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot.config import BUNDLED_ORG

TEXTS = ["楼道里的水管爆了，水流得到处都是", "小区门口的路灯坏了好几天了，晚上黑乎乎的", "5栋2单元从早上开始就没电了",
         "村口的自来水管破了，水哗哗地往外冒", "门口有人占道经营摆摊，堵得走不了路", "楼下的井盖翻了，晚上看不见容易摔"]


def rooms() -> list[str]:
    import yaml
    found = []

    def walk(node):
        if node.get("room") and node["level"] in ("group", "household"):
            found.append(node["room"])
        for child in node.get("children") or []:
            walk(child)

    walk(yaml.safe_load(BUNDLED_ORG.read_text(encoding="utf-8"))["nodes"][0])
    return found


def scenario(path: Path, process: int, count: int, room_list: list[str]) -> Path:
    start = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    lines = [{"at": (start + timedelta(seconds=i * 10)).isoformat(), "room": room_list[(i + process) % len(room_list)],
              "from": f"wxid_b{process}_{i}", "text": f"{TEXTS[i % len(TEXTS)]}（{process}-{i}号）"}
             for i in range(count)]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    return path


def run_processes(db: str, files: list[Path], env: dict) -> float:
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "replay", str(f), "--db", db], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for f in files]
    for proc in procs:
        _, err = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"replay failed: {err}")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=300, help="reports per process")
    parser.add_argument("--pg", default="postgresql+psycopg://root@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    room_list = rooms()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {**os.environ, "GRIDBOT_CACHE_DIR": str(tmp / "cache")}
        empty = tmp / "empty.jsonl"
        empty.write_text("", encoding="utf-8")
        backends = {"sqlite": (lambda n: f"sqlite:///{tmp / f'bench{n}.db'}", (1,))}
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        created = []

        def pg(n):
            name = f"gridbot_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            created.append(name)
            return make_url(args.pg).set(database=name).render_as_string(hide_password=False)

        backends["postgresql"] = (pg, (1, 2, 3))
        try:
            for backend, (new_db, counts) in backends.items():
                for processes in counts:
                    db = new_db(processes)
                    subprocess.run([sys.executable, "-m", "bot", "org", "import", str(BUNDLED_ORG), "--db", db],
                                   env=env, check=True, capture_output=True)
                    baseline = run_processes(db, [empty], env)
                    files = [scenario(tmp / f"{backend}{processes}_{p}.jsonl", p, args.reports, room_list)
                             for p in range(processes)]
                    elapsed = run_processes(db, files, env)
                    total = args.reports * processes
                    work = max(elapsed - baseline, 1e-6)
                    print(f"{backend:10} {processes} process(es): {total} reports in {elapsed:.2f} s "
                          f"(start-up baseline {baseline:.2f} s) → {total / work:.0f} reports/s")
        finally:
            with admin.connect() as conn:
                for name in created:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
