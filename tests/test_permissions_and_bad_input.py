"""Who may do what (SPEC §2/§5), and bad input: a clear Chinese reply and nothing changed."""
import pytest


HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
RESIDENT = "wxid_res_zhang"


@pytest.fixture
async def with_ticket(harness):
    await harness.say(RESIDENT, "5栋2单元从早上开始就没电了，冰箱都停了", HOUSEHOLD)
    return harness


@pytest.mark.parametrize("sender, room", [
    ("wxid_res_li", HOUSEHOLD),             # a resident
    ("wxid_chenmin", "城南社区第4网格群"),     # grid worker of another grid
    ("wxid_sp_shuji", "上坪村两委工作群"),      # admin of another subtree
    ("wxid_water_li", "县自来水公司工单群"),    # liaison of another department
])
async def test_refused_accept_changes_nothing(with_ticket, sender, room):
    reply, = await with_ticket.say(sender, "#受理 T1", room)
    assert "只有" in reply.text and "T1" in reply.text
    assert with_ticket.ticket("T1")["status"] == "open"


@pytest.mark.parametrize("sender, room", [
    ("wxid_zhoujq", GRID),                  # the grid's police
    ("wxid_cn_zhuren", "城南社区党组织工作群"),  # community admin above
    ("wxid_chen_zr", "遂川县红网格指挥中心"),     # county admin
    ("wxid_power_he", "县供电公司工单群"),       # the department's liaison
])
async def test_allowed_to_accept(with_ticket, sender, room):
    await with_ticket.say(sender, "#受理 T1", room)
    assert with_ticket.ticket("T1")["status"] == "accepted"


async def test_display_name_grants_nothing(with_ticket):
    reply, = await with_ticket.say("wxid_fake", "#受理 T1", GRID, name="网格员刘芳")
    assert "只有" in reply.text
    assert with_ticket.ticket("T1")["status"] == "open"


async def test_only_reporter_rates_and_cancels(with_ticket):
    await with_ticket.say("wxid_liufang", "#办结 T1 已修复", GRID)
    reply, = await with_ticket.say("wxid_liufang", "#评价 T1 满意", GRID)
    assert reply.text == "只有上报人可以评价工单 T1。"
    reply, = await with_ticket.say("wxid_res_li", "#撤销 T1", HOUSEHOLD)
    assert reply.text == "只有上报人或管理员可以撤销工单 T1。"
    assert with_ticket.ticket("T1")["status"] == "resolved"


@pytest.mark.parametrize("text, expected", [
    ("#办理 T1", "没有“#办理”这个命令。您是不是要用 #受理？发送 #帮助 查看可用命令。"),
    ("#受理", "缺少参数。用法：#受理 T12"),
    ("#受理 T999", "未找到工单 T999"),
    ("#受理 X1", "工单号格式不对：X1。用法：#受理 T12"),
    ("#办结 T1", "缺少参数。用法：#办结 T12 <处理说明>"),
    ("#转派 T1 火星局", "不认识的部门：火星局。可填部门名称，如 城管、供水、供电、公安。"),
    ("#评价 T1 很好", "评价只能是 满意、基本满意 或 不满意。用法：#评价 T12 满意/基本满意/不满意 [意见]"),
    ("#查询 T999", "未找到工单 T999"),
    ("#上报", "请写上问题内容。用法：#上报 <问题描述>"),
    ("#受理 " + "T1" * 1500, "消息过长（超过2000字），请精简后再发。"),
])
async def test_bad_input_gets_clear_reply_and_changes_nothing(with_ticket, text, expected):
    before = with_ticket.tickets()
    reply, = await with_ticket.say("wxid_liufang", text, GRID)
    assert reply.text == expected
    assert with_ticket.tickets() == before


async def test_command_forms(with_ticket):
    # full-width prefix and number, an @mention of the bot first, no space after the command
    await with_ticket.say("wxid_liufang", "@红网格助手\u2005＃受理Ｔ１", GRID)
    assert with_ticket.ticket("T1")["status"] == "accepted"
    # WeChat emoticon codes are not commands
    assert await with_ticket.say(RESIDENT, "/::)", HOUSEHOLD) == []


async def test_help_depends_on_role(harness):
    resident, = await harness.say(RESIDENT, "#帮助", HOUSEHOLD)
    worker, = await harness.say("wxid_liufang", "#帮助", GRID)
    assert "#上报" in resident.text and "#受理" not in resident.text
    assert "#受理" in worker.text and "#办结" in worker.text


async def test_department_room_chatter_opens_nothing(harness):
    assert await harness.say("wxid_power_he", "城南那边停电了，我们已经派人过去", "县供电公司工单群") == []
    assert await harness.say(RESIDENT, "小区门口停电了", "某个无关的群") == []
    assert harness.tickets() == []


async def test_huge_and_hostile_chatter_is_ignored_safely(harness):
    # Over the length limit and reading as a report: told to shorten it, nothing opened.
    reply, = await harness.say(RESIDENT, "停电" * 5000, HOUSEHOLD)
    assert reply.room_topic == HOUSEHOLD and reply.text.startswith("消息太长了（10000字，超过2000字）")
    assert await harness.say(RESIDENT, "\x00\x01😀" * 50, HOUSEHOLD) == []
    assert harness.tickets() == []


async def test_ticket_number_followed_by_chinese_punctuation(with_ticket):
    await with_ticket.say("wxid_liufang", "#办结 T1：已更换保险丝，恢复供电", GRID)
    assert with_ticket.ticket("T1")["status"] == "resolved"
    detail, = await with_ticket.say("wxid_liufang", "#查询 t1", GRID)
    assert "办结：已更换保险丝，恢复供电" in detail.text
