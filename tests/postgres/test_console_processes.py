"""Two live console bots on one PostgreSQL database, typing reports in the same second: message ids
are the de-duplication key, so neither may take the other's reports for ones it has seen."""
import json
import os
import subprocess
import sys

from tests.harness import ORG_SMALL

ROOMS = ["5栋王建国中心户邻里群", "5栋孙丽中心户邻里群", "幸福小区6栋楼栋群", "李春生中心户联系群"]
REPORTS = 30
# Both clocks start at the same daytime moment, so both bots stamp their messages in the same seconds.
DAYTIME = "2026-11-25T10:00:00+08:00"


def script(process: int) -> str:
    lines = []
    for i in range(REPORTS):
        lines += [f"/in {ROOMS[i % len(ROOMS)]}", f"#上报 进程{process}第{i}号问题"]
    return "\n".join(lines) + "\n"


def test_two_console_processes_reporting_in_the_same_second_all_get_tickets(pg_db, tmp_path):
    db = pg_db("console")
    env = {**os.environ, "GRIDBOT_CACHE_DIR": str(tmp_path / "cache")}
    assert subprocess.run([sys.executable, "-m", "bot", "org", "import", ORG_SMALL, "--db", db],
                          capture_output=True, env=env).returncode == 0
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "run", "--transport", "console", "--db", db,
                               "--send-interval", "0", "--start-at", DAYTIME],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env)
             for _ in range(2)]
    for p, proc in enumerate(procs):      # both get their whole input before either is waited for
        proc.stdin.write(script(p))
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=120) for proc in procs]
    for proc, (_, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    # Either process may deliver any message of the shared account: each acknowledgement once in all.
    assert sum(out.count("已登记工单") for out, _ in outputs) == 2 * REPORTS
    tickets = json.loads(subprocess.run([sys.executable, "-m", "bot", "tickets", "--db", db, "--json"],
                                        capture_output=True, text=True, env=env, check=True).stdout)
    assert sorted(t["text"] for t in tickets) == sorted(f"进程{p}第{i}号问题" for p in range(2) for i in range(REPORTS))
