"""The org tree in the database: importing an org file, and the lookups every rule needs
(which node a room belongs to, ancestors, the grid, who holds which role where)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

from sqlalchemy import or_
from sqlmodel import Session, col, delete, select

from bot.domain.calendar import WorkCalendar
from bot.domain.orgfile import LEVELS, OrgSpec, Sla, SlaRule, parse_duration
from bot.storage.db import ORG_IMPORT_LOCK, serialise
from bot.storage.models import DepartmentRoom, Membership, Node, OrgMeta



@dataclass(frozen=True)
class OrgSettings:
    county: str
    tz: ZoneInfo
    sla: Sla
    calendar: WorkCalendar


@dataclass(frozen=True)
class Room:
    """Where a message came from: a node's room, a department's room, or neither."""

    node: Node | None = None
    department: str | None = None


class NotImported(LookupError):
    pass


class OrgDirectory:
    def __init__(self, session: Session) -> None:
        self.s = session

    # ---- import ---------------------------------------------------------------------------
    def import_spec(self, spec: OrgSpec, now: datetime) -> dict[str, int]:
        """Create or sync the tree from an org file. Nodes are matched by path, so ticket history
        survives a re-import; nodes gone from the file are deactivated, memberships replaced."""
        # Several processes may import at once (`run --org` starting side by side): one at a time,
        # else both find no settings row and both insert one.
        serialise(self.s.connection(), ORG_IMPORT_LOCK)
        meta = self.s.get(OrgMeta, 1) or OrgMeta(id=1, county=spec.county, imported_at=now)
        meta.county = spec.county
        meta.timezone = spec.timezone
        meta.sla = json.dumps({
            "urgent": {"accept": str(spec.sla.urgent.accept), "resolve": str(spec.sla.urgent.resolve)},
            "normal": {"accept": str(spec.sla.normal.accept), "resolve": str(spec.sla.normal.resolve)},
        })
        meta.holidays = json.dumps([d.isoformat() for d in spec.holidays])
        meta.workdays = json.dumps([d.isoformat() for d in spec.workdays])
        meta.imported_at = now
        self.s.add(meta)

        existing = {n.path: n for n in self.s.exec(select(Node)).all()}
        self.s.exec(delete(Membership))
        seen: set[str] = set()
        members = 0

        def visit(spec_node, parent: Node | None) -> None:
            nonlocal members
            path = spec_node.name if parent is None else f"{parent.path}/{spec_node.name}"
            node = existing.get(path) or Node(path=path, name=spec_node.name, level=spec_node.level, depth=0)
            if node.room_topic != spec_node.room:
                node.room_id = None       # a new topic needs a new binding
            node.level = spec_node.level
            node.depth = LEVELS.index(spec_node.level)
            node.parent_id = parent.id if parent else None
            node.room_topic = spec_node.room
            node.active = True
            self.s.add(node)
            self.s.flush()
            seen.add(path)
            for position, m in enumerate(spec_node.members):
                self.s.add(Membership(contact_id=m.id, name=m.name, role=m.role, node_id=node.id,
                                      position=position))
                members += 1
            for child in spec_node.children:
                visit(child, node)

        visit(spec.root, None)
        for path, node in existing.items():
            if path not in seen and node.active:
                node.active = False
                self.s.add(node)

        self.s.exec(delete(DepartmentRoom))
        for dept in spec.departments:
            self.s.add(DepartmentRoom(code=dept.code, room_topic=dept.room))
            for position, m in enumerate(dept.members):
                self.s.add(Membership(contact_id=m.id, name=m.name, role=m.role, department=dept.code,
                                      position=position))
                members += 1
        self.s.flush()
        return {"nodes": len(seen), "departments": len(spec.departments), "members": members}

    # ---- settings -------------------------------------------------------------------------
    @cached_property
    def settings(self) -> OrgSettings:
        meta = self.s.get(OrgMeta, 1)
        if meta is None:
            raise NotImported("no org imported")
        raw = json.loads(meta.sla)

        def rule(kind: str) -> SlaRule:
            return SlaRule(accept=parse_duration(raw[kind]["accept"]),
                           resolve=parse_duration(raw[kind]["resolve"]))

        calendar = WorkCalendar(
            holidays=[date.fromisoformat(d) for d in json.loads(meta.holidays)],
            workdays=[date.fromisoformat(d) for d in json.loads(meta.workdays)],
        )
        return OrgSettings(county=meta.county, tz=ZoneInfo(meta.timezone),
                           sla=Sla(urgent=rule("urgent"), normal=rule("normal")), calendar=calendar)

    def is_imported(self) -> bool:
        return self.s.get(OrgMeta, 1) is not None

    # ---- rooms ----------------------------------------------------------------------------
    def room(self, room_id: str | None, topic: str | None) -> Room:
        if room_id is None and topic is None:
            return Room()
        node = self._find_bound(Node, room_id, topic)
        if node is not None:
            return Room(node=node)
        dept = self._find_bound(DepartmentRoom, room_id, topic)
        if dept is not None:
            return Room(department=dept.code)
        return Room()

    def _find_bound(self, table, room_id: str | None, topic: str | None):
        # A stored binding (room id) wins over the topic, so a renamed group keeps its node.
        conds = []
        if room_id is not None:
            conds.append(table.room_id == room_id)
        if topic is not None:
            conds.append((table.room_topic == topic) & (table.room_id.is_(None)))
        query = select(table).where(or_(*conds))
        if table is Node:
            query = query.where(Node.active)
        return self.s.exec(query).first()

    def bind_room(self, room_id: str, topic: str | None = None, node_path: str | None = None,
                  account: str | None = None, department: str | None = None) -> Node | DepartmentRoom | None:
        """Bind a transport room id to a node (by path), a department's room (by code: WeCom groups have
        no topic to match) or, without either, to the node or department whose room topic matches. The
        stored id keeps the binding when the group is renamed; the account (several bot accounts on one
        database) is the one whose process sends there."""
        target: Node | DepartmentRoom | None
        if department is not None:
            target = self.s.get(DepartmentRoom, department)
        elif node_path is not None:
            target = self.s.exec(select(Node).where(Node.path == node_path, Node.active)).first()
        else:
            target = (self.s.exec(select(Node).where(Node.room_topic == topic, Node.active)).first()
                      or self.s.exec(select(DepartmentRoom).where(DepartmentRoom.room_topic == topic)).first())
        if target is None:
            return None
        for table in (Node, DepartmentRoom):      # one room, one binding
            for other in self.s.exec(select(table).where(table.room_id == room_id)).all():
                if other is not target:
                    other.room_id = None
                    self.s.add(other)
        target.room_id = room_id
        target.account = account
        self.s.add(target)
        self.s.flush()
        return target

    def unbound_rooms(self) -> list[str]:
        """Room topics of the org that no transport room id is bound to yet."""
        nodes = self.s.exec(select(Node.room_topic).where(Node.active, Node.room_topic.is_not(None),
                                                          Node.room_id.is_(None))).all()
        depts = self.s.exec(select(DepartmentRoom.room_topic).where(DepartmentRoom.room_topic.is_not(None),
                                                                    DepartmentRoom.room_id.is_(None))).all()
        return sorted([*nodes, *depts])

    def department_room(self, code: str) -> DepartmentRoom | None:
        return self.s.get(DepartmentRoom, code)

    def department_rooms(self) -> list[DepartmentRoom]:
        return list(self.s.exec(select(DepartmentRoom).order_by(DepartmentRoom.code)).all())

    # ---- tree -----------------------------------------------------------------------------
    def node(self, node_id: int) -> Node:
        node = self.s.get(Node, node_id)
        if node is None:
            raise LookupError(node_id)
        return node

    def root(self) -> Node:
        node = self.s.exec(select(Node).where(Node.parent_id.is_(None), Node.active)).first()
        if node is None:
            raise NotImported("no org imported")
        return node

    def node_by_path(self, path: str) -> Node | None:
        """An active node by its path; the county's name at the front may be left out."""
        root = self.root()
        for candidate in (path, f"{root.path}/{path}"):
            node = self.s.exec(select(Node).where(Node.path == candidate, Node.active)).first()
            if node is not None:
                return node
        return None

    def example_path(self) -> str:
        """A real path three levels deep, to show in a usage hint."""
        node = self.s.exec(select(Node).where(Node.active, Node.depth == 2).order_by(Node.path)).first()
        return node.path if node else self.root().path

    def ancestors(self, node: Node) -> list[Node]:
        """The node's ancestors, nearest first (not the node itself)."""
        parts = node.path.split("/")
        prefixes = ["/".join(parts[:i]) for i in range(1, len(parts))]
        if not prefixes:
            return []
        found = self.s.exec(select(Node).where(col(Node.path).in_(prefixes))).all()
        return sorted(found, key=lambda n: -n.depth)

    def grid_of(self, node: Node) -> Node | None:
        if node.level == "grid":
            return node
        return next((a for a in self.ancestors(node) if a.level == "grid"), None)

    @staticmethod
    def contains(ancestor: Node, node: Node) -> bool:
        return node.path == ancestor.path or node.path.startswith(ancestor.path + "/")

    @staticmethod
    def in_subtree(node: Node):
        """A query condition: Node is `node` or below it (by path prefix, with LIKE wildcards escaped)."""
        escaped = node.path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return or_(Node.path == node.path, col(Node.path).like(escaped + "/%", escape="\\"))

    def descendants(self, node: Node, max_depth: int | None = None) -> list[Node]:
        """Active nodes strictly below `node`, top-down (by level, then path)."""
        query = select(Node).where(self.in_subtree(node), Node.id != node.id, Node.active)
        if max_depth is not None:
            query = query.where(Node.depth <= max_depth)
        return list(self.s.exec(query.order_by(Node.depth, Node.path)).all())

    def nodes(self) -> list[Node]:
        return list(self.s.exec(select(Node).where(Node.active).order_by(Node.path)).all())

    # ---- people ---------------------------------------------------------------------------
    def members_at(self, node: Node, role: str | None = None) -> list[Membership]:
        query = select(Membership).where(Membership.node_id == node.id)
        if role is not None:
            query = query.where(Membership.role == role)
        return list(self.s.exec(query.order_by(Membership.position)).all())

    def memberships(self, contact_id: str) -> list[Membership]:
        return list(self.s.exec(select(Membership).where(Membership.contact_id == contact_id)).all())

    def name_of(self, contact_id: str | None) -> str:
        if contact_id is None:
            return ""
        m = self.s.exec(select(Membership).where(Membership.contact_id == contact_id)).first()
        return m.name if m else contact_id

    def relayed_name(self, contact_id: str, shown: str = "") -> str:
        """The one rule for the name the bot relays for a person: the org file's name for a known id;
        anyone else is marked as a resident with the name WeChat shows (居民「指挥中心陈主任」), so a
        display name can never pass for a member of the org. A resident's contact id is never shown."""
        m = self.s.exec(select(Membership).where(Membership.contact_id == contact_id)).first()
        if m is not None:
            return m.name
        shown = shown.replace("「", "").replace("」", "").strip()
        return f"居民「{shown}」" if shown and shown != contact_id else "居民"

    def nearest_room(self, node: Node) -> Node | None:
        """The node itself or its nearest ancestor that has a group."""
        return next((n for n in [node, *self.ancestors(node)] if n.address is not None), None)

    def home_node(self, contact_id: str) -> Node | None:
        """The deepest node where the contact holds a role (for 1:1 reports)."""
        nodes = [self.s.get(Node, m.node_id) for m in self.memberships(contact_id) if m.node_id]
        nodes = [n for n in nodes if n is not None and n.active]
        return max(nodes, key=lambda n: n.depth) if nodes else None

    def holds_role(self, contact_id: str, roles: frozenset[str], over: Node) -> bool:
        """Whether the contact holds one of `roles` at `over` or one of its ancestors."""
        for m in self.memberships(contact_id):
            if m.role in roles and m.node_id is not None:
                node = self.s.get(Node, m.node_id)
                if node is not None and node.active and self.contains(node, over):
                    return True
        return False

    def is_liaison(self, contact_id: str, department: str | None) -> bool:
        return department is not None and any(
            m.role == "liaison" and m.department == department for m in self.memberships(contact_id)
        )

    def role_names(self, contact_id: str) -> set[str]:
        return {m.role for m in self.memberships(contact_id)} or {"resident"}

