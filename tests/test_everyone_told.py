"""Everyone involved hears about a change (SPEC §5.1), once each: the reporter and followers of
acceptance, resolution, decline, merge and cancellation; the grid room of changes made elsewhere; the
old department room of a #转派; the county room of an urgent ticket's acceptance and resolution. The
room the command was typed in gets its reply and nothing more; no room hears of one change twice."""
from collections import Counter

import pytest

from tests.harness import to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
HOUSEHOLD2 = "5栋孙丽中心户邻里群"
GRID = "城南社区第3网格群"
COUNTY = "遂川县红网格指挥中心"
POWER = "县供电公司工单群"
URBAN = "县城管局红网格工单群"
FIRE = "县消防救援大队工单群"
RESIDENT = "wxid_res_zhang"
NEIGHBOUR = "wxid_res_li"
LIUFANG = "wxid_liufang"
POWER_LIAISON = "wxid_power_he"
URBAN_LIAISON = "wxid_cg_liaison"
CHEN = "wxid_chen_zr"
POWER_CUT = "5栋2单元从早上开始就没电了，冰箱都停了"
POWER_CUT_AGAIN = "我们5栋也没电了，冰箱都停了"
STREET_LAMP = "小区门口的路灯坏了好几天了，晚上黑乎乎的"
FIRE_REPORT = "5栋楼下着火了，浓烟很大，快来人"


def places(sent) -> Counter:
    """How many messages each place got: a room's topic, or 'to:<contact>' for a 1:1 message."""
    return Counter(o.room_topic if o.to is None else f"to:{o.to}" for o in sent)


@pytest.fixture
async def followed(harness):
    """T1 reported in one household group; a neighbour in another group follows it."""
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, name="张阿姨")
    sent = await harness.say(NEIGHBOUR, POWER_CUT_AGAIN, HOUSEHOLD2, name="李大爷")
    assert "已把您加为关注人" in sent[0].text and harness.ticket("T1")["followers"] == [NEIGHBOUR]
    return harness


async def test_a_liaison_accepting_in_the_department_room_is_heard_by_reporter_follower_and_grid(followed):
    sent = await followed.say(POWER_LIAISON, "#受理 T1", POWER)
    assert places(sent) == Counter({HOUSEHOLD: 1, HOUSEHOLD2: 1, GRID: 1, POWER: 1})
    for room in (HOUSEHOLD, HOUSEHOLD2, GRID, POWER):
        assert "供电-何师傅已受理工单 T1" in to_room(sent, room)[0].text
    assert to_room(sent, HOUSEHOLD2)[0].mentions == (NEIGHBOUR,)


async def test_the_assignee_accepting_in_the_grid_room_tells_the_reporter_and_follower_only(followed):
    sent = await followed.say(LIUFANG, "#受理 T1", GRID)
    assert places(sent) == Counter({HOUSEHOLD: 1, HOUSEHOLD2: 1, GRID: 1})


async def test_resolution_asks_only_the_reporter_to_rate_and_tells_the_follower(followed):
    sent = await followed.say(POWER_LIAISON, "#办结 T1 已更换保险丝", POWER)
    assert places(sent) == Counter({HOUSEHOLD: 1, HOUSEHOLD2: 1, GRID: 1, POWER: 1})
    rate, = to_room(sent, HOUSEHOLD)
    assert rate.mentions == (RESIDENT,) and "#评价 T1" in rate.text
    follower, = to_room(sent, HOUSEHOLD2)
    assert "已更换保险丝" in follower.text and "#评价" not in follower.text
    assert "已更换保险丝" in to_room(sent, GRID)[0].text


async def test_decline_tells_the_reporter_why_and_the_follower_and_grid_room(followed):
    sent = await followed.say(POWER_LIAISON, "#不受理 T1 属于小区物业的线路，请联系物业", POWER)
    assert places(sent) == Counter({HOUSEHOLD: 1, HOUSEHOLD2: 1, GRID: 1, POWER: 1})
    for room in (HOUSEHOLD, HOUSEHOLD2, GRID):
        assert "请联系物业" in to_room(sent, room)[0].text
    assert to_room(sent, HOUSEHOLD)[0].mentions == (RESIDENT,)


async def test_a_reporters_cancellation_tells_the_grid_room_and_the_assignee(followed):
    sent = await followed.say(RESIDENT, "#撤销 T1", HOUSEHOLD, name="张阿姨")
    assert places(sent) == Counter({HOUSEHOLD: 1, HOUSEHOLD2: 1, GRID: 1})
    grid, = to_room(sent, GRID)
    assert grid.mentions == (LIUFANG,) and grid.text == "@网格员刘芳\u2005工单 T1 已由居民「张阿姨」撤销。"
    assert to_room(sent, HOUSEHOLD)[0].text == "工单 T1 已由居民「张阿姨」撤销。"


async def test_an_admin_cancelling_in_the_county_room_tells_the_reporter_there(followed):
    sent = await followed.say(CHEN, "#撤销 T1", COUNTY)
    assert places(sent) == Counter({HOUSEHOLD: 1, HOUSEHOLD2: 1, GRID: 1, COUNTY: 1})
    assert "撤销" in to_room(sent, HOUSEHOLD)[0].text


async def test_a_reporter_in_the_grid_room_hears_each_change_once(harness):
    await harness.say(RESIDENT, POWER_CUT, GRID, name="张阿姨")
    sent = await harness.say(POWER_LIAISON, "#受理 T1", POWER)
    assert places(sent) == Counter({GRID: 1, POWER: 1})
    sent = await harness.say(RESIDENT, "#撤销 T1", GRID, name="张阿姨")
    only, = sent                       # the reporter's room, the grid room and the reply: one message
    assert only.room_topic == GRID and only.mentions == (LIUFANG,) and "已由居民「张阿姨」撤销" in only.text


async def test_resolving_in_the_reporters_room_is_one_message_there(harness):
    await harness.say(RESIDENT, POWER_CUT, GRID, name="张阿姨")
    sent = await harness.say(LIUFANG, "#办结 T1 已更换保险丝", GRID)
    rate, = sent
    assert rate.mentions == (RESIDENT,) and "#评价 T1" in rate.text


async def test_a_one_to_one_reporter_is_told_one_to_one(harness):
    await harness.say("wxid_wangjg", POWER_CUT, None, name="王建国")
    sent = await harness.say(LIUFANG, "#受理 T1", GRID)
    assert places(sent) == Counter({"to:wxid_wangjg": 1, GRID: 1})
    sent = await harness.say(LIUFANG, "#办结 T1 已更换保险丝", GRID)
    rate, = [o for o in sent if o.to == "wxid_wangjg"]
    assert "#评价 T1" in rate.text and rate.mentions == ()


async def test_a_transfer_tells_the_old_department_room_and_the_grid(harness):
    await harness.say(RESIDENT, STREET_LAMP, HOUSEHOLD)
    assert harness.ticket("T1")["department"] == "urban_mgmt"
    sent = await harness.say(LIUFANG, "#转派 T1 供电", GRID)
    assert places(sent) == Counter({GRID: 1, URBAN: 1, POWER: 1})
    assert to_room(sent, URBAN)[0].text == "工单 T1 已由网格员刘芳转派至供电，城管无需再处理。"
    assert "工单派发 T1" in to_room(sent, POWER)[0].text


async def test_a_liaison_transferring_in_their_own_room_tells_the_grid(harness):
    await harness.say(RESIDENT, STREET_LAMP, HOUSEHOLD)
    sent = await harness.say(URBAN_LIAISON, "#转派 T1 供电", URBAN)
    assert places(sent) == Counter({GRID: 1, URBAN: 1, POWER: 1})
    assert "转派至供电" in to_room(sent, GRID)[0].text and "转派至供电" in to_room(sent, URBAN)[0].text


async def test_the_county_room_learns_an_urgent_ticket_was_accepted_and_resolved(harness):
    sent = await harness.say(RESIDENT, FIRE_REPORT, HOUSEHOLD)
    assert to_room(sent, COUNTY)
    sent = await harness.say(LIUFANG, "#受理 T1", GRID)
    county, = to_room(sent, COUNTY)
    assert "已受理工单 T1" in county.text and county.urgent
    sent = await harness.say(LIUFANG, "#办结 T1 火已扑灭，无人受伤", GRID)
    county, = to_room(sent, COUNTY)
    assert "火已扑灭" in county.text
    assert places(sent) == Counter({HOUSEHOLD: 1, COUNTY: 1, GRID: 1})


async def test_an_ordinary_tickets_changes_stay_out_of_the_county_room(followed):
    sent = await followed.say(LIUFANG, "#受理 T1", GRID)
    assert not to_room(sent, COUNTY)
    sent = await followed.say(LIUFANG, "#办结 T1 已更换保险丝", GRID)
    assert not to_room(sent, COUNTY)


async def test_a_one_to_one_follower_is_told_one_to_one(harness):
    await harness.say(RESIDENT, POWER_CUT, HOUSEHOLD, name="张阿姨")
    await harness.say("wxid_wangjg", POWER_CUT_AGAIN, None, name="王建国")
    assert harness.ticket("T1")["followers"] == ["wxid_wangjg"]
    sent = await harness.say(LIUFANG, "#受理 T1", GRID)
    assert places(sent) == Counter({HOUSEHOLD: 1, "to:wxid_wangjg": 1, GRID: 1})
