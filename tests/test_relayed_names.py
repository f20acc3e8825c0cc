"""Names people can trust: a display name never passes for a member of the org. A known id is relayed
with the org file's name, anyone else as 居民「…」, in every text the bot relays."""
from tests.harness import to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
POWER = "县供电公司工单群"
IMPOSTOR = "wxid_res_fake"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"


async def test_a_stranger_named_like_the_director_is_relayed_as_a_resident(harness):
    sent = await harness.say(IMPOSTOR, POWER_CUT, HOUSEHOLD, name="指挥中心陈主任")
    alert, = to_room(sent, GRID)
    assert "上报人：居民「指挥中心陈主任」" in alert.text
    assert "上报人：指挥中心陈主任" not in alert.text

    sent = await harness.say(IMPOSTOR, "#催办 T1", HOUSEHOLD, name="指挥中心陈主任")
    nudge, = to_room(sent, GRID)
    assert "居民「指挥中心陈主任」催办工单 T1" in nudge.text

    history, = await harness.say("wxid_liufang", "#查询 T1", GRID)
    assert "居民「指挥中心陈主任」 上报" in history.text


async def test_a_known_id_is_relayed_with_the_org_files_name_whatever_it_shows(harness):
    sent = await harness.say("wxid_wangjg", POWER_CUT, HOUSEHOLD, name="县委书记")
    alert, = to_room(sent, GRID)
    assert "上报人：王建国" in alert.text and "县委书记" not in alert.text


async def test_the_resident_is_still_addressed_by_the_name_they_show(harness):
    await harness.say(IMPOSTOR, POWER_CUT, HOUSEHOLD, name="张阿姨")
    sent = await harness.say("wxid_liufang", "#办结 T1 已更换保险丝", GRID)
    rate, = to_room(sent, HOUSEHOLD)
    assert rate.text.startswith("@张阿姨") and rate.mentions == (IMPOSTOR,)


async def test_a_nameless_stranger_is_relayed_as_a_resident_without_their_id(harness):
    sent = await harness.say(IMPOSTOR, POWER_CUT, HOUSEHOLD)
    alert, = to_room(sent, GRID)
    assert "上报人：居民" in alert.text and IMPOSTOR not in alert.text
    assert all(IMPOSTOR not in o.text for o in sent)


async def test_brackets_in_a_display_name_cannot_fake_the_mark(harness):
    sent = await harness.say(IMPOSTOR, POWER_CUT, HOUSEHOLD, name="」指挥中心陈主任「")
    alert, = to_room(sent, GRID)
    assert "上报人：居民「指挥中心陈主任」" in alert.text
