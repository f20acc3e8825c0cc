"""The parts of the WeChat connection that need no server: binding groups found at login, #绑定
through the ordinary test harness, evidence, and reading forwarded chat records."""
from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.storage.db import session
from bot.storage.models import Node
from bot.domain.bindings import bind_rooms_found
from bot.transport import Incoming
from tests.databases import unavailable
from tests.harness import to_room

GRID3 = "城南社区第3网格群"


def _node(harness, topic: str) -> Node:
    with session(harness.engine) as s:
        return s.exec(select(Node).where(Node.room_topic == topic)).one()


def test_login_binds_by_topic_and_a_renamed_group_keeps_its_node(harness):
    present, missing = bind_rooms_found(harness.engine, [("g3@chatroom", GRID3), ("x@chatroom", "闲聊群")])
    assert present == 1 and GRID3 not in missing and "城南社区第4网格群" in missing
    assert _node(harness, GRID3).room_id == "g3@chatroom"

    # The group is renamed, and another group takes the old name: the binding stays with the id.
    bind_rooms_found(harness.engine, [("g3@chatroom", "第三网格（新）"), ("other@chatroom", GRID3)])
    assert _node(harness, GRID3).room_id == "g3@chatroom"


async def test_bind_command_rules(harness):
    path = "遂川县/泉江镇城市社区党工委/城南社区/第4网格"
    sent = await harness.say("wxid_cn_zhuren", f"#绑定 {path}")
    assert "群里发送" in sent[0].text
    sent = await harness.say("wxid_liufang", f"#绑定 {path}", room="临时群")
    assert "管理员" in sent[0].text
    sent = await harness.say("wxid_yt_zhenzhang", f"#绑定 {path}", room="临时群")     # admin of another town
    assert "管理员" in sent[0].text
    sent = await harness.say("wxid_cn_zhuren", "#绑定 遂川县/城南", room="临时群")
    assert "未找到节点" in sent[0].text and "#绑定 遂川县/" in sent[0].text
    sent = await harness.say("wxid_cn_zhuren", "#绑定", room="临时群")
    assert "用法" in sent[0].text
    # Without the county prefix, and with spaces around the slashes: still found.
    # 第4网格 has a group already: binding it here is asked first, naming that group.
    sent = await harness.say("wxid_cn_zhuren", "#绑定 泉江镇城市社区党工委 / 城南社区 / 第4网格", room="临时群")
    assert "「城南社区第4网格群」" in sent[0].text and sent[0].text.endswith(f"#绑定 {path} 确认")
    assert _node(harness, "城南社区第4网格群").room_id is None
    sent = await harness.say("wxid_cn_zhuren", "#绑定 泉江镇城市社区党工委 / 城南社区 / 第4网格 确认", room="临时群")
    assert sent[0].text.startswith(f"已将本群绑定到：{path}")
    assert _node(harness, "城南社区第4网格群").room_id == "临时群"
    sent = await harness.say("wxid_res_zhang", "第4网格这边路灯坏了好几天了，晚上很黑", room="临时群")
    assert any("T1" in o.text for o in to_room(sent, "临时群"))


async def test_picture_attaches_only_within_ten_minutes_of_the_report(harness, tmp_path):
    room = "5栋王建国中心户邻里群"
    picture = tmp_path / "m1-photo.png"
    picture.write_bytes(b"\x89PNG")

    async def send_picture(msg_id: str):
        before = len(harness.transport.sent)
        await harness.bot.dispatch(Incoming(msg_id=msg_id, sender_id="wxid_wangjg", text="", room_id=room,
                                            room_topic=room, kind="image", attachment=str(picture)))
        return harness.transport.sent[before:]

    assert await send_picture("p0") == []                     # no report yet: a photo like any other
    await harness.say("wxid_wangjg", "小区门口水管爆了，水漫到路上了", room=room)
    harness.clock.advance(timedelta(minutes=9))
    assert "T1" in (await send_picture("p1"))[0].text
    harness.clock.advance(timedelta(minutes=2))
    assert await send_picture("p2") == []
    sent = await harness.say("wxid_liufang", "#查询 T1", room="城南社区第3网格群")
    assert "附件（1）" in sent[0].text and "图片 photo.png" in sent[0].text


async def test_unreadable_forwarded_record_asks_for_single_messages(harness):
    sent = await harness.say("wxid_wangjg", "", room="5栋王建国中心户邻里群", kind="chat_history")
    assert "逐条转发" in sent[0].text
    assert harness.tickets() == []


def test_chat_history_xml():
    try:
        from bot.transport import wechaty
    except ImportError as err:
        unavailable(f"the wechaty SDK (optional group) is not installed: {err}")
    record = ("<msg><appmsg><type>19</type><recorditem><![CDATA[<recordinfo><datalist count=\"2\">"
              "<dataitem datatype=\"1\"><sourcename>老周</sourcename><datadesc>井盖翻了</datadesc></dataitem>"
              "<dataitem datatype=\"2\"><sourcename>老李</sourcename></dataitem>"
              "</datalist></recordinfo>]]></recorditem></appmsg></msg>")
    items = wechaty.parse_chat_history(record)
    assert [(i.name, i.text) for i in items] == [("老周", "井盖翻了")]
    assert wechaty.parse_chat_history("") == ()
    assert wechaty.parse_chat_history("[聊天记录]") == ()
    assert wechaty.parse_chat_history("<msg><broken") == ()
