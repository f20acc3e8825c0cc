"""One value for "where" (bot/transport/__init__.py Address): a room by the transport's id and/or the org's
topic, or a person; one equality, used to answer where a message came from and to tell a room once."""
from bot.transport import Address, Incoming, Outgoing

GRID = "城南社区第3网格群"
WECHAT_ID = "20912345678@chatroom"


def test_rooms_are_the_same_by_id_or_by_topic_when_one_is_not_bound():
    bound = Address.room(WECHAT_ID, GRID)
    assert bound == Address.room(WECHAT_ID, "改过名的群")             # renamed: the id decides
    assert bound == Address.room(None, GRID)                           # the org's unbound node: by topic
    assert bound != Address.room("other@chatroom", GRID)              # two groups with one name: ids differ
    assert Address.room(None, GRID) != Address.room(None, "城南社区第4网格群")
    assert Address.of_person("wxid_a") == Address.of_person("wxid_a") != Address.room(None, "wxid_a")
    assert Address.room(None, None) is None


def test_messages_answer_where_they_came_from():
    in_room = Incoming(msg_id="1", sender_id="wxid_a", text="", room_id=WECHAT_ID, room_topic=GRID)
    one_to_one = Incoming(msg_id="2", sender_id="wxid_a", text="")
    assert Outgoing.at(in_room.address, "好", ("wxid_a",)) == Outgoing(text="好", room_id=WECHAT_ID, room_topic=GRID,
                                                                      mentions=("wxid_a",))
    assert Outgoing.at(one_to_one.address, "好", ("wxid_a",)) == Outgoing(text="好", to="wxid_a")
    assert Outgoing.at(one_to_one.address, "好").address == one_to_one.address


async def test_a_report_in_an_unbound_grid_room_is_not_alerted_back_to_it(harness):
    # The grid's node has no WeChat id yet; the group's messages carry one. The report's own room
    # is the grid's room (same topic): it gets the acknowledgement, not a second "new ticket" alert.
    out = await harness.say("wxid_res_zhang", "3栋楼道的灯坏了好几天了", GRID, room_id=WECHAT_ID)
    in_grid = [o for o in out if o.room_topic == GRID]
    assert len(in_grid) == 1 and "已登记工单 T1" in in_grid[0].text and in_grid[0].room_id == WECHAT_ID
    # A room the bot sends to unprompted and does not know the id of is addressed by topic alone.
    dispatch, = [o for o in out if o.room_topic.endswith("工单群")]
    assert dispatch.room_id is None
