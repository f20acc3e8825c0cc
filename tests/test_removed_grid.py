"""A grid removed from the org file: its open tickets move up to the parent, whose admins are told
once; the removed grid's room hears nothing more and its worker can no longer handle them."""
from bot.runtime import import_org
from tests.harness import ORG_SMALL, at, to_room

GRID4 = "城南社区第4网格群"
COMMUNITY = "城南社区党组织工作群"


def without_grid4(tmp_path):
    text = ORG_SMALL.read_text(encoding="utf-8")
    start = text.index("              - name: 第4网格")
    end = text.index("      - name: 雩田镇")
    path = tmp_path / "org_without_grid4.yaml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    return path


async def test_a_removed_grids_tickets_go_to_its_community_and_its_admins_are_told_once(harness, tmp_path):
    await harness.say("wxid_res_a", "楼下的井盖翻了，晚上看不见容易摔", GRID4)
    await harness.say("wxid_res_b", "小区门口的路灯坏了好几天了", GRID4)
    assert harness.ticket("T1")["assignee"] == "wxid_chenmin"
    import_org(harness.engine, str(without_grid4(tmp_path)), harness.clock)
    sent = await harness.tick(at(2026, 11, 25, 9, 10))
    told, = to_room(sent, COMMUNITY)
    assert "第4网格已从组织架构移除" in told.text and "T1、T2" in told.text and "城南社区" in told.text
    assert told.mentions == ("wxid_cn_zhuren",)
    for no in ("T1", "T2"):
        assert harness.ticket(no)["node"] == "遂川县/泉江镇城市社区党工委/城南社区"
        assert harness.ticket(no)["assignee"] is None
    # A second import of the same file tells nobody again.
    import_org(harness.engine, str(without_grid4(tmp_path)), harness.clock)
    assert to_room(await harness.tick(at(2026, 11, 25, 9, 20)), COMMUNITY) == []

    reply, = await harness.say("wxid_chenmin", "#受理 T1", GRID4)
    assert "只有" in reply.text and harness.ticket("T1")["status"] == "open"
    # Deadlines and nudges go to the community room, never to the removed grid's.
    sent = await harness.tick(at(2026, 11, 25, 13, 30))
    assert to_room(sent, GRID4) == []
    assert any("T1" in o.text and "超过受理时限" in o.text for o in to_room(sent, COMMUNITY))
    sent = await harness.say("wxid_res_a", "#催办 T1", None)
    assert to_room(sent, GRID4) == []
    nudge, = to_room(sent, COMMUNITY)
    assert "催办工单 T1" in nudge.text and nudge.mentions == ("wxid_cn_zhuren",)
    await harness.say("wxid_cn_zhuren", "#受理 T1", COMMUNITY)
    assert harness.ticket("T1")["status"] == "accepted"
