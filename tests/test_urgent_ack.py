"""An urgent report: the resident is told first, with the number to dial, then the rooms are alerted."""
import pytest

from tests.harness import to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
COUNTY = "遂川县红网格指挥中心"
RESIDENT = "wxid_res_zhang"


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("着火了！5栋楼道冒黑烟，火越来越大", "119"),
        ("有人在小区门口抢包，还拿着刀，快来人", "110"),
        ("5栋门口一个老人突然倒地不省人事，叫不醒", "120"),
    ],
)
async def test_urgent_acknowledgement_comes_first_and_says_what_to_dial(harness, text, number):
    sent = await harness.say(RESIDENT, text, HOUSEHOLD, name="张阿姨")
    assert sent[0].room_topic == HOUSEHOLD, [o.room_topic for o in sent]
    ack = sent[0].text
    assert ack.startswith("【紧急】") and f"请立即拨打{number}" in ack and "T1" in ack
    assert to_room(sent, COUNTY), "an urgent ticket goes to the county room at once"
    assert len(sent) > 1


async def test_a_normal_acknowledgement_names_no_number(harness):
    sent = await harness.say(RESIDENT, "5栋2单元从早上开始就没电了，冰箱都停了", HOUSEHOLD)
    ack, = to_room(sent, HOUSEHOLD)
    assert ack.text.startswith("已登记工单 T1") and "拨打" not in ack.text
