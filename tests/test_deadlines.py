"""Deadlines that act (SPEC §3/§4): reminders, escalation one level at a time, working days,
quiet hours, digests — on a virtual clock across days, weekends, holidays and the year change."""
from datetime import datetime, timedelta

import pytest

from tests.harness import at, Harness, ORG_SMALL, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
TOWN = "泉江城市社区党工委工作群"
COUNTY = "遂川县红网格指挥中心"
RESIDENT = "wxid_res_zhang"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"


def timed(sent):
    """Deadline reminders and escalations only (digests are tested on their own)."""
    return [o for o in sent if "⏰" in o.text or "逐级转报" in o.text]


async def test_normal_ticket_reminds_and_escalates_up_to_the_county(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))   # Wed 2026-11-25 09:00

    sent = await harness.tick(at(2026, 11, 25, 13, 0))
    remind, = to_room(sent, GRID)
    assert remind.mentions == ("wxid_liufang",) and "超过受理时限" in remind.text
    up1, = to_room(sent, COMMUNITY)
    assert up1.mentions == ("wxid_cn_zhuren",) and "T1" in up1.text and "供电" in up1.text
    assert "网格员刘芳" in up1.text and "超期未受理" in up1.text
    assert harness.ticket("T1")["escalation_level"] == 1

    # Nothing more until 24 h before the resolve deadline (Mon 30th 18:00 → Sun 29th 18:00).
    assert timed(await harness.tick(at(2026, 11, 29, 17, 59))) == []
    sent = await harness.tick(at(2026, 11, 29, 18, 0))
    pre, = timed(sent)
    assert pre.room_topic == GRID and pre.mentions == ("wxid_liufang",)

    sent = await harness.tick(at(2026, 11, 30, 18, 0))
    up2, = timed(to_room(sent, TOWN))
    assert up2.mentions == ("wxid_qj_shuji",) and "超期未办结" in up2.text
    # The next working day, the county; then it stops.
    sent = await harness.tick(at(2026, 12, 1, 18, 0))
    up3, = timed(to_room(sent, COUNTY))
    assert up3.mentions == ("wxid_chen_zr",) and "已超期1天" in up3.text
    assert harness.ticket("T1")["escalation_level"] == 3
    sent = await harness.tick(at(2026, 12, 10, 12, 0))
    assert timed(sent) == []


async def test_accepting_and_resolving_stop_reminders(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    await harness.say("wxid_liufang", "#受理 T1", GRID, after=timedelta(hours=1))
    sent = await harness.tick(at(2026, 11, 29, 12, 0))
    assert timed(sent) == []
    await harness.say("wxid_liufang", "#办结 T1 已恢复供电", GRID)
    sent = await harness.tick(at(2026, 12, 5, 12, 0))
    assert timed(sent) == []
    assert harness.ticket("T1")["escalation_level"] == 0


async def test_urgent_ticket_escalates_every_two_hours(harness):
    await harness.say(RESIDENT, "5栋楼下着火了，浓烟很大，快来人", HOUSEHOLD, after=timedelta(0))
    sent = timed(await harness.tick(at(2026, 11, 25, 9, 10)))
    assert [o.room_topic for o in sent] == [GRID, COMMUNITY]
    sent = timed(await harness.tick(at(2026, 11, 25, 10, 30)))
    assert [o.room_topic for o in sent] == [GRID] and "到期" in sent[0].text
    sent = timed(await harness.tick(at(2026, 11, 25, 12, 59)))
    assert [o.room_topic for o in sent] == [TOWN]          # at 11:00, the resolve deadline
    sent = timed(await harness.tick(at(2026, 11, 25, 13, 0)))
    assert [o.room_topic for o in sent] == [COUNTY]        # two hours later
    assert timed(await harness.tick(at(2026, 11, 26, 13, 0))) == []
    assert harness.ticket("T1")["escalation_level"] == 3


async def test_quiet_hours_hold_normal_reminders_not_urgent_ones(tmp_path, new_db, classifier):
    h = Harness(new_db("q"), classifier, at(2026, 11, 25, 20, 0))
    await h.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))         # accept by 00:00
    sent = await h.tick(at(2026, 11, 26, 6, 59))
    assert not to_room(sent, GRID)
    before = len(h.transport.sent)
    await h.tick(at(2026, 11, 26, 7, 0))
    held = h.transport.sent[before:]
    assert to_room(held, GRID) and "补发" not in to_room(held, GRID)[0].text

    await h.say(RESIDENT, "5栋楼下着火了，浓烟很大，快来人", HOUSEHOLD, after=timedelta(hours=16))  # 23:00
    sent = await h.tick(at(2026, 11, 26, 23, 10))
    assert [o for o in to_room(sent, GRID) if "T2" in o.text and "超过受理时限" in o.text]


@pytest.mark.parametrize("opened, resolve_by", [
    (at(2026, 9, 30, 10, 0), at(2026, 10, 10, 18, 0)),    # National Day, then the adjusted Saturday
    (at(2026, 11, 27, 10, 0), at(2026, 12, 2, 18, 0)),    # Friday: Mon, Tue, Wed
    (at(2026, 12, 30, 10, 0), at(2027, 1, 5, 18, 0)),     # year change, 2027-01-01 from the org file
])
async def test_working_day_deadlines(tmp_path, new_db, classifier, opened, resolve_by):
    org = tmp_path / "org.yaml"
    org.write_text(ORG_SMALL.read_text(encoding="utf-8").replace(
        "timezone: Asia/Shanghai", "timezone: Asia/Shanghai\nholidays: [2027-01-01]"), encoding="utf-8")
    h = Harness(new_db("wd"), classifier, opened, org=org)
    await h.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    assert datetime.fromisoformat(h.ticket("T1")["resolve_by"]) == resolve_by


async def test_year_change_without_org_holidays_falls_back_to_weekdays(tmp_path, new_db, classifier):
    h = Harness(new_db("y"), classifier, at(2026, 12, 30, 10, 0))
    await h.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    # 12-31, 2027-01-01 (a Friday; chinese-calendar has no 2027 data), 01-04.
    assert datetime.fromisoformat(h.ticket("T1")["resolve_by"]) == at(2027, 1, 4, 18, 0)
    sent = await h.tick(at(2027, 1, 6, 18, 0))
    assert [o.room_topic for o in timed(sent) if "逐级转报" in o.text] == [COMMUNITY, TOWN, COUNTY]


async def test_sla_override_from_org_file(tmp_path, new_db, classifier):
    org = tmp_path / "org.yaml"
    org.write_text(ORG_SMALL.read_text(encoding="utf-8").replace(
        "timezone: Asia/Shanghai",
        "timezone: Asia/Shanghai\nsla: {urgent: {accept: 5m, resolve: 1h}, normal: {accept: 2h, resolve: 1wd}}"),
        encoding="utf-8")
    h = Harness(new_db("s"), classifier, at(2026, 11, 25, 9, 0), org=org)
    await h.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    t = h.ticket("T1")
    assert datetime.fromisoformat(t["accept_by"]) == at(2026, 11, 25, 11, 0)
    assert datetime.fromisoformat(t["resolve_by"]) == at(2026, 11, 26, 18, 0)


async def test_daily_and_weekly_digests(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    await harness.say("wxid_liufang", "#受理 T1", GRID, after=timedelta(minutes=5))
    await harness.say(RESIDENT, "楼下的井盖翻了，晚上看不见容易摔", HOUSEHOLD)
    await harness.say("wxid_liufang", "#办结 T2 已盖好", GRID)
    sent = await harness.tick(at(2026, 11, 26, 8, 30))
    daily, = [o for o in to_room(sent, GRID) if "每日工单提醒" in o.text]
    assert "T1" in daily.text and "T2" not in daily.text
    assert not [o for o in sent if "每日工单提醒" in o.text and o.room_topic != GRID]
    sent = await harness.tick(at(2026, 11, 30, 9, 0))                         # Monday
    weekly = [o for o in sent if "每周清单" in o.text]
    # Only the rooms above the grid where something happened: the rural town and village hear nothing.
    assert {o.room_topic for o in weekly} == {COMMUNITY, TOWN, COUNTY}
    county, = [o for o in weekly if o.room_topic == COUNTY]
    assert "【问题清单】" in county.text and "T1" in county.text and "【解决清单】" in county.text
    assert "T2" in county.text.split("【解决清单】")[1]
    # Each morning once, in the grid rooms that have open tickets.
    sent = await harness.tick(at(2026, 12, 3, 12, 0))
    assert [o.room_topic for o in sent if "每日工单提醒" in o.text] == [GRID] * 3     # 12-01 … 12-03


async def test_digest_missed_during_downtime_is_sent_once_and_marked_late(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    await harness.tick(at(2026, 11, 25, 10, 0))
    harness.clock.advance_to(at(2026, 11, 28, 12, 0))          # down for three days
    sent = await harness.tick(harness.clock.now())
    daily, = [o for o in sent if "每日工单提醒" in o.text]
    assert "补发" in daily.text and "11月28日 08:30" in daily.text


async def test_reminder_due_while_stopped_is_sent_once_marked_late(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    harness.clock.advance_to(at(2026, 11, 25, 15, 0))         # the bot was down from before 13:00
    sent = await harness.tick(harness.clock.now())
    remind, = to_room(sent, GRID)
    assert "补发" in remind.text and "13:00" in remind.text
    assert [o for o in await harness.tick(at(2026, 11, 25, 16, 0)) if "超过受理时限" in o.text] == []


class DiesAfterSending:
    """A transport whose process dies right after a message has gone out."""

    def __init__(self, inner) -> None:
        self.inner = inner

    async def send(self, out):
        await self.inner.send(out)
        raise SystemExit("killed")

    async def start(self, dispatch):
        pass

    async def stop(self):
        pass


async def test_never_sent_twice_when_the_process_dies_after_sending(tmp_path, new_db, classifier):
    db = new_db("crash")
    first = Harness(db, classifier, at(2026, 11, 25, 9, 0))
    await first.say(RESIDENT, POWER_CUT, HOUSEHOLD, after=timedelta(0))
    first.bot.delivery.transport = DiesAfterSending(first.transport)
    with pytest.raises(SystemExit):
        await first.tick(at(2026, 11, 25, 13, 0))
    sent_before_crash = [o for o in first.transport.sent if "超过受理时限" in o.text]
    assert len(sent_before_crash) == 1

    second = Harness(db, classifier, at(2026, 11, 25, 13, 1))          # restart on the same database
    sent = await second.tick(at(2026, 11, 25, 14, 0))
    assert not [o for o in sent if "超过受理时限" in o.text]           # not again
    assert to_room(sent, COMMUNITY)                                    # the rest of the work still goes out


async def test_housekeeping_forgets_message_ids_after_30_days(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, msg_id="old-1", after=timedelta(0))
    await harness.tick(at(2026, 12, 20, 12, 0))
    assert await harness.say(RESIDENT, "#查询", HOUSEHOLD, msg_id="old-1") == []    # still known: ignored
    await harness.tick(at(2026, 12, 27, 4, 0))                                         # > 30 days, after 03:17
    reply, = await harness.say(RESIDENT, "#查询", HOUSEHOLD, msg_id="old-1")
    assert "T1" in reply.text
