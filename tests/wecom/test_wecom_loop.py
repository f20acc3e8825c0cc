"""The bot on WeCom, end to end through the SDK against a local server speaking its frame protocol: a
report in a group, the grid chat's card, button clicks doing what the typed commands do, the whole
report → alert → accept → resolve → rate loop, notices and their 收到 button, evidence, enter_chat."""
from __future__ import annotations

from sqlmodel import select

from bot.storage.db import session
from bot.storage.models import Ticket
from tests.wecom.server import eventually

REPORTER = "wxid_wangjg"        # 王建国, in the household chat
WORKER = "wxid_liufang"         # 网格员刘芳, the grid's worker
REPORT = "@网格助手 小区5栋整栋楼停电了，电梯也停了，老人被困在家里"


def ticket(bot, no: str = "T1") -> Ticket | None:
    with session(bot.engine) as s:
        return s.exec(select(Ticket).where(Ticket.no == no)).first()


async def _report(server, bot, text: str = REPORT):
    await server.say(REPORTER, text, chatid="wrk_household")
    return await server.wait_for(lambda s: s.chatid == "wrk_grid3" and "新工单 T1" in s.text, "the grid alert")


async def test_a_report_in_a_group_opens_a_ticket_and_the_grid_chat_gets_a_card_with_accept(server, wecom):
    await server.say("wxid_chen_zr", "@网格助手 #绑定 县供电公司工单群", chatid="wrk_power")      # a department's group
    await server.wait_for(lambda s: s.chatid == "wrk_power" and "已将本群绑定到：供电工单群" in s.text, "bound")
    alert = await _report(server, wecom, REPORT + "，我电话13912345678")
    dispatch = await server.wait_for(lambda s: s.chatid == "wrk_power" and "T1" in s.text, "the dispatch")
    # Masked, and shown as written: WeCom markdown would take the mask's **** for bold.
    assert "停电" in dispatch.text and "139＊＊＊＊5678" in dispatch.text and "13912345678" not in dispatch.text
    ack = await server.wait_for(lambda s: s.chatid == "wrk_household" and "已登记工单 T1" in s.text, "the ack")
    assert ack.body["msgtype"] == "markdown"
    assert alert.body["msgtype"] == "template_card" and alert.buttons == {"受理": "accept-T1"}
    assert "网格员刘芳" in alert.text and "停电" in alert.text
    t = ticket(wecom)
    assert t.reporter_id == REPORTER and t.department == "power" and t.status == "open"


async def test_the_accept_button_accepts_for_the_grid_worker_and_refuses_a_resident(server, wecom):
    alert = await _report(server, wecom)
    await server.click("wxid_sunli", alert.buttons["受理"], chatid="wrk_grid3")     # a resident: refused
    refusal = await server.wait_for(lambda s: s.chatid == "wrk_grid3" and "只有" in s.text, "the refusal")
    assert "T1" in refusal.text and ticket(wecom).status == "open"

    await server.click(WORKER, alert.buttons["受理"], chatid="wrk_grid3")
    await server.wait_for(lambda s: s.chatid == "wrk_grid3" and "已受理" in s.text, "the acceptance")
    assert ticket(wecom).status == "accepted" and ticket(wecom).assignee_id == WORKER


async def test_a_button_the_bot_never_made_does_nothing(server, wecom):
    alert = await _report(server, wecom)
    before = len(server.sent)
    for key in ("accept-T1 ", "rate-T1-9", "#受理 T1", "accept-T1;rm"):
        await server.click(WORKER, key, chatid="wrk_grid3")
    await server.say(WORKER, "@网格助手 #查询 T1", chatid="wrk_grid3")          # handled after the clicks
    answer = await server.wait_for(lambda s: s.chatid == "wrk_grid3" and "#受理" not in s.text
                                   and s is not alert and "T1" in s.text, "the query's answer")
    assert server.sent.index(answer) == before and ticket(wecom).status == "open"


async def test_report_alert_accept_resolve_and_rate_run_through_wecom(server, wecom):
    alert = await _report(server, wecom)
    await server.click(WORKER, alert.buttons["受理"], chatid="wrk_grid3")
    await server.wait_for(lambda s: "已受理" in s.text, "the acceptance")
    await server.say(WORKER, "@网格助手 #办结 T1 已抢修恢复供电", chatid="wrk_grid3")
    rating = await server.wait_for(lambda s: "请评价" in s.text, "the rating request")
    assert rating.chatid == "wrk_household"
    assert list(rating.buttons) == ["满意", "基本满意", "不满意"]
    assert ticket(wecom).status == "resolved"

    await server.click(REPORTER, rating.buttons["满意"], chatid="wrk_household")
    thanks = await server.wait_for(lambda s: "感谢评价" in s.text, "the thanks")
    assert thanks.chatid == "wrk_household"
    t = ticket(wecom)
    assert t.status == "closed" and t.rating == "满意"


async def test_a_notice_card_has_a_received_button_that_records_the_chat_receipt(server, wecom):
    await server.say("wxid_cn_zhuren", "@网格助手 #通知 到网格 请各网格周五前报送独居老人名单", chatid="wrk_community")
    notice = await server.wait_for(lambda s: s.chatid == "wrk_grid3" and "通知 N1" in s.text, "the notice")
    assert notice.buttons == {"收到": "ack"}
    await server.wait_for(lambda s: s.chatid == "wrk_grid4" and "通知 N1" in s.text, "the notice in grid 4")

    await server.click(WORKER, notice.buttons["收到"], chatid="wrk_grid3")
    await server.say("wxid_cn_zhuren", "@网格助手 #回执 N1", chatid="wrk_community")
    status = await server.wait_for(lambda s: s.chatid == "wrk_community" and s.text.startswith("通知 N1（"),
                                   "the receipt status")
    assert "已回执 1" in status.text and "未回执 1" in status.text and "第4网格" in status.text


async def test_a_picture_after_a_report_is_decrypted_and_kept_as_the_tickets_evidence(server, wecom, tmp_path):
    await _report(server, wecom)
    picture = b"\xff\xd8\xff\xe0 a photo of the dark stairwell" * 7
    await server.send_image(REPORTER, picture, chatid="wrk_household", name="stairs.jpg")
    await server.wait_for(lambda s: s.chatid == "wrk_household" and "T1" in s.text and "照片" in s.text,
                          "the evidence note")
    saved = list((tmp_path / "attachments").rglob("*stairs.jpg"))
    assert len(saved) == 1 and saved[0].read_bytes() == picture
    await server.say(WORKER, "@网格助手 #查询 T1", chatid="wrk_grid3")
    await server.wait_for(lambda s: s.chatid == "wrk_grid3" and "附件（1）" in s.text, "the attachment listed")


async def test_entering_the_one_to_one_chat_gets_the_short_help(server, wecom):
    await server.enter_chat(REPORTER)
    help_text = await server.wait_for(lambda s: s.chatid == REPORTER, "the help")
    assert "#上报" in help_text.text and "#通知" not in help_text.text
    assert [f["cmd"] for f in server.frames if f["cmd"].startswith("aibot_respond")] == ["aibot_respond_welcome_msg"]
    await server.say(REPORTER, "#帮助")                   # later messages are ordinary ones
    await eventually(lambda: len(server.to(REPORTER)) == 2, "the second help")
    assert server.frames_of("aibot_send_msg")[-1]["body"]["chatid"] == REPORTER


async def test_a_one_to_one_report_is_answered_in_the_one_to_one_chat(server, wecom):
    await server.say(REPORTER, "我家楼下的路灯坏了一个星期了，晚上很黑")
    ack = await server.wait_for(lambda s: s.chatid == REPORTER, "the 1:1 answer")
    assert "已登记工单 T1" in ack.text
    await eventually(lambda: ticket(wecom) is not None, "the ticket")
