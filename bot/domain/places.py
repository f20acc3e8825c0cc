"""Nothing stranded: a 1:1 report from someone not in the org has no node of its own, so the bot asks
once where the person lives, matches the answer against the org's place names (城南社区, 城南,
城南社区第3网格, 上坪村, 雩田镇 …) and moves the ticket there; without a match it is the county's."""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.domain import texts
from nlp.courtesy import is_closing
from bot.storage.models import Node, Ticket
from bot.transport import Address, Outgoing
from sqlmodel import col, select

if TYPE_CHECKING:
    from bot.domain.tickets import Actor, TicketService

ANSWER_WINDOW = timedelta(hours=24)    # a later 1:1 message within this is read as the answer
MAX_ASKS = 2                           # the question, and once more after an answer that matched nothing

# What a place name may end with, longest first: 城南社区 is also said 城南, 雩田镇 雩田.
_LEVEL_SUFFIXES = ("城市社区党工委", "街道办事处", "党工委", "街道", "社区", "村委会", "行政村", "村", "镇", "乡")
_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_NUMBER = re.compile(r"[零一二两三四五六七八九十]+")
# What is left of a name that was only its parent's name and a level (新坑村/新坑网格 → 网格) names nothing.
_LEVEL_WORDS = {"网格", "小组", "村组", "社区", "村", "镇", "乡", "街道", "中心户", "楼栋", "党支部", "党小组"}
# A name that says only a number and a level (第3网格, 4组) names a place only with its parents or
# when the org has one such place.
_GENERIC = re.compile(r"^第?\d+(?:网格|组|小组|栋|号楼)$")


def normalize(text: str) -> str:
    """Full-width to half-width, no spaces, Chinese numerals as digits (第三网格 → 第3网格)."""
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))
    return _CN_NUMBER.sub(lambda m: _cn_digits(m.group(0)), text)


def _cn_digits(word: str) -> str:
    """三 → 3, 十二 → 12, 二十 → 20, 一零五 → 105; a run that is no number stays as written."""
    if "十" not in word:
        return "".join(str(_DIGITS[c]) for c in word)
    tens, _, ones = word.partition("十")
    if len(tens) > 1 or len(ones) > 1 or "十" in ones:
        return word
    return str((_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[ones] if ones else 0))


def aliases(node: Node, parent: Node | None) -> set[str]:
    """The ways people name a node: its name, without its level's endings (泉江镇城市社区党工委 → 泉江镇
    → 泉江), without its parent's name in front (上坪第1网格 → 第1网格), without 第 (第3网格 → 3网格)."""
    name = normalize(node.name)
    found = {name}
    short = name
    while True:
        suffix = next((x for x in _LEVEL_SUFFIXES if short.endswith(x) and len(short) - len(x) >= 2), None)
        if suffix is None:
            break
        short = short[: -len(suffix)]
        found.add(short)
    if parent is not None:
        for prefix in aliases(parent, None):
            if len(prefix) >= 2 and name.startswith(prefix):
                found.add(name[len(prefix):])
    found |= {a[1:] for a in found if re.match(r"^第\d", a)}
    return {a for a in found if len(a) >= 2 and a not in _LEVEL_WORDS}


class PlaceMatcher:
    """The org's active nodes below the county by the names people use for them."""

    def __init__(self, nodes: list[Node]) -> None:
        by_id = {n.id: n for n in nodes}
        self._paths = {n.id: n.path for n in nodes}
        self._names: list[tuple[str, Node, bool]] = []
        counts: dict[str, int] = {}
        for node in nodes:
            if node.parent_id is None:
                continue
            for alias in aliases(node, by_id.get(node.parent_id)):
                self._names.append((alias, node, bool(_GENERIC.match(alias))))
                counts[alias] = counts.get(alias, 0) + 1
        self._unique = {a for a, n in counts.items() if n == 1}

    def match(self, answer: str) -> Node | None:
        """The one node the answer names, or None when it names none or several alike."""
        text = normalize(answer)
        hits = [(alias, node, generic) for alias, node, generic in self._names if _occurs(alias, text)]
        if not hits:
            return None
        nodes = {node.id: node for _, node, _ in hits}

        def contains(a: Node, b: Node) -> bool:
            return b.path == a.path or b.path.startswith(a.path + "/")

        def support(node: Node) -> int:
            return sum(1 for other in nodes.values() if contains(other, node))

        def stands(node: Node) -> bool:
            # A generic name (第3网格) counts when a parent is also named or the org has only one.
            own = [(alias, generic) for alias, n, generic in hits if n.id == node.id]
            if any(not generic for _, generic in own):
                return True
            if any(alias in self._unique for alias, _ in own):
                return True
            return support(node) > 1

        candidates = [n for n in nodes.values() if stands(n)]
        if not candidates:
            return None
        best = max(support(n) for n in candidates)
        top = [n for n in candidates if support(n) == best]
        deepest = max(n.depth for n in top)
        top = [n for n in top if n.depth == deepest]
        return top[0] if len(top) == 1 else None


def _occurs(alias: str, text: str) -> bool:
    """The alias is in the text, and a number in it is the whole number (3网格 is not in 13网格)."""
    start = text.find(alias)
    while start >= 0:
        if not (alias[0].isdigit() and start > 0 and text[start - 1].isdigit()):
            return True
        start = text.find(alias, start + 1)
    return False


class PlaceQuestions:
    """Asking a stranded ticket's reporter where they live, and reading the answer."""

    def __init__(self, tickets: TicketService) -> None:
        self.tickets = tickets

    def examples(self) -> tuple[str, str]:
        """A community and a grid (with its community) of this org, to show how to answer."""
        nodes = self.tickets.org.nodes()
        by_id = {n.id: n for n in nodes}
        grid = next((n for n in nodes if n.level == "grid"), None)
        parent = by_id.get(grid.parent_id) if grid is not None else None
        grid_name = ""
        if grid is not None:
            grid_name = grid.name if parent is None or grid.name.startswith(parent.name[:2]) \
                else f"{parent.name}{grid.name}"
        communities = [n.name for n in nodes if n.level == "community"]
        community = next((c for c in communities if parent is None or c != parent.name),
                         communities[0] if communities else "")
        return community, grid_name

    def ask(self, t: Ticket) -> None:
        """The follow-up question, once, after the acknowledgement; a reporter already asked (two
        problems in one forwarded record) is not asked again: one answer places both."""
        waiting = [w for w in self.pending(t.reporter_id) if w.id != t.id]
        t.place_asked_at = self.tickets.clock.now()
        t.place_asks = waiting[0].place_asks if waiting else 1
        self.tickets.s.add(t)
        if not waiting:
            self.tickets.outbox.post(Outgoing.at(t.source, texts.where_do_you_live(t, *self.examples())))

    def pending(self, contact_id: str) -> list[Ticket]:
        """The reporter's tickets still waiting for their answer, latest first."""
        since = self.tickets.clock.now() - ANSWER_WINDOW
        return list(self.tickets.s.exec(
            select(Ticket).where(Ticket.reporter_id == contact_id, col(Ticket.place_asked_at) >= since,
                                 col(Ticket.status).in_(("open", "accepted")), Ticket.grid_id.is_(None))
            .order_by(col(Ticket.id).desc())).all())

    def answer(self, actor: Actor, where: Address, text: str, new_problem: bool) -> bool:
        """Read a 1:1 message as the answer to an open question. False when there is no question
        open or the message is rather a new report (it then goes on as one)."""
        waiting = self.pending(actor.contact_id)
        if not waiting:
            return False
        svc = self.tickets
        t = waiting[0]
        node = PlaceMatcher(svc.org.nodes()).match(text)
        if node is None:
            if new_problem:
                return False
            if is_closing(text):          # a thank-you or an OK after the question is no answer, and needs none
                return True
            again = t.place_asks < MAX_ASKS
            for w in waiting:
                w.place_asks += 1
                w.place_asked_at = svc.clock.now() if again else None
                svc.s.add(w)
            if again:
                svc.outbox.post(Outgoing.at(where, texts.place_not_found(t, text, *self.examples())))
            else:
                svc.outbox.post(Outgoing.at(where, texts.place_left_to_county(t, svc.org.root().name)))
            return True
        for w in reversed(waiting):
            w.place_asked_at = None
            self.move(w, node, actor)
        return True

    def move(self, t: Ticket, node: Node, actor: Actor) -> None:
        """The reporter said where: the ticket belongs to that node and its grid, told as a new one
        there; the county room and the department, told of it before, learn who has it now."""
        svc = self.tickets
        old = svc.org.node(t.node_id)
        grid = svc.org.grid_of(node)
        assignee = svc.assignee_for(grid, t.department)
        t.node_id = node.id
        t.grid_id = grid.id if grid else None
        t.assignee_id = assignee[0] if assignee else None
        svc._event(t, actor, "moved", node.path)
        svc.timers.plan(t)
        assignee_name = assignee[1] if assignee else None
        svc.outbox.post(Outgoing.at(t.source, texts.place_found(t, node.path, assignee_name)))
        svc._alert_grid(t, node, grid, assignee_name)
        update = texts.ticket_moved(t, node.path, assignee_name)
        told = svc.org.nearest_room(old)
        if told is not None and told.address != t.source:
            svc.outbox.to_room(told, update)
        if t.department is not None and (room := svc.org.department_room(t.department)) is not None:
            svc.outbox.to_room(room, update)
