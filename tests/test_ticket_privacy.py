"""Who may read a ticket (SPEC §5.1): its reporter and followers, staff whose reach contains its node,
the liaisons of its department, admins above. Anyone else gets 无权查看工单 T12."""
import pytest

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
REPORTER = "wxid_res_zhang"
REPORT = "邻居家天天半夜剁骨头吵得睡不着，跟他说了好几次也不听"


@pytest.fixture
async def reported(harness):
    out = await harness.say(REPORTER, REPORT, HOUSEHOLD, name="张阿姨")
    assert any("已登记工单 T1" in o.text for o in out)
    return harness


@pytest.mark.parametrize("reader, room", [
    (REPORTER, HOUSEHOLD),                  # the reporter
    ("wxid_liufang", GRID),                 # the grid's worker
    ("wxid_zhao_zz", "幸福小区5栋楼栋群"),     # the building's central household (the node is below it)
    ("wxid_cn_zhuren", "城南社区党组织工作群"),  # an admin above
    ("wxid_chen_zr", None),                 # the county admin, 1:1
])
async def test_those_involved_read_it(reported, reader, room):
    detail, = await reported.say(reader, "#查询 T1", room)
    assert detail.text.startswith("工单 T1") and "剁骨头" in detail.text


@pytest.mark.parametrize("reader, room", [
    ("wxid_res_li", HOUSEHOLD),             # a neighbour in the same group
    ("wxid_res_li", None),                  # … or 1:1
    ("wxid_chenmin", "城南社区第4网格群"),     # the worker of another grid
    ("wxid_sp_shuji", "上坪村两委工作群"),      # an admin of another subtree
    ("wxid_power_he", "县供电公司工单群"),      # the liaison of a department it is not for
])
async def test_anyone_else_is_refused(reported, reader, room):
    reply, = await reported.say(reader, "#查询 T1", room)
    assert reply.text == "无权查看工单 T1"
    assert REPORT[:6] not in reply.text and REPORTER not in reply.text


async def test_a_follower_reads_it_and_the_department_liaison_too(reported):
    department = reported.ticket("T1")["department"]
    await reported.say("wxid_res_li", "邻居家半夜剁骨头太吵了，吵得睡不着", HOUSEHOLD)
    assert reported.ticket("T1")["followers"] == ["wxid_res_li"]
    detail, = await reported.say("wxid_res_li", "#查询 T1", HOUSEHOLD)
    assert detail.text.startswith("工单 T1")
    liaison = {"justice": "wxid_sf_liaison", "environment": "wxid_hb_liaison", "police": "wxid_ga_liaison",
               "urban_mgmt": "wxid_cg_liaison"}[department]
    detail, = await reported.say(liaison, "#查询 T1", None)
    assert detail.text.startswith("工单 T1")
