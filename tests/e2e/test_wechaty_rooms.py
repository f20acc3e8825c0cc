"""The bot on a (mock) WeChat account, seen from the groups: reports, commands, mentions, 1:1 chats,
room binding, evidence and forwarded records. Each test runs its own puppet server and bot."""
from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from bot.storage.db import session
from bot.storage.models import Evidence, Node, SeenMessage
from tests.e2e.county import BOT_ID, eventually

HOUSEHOLD = "r_hh_wang@chatroom"      # 5栋王建国中心户邻里群
GRID = "r_grid3@chatroom"             # 城南社区第3网格群
COMMUNITY = "r_cn@chatroom"           # 城南社区党组织工作群
POWER = "r_power@chatroom"            # 县供电公司工单群
WATER = "r_water@chatroom"
URBAN = "r_cg@chatroom"
NEW_GROUP = "r_new@chatroom"          # 幸福小区6栋新群: not in the org file
RESIDENT = "wxid_res_zhang"
WANG = "wxid_wangjg"
LIU = "wxid_liufang"                  # grid worker of 第3网格
HU = "wxid_cn_zhuren"                 # admin of 城南社区


async def test_report_reaches_the_rooms_and_commands_answer(county, running_bot, caplog):
    msg_id = county.say(RESIDENT, "5栋2单元从早上开始就没电了", room=HOUSEHOLD)

    ack = await eventually(lambda: county.sent_to(HOUSEHOLD, containing="T1"), 20, "the acknowledgement")
    alert = await eventually(lambda: county.sent_to(GRID, containing="T1"), 20, "the grid room alert")
    dispatch = await eventually(lambda: county.sent_to(POWER, containing="T1"), 20, "the dispatch to 供电")
    assert "供电" in ack[0]["text"]
    assert alert[0]["mentions"] == [LIU] and "@网格员刘芳" in alert[0]["text"]
    assert "#受理 T1" in dispatch[0]["text"]

    # The grid worker accepts in the grid room, mentioning the bot first.
    county.say(LIU, "@网格助手\u2005#受理 T1", room=GRID, mentions=(BOT_ID,))
    await eventually(lambda: county.sent_to(HOUSEHOLD, containing="已受理"), 20, "the acceptance in the report room")
    await eventually(lambda: county.sent_to(GRID, containing="已受理"), 20, "the acceptance in the grid room")

    # 1:1 with the bot: the reply goes to the contact.
    county.say(RESIDENT, "#查询 T1")
    detail = await eventually(lambda: county.sent_to(to=RESIDENT, containing="工单 T1"), 20, "the 1:1 reply")
    assert "处置中" in detail[0]["text"]

    # The bot's own messages come back as events; none of them was handled as a message.
    texts = [m["text"] for m in county.sent()]
    assert not [t for t in texts if "抱歉" in t or "没有“#" in t or "无权" in t], texts
    assert len(texts) == len(set((m["room"], m["to"], m["text"]) for m in county.sent()))

    # The WeChat message id is the id the bot de-duplicates on.
    with session(running_bot.bot.engine) as s:
        assert s.get(SeenMessage, msg_id) is not None
        grid = s.exec(select(Node).where(Node.room_topic == "城南社区第3网格群")).one()
        assert grid.room_id == GRID          # bound by topic at login

    logs = "\n".join(r.getMessage() for r in caplog.get_records("setup"))
    assert "connecting to the WeChat puppet service" in logs
    assert "logged in to WeChat as 网格助手" in logs
    assert "rooms bound" in logs and "城南社区第4网格群" in logs     # the org's group the bot is not in


async def test_image_after_report_becomes_evidence_and_export_is_sent_as_file(county, running_bot, bot_config):
    county.say(WANG, "小区门口水管爆了，水漫到路上了", room=HOUSEHOLD)
    await eventually(lambda: county.sent_to(WATER, containing="T1"), 20, "the dispatch to 供水")

    county.image(WANG, room=HOUSEHOLD, name="burst.png")
    reply = await eventually(lambda: county.sent_to(HOUSEHOLD, containing="照片"), 20, "the evidence reply")
    assert "T1" in reply[0]["text"]
    county.file(WANG, "情况说明.txt", "水一直在流", room=HOUSEHOLD)
    await eventually(lambda: county.sent_to(HOUSEHOLD, containing="情况说明.txt"), 20, "the file reply")

    # Someone who reported nothing sends a picture: nothing is attached, nothing is said.
    county.image(RESIDENT, room=HOUSEHOLD, name="cat.png")

    county.say(LIU, "#查询 T1", room=GRID)
    detail = await eventually(lambda: county.sent_to(GRID, containing="附件"), 20, "the ticket detail")
    assert "附件（2）" in detail[0]["text"]
    assert "图片 burst.png" in detail[0]["text"] and "文件 情况说明.txt" in detail[0]["text"]

    engine = running_bot.bot.engine
    with session(engine) as s:
        saved = [Path(e.path) for e in s.exec(select(Evidence)).all()]
    assert len(saved) == 2
    assert all(p.is_file() and Path(bot_config.attachments_dir) in p.parents for p in saved)
    assert saved[0].read_bytes().startswith(b"\x89PNG")
    assert not [m for m in county.sent() if "cat.png" in m["text"]]

    # An Excel export goes out as a file after its text.
    county.say(HU, "#导出", room=COMMUNITY)
    file_msg = await eventually(lambda: [m for m in county.sent() if m["kind"] == "file" and m["room"] == COMMUNITY],
                                20, "the exported file")
    texts = [m for m in county.sent() if m["room"] == COMMUNITY]
    assert texts.index(file_msg[0]) > 0 and texts[texts.index(file_msg[0]) - 1]["kind"] == "text"
    assert file_msg[0]["name"].endswith(".xlsx")


RECORD_XML = """<msg><appmsg appid="" sdkver="0"><title>群聊的聊天记录</title><des>邻居老周: 楼下的井盖翻了</des>
<type>19</type><recorditem><![CDATA[<recordinfo><title>群聊的聊天记录</title><datalist count="2">
<dataitem datatype="1" dataid="a1"><sourcename>邻居老周</sourcename><datadesc>楼下的井盖翻了，晚上看不见很危险</datadesc></dataitem>
<dataitem datatype="1" dataid="a2"><sourcename>王建国</sourcename><datadesc>我转给网格员</datadesc></dataitem>
</datalist></recordinfo>]]></recorditem></appmsg></msg>"""


async def test_forwarded_chat_records(county, running_bot):
    county.record(WANG, RECORD_XML, room=HOUSEHOLD)
    dispatch = await eventually(lambda: county.sent_to(URBAN, containing="T1"), 20, "the dispatch to 城管")
    assert "邻居老周" in dispatch[0]["text"]

    # A record whose content the puppet does not give: ask for the messages one by one.
    county.record(WANG, "", room=HOUSEHOLD)
    await eventually(lambda: county.sent_to(HOUSEHOLD, containing="逐条转发"), 20, "the request to forward one by one")


async def test_bind_command(county, running_bot):
    path = "遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区6栋"
    county.say(HU, f"#绑定 {path}")
    await eventually(lambda: county.sent_to(to=HU, containing="群里发送"), 20, "the 1:1 refusal")
    county.say(LIU, f"#绑定 {path}", room=NEW_GROUP)
    await eventually(lambda: county.sent_to(NEW_GROUP, containing="管理员"), 20, "the not-an-admin refusal")
    county.say(HU, "#绑定 遂川县/没有这个社区", room=NEW_GROUP)
    await eventually(lambda: county.sent_to(NEW_GROUP, containing="未找到节点"), 20, "the unknown-path reply")
    county.say(HU, f"#绑定 {path}", room=NEW_GROUP)
    await eventually(lambda: county.sent_to(NEW_GROUP, containing="确认改绑"), 20, "the question (6栋 has a group)")
    county.say(HU, f"#绑定 {path} 确认", room=NEW_GROUP)
    await eventually(lambda: county.sent_to(NEW_GROUP, containing="已将本群绑定到"), 20, "the binding")

    # A report in the newly bound group is a report at that node.
    county.say(RESIDENT, "6栋楼下的井盖翻了，很危险", room=NEW_GROUP)
    ack = await eventually(lambda: county.sent_to(NEW_GROUP, containing="T1"), 20, "the acknowledgement")
    alert = await eventually(lambda: county.sent_to(GRID, containing="T1"), 20, "the grid alert")
    assert "幸福小区6栋" in alert[0]["text"], ack
