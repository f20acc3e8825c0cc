"""Masking of phone and ID numbers (issue 13): every way people write them, on `mask_private` and on
every path a resident's words take to other rooms — grid alert, department dispatch, the urgent county
alert, escalation, #查询 with and without a number, the #办结 note, the 不满意 comment. And the
look-alikes that must stay as written: ticket numbers, dates, times, amounts, house and emergency numbers."""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

import pytest

from bot import privacy
from bot.privacy import mask_private
from nlp.regexcheck import check_regex
from tests.harness import at, to_room

HOUSEHOLD = "5栋王建国中心户邻里群"
GRID = "城南社区第3网格群"
COMMUNITY = "城南社区党组织工作群"
COUNTY = "遂川县红网格指挥中心"
POWER = "县供电公司工单群"
FIRE = "县消防救援大队工单群"
RESIDENT = "wxid_res_zhang"
LIUFANG = "wxid_liufang"
HU = "wxid_cn_zhuren"

MOBILE, LANDLINE, ID_CARD, OLD_ID = "7261", "6312", "19850617", "850617"

# (as written, the digits that must never reach another room, the masked form)
FORMS = [
    ("13972615843", MOBILE, "139****5843"),
    ("139 7261 5843", MOBILE, "139****5843"),
    ("139-7261-5843", MOBILE, "139****5843"),
    ("139.7261.5843", MOBILE, "139****5843"),
    ("139 - 7261 - 5843", MOBILE, "139****5843"),
    ("１３９７２６１５８４３", MOBILE, "139****5843"),
    ("１３９－７２６１－５８４３", MOBILE, "139****5843"),
    ("139７２６１5843", MOBILE, "139****5843"),
    ("+8613972615843", MOBILE, "139****5843"),
    ("＋８６１３９７２６１５８４３", MOBILE, "139****5843"),
    ("+86-139-7261-5843", MOBILE, "139****5843"),
    ("+86 139 7261 5843", MOBILE, "139****5843"),
    ("(+86)13972615843", MOBILE, "139****5843"),
    ("008613972615843", MOBILE, "139****5843"),
    ("0086 139 7261 5843", MOBILE, "139****5843"),
    ("86 139 7261 5843", MOBILE, "139****5843"),
    ("8613972615843", MOBILE, "139****5843"),
    ("电话13972615843", MOBILE, "电话139****5843"),
    ("手机：139 7261 5843", MOBILE, "手机：139****5843"),
    ("tel:13972615843", MOBILE, "tel:139****5843"),
    ("0796-6312345", LANDLINE, "0796-****345"),
    ("0796 631 2345", LANDLINE, "0796-****345"),
    ("07966312345", LANDLINE, "0796-****345"),
    ("(0796)6312345", LANDLINE, "0796-****345"),
    ("（0796）6312345", LANDLINE, "0796-****345"),
    ("０７９６－６３１２３４５", LANDLINE, "0796-****345"),
    ("+86 796 6312345", LANDLINE, "0796-****345"),
    ("010-63128888", LANDLINE, "010-****8888"),
    ("座机6312345", LANDLINE, "座机****345"),
    ("36242419850617432X", ID_CARD, "362424********432X"),
    ("362424198506174321", ID_CARD, "362424********4321"),
    ("36242419850617432x", ID_CARD, "362424********432X"),
    ("36242419850617432Ｘ", ID_CARD, "362424********432X"),
    ("３６２４２４１９８５０６１７４３２Ｘ", ID_CARD, "362424********432X"),
    ("362424 19850617 432X", ID_CARD, "362424********432X"),
    ("362424-1985-0617-432X", ID_CARD, "362424********432X"),
    ("3624 2419 8506 1743 2X", ID_CARD, "362424********432X"),
    ("ID36242419850617432X", ID_CARD, "ID362424********432X"),
    ("身份证号362424198506174321", ID_CARD, "身份证号362424********4321"),
    ("362424850617432", OLD_ID, "362424******432"),
]

LOOK_ALIKES = [
    "工单 T12 已受理", "T1234 和 T5678",
    "2026-12-04", "2026-12-04 09:30", "2026/12/04", "2026.12.04", "2026年12月4日 09:30", "12月4日18:00前",
    "3栋2单元501", "幸福小区5栋1402室", "请立即拨打110", "火警119、急救120", "市民热线12345", "投诉12315",
    "0796-12345", "共86户，其中13户独居", "每户补贴5000元", "合计¥1,380.50", "1380.50元", "约20000人",
    "150 200 300 40", "100 200 300 400 500 600", "IP 192.168.1.100", "订单号2026120413972615843001",
    "尾号5843", "13972", "第3网格", "N12 回执",
]


def leaks(text: str, secret: str) -> bool:
    """Whether the digits show, whatever the width or separators they were written with."""
    flat = re.sub(r"[\s\-.()（）·]", "", unicodedata.normalize("NFKC", text))
    return secret in flat


@pytest.mark.parametrize("written, secret, masked", FORMS)
def test_every_form_is_masked(written, secret, masked):
    assert mask_private(written) == masked
    # in the middle of Chinese text with no spaces, the rest kept as written
    assert mask_private(f"楼下水管爆了请联系{written}谢谢！") == f"楼下水管爆了请联系{masked}谢谢！"
    assert not leaks(mask_private(f"（{written}）"), secret)


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_stay_as_written(text):
    assert mask_private(text) == text


def test_several_numbers_in_one_message_and_mixed_with_look_alikes():
    text = ("T12：张阿姨13972615843、李叔 138-5126-9043，座机0796-6312345，身份证36242419850617432X，"
            "2026-12-04 09:30前，3栋2单元501，急事拨110")
    assert mask_private(text) == ("T12：张阿姨139****5843、李叔 138****9043，座机0796-****345，身份证362424********432X，"
                                  "2026-12-04 09:30前，3栋2单元501，急事拨110")
    assert mask_private("2026-12-04 13972615843") == "2026-12-04 139****5843"
    assert mask_private("5栋501 13972615843") == "5栋501 139****5843"


def test_a_number_cut_short_keeps_only_its_first_digits():
    assert mask_private("请联系139 7261 58…") == "请联系139****…"
    assert mask_private("请联系1397…") == "请联系139****…"
    assert mask_private("请联系362424-1985-0617-…") == "请联系362****-…"
    assert mask_private("共12…") == "共12…"


def test_patterns_are_linear():
    for pattern in (privacy._RUN, privacy._GROUP, privacy._PHONE_WORD, privacy._CUT_AFTER):
        check_regex(pattern.pattern)
    # and a long message of digits and separators is quick to scan (a quadratic scan would not be)
    for hostile in ("1 " * 20000, "1-" * 20000, "13972615843 " * 3000, "(+" * 20000, "1X" * 20000):
        assert len(mask_private(hostile)) >= len(hostile) // 2


@pytest.mark.parametrize("written, secret, masked", FORMS)
async def test_no_relay_path_carries_the_number(harness, written, secret, masked):
    sent = []
    # A report that quotes the number first: the #查询 list shows only a ticket's first 20 characters.
    sent += await harness.say(RESIDENT, f"请联系{written}，5栋2单元从早上开始就没电了，冰箱都停了", HOUSEHOLD)
    ack, = to_room(sent, HOUSEHOLD)
    assert "T1" in ack.text                          # the resident's own acknowledgement still reads
    alert, = to_room(sent, GRID)
    dispatch, = to_room(sent, POWER)
    assert masked in alert.text and masked in dispatch.text

    urgent = await harness.say(RESIDENT, f"5栋楼下着火了，浓烟很大，快来人！电话{written}", HOUSEHOLD)
    sent += urgent
    county, = to_room(urgent, COUNTY)
    assert "T2" in county.text and "紧急" in county.text and masked in county.text

    # Past both accept deadlines (10 minutes urgent, 4 hours normal): both climb to the community.
    later = await harness.tick(harness.clock.now() + timedelta(hours=4, minutes=30))
    sent += later
    escalations = [o for o in to_room(later, COMMUNITY) if "逐级转报" in o.text]
    assert {no for no in ("T1", "T2") if any(no in o.text for o in escalations)} == {"T1", "T2"}

    detail, = await harness.say(LIUFANG, "#查询 T1", GRID)
    assert "工单 T1" in detail.text and masked in detail.text
    own, = await harness.say(RESIDENT, "#查询", HOUSEHOLD)
    assert "T1" in own.text and "T2" in own.text
    sent += [detail, own]

    resolved = await harness.say(LIUFANG, f"#办结 T1 已恢复供电，有问题打{written}", GRID)
    rate_request, = to_room(resolved, HOUSEHOLD)
    assert "#评价 T1" in rate_request.text and masked in rate_request.text
    reopened = await harness.say(RESIDENT, f"#评价 T1 不满意 还是没电，回电{written}", HOUSEHOLD)
    grid_again, = to_room(reopened, GRID)
    assert "不满意" in grid_again.text and masked in grid_again.text
    history, = await harness.say(LIUFANG, "#查询 T1", GRID)
    sent += resolved + reopened + [history]

    leaked = [(o.room_topic or o.to, o.text) for o in sent if leaks(o.text, secret)]
    assert leaked == []
    # the database keeps what the resident wrote
    assert written in harness.ticket("T1")["text"]


async def test_staff_notice_keeps_its_office_number_and_a_ticket_never_does(harness):
    """An admin's #通知 is sent as written (its hotline is meant to be called); what quotes a resident
    is masked even when staff send it on."""
    sent = await harness.say(HU, "#通知 本周六上午停水检修，咨询电话0796-6312345，值班手机13972615843", COMMUNITY)
    notices = [o for o in sent if o.text.startswith("【通知 N1】")]
    assert notices and all("0796-6312345" in o.text and "13972615843" in o.text for o in notices)
    assert to_room(notices, GRID)

    sent = await harness.say(RESIDENT, "楼道里的水管爆了，水流得到处都是，我电话13972615843", HOUSEHOLD)
    assert to_room(sent, GRID) and not [o for o in sent if leaks(o.text, MOBILE)]
    # a #提醒 shares its kind with the ticket reminders, so it is masked too
    reply, = await harness.say(LIUFANG, "#提醒 30分钟后 回电13972615843", GRID)
    later = await harness.tick(harness.clock.now() + timedelta(hours=1))
    reminders = [o for o in later if o.text.startswith("⏰提醒")]
    assert reminders and "139****5843" in reminders[0].text
    assert not leaks(reply.text, MOBILE)


async def test_masking_holds_at_any_hour(new_db, classifier):
    """Late at night nothing changes but the timing: the urgent county alert is masked too."""
    from tests.harness import Harness

    night = Harness(new_db("night"), classifier, at(2026, 11, 28, 23, 30))     # a Saturday night
    sent = await night.say(RESIDENT, "5栋楼下着火了，浓烟很大，快来人！电话139 7261 5843", HOUSEHOLD)
    county, = to_room(sent, COUNTY)
    assert "139****5843" in county.text
    assert not [o for o in sent if leaks(o.text, MOBILE)]
