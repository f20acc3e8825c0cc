"""Words that answer without asking anything: a notice's 收到 and the closings of a conversation
(谢谢, 好的, 👍). Pure text rules, used by notices (a receipt), the 1:1 hello (no answer needed) and the
where-do-you-live question (no answer given)."""
from __future__ import annotations

import re

_ACK = re.compile(r"^(?:好的?|嗯|ok)?(?:已|己)?(?:收到|收悉|已阅)(?:了|啦|啊|谢谢|好的|收到|明白|马上落实|会落实)*$",
                  re.IGNORECASE)
_NOISE = re.compile(r"[\s\W_]+|[\U0001F000-\U0001FAFF\u2600-\u27BF]", re.UNICODE)
_QUOTED_NOTICE = re.compile(r"【通知\s*(N\d+)】")


def is_acknowledgement(text: str) -> bool:
    """收到 / 已收到 / 收到了 / 好的收到 … (with punctuation and emoji), or a quote of a notice."""
    if _QUOTED_NOTICE.search(text) and "收到" in text:
        return True
    body = re.sub(r"^(?:@[^\s\u2005]+[\s\u2005]+)+", "", text.strip())
    return bool(_ACK.match(_NOISE.sub("", body))) if len(body) <= 30 else False


# Closing words that need no answer (after 已登记工单 T1 a resident says 谢谢): a reply would restart the chat.
_CLOSINGS = frozenset({
    "好", "好的", "好滴", "好嘞", "嗯", "嗯嗯", "哦", "噢", "哦哦", "ok", "okay", "谢谢", "多谢", "感谢", "谢了",
    "谢谢你", "谢谢您", "明白", "明白了", "知道了", "了解", "晓得了", "辛苦了", "辛苦", "拜拜", "再见",
})
_THANKS_EMOJI = re.compile(r"^(?:[👍👌🙏🤝✌\U0001F3FB-\U0001F3FF\uFE0F]|\[(?:强|OK|抱拳|握手|胜利|合十|好的|谢谢)\])+$")
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def is_closing(text: str) -> bool:
    """收到, 谢谢, 好的，谢谢！, 👍 …: acknowledgements that end a conversation."""
    body = text.strip()
    if is_acknowledgement(body) or _THANKS_EMOJI.match(body.replace(" ", "")):
        return True
    rest = _PUNCTUATION.sub("", body).lower()
    if not rest or len(rest) > 20:
        return False
    while rest:       # made only of closing words: 好的谢谢, 嗯嗯辛苦了
        word = next((w for w in sorted(_CLOSINGS, key=len, reverse=True) if rest.startswith(w)), None)
        if word is None:
            return False
        rest = rest[len(word):].lstrip("啊呀哈啦哦")
    return True
