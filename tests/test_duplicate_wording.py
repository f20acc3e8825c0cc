"""The same problem at the same place is one ticket whatever the wording; a forwarded chat record
about one problem is one ticket; things counted are no places (那几盏路灯)."""
from tests.harness import to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
OTHER_HOUSEHOLD = "5栋孙丽中心户邻里群"
GRID = "城南社区第3网格群"


async def test_a_neighbour_saying_it_in_other_words_joins_the_first_ticket(harness):
    for first, second in (("5栋从早上开始就没电了，冰箱都停了", "我们5栋也停电了"),
                          ("5栋停电了，什么时候来电", "我们5栋整栋楼都黑了"),
                          ("5栋又断电了", "5栋这边跳闸了，一直没电")):
        before = len(harness.tickets())
        await harness.say("wxid_res_a", first, HOUSEHOLD)
        reply, = await harness.say("wxid_res_b", second, OTHER_HOUSEHOLD)
        assert len(harness.tickets()) == before + 1, (first, second)
        no = harness.tickets()[-1]["no"]
        assert f"工单 {no}" in reply.text and "关注人" in reply.text
        assert harness.ticket(no)["followers"] == ["wxid_res_b"]
        await harness.say("wxid_liufang", f"#办结 {no} 已恢复供电", GRID)


async def test_another_problem_or_another_building_is_another_ticket(harness):
    await harness.say("wxid_res_a", "5栋停电了，整栋楼都没电", HOUSEHOLD)
    await harness.say("wxid_res_b", "5栋楼道的电线老化冒火花了", HOUSEHOLD)
    await harness.say("wxid_res_c", "8栋也停电了", HOUSEHOLD)
    assert [t["no"] for t in harness.tickets()] == ["T1", "T2", "T3"]


async def test_two_reports_of_the_same_lamps_join(harness):
    await harness.say("wxid_res_a", "那几盏路灯晚上不亮", HOUSEHOLD)
    reply, = await harness.say("wxid_res_b", "小区门口路灯又坏了，晚上黑乎乎的", OTHER_HOUSEHOLD)
    assert "工单 T1" in reply.text and len(harness.tickets()) == 1
    detail, = await harness.say("wxid_liufang", "#查询 T1", GRID)
    assert "地点：遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区5栋/王建国中心户\n" in detail.text


async def test_a_forwarded_record_about_one_manhole_cover_is_one_ticket(harness):
    items = (("邻居老周", "楼下的井盖翻了，晚上看不见容易摔"), ("邻居小李", "有人掉进井里了，快叫人"))
    sent = await harness.say("wxid_wangjg", "", HOUSEHOLD, kind="chat_history", items=items)
    ticket, = harness.tickets()
    assert "邻居老周" in ticket["text"] and "邻居小李" in ticket["text"]
    assert ticket["urgency"] == "urgent" and ticket["department"] == "emergency"
    assert len(to_room(sent, GRID)) == 1


async def test_a_forwarded_record_about_two_problems_is_two_tickets(harness):
    items = (("邻居老周", "楼下的井盖翻了，晚上看不见容易摔"), ("邻居小李", "5栋2单元从早上开始就没电了"))
    await harness.say("wxid_wangjg", "", HOUSEHOLD, kind="chat_history", items=items)
    assert sorted(t["department"] for t in harness.tickets()) == ["power", "urban_mgmt"]
