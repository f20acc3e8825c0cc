"""Overdue is two things, named the same everywhere (SPEC §5.1): 超期未受理 (accept_by passed while open)
and 超期未办结 (resolve_by passed unresolved) — #统计, #清单, the digests and the export agree at the same
minute. Escalations and reminders due in one sweep for one room arrive as one list."""
from datetime import timedelta

from openpyxl import load_workbook

from tests.harness import Harness, at, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
RESIDENT = "wxid_res_zhang"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"
BURST_PIPE = "楼道里的水管爆了，水流得到处都是"
STREET_LAMP = "小区门口的路灯坏了好几天了，晚上黑乎乎的"
STALLS = "5栋门口有人占道经营摆摊，堵得走不了路"


def marks(text: str) -> dict[str, str]:
    """Each list line's ticket number and its overdue mark ("" when none)."""
    found = {}
    for line in text.splitlines():
        if line.startswith("· T"):
            no = line[2:].split("｜")[0]
            found[no] = line.split("⚠")[1] if "⚠" in line else ""
    return found


async def test_statistics_lists_and_export_agree_on_both_kinds_of_overdue_at_the_same_minute(
        new_db, classifier, tmp_path):
    h = Harness(new_db(), classifier, at(2026, 11, 25, 9, 0), export_dir=str(tmp_path / "exports"))
    await h.say(RESIDENT, BURST_PIPE, HOUSEHOLD, after=timedelta(0))         # T1 Wed, accepted: resolve by Mon 18:00
    await h.say("wxid_liufang", "#受理 T1", GRID)
    await h.say("wxid_res_b", STREET_LAMP, HOUSEHOLD)                        # T2 Wed, never accepted
    await h.say("wxid_res_c", POWER_CUT, HOUSEHOLD, after=timedelta(days=6))  # T3 Tue 12-01 09:03
    await h.say("wxid_res_d", STALLS, HOUSEHOLD, after=timedelta(hours=4, minutes=30))   # T4 13:33
    await h.tick(at(2026, 12, 1, 14, 0))

    stats, = await h.say("wxid_liufang", "#统计 本月", GRID, after=timedelta(0))
    lists, = await h.say("wxid_liufang", "#清单", GRID, after=timedelta(0))
    export, = await h.say("wxid_cn_zhuren", "#导出", COMMUNITY, after=timedelta(0))

    expected = {"T1": "超期未办结", "T2": "超期未受理、超期未办结", "T3": "超期未受理", "T4": ""}
    assert marks(lists.text.split("【解决清单】")[0]) == expected
    assert "超期未受理 2，超期未办结 2" in stats.text
    rows = list(load_workbook(export.file_path).active.iter_rows(values_only=True))
    column = rows[0].index("超期情况")
    assert {r[0]: r[column] for r in rows[1:]} == {**expected, "T4": "否"}
    # T2 was escalated for both reasons: the export no longer says 否 for it.
    assert h.ticket("T2")["escalation_level"] >= 2


async def test_the_daily_digest_names_the_kind_of_overdue(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))     # Wed 09:00, accept by 13:00
    sent = await harness.tick(at(2026, 11, 26, 8, 30))
    daily, = [o for o in to_room(sent, GRID) if "每日工单提醒" in o.text]
    assert marks(daily.text) == {"T1": "超期未受理"}


async def test_escalations_due_while_the_bot_was_down_reach_each_room_as_one_list(harness):
    for who, text in (("wxid_res_a", BURST_PIPE), ("wxid_res_b", STREET_LAMP), ("wxid_res_c", STALLS)):
        await harness.say(who, text, HOUSEHOLD, after=timedelta(minutes=10))      # accept by 13:10, 13:20, 13:30
    harness.clock.advance_to(at(2026, 11, 25, 15, 0))                            # down since 13:00
    sent = await harness.tick(harness.clock.now())

    escalation, = to_room(sent, COMMUNITY)
    late, head = escalation.text.splitlines()[:2]
    assert late == "（补发：原定 11月25日 13:10，机器人当时离线）" and head.startswith("【逐级转报｜共3件】")
    assert [line.split("工单 ")[1][:2] for line in escalation.text.splitlines() if line[:2] in ("1.", "2.", "3.")] \
        == ["T1", "T2", "T3"]
    assert escalation.text.count("超期未受理") == 3 and escalation.mentions == ("wxid_cn_zhuren",)
    assert escalation.text.endswith("请督办。") and escalation.text.count("请督办") == 1
    reminder, = to_room(sent, GRID)
    assert reminder.text.splitlines()[1] == "⏰工单提醒｜共3件：" and reminder.mentions == ("wxid_liufang",)
    assert all(f"#受理 {no}" in reminder.text for no in ("T1", "T2", "T3"))
    # Each ticket still records what was done: nothing is sent again.
    assert [t["escalation_level"] for t in harness.tickets()] == [1, 1, 1]
    assert to_room(await harness.tick(at(2026, 11, 25, 18, 0)), COMMUNITY) == []


async def test_escalations_falling_due_minutes_apart_by_day_stay_separate_messages(harness):
    await harness.say("wxid_res_a", BURST_PIPE, HOUSEHOLD, after=timedelta(0))
    await harness.say("wxid_res_b", STREET_LAMP, HOUSEHOLD, after=timedelta(minutes=10))
    sent = await harness.tick(at(2026, 11, 25, 14, 0))
    assert [o.text.split("】")[0] for o in to_room(sent, COMMUNITY)] == ["【逐级转报｜超期未受理"] * 2
