"""#提醒, #催办 and duplicate reports, through chat; and a reminder due between two replay runs."""
import json
from datetime import timedelta

from bot.cli import main
from tests.harness import at, ORG_SMALL, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
RESIDENT = "wxid_res_zhang"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"


async def test_reminder_goes_out_once_at_its_time(harness):
    reply, = await harness.say("wxid_liufang", "#提醒 30分钟后 把防汛物资清单交到社区", GRID)
    assert reply.text.startswith("好的，11月25日 09:31提醒：把防汛物资清单交到社区")
    assert await harness.tick(at(2026, 11, 25, 9, 30)) == []
    sent = await harness.tick(at(2026, 11, 25, 9, 31))
    assert [(o.room_topic, o.text) for o in sent] == [(GRID, "⏰提醒（网格员刘芳设置）：把防汛物资清单交到社区")]
    later = await harness.tick(at(2026, 11, 26, 12, 0))
    assert [o for o in later if o.text.startswith("⏰提醒")] == []


async def test_reminder_at_night_goes_out_at_the_time_asked_for(harness):
    """Quiet hours hold back the bot's own messages, not a time a person chose."""
    reply, = await harness.say("wxid_liufang", "#提醒 今晚11点 夜间巡查", GRID, after=timedelta(hours=6))
    assert reply.text == "好的，11月25日 23:00提醒：夜间巡查"
    assert await harness.tick(at(2026, 11, 25, 22, 59)) == []
    sent = await harness.tick(at(2026, 11, 25, 23, 0))
    assert [(o.room_topic, o.text) for o in sent] == [(GRID, "⏰提醒（网格员刘芳设置）：夜间巡查")]


async def test_reminder_in_private_chat(harness):
    await harness.say("wxid_liufang", "#提醒 明天9点 入户走访", None)
    sent = await harness.tick(at(2026, 11, 26, 9, 0))
    assert [(o.to, o.room_topic) for o in sent if "入户走访" in o.text] == [("wxid_liufang", None)]


async def test_reminder_refusals(harness):
    cases = {
        "#提醒 昨天9点 开会": "过去",
        "#提醒 2月30日 开会": "2月30日",
        "#提醒 明天9点": "请写上提醒内容",
        "#提醒": "用法",
    }
    for text, expected in cases.items():
        reply, = await harness.say("wxid_liufang", text, GRID)
        assert expected in reply.text, (text, reply.text)
    reply, = await harness.say(RESIDENT, "#提醒 明天9点 开会", HOUSEHOLD)
    assert reply.text == "只有王建国中心户或上级的网格员及以上可以设置提醒。"
    await harness.tick(at(2026, 11, 27, 12, 0))
    assert [o for o in harness.transport.sent if o.text.startswith("⏰提醒")] == []


async def test_nudge_is_rate_limited(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD)
    sent = await harness.say(RESIDENT, "#催办 T1", HOUSEHOLD)
    nudge, = to_room(sent, GRID)
    assert nudge.mentions == ("wxid_liufang",) and "催办" in nudge.text
    reply, = await harness.say(RESIDENT, "#催办 T1", HOUSEHOLD, after=timedelta(minutes=30))
    assert "1小时内只能催办一次" in reply.text
    reply, = await harness.say("wxid_res_li", "#催办 T1", HOUSEHOLD)
    assert reply.text == "只有上报人、关注人或管理员可以催办工单 T1。"
    sent = await harness.say(RESIDENT, "#催办 T1", HOUSEHOLD, after=timedelta(minutes=31))
    assert to_room(sent, GRID)


async def test_duplicate_report_joins_the_open_ticket(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, name="张阿姨")
    sent = await harness.say("wxid_res_li", "我们5栋2单元也停电了，什么时候来电", HOUSEHOLD, name="李叔")
    reply, = sent
    assert "工单 T1" in reply.text and "关注人" in reply.text
    assert harness.ticket("T1")["followers"] == ["wxid_res_li"]
    # A follower may nudge; the same person again is told it is known.
    reply, = await harness.say("wxid_res_li", "5栋2单元还是没电啊", HOUSEHOLD)
    assert "您已反映过" in reply.text
    # Another department is another ticket.
    await harness.say("wxid_res_li", "楼下的井盖翻了，晚上看不见容易摔", HOUSEHOLD)
    assert [t["no"] for t in harness.tickets()] == ["T1", "T2"]
    # After 24 h a new report opens a new ticket.
    await harness.say("wxid_res_wu", POWER_CUT, HOUSEHOLD, after=timedelta(hours=25))
    assert [t["no"] for t in harness.tickets()] == ["T1", "T2", "T3"]


def test_reminder_due_between_two_replay_runs_arrives_once(tmp_path, new_db, capsys, monkeypatch):
    monkeypatch.setenv("GRIDBOT_CACHE_DIR", str(tmp_path / "cache"))
    db = new_db("two")
    first = tmp_path / "first.jsonl"
    first.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in [
        {"at": "2026-11-25T09:00:00+08:00", "room": GRID, "from": "wxid_liufang", "text": "#提醒 今天14点 去5栋看电表"},
        {"at": "2026-11-25T09:00:00+08:00", "room": HOUSEHOLD, "from": RESIDENT, "text": POWER_CUT},
        {"at": "2026-11-25T10:00:00+08:00", "tick": True},
    ]) + "\n", encoding="utf-8")
    second = tmp_path / "second.jsonl"
    second.write_text(json.dumps({"at": "2026-11-25T15:00:00+08:00", "tick": True}) + "\n", encoding="utf-8")

    def run(path) -> list[dict]:
        assert main(["replay", str(path), "--org", str(ORG_SMALL), "--db", db]) == 0
        return [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    out1 = run(first)
    assert not [o for o in out1 if "看电表" in o["text"] and o["text"].startswith("⏰")]
    out2 = run(second)
    reminder = [o for o in out2 if o["text"].startswith("⏰提醒")]
    assert [(o["at"], o["room"]) for o in reminder] == [("2026-11-25T14:00:00+08:00", GRID)]
    accept = [o for o in out2 if "超过受理时限" in o["text"]]
    assert [o["at"] for o in accept] == ["2026-11-25T13:00:00+08:00"]
    assert run(second) == []                                   # and never again


async def test_an_emergency_never_joins_an_ordinary_ticket(harness):
    await harness.say(RESIDENT, "5栋楼道里堆满了纸箱杂物，消防通道都堵了", HOUSEHOLD)
    assert harness.ticket("T1")["department"] == "fire" and harness.ticket("T1")["urgency"] == "normal"
    sent = await harness.say("wxid_res_li", "5栋楼道里的纸箱着火了，烟很大，快来人", HOUSEHOLD)
    assert harness.ticket("T2")["urgency"] == "urgent"
    assert to_room(sent, "遂川县红网格指挥中心")                       # the county hears of it at once


async def test_a_grid_worker_sets_reminders_in_their_grid_but_not_in_the_county_room(harness):
    """Roles reach their subtree (issue 13): 第4网格's worker has no say in the county's room."""
    reply, = await harness.say("wxid_chenmin", "#提醒 明天9点 交材料", "遂川县红网格指挥中心")
    assert reply.text == "只有遂川县或上级的网格员及以上可以设置提醒。"
    reply, = await harness.say("wxid_chenmin", "#提醒 明天9点 交材料", "城南社区第4网格群")
    assert reply.text.startswith("好的")
    reply, = await harness.say("wxid_chenmin", "#提醒 明天9点 交材料")        # 1:1: any worker
    assert reply.text.startswith("好的")
