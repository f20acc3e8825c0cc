"""WeCom template cards: which outgoing messages become a card with buttons, and which typed command a
button click stands for. A click is dispatched as that command, typed by the clicker in that chat, so
every button does exactly what the command does (same permissions, same domain service, same reply).

The cards are recognised by the typed command each message already tells people to send:
- a new ticket's grid alert (`【新工单 T12…】 … #受理 T12`) gets a 受理 button → `#受理 T12`;
- the rating request (`请评价：#评价 T12 满意 / 基本满意 / 不满意`) gets three buttons → `#评价 T12 满意` …;
- a notice (`【通知 N3】 … 回复“收到”`) and its receipt reminder get a 收到 button → `收到`.
Button keys may only hold letters, digits and `_-@` (at most 128 bytes), hence the small key codes.
"""
from __future__ import annotations

import re
import uuid

from bot.transport import Outgoing

RATINGS = ("满意", "基本满意", "不满意")

_NEW_TICKET = re.compile(r"^【新工单 (T\d+)[｜】]")
_ACCEPT = re.compile(r"#受理 (T\d+)")
_RATE = re.compile(r"请评价：#评价 (T\d+) 满意 / 基本满意 / 不满意")
_NOTICE = re.compile(r"^(【通知 N\d+】|【回执提醒】)")
_HEAD = re.compile(r"^【([^】]{1,40})】")

_KEY_ACCEPT = re.compile(r"^accept-(T\d{1,12})$")
_KEY_RATE = re.compile(r"^rate-(T\d{1,12})-([123])$")
_KEY_ACK = "ack"


def buttons_for(text: str) -> list[tuple[str, str]]:
    """The (label, key) buttons a message gets; [] when it stays plain text."""
    new_ticket, accept = _NEW_TICKET.match(text), _ACCEPT.search(text)
    if new_ticket and accept and accept.group(1) == new_ticket.group(1):
        return [("受理", f"accept-{accept.group(1)}")]
    rate = _RATE.search(text)
    if rate:
        return [(label, f"rate-{rate.group(1)}-{i}") for i, label in enumerate(RATINGS, 1)]
    if _NOTICE.match(text) and "收到" in text:
        return [("收到", _KEY_ACK)]
    return []


def command_for(key: str) -> str | None:
    """The typed command a button key stands for; None for a key this bot never set."""
    if key == _KEY_ACK:
        return "收到"
    found = _KEY_ACCEPT.match(key)
    if found:
        return f"#受理 {found.group(1)}"
    found = _KEY_RATE.match(key)
    if found:
        return f"#评价 {found.group(1)} {RATINGS[int(found.group(2)) - 1]}"
    return None


def markdown_body(text: str) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": markdown_safe(text)}}


def markdown_safe(text: str) -> str:
    """Plain text that WeCom's markdown shows as written: a masked number's `****` would turn bold, a
    line starting with `#` or `>` into a heading or quote."""
    text = text.replace("*", "＊").replace("`", "｀")
    return re.sub(r"(?m)^([#>])", r"\\\1", text)


def body_for(out: Outgoing) -> dict:
    """What aibot_send_msg carries for `out`: a button card where one shortens the loop, else markdown."""
    buttons = buttons_for(out.text)
    if not buttons:
        return markdown_body(out.text)
    head = _HEAD.match(out.text)
    title = head.group(1) if head else out.text.split("\n", 1)[0][:26]
    rest = out.text[head.end():].lstrip("\n") if head else out.text
    return {"msgtype": "template_card", "template_card": {
        "card_type": "button_interaction",
        "main_title": {"title": title},
        "sub_title_text": rest,
        "button_list": [{"text": label, "style": 1, "key": key} for label, key in buttons],
        # Unique per card (WeCom refuses a repeated task_id); only letters, digits and _-@.
        "task_id": f"gb-{uuid.uuid4().hex}",
    }}
