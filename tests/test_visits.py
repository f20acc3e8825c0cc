"""走访 logs (SPEC §5.2): grid workers, police and central households record home visits by message;
a problem in the notes becomes a ticket linked to the visit; #走访台账 lists the subtree's visits."""
from datetime import timedelta

from tests.harness import Harness, at, to_room

GRID = "城南社区第3网格群"
HOUSEHOLD = "5栋王建国中心户邻里群"
COMMUNITY = "城南社区党组织工作群"
CALM = "身体状况良好，家中无异常，已宣传防诈骗知识"
LEAK = "家里水管爆了，厨房一直漏水"


async def test_a_visit_without_a_problem_is_logged_and_opens_no_ticket(harness):
    reply, = await harness.say("wxid_liufang", f"#走访 5栋2单元李大爷 {CALM}", GRID)
    assert reply.text == "已登记走访：5栋2单元李大爷（第3网格，网格员刘芳）。"
    assert harness.tickets() == []


async def test_a_problem_in_the_notes_opens_a_ticket_from_the_visit(harness):
    sent = await harness.say("wxid_wangjg", f"#走访 3楼张奶奶 {LEAK}", HOUSEHOLD)
    ack, logged = to_room(sent, HOUSEHOLD)
    assert "T1" in ack.text
    assert logged.text == ("已登记走访：3楼张奶奶（王建国中心户，王建国）。"
                           "走访中反映的问题已登记为工单 T1，处理进展会在工单里通知。")
    alert, = to_room(sent, GRID)
    assert alert.mentions == ("wxid_liufang",) and "走访3楼张奶奶：家里水管爆了" in alert.text
    assert to_room(sent, "县自来水公司工单群")
    ticket = harness.ticket("T1")
    assert ticket["reporter"] == "wxid_wangjg" and ticket["department"] == "water"
    assert ticket["node"].endswith("幸福小区5栋/王建国中心户") and ticket["text"] == f"走访3楼张奶奶：{LEAK}"

    # The same problem on the next visit joins the open ticket instead of opening another.
    again = await harness.say("wxid_zhao_zz", f"#走访 3楼张奶奶 {LEAK}", "幸福小区5栋楼栋群")
    assert any("已并入该工单" in o.text and "T1" in o.text for o in again)
    assert [t["no"] for t in harness.tickets()] == ["T1"]

    ledger, = await harness.say("wxid_liufang", "#走访台账", GRID)
    lines = ledger.text.splitlines()
    assert lines[0] == "【第3网格｜本周走访台账】共 2 次走访，发现问题并登记工单 2 件"
    assert lines[1] == f"1. 11月25日 09:02 楼栋长赵志忠｜幸福小区5栋｜3楼张奶奶：{LEAK}（工单 T1）"
    assert lines[2] == f"2. 11月25日 09:01 王建国｜王建国中心户｜3楼张奶奶：{LEAK}（工单 T1）"


async def test_the_ledger_lists_the_rooms_subtree_for_the_week_or_the_month(new_db, classifier):
    # Friday 20 November: last week, but this month.
    harness = Harness(new_db(), classifier, at(2026, 11, 20, 10, 0))
    await harness.say("wxid_zhoujq", f"#走访 6栋刘阿婆 {CALM}", "城南社区第3网格群")
    await harness.say("wxid_liufang", f"#走访 5栋2单元李大爷 {CALM}", GRID, after=timedelta(days=5))
    await harness.say("wxid_sp_wgy", f"#走访 上坪4组李大伯 {CALM}", "上坪村第1网格群")

    week, = await harness.say("wxid_cn_zhuren", "#走访台账", COMMUNITY)
    assert week.text.splitlines() == [
        "【城南社区｜本周走访台账】共 1 次走访，发现问题并登记工单 0 件",
        f"1. 11月25日 10:01 网格员刘芳｜第3网格｜5栋2单元李大爷：{CALM}"]
    month, = await harness.say("wxid_cn_zhuren", "#走访台账 本月", COMMUNITY)
    assert month.text.splitlines()[0] == "【城南社区｜本月走访台账】共 2 次走访，发现问题并登记工单 0 件"
    assert "网格快警周警官｜第3网格｜6栋刘阿婆" in month.text and "上坪" not in month.text
    county, = await harness.say("wxid_chen_zr", "#走访台账 本月", "遂川县红网格指挥中心")
    assert "共 3 次走访" in county.text and "网格员郭小平｜上坪第1网格｜上坪4组李大伯" in county.text
    empty, = await harness.say("wxid_chenmin", "#走访台账", "城南社区第4网格群")
    assert empty.text == "【第4网格｜本周走访台账】暂无走访记录。"


async def test_who_may_log_visits_and_bad_input_change_nothing(harness):
    resident, = await harness.say("wxid_res_a", f"#走访 邻居 {LEAK}", HOUSEHOLD)
    assert resident.text == "只有网格员、网格警或中心户可以登记走访。"
    admin, = await harness.say("wxid_cn_zhuren", f"#走访 邻居 {LEAK}", COMMUNITY)
    assert admin.text == resident.text
    no_notes, = await harness.say("wxid_liufang", "#走访 5栋2单元李大爷", GRID)
    assert no_notes.text.startswith("请写上走访对象和情况。用法：#走访 <对象> <情况>")
    too_long, = await harness.say("wxid_liufang", "#走访 " + "李" * 60 + " " + LEAK, GRID)
    assert "走访对象太长" in too_long.text
    assert harness.tickets() == []

    period, = await harness.say("wxid_liufang", "#走访台账 今天", GRID)
    assert period.text == "时段只能是 本周、本月。用法：#走访台账 [本周/本月]"
    refused, = await harness.say("wxid_wangjg", "#走访台账", GRID)
    assert refused.text == "只有第3网格或上级的管理员或网格员可以查看走访台账。"
    private, = await harness.say("wxid_liufang", "#走访台账", None)
    assert "请在本级工作群里查看走访台账" in private.text
    ledger, = await harness.say("wxid_liufang", "#走访台账", GRID)
    assert ledger.text == "【第3网格｜本周走访台账】暂无走访记录。"


async def test_a_visit_logged_in_a_private_chat_is_recorded_at_the_visitors_node(harness):
    sent = await harness.say("wxid_liufang", f"#走访 5栋3单元陈大妈 {LEAK}", None)
    private = [o for o in sent if o.to == "wxid_liufang"]
    assert any("已登记为工单 T1" in o.text and "（第3网格，网格员刘芳）" in o.text for o in private)
    assert harness.ticket("T1")["node"].endswith("城南社区/第3网格")
