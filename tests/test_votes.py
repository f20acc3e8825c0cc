"""议事 votes (SPEC §5.2) as people use them: opened in a group, voted in that group, the tally on
request, and the result posted to the group once at the deadline — after a restart too, and not in
quiet hours."""
import json

from bot.cli import main
from tests.harness import ORG_SMALL, Harness, at, to_room

BUILDING = "幸福小区5栋楼栋群"
OTHER_BUILDING = "幸福小区6栋楼栋群"
GRID = "城南社区第3网格群"
WORKER = "wxid_liufang"


async def test_a_grid_worker_opens_a_vote_and_each_resident_has_one_vote(harness):
    opened, = await harness.say(WORKER, "#议事 5栋加装电梯 选项：同意/不同意/弃权 截止明天18点", BUILDING)
    assert opened.room_topic == BUILDING
    assert opened.text.startswith("【议事 Y1】5栋加装电梯")
    assert "选项：同意 / 不同意 / 弃权" in opened.text and "截止：11月26日 18:00" in opened.text
    assert "#投票 Y1 同意" in opened.text

    first, = await harness.say("wxid_res_a", "#投票 Y1 同意", BUILDING, name="张阿姨")
    assert first.text == "已记录居民「张阿姨」对议事 Y1 的投票：同意（已有 1 人投票）。"
    await harness.say("wxid_res_b", "#投票 y1 不同意", BUILDING, name="李师傅")
    changed, = await harness.say("wxid_res_a", "#投票 Y1 弃权", BUILDING, name="张阿姨")
    assert "由“同意”改为“弃权”" in changed.text and "已有 2 人投票" in changed.text
    again, = await harness.say("wxid_res_a", "#投票 Y1：弃权", BUILDING, name="张阿姨")
    assert "不用重复投票" in again.text

    tally, = await harness.say("wxid_res_c", "#议事结果", BUILDING)
    lines = tally.text.splitlines()
    assert lines[0] == "【议事 Y1｜进行中】5栋加装电梯"
    assert lines[1:4] == ["同意：0票（0%）", "不同意：1票（50%）", "弃权：1票（50%）"]
    assert lines[4] == "共 2 人投票，11月26日 18:00 截止。"


async def test_options_default_to_agree_or_not_and_the_deadline_to_48_hours(harness):
    await harness.say(WORKER, "#议事 周末清理楼道杂物", BUILDING)
    second, = await harness.say("wxid_wangjg", "#议事 中心户轮值表", "5栋王建国中心户邻里群")
    assert second.text.startswith("【议事 Y2】中心户轮值表")
    assert "选项：同意 / 不同意" in second.text
    # Opened at 09:02 on the 25th: 48 hours later.
    assert "截止：11月27日 09:02" in second.text
    by_number, = await harness.say("wxid_res_a", "#投票 Y2 2", "5栋王建国中心户邻里群", name="张阿姨")
    assert "投票：不同意" in by_number.text


async def test_the_result_is_posted_to_the_room_once_at_the_deadline(harness):
    await harness.say(WORKER, "#议事 楼下空地改停车位 截止今天15点", BUILDING)
    for voter, choice in (("wxid_res_a", "同意"), ("wxid_res_b", "同意"), ("wxid_res_c", "不同意")):
        await harness.say(voter, f"#投票 Y1 {choice}", BUILDING)

    before = await harness.tick(at(2026, 11, 25, 14, 59))
    assert not [o for o in before if "结果" in o.text]
    sent = await harness.tick(at(2026, 11, 25, 15, 0))
    result, = to_room(sent, BUILDING)
    assert result.text.splitlines() == [
        "【议事 Y1 结果】楼下空地改停车位", "投票已于 11月25日 15:00 截止。",
        "同意：2票（67%）", "不同意：1票（33%）", "共 3 人投票，结果：“同意”得票最多（2票）。"]
    assert not await harness.tick(at(2026, 11, 27, 9, 0))        # once

    late, = await harness.say("wxid_res_d", "#投票 Y1 同意", BUILDING)
    assert late.text == "议事 Y1 已于 11月25日 15:00 截止，不能再投票。发送 #议事结果 Y1 查看结果。"
    tally, = await harness.say("wxid_res_d", "#议事结果 Y1", BUILDING)
    assert "已截止" in tally.text and "共 3 人投票" in tally.text


async def test_a_result_due_while_the_bot_was_down_is_posted_once_after_restart(new_db, classifier):
    url = new_db()
    first = Harness(url, classifier, at(2026, 11, 25, 9, 0))
    await first.say(WORKER, "#议事 更换小区物业 截止今天12点", BUILDING)
    await first.say("wxid_res_a", "#投票 Y1 同意", BUILDING)
    first.bot.stop()

    # Back at 16:00: the result is due since 12:00; it goes out once, marked as late.
    second = Harness(url, classifier, at(2026, 11, 25, 16, 0))
    sent = await second.tick(at(2026, 11, 25, 16, 0))
    result, = to_room(sent, BUILDING)
    assert "原定 11月25日 12:00" in result.text and "【议事 Y1 结果】更换小区物业" in result.text
    second.bot.stop()

    third = Harness(url, classifier, at(2026, 11, 25, 17, 0))
    assert not to_room(await third.tick(at(2026, 11, 26, 9, 0)), BUILDING)


async def test_quiet_hours_hold_the_result_until_seven(harness):
    await harness.say(WORKER, "#议事 夜间施工是否延长 截止今晚23点", BUILDING)
    assert not to_room(await harness.tick(at(2026, 11, 26, 6, 59)), BUILDING)
    result, = to_room(await harness.tick(at(2026, 11, 26, 7, 0)), BUILDING)
    assert result.text.startswith("【议事 Y1 结果】夜间施工是否延长") and "无人投票" in result.text
    assert "补发" not in result.text


async def test_votes_for_unknown_options_from_other_rooms_or_after_the_deadline_change_nothing(harness):
    await harness.say(WORKER, "#议事 小区门禁升级 选项：刷卡/人脸 截止今天12点", BUILDING)
    unknown, = await harness.say("wxid_res_a", "#投票 Y1 指纹", BUILDING)
    assert unknown.text == "议事 Y1 没有“指纹”这个选项，可选：刷卡 / 人脸。用法：#投票 Y1 刷卡"
    missing, = await harness.say("wxid_res_a", "#投票 Y1", BUILDING)
    assert "请写上您选的选项" in missing.text
    elsewhere, = await harness.say("wxid_res_b", "#投票 Y1 刷卡", OTHER_BUILDING)
    assert elsewhere.text == "议事 Y1 是在「幸福小区5栋楼栋群」发起的，请在那个群里投票。"
    private, = await harness.say("wxid_res_b", "#投票 Y1 刷卡", None)
    assert private.to == "wxid_res_b" and "请在那个群里投票" in private.text
    nowhere, = await harness.say("wxid_res_b", "#投票 Y9 刷卡", BUILDING)
    assert nowhere.text == "未找到议事 Y9"
    bad_no, = await harness.say("wxid_res_b", "#投票 刷卡", BUILDING)
    assert "缺少议事编号" in bad_no.text
    await harness.say("wxid_res_c", "#投票 Y1 人脸", BUILDING)
    await harness.tick(at(2026, 11, 25, 12, 0))
    late, = await harness.say("wxid_res_a", "#投票 Y1 刷卡", BUILDING)
    assert "已于 11月25日 12:00 截止" in late.text

    tally, = await harness.say("wxid_res_a", "#议事结果 Y1", BUILDING)
    assert "刷卡：0票" in tally.text and "人脸：1票" in tally.text and "共 1 人投票" in tally.text
    # Another room's people do not see it; an admin above does, wherever they ask.
    hidden, = await harness.say("wxid_res_b", "#议事结果 Y1", OTHER_BUILDING)
    assert hidden.text == "议事 Y1 是在「幸福小区5栋楼栋群」发起的，请在那个群里查看结果。"
    shown, = await harness.say("wxid_cn_zhuren", "#议事结果 Y1", None)
    assert "【议事 Y1｜已截止】小区门禁升级" in shown.text
    none_here, = await harness.say("wxid_res_b", "#议事结果", OTHER_BUILDING)
    assert "这个群还没有发起过议事" in none_here.text


async def test_bad_vote_openings_get_a_reason_and_open_nothing(harness):
    cases = {
        "#议事": "缺少参数",
        "#议事 选项：同意/不同意": "请写上议题",
        "#议事 停车位 选项：同意": "请至少写两个选项",
        "#议事 停车位 选项：同意/同意": "选项不能重复",
        "#议事 停车位 截止昨天": "截止时间看不懂",
        "#议事 停车位 截止下周八": "截止时间看不懂",
    }
    for text, reason in cases.items():
        reply, = await harness.say(WORKER, text, BUILDING)
        assert reason in reply.text, (text, reply.text)
    refused, = await harness.say("wxid_res_a", "#议事 停车位", BUILDING)
    assert refused.text == "只有幸福小区5栋或上级的管理员、网格员或中心户可以在这个群发起议事。"
    household, = await harness.say("wxid_wangjg", "#议事 停车位", BUILDING)   # his node is below this room
    assert household.text == refused.text
    private, = await harness.say(WORKER, "#议事 停车位", None)
    assert private.text == "请在群里发起议事，投票在发起的群里进行。"
    department, = await harness.say("wxid_chen_zr", "#议事 停车位", "县供电公司工单群")
    assert department.text == "议事请在网格、楼栋、中心户等组织架构里的群发起，这个群不在其中。"
    opened, = await harness.say(WORKER, "#议事 停车位 截止周五18点 选项：赞成/反对", BUILDING)
    assert opened.text.startswith("【议事 Y1】停车位")          # nothing before took a number
    assert "选项：赞成 / 反对" in opened.text and "截止：11月27日 18:00" in opened.text


def test_votes_through_replay(new_db, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GRIDBOT_CACHE_DIR", str(tmp_path / "cache"))
    lines = [
        {"at": "2026-11-25T09:00:00+08:00", "room": BUILDING, "from": WORKER, "text": "#议事 加装充电桩 截止今天18点"},
        {"at": "2026-11-25T09:05:00+08:00", "room": BUILDING, "from": "wxid_res_a", "text": "#投票 Y1 同意"},
        {"at": "2026-11-25T09:06:00+08:00", "room": BUILDING, "from": "wxid_res_b", "text": "#投票 Y1 同意"},
        {"at": "2026-11-25T09:07:00+08:00", "room": BUILDING, "from": "wxid_res_b", "text": "#投票 Y1 不同意"},
        {"at": "2026-11-26T09:00:00+08:00", "tick": True},
    ]
    scenario = tmp_path / "votes.jsonl"
    scenario.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines), encoding="utf-8")
    db = new_db("replay")
    for run in range(2):          # a second run on the same database handles nothing twice
        assert main(["replay", str(scenario), "--org", str(ORG_SMALL), "--db", db]) == 0
        out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
        results = [o for o in out if o["text"].startswith("【议事 Y1 结果】")]
        if run == 0:
            assert out[0]["text"].startswith("【议事 Y1】加装充电桩")
            result, = results
            assert result["at"] == "2026-11-25T18:00:00+08:00" and result["room"] == BUILDING
            assert "同意：1票（50%）" in result["text"] and "平票" in result["text"]
        else:
            assert out == []
