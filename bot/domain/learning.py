"""What the grid teaches the classifier (SPEC §6.5): corrections kept as labelled examples,
training on the bundled corpus plus them, and this database's own weights.

People who handle tickets already correct the bot: `#转派` names the right department,
`#不受理 … 不是问题` says a ticket was no problem, `#上报` of a message the bot ignored and
`#确认` of a 待确认 message say it was one, `#忽略` says an unsure message was not. Each is
recorded with its text; what it teaches is decided at training time, so a later correction of
the same ticket overrides an earlier one.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from bot.clock import Clock
from bot.errors import report_crash
from bot.storage.models import Correction, CountyWeights, Ticket

log = logging.getLogger("gridbot.learning")

# A county's correction counts as this many bundled examples: a new local word must be
# learnt from a handful of corrections against ~2,400 bundled messages. After three #转派 of
# 陂头 (a weir) to 自然资源, new messages with the word were routed there in 1 of 4 tries at
# weight 1, 2 of 4 at 5, 3 of 4 at 10 and 20 (the fourth names no problem at all); everyday
# messages (路灯坏了, 又停水了) kept their departments throughout.
CORRECTION_WEIGHT = 10.0
NOT_A_PROBLEM = "不是问题"          # the reason of a #不受理 that also marks a classifier mistake

TRANSFER, NOT_ISSUE, MISSED, CONFIRMED, DISMISSED = "transfer", "not_issue", "missed", "confirmed", "dismissed"
# A #上报 is anyone's word; it teaches only once staff have taken the ticket on.
_HANDLED = ("accepted", "resolved", "closed")


def record(s: Session, clock: Clock, kind: str, text: str, actor_id: str, ticket: Ticket | None = None,
           department: str | None = None) -> None:
    s.add(Correction(at=clock.now(), kind=kind, text=text, department=department,
                     ticket_id=ticket.id if ticket is not None else None, actor_id=actor_id))


def county_examples(s: Session) -> list[dict]:
    """The corrections as labelled records in the corpus's format (nlp/corpus), one per ticket or
    dropped message, weighted CORRECTION_WEIGHT."""
    latest: dict[object, Correction] = {}
    for c in s.exec(select(Correction).order_by(col(Correction.id))).all():
        latest[c.ticket_id if c.ticket_id is not None else ("message", c.id)] = c
    tickets = {t.id: t for t in s.exec(select(Ticket).where(
        col(Ticket.id).in_([c.ticket_id for c in latest.values() if c.ticket_id is not None]))).all()}
    out = []
    for c in latest.values():
        label = _label(c, tickets.get(c.ticket_id))
        if label is not None and c.text.strip():
            out.append({"id": f"county-{c.id}", "source": "county", "text": c.text, **label,
                        "urgency": None, "weight": CORRECTION_WEIGHT})
    return out


def _label(c: Correction, ticket: Ticket | None) -> dict | None:
    if c.kind in (NOT_ISSUE, DISMISSED):
        return {"is_issue": False, "department": None}
    if c.kind == TRANSFER and c.department:
        return {"is_issue": True, "department": c.department}
    if c.kind in (MISSED, CONFIRMED) and ticket is not None and ticket.department:
        if c.kind == MISSED and ticket.status not in _HANDLED:
            return None
        return {"is_issue": True, "department": ticket.department}
    return None


@dataclass(frozen=True)
class Trained:
    messages: int
    corrections: int


def train(engine, classifier, clock: Clock, corpus=None) -> Trained:
    """Learn weights from the bundled corpus plus this database's corrections and save them in the
    database. Reading and fitting happen outside any transaction (seconds); the save is one."""
    from nlp.train import CORPUS_DIR, read_corpus, train_table

    from bot.storage.db import session

    with session(engine) as s:
        county = county_examples(s)
    records = read_corpus(corpus or [CORPUS_DIR]) + county
    table = train_table(classifier, records)
    with session(engine) as s:
        row = s.get(CountyWeights, 1) or CountyWeights(id=1, trained_at=clock.now(), messages=0, corrections=0,
                                                       weights="")
        row.trained_at, row.messages, row.corrections, row.weights = clock.now(), len(records), len(county), table
        s.add(row)
        s.commit()
    return Trained(messages=len(records), corrections=len(county))


class CountyClassifier:
    """The classifier with this database's own weights once `gridbot train` saved them, else the
    bundled ones. `refresh` looks at the saved row's time (one small query) and reloads when it
    changed, so a running bot picks up new weights at its next sweep."""

    def __init__(self, base) -> None:
        self.base = base
        self.current = base
        self._trained_at: datetime | None = None
        self.checked = False

    def refresh(self, s: Session):
        from nlp import DEPARTMENTS
        from nlp.weights import WeightsError, parse_table

        trained_at = s.exec(select(CountyWeights.trained_at).where(CountyWeights.id == 1)).first()
        if self.checked and trained_at == self._trained_at:
            return self.current
        self.checked, self._trained_at = True, trained_at
        if trained_at is None:
            self.current = self.base
            return self.current
        row = s.get(CountyWeights, 1)
        try:
            self.current = self.base.with_weights(parse_table(row.weights, DEPARTMENTS, source="countyweights"))
        except (WeightsError, ValueError, TypeError) as exc:
            # A broken row must not take the bot down: it classifies with the bundled weights.
            report_crash(log, "this database's classifier weights (using the bundled ones)", exc)
            self.current = self.base
        return self.current
