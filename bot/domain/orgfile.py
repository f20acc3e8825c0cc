"""Reads and validates the county's org file (SPEC §6.1) into plain frozen dataclasses.

The whole file is rejected on the first problem, with its 1-based line number and a
Chinese reason, so nothing is ever imported from a half-valid file. No database here.

Rules this module decides (beyond SPEC §6.1):
- A contact id appears once in the whole file: one person holds one role at one place
  (a role reaches the node's whole subtree, so list people at their highest node).
- Node members may be admin, grid_worker, police, central_household or resident;
  department members may only be liaison (a department has no subtree for an admin
  to reach; county admins already reach every ticket).
- Exactly one root node, at level county, named like `county:`. Each child is strictly
  deeper than its parent; skipping levels is allowed (a village without 村民小组 puts
  its 中心户 straight under the grid).
- Room topics are unique across nodes and departments; sibling names are unique;
  names cannot contain "/" because paths are names joined by "/".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from os import PathLike
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.domain.departments import DEPARTMENTS, find_department

LEVELS = ("county", "town", "community", "grid", "group", "household")  # depth = index
ROLES = ("admin", "grid_worker", "police", "liaison", "central_household", "resident")
NODE_ROLES = ("admin", "grid_worker", "police", "central_household", "resident")
DEPARTMENT_ROLES = ("liaison",)
DEFAULT_TIMEZONE = "Asia/Shanghai"

# Limits against hostile or runaway files: far above any real county (a large county
# has a few thousand grids), low enough to fail fast and clearly.
MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_NODES = 50_000
MAX_MEMBERS = 200_000
MAX_DURATION = timedelta(days=366)

DURATION_UNITS = ("m", "h", "d", "wd")
_UNIT_DELTA = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_DURATION_RE = re.compile(r"^\s*(\d{1,9})\s*(wd|m|h|d)\s*$")
_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


@dataclass(frozen=True, slots=True)
class Duration:
    amount: int
    unit: str  # one of DURATION_UNITS; "wd" = working days

    def to_timedelta(self) -> timedelta:
        """Fixed-length units only; working days need the calendar (ValueError for "wd")."""
        if self.unit not in _UNIT_DELTA:
            raise ValueError(f"{self} is in working days and has no fixed length")
        return self.amount * _UNIT_DELTA[self.unit]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True, slots=True)
class SlaRule:
    accept: Duration
    resolve: Duration


@dataclass(frozen=True, slots=True)
class Sla:
    urgent: SlaRule = SlaRule(Duration(10, "m"), Duration(2, "h"))
    normal: SlaRule = SlaRule(Duration(4, "h"), Duration(3, "wd"))


DEFAULT_SLA = Sla()


@dataclass(frozen=True, slots=True)
class MemberSpec:
    id: str
    name: str
    role: str


@dataclass(frozen=True, slots=True)
class DepartmentSpec:
    code: str
    room: str | None
    members: tuple[MemberSpec, ...]


@dataclass(frozen=True, slots=True)
class NodeSpec:
    name: str
    level: str
    room: str | None
    members: tuple[MemberSpec, ...]
    children: tuple["NodeSpec", ...]
    line: int  # 1-based line of the node in the org file

    @property
    def depth(self) -> int:
        return LEVELS.index(self.level)

    def walk(self, parent_path: str = "") -> Iterator[tuple[str, "NodeSpec"]]:
        """(path, node) pairs depth-first, parents before children; path = "遂川县/泉江镇/…"."""
        path = f"{parent_path}/{self.name}" if parent_path else self.name
        yield path, self
        for child in self.children:
            yield from child.walk(path)


@dataclass(frozen=True, slots=True)
class OrgSpec:
    county: str
    timezone: str
    sla: Sla
    holidays: tuple[date, ...]
    workdays: tuple[date, ...]
    departments: tuple[DepartmentSpec, ...]
    root: NodeSpec

    def walk(self) -> Iterator[tuple[str, NodeSpec]]:
        return self.root.walk()


class OrgFileError(ValueError):
    """A rejected org file: `reason` is the Chinese sentence shown to the admin."""

    def __init__(self, reason: str, line: int | None = None, source: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.source = source

    def __str__(self) -> str:
        where = self.source or ""
        if self.line is not None:
            where = f"{where} 第{self.line}行" if where else f"第{self.line}行"
        return f"{where}：{self.reason}" if where else self.reason


def parse_duration(s: str) -> Duration:
    """"10m", "4h", "2d", "3wd" → Duration; anything else raises OrgFileError."""
    match = _DURATION_RE.match(s) if isinstance(s, str) else None
    if not match:
        raise OrgFileError(f"无效的时限 \"{s}\"（格式如 10m、4h、2d、3wd：分钟、小时、天、工作日）")
    duration = Duration(int(match.group(1)), match.group(2))
    if duration.amount <= 0:
        raise OrgFileError(f"时限必须大于 0：\"{s}\"")
    length = timedelta(days=duration.amount) if duration.unit == "wd" else duration.to_timedelta()
    if length > MAX_DURATION:
        raise OrgFileError(f"时限过长：\"{s}\"（最多一年）")
    return duration


def load_org_file(path: str | PathLike[str]) -> OrgSpec:
    source = str(path)
    try:
        size = Path(path).stat().st_size
        if size > MAX_FILE_BYTES:
            raise OrgFileError(_too_big(size), source=source)
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise OrgFileError("文件不存在", source=source) from None
    except IsADirectoryError:
        raise OrgFileError("这是一个目录，不是组织架构文件", source=source) from None
    except OSError as exc:
        raise OrgFileError(f"无法读取文件（{exc.strerror or exc}）", source=source) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise OrgFileError("文件不是 UTF-8 编码，请另存为 UTF-8 后再导入", line, source) from None
    return parse_org(text, source)


def parse_org(text: str, source: str = "<org>") -> OrgSpec:
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_FILE_BYTES:
        raise OrgFileError(_too_big(size), source=source)
    try:
        return _Parser(source).parse(text)
    except RecursionError:
        raise OrgFileError("嵌套层数过深，文件结构异常", source=source) from None


def _too_big(size: int) -> str:
    return f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {MAX_FILE_BYTES // 1024 // 1024} MB）"


# ---------------------------------------------------------------------------
# The walk over PyYAML's composed node tree. Working on nodes rather than on
# safe_load's plain dicts is what gives every error its line number, and it lets
# us see duplicate keys, which safe_load silently drops.

_KIND = {ScalarNode: "单个值", SequenceNode: "列表", MappingNode: "映射（键: 值）"}
_NULL_TAG = "tag:yaml.org,2002:null"

_TOP_KEYS = ("county", "timezone", "sla", "holidays", "workdays", "departments", "nodes")
_DEPT_KEYS = ("code", "room", "members")
_NODE_KEYS = ("name", "level", "room", "members", "children")
_MEMBER_KEYS = ("id", "name", "role")
_SLA_KEYS = ("urgent", "normal")
_RULE_KEYS = ("accept", "resolve")

# PyYAML's problem texts (matched by prefix) and what they usually mean to a person
# editing the file by hand; the original text is kept in brackets.
_YAML_PROBLEMS = (
    ("found character '\\t' that cannot start any token", "不能用 Tab 缩进，请改用空格"),
    ("found a tab character", "不能用 Tab 缩进，请改用空格"),
    ("exceeded maximum nesting depth", "嵌套层数过深，文件结构异常"),
    ("mapping values are not allowed here", "此处不能出现「键: 值」（常见原因：缩进不对，或值里有未加引号的冒号）"),
    ("could not find expected ':'", "缺少冒号「:」"),
    ("but found another document", "文件只能有一个 YAML 文档，请删除多余的 ---"),
    ("found duplicate anchor", "重复的锚点"),
    ("found undefined alias", "引用了未定义的锚点"),
    ("expected <block end>", "缩进不一致"),
    ("found unexpected end of stream", "引号或括号没有闭合"),
)


# Composition only (no object is ever constructed), with the safe resolver; libyaml's
# C loader when present is about ten times faster on a county-sized file.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _line(node: Node) -> int:
    return node.start_mark.line + 1


@dataclass
class _Parser:
    source: str
    ids: dict[str, int] = field(default_factory=dict)      # contact id -> first line
    rooms: dict[str, int] = field(default_factory=dict)    # room topic -> first line
    node_count: int = 0
    member_count: int = 0

    def fail(self, reason: str, at: Node | int | None) -> OrgFileError:
        line = _line(at) if isinstance(at, Node) else at
        return OrgFileError(reason, line, self.source)

    # -- document -----------------------------------------------------------------

    def parse(self, text: str) -> OrgSpec:
        doc = self.compose(text)
        if doc is None:
            raise self.fail("文件为空", None)
        top = self.mapping(doc, "文件顶层", _TOP_KEYS, required=("county", "nodes"))

        county = self.text(top["county"], "county")
        timezone = self.timezone(top.get("timezone"))
        sla = self.sla(top.get("sla"))
        holidays = self.dates(top.get("holidays"), "holidays")
        workdays = self.dates(top.get("workdays"), "workdays")
        self.no_overlap(holidays, workdays, top.get("workdays"))
        departments = self.departments(top.get("departments"))
        root = self.root(top["nodes"], county, top["county"])
        return OrgSpec(county, timezone, sla, tuple(holidays), tuple(workdays),
                       departments, root)

    def compose(self, text: str) -> Node | None:
        # Checked here rather than from the loader's ReaderError, whose position is in
        # characters for the Python reader but in bytes for libyaml.
        bad = yaml.reader.Reader.NON_PRINTABLE.search(text)
        if bad:
            line = text.count("\n", 0, bad.start()) + 1
            raise self.fail(f"文件含有不允许的控制字符（U+{ord(bad.group()[0]):04X}）", line)
        try:
            return yaml.compose(text, Loader=_Loader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            problem = exc.problem or exc.context or "无法解析"
            hint = next((hint for prefix, hint in _YAML_PROBLEMS if problem.startswith(prefix)), None)
            reason = f"{hint}（{problem}）" if hint else problem
            raise self.fail(f"YAML 格式错误：{reason}", mark.line + 1 if mark else None) from None
        except yaml.YAMLError as exc:
            raise self.fail(f"YAML 格式错误：{exc}", None) from None

    # -- generic shapes -------------------------------------------------------------

    def mapping(self, node: Node, what: str, allowed: tuple[str, ...],
                required: tuple[str, ...] = ()) -> dict[str, Node]:
        """Check a mapping's keys; return key -> value node, in file order."""
        if not isinstance(node, MappingNode):
            raise self.fail(f"{what}应为映射（键: 值），实际是{_KIND[type(node)]}", node)
        result: dict[str, Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key not in allowed:
                shown = key if key is not None else _KIND[type(key_node)]
                raise self.fail(f"{what}中有未知的键 \"{shown}\"（可选：{', '.join(allowed)}）",
                                key_node)
            if key in result:
                raise self.fail(f"{what}中重复的键 \"{key}\"（第{_line(result[key])}行已出现）",
                                key_node)
            result[key] = value_node
        for key in required:
            if key not in result:
                raise self.fail(f"{what}缺少必填项 \"{key}\"", node)
        return result

    def sequence(self, node: Node | None, key: str) -> list[Node]:
        """A list value; an absent or empty (null) value is an empty list."""
        if node is None or self.is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            raise self.fail(f"\"{key}\" 应为列表，实际是{_KIND[type(node)]}", node)
        return list(node.value)

    @staticmethod
    def is_null(node: Node) -> bool:
        return isinstance(node, ScalarNode) and node.tag == _NULL_TAG

    def text(self, node: Node, key: str) -> str:
        """A non-empty one-line text. The source text is taken as written, so `name: 0801`
        stays "0801" rather than YAML 1.1's octal 513."""
        if not isinstance(node, ScalarNode):
            raise self.fail(f"\"{key}\" 应为文字，实际是{_KIND[type(node)]}", node)
        value = "" if self.is_null(node) else node.value.strip()
        if not value:
            raise self.fail(f"\"{key}\" 不能为空", node)
        if "\n" in value:
            raise self.fail(f"\"{key}\" 不能换行", node)
        return value

    def optional_text(self, node: Node | None, key: str) -> str | None:
        if node is None or self.is_null(node):
            return None
        return self.text(node, key)

    def choice(self, node: Node, key: str, allowed: tuple[str, ...], what: str) -> str:
        value = self.text(node, key)
        if value not in allowed:
            raise self.fail(f"未知的{what} \"{value}\"（可选：{', '.join(allowed)}）", node)
        return value

    # -- top-level settings ---------------------------------------------------------

    def timezone(self, node: Node | None) -> str:
        if node is None or self.is_null(node):
            return DEFAULT_TIMEZONE
        name = self.text(node, "timezone")
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            raise self.fail(f"无效的时区 \"{name}\"（例如 Asia/Shanghai）", node) from None
        return name

    def sla(self, node: Node | None) -> Sla:
        if node is None or self.is_null(node):
            return DEFAULT_SLA
        keys = self.mapping(node, "sla ", _SLA_KEYS)
        rules = {}
        for urgency in _SLA_KEYS:
            default: SlaRule = getattr(DEFAULT_SLA, urgency)
            rule_node = keys.get(urgency)
            if rule_node is None or self.is_null(rule_node):
                rules[urgency] = default
                continue
            parts = self.mapping(rule_node, f"sla.{urgency} ", _RULE_KEYS)
            accept = self.duration(parts.get("accept"), f"sla.{urgency}.accept", default.accept)
            resolve = self.duration(parts.get("resolve"), f"sla.{urgency}.resolve", default.resolve)
            rules[urgency] = SlaRule(accept, resolve)
        return Sla(**rules)

    def duration(self, node: Node | None, key: str, default: Duration) -> Duration:
        if node is None or self.is_null(node):
            return default
        value = self.text(node, key)
        try:
            return parse_duration(value)
        except OrgFileError as exc:
            raise self.fail(f"{key}：{exc.reason}", node) from None

    def dates(self, node: Node | None, key: str) -> list[date]:
        result: list[date] = []
        for item in self.sequence(node, key):
            day = self.date(item, key)
            if day not in result:
                result.append(day)
        return result

    def date(self, node: Node, key: str) -> date:
        # YAML resolves 2027-01-01 to a date and "2027-01-01" / 2027-1-1 to a string;
        # the written text covers both.
        value = self.text(node, key)
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
        match = _DATE_RE.match(value)
        if match:
            try:
                return date(*(int(part) for part in match.groups()))
            except ValueError:
                pass
        raise self.fail(f"\"{key}\" 中有无效的日期 \"{value}\"（格式如 2027-01-01）", node)

    def no_overlap(self, holidays: list[date], workdays: list[date], node: Node | None) -> None:
        both = sorted(set(holidays) & set(workdays))
        if both:
            for item in self.sequence(node, "workdays"):
                if self.date(item, "workdays") == both[0]:
                    node = item
                    break
            raise self.fail(f"{both[0].isoformat()} 不能既是假日（holidays）又是调休工作日（workdays）",
                            node)

    # -- people and rooms -----------------------------------------------------------

    def room(self, node: Node | None) -> str | None:
        topic = self.optional_text(node, "room")
        if topic is not None:
            if topic in self.rooms:
                raise self.fail(f"群名称 \"{topic}\" 重复（第{self.rooms[topic]}行已出现）", node)
            self.rooms[topic] = _line(node)
        return topic

    def members(self, node: Node | None, allowed_roles: tuple[str, ...],
                wrong_role: str) -> tuple[MemberSpec, ...]:
        result = []
        for item in self.sequence(node, "members"):
            self.member_count += 1
            if self.member_count > MAX_MEMBERS:
                raise self.fail(f"成员总数超过上限 {MAX_MEMBERS}", item)
            keys = self.mapping(item, "成员", _MEMBER_KEYS, required=("id", "role"))
            contact_id = self.text(keys["id"], "id")
            if contact_id in self.ids:
                raise self.fail(f"联系人 id \"{contact_id}\" 重复（第{self.ids[contact_id]}行已出现；"
                                "每人只能出现一次）", keys["id"])
            self.ids[contact_id] = _line(keys["id"])
            name = self.optional_text(keys.get("name"), "name") or contact_id
            role = self.choice(keys["role"], "role", ROLES, "角色")
            if role not in allowed_roles:
                raise self.fail(wrong_role.format(role=role), keys["role"])
            result.append(MemberSpec(contact_id, name, role))
        return tuple(result)

    def departments(self, node: Node | None) -> tuple[DepartmentSpec, ...]:
        seen: dict[str, int] = {}
        result = []
        for item in self.sequence(node, "departments"):
            keys = self.mapping(item, "部门", _DEPT_KEYS, required=("code",))
            code_node = keys["code"]
            code = self.text(code_node, "code")
            if code not in DEPARTMENTS:
                guess = find_department(code)
                hint = f"是否指 {guess}？" if guess else ""
                raise self.fail(f"未知的部门代码 \"{code}\"（{hint}可选：{', '.join(DEPARTMENTS)}）",
                                code_node)
            if code in seen:
                raise self.fail(f"部门 \"{code}\" 重复（第{seen[code]}行已出现）", code_node)
            seen[code] = _line(code_node)
            room = self.room(keys.get("room"))
            members = self.members(keys.get("members"), DEPARTMENT_ROLES,
                                   "部门成员的角色只能是 liaison（联络员），不能是 {role}")
            result.append(DepartmentSpec(code, room, members))
        return tuple(result)

    # -- the node tree --------------------------------------------------------------

    def root(self, node: Node, county: str, county_node: Node) -> NodeSpec:
        items = self.sequence(node, "nodes")
        if not items:
            raise self.fail("\"nodes\" 不能为空：需要一个县级根节点", node)
        if len(items) > 1:
            raise self.fail("\"nodes\" 下只能有一个根节点（县），其余节点请写在它的 children 里",
                            items[1])
        root = self.node(items[0], parent=None)
        if root.name != county:
            raise self.fail(f"county \"{county}\" 与根节点名称 \"{root.name}\"（第{root.line}行）不一致",
                            county_node)
        return root

    def node(self, node: Node, parent: tuple[str, str] | None,
             siblings: dict[str, int] | None = None) -> NodeSpec:
        """parent is (name, level) of the parent node, None for the root; siblings maps
        the names already used under that parent to their lines."""
        self.node_count += 1
        if self.node_count > MAX_NODES:
            raise self.fail(f"节点数超过上限 {MAX_NODES}", node)
        keys = self.mapping(node, "节点", _NODE_KEYS, required=("name", "level"))
        name = self.text(keys["name"], "name")
        if "/" in name:
            raise self.fail(f"节点名称 \"{name}\" 不能包含 \"/\"（路径用 / 分隔）", keys["name"])
        if siblings is not None:
            if name in siblings:
                raise self.fail(f"\"{parent[0]}\" 下有重复的节点名称 \"{name}\""
                                f"（第{siblings[name]}行已出现）", keys["name"])
            siblings[name] = _line(keys["name"])
        level = self.choice(keys["level"], "level", LEVELS, "层级")
        if parent is None and level != LEVELS[0]:
            raise self.fail(f"根节点 \"{name}\" 的层级应为 county，实际是 {level}", keys["level"])
        if parent is not None:
            parent_name, parent_level = parent
            if LEVELS.index(level) <= LEVELS.index(parent_level):
                raise self.fail(f"层级顺序错误：\"{name}\"（{level}）不能在 \"{parent_name}\"（{parent_level}）"
                                f"之下，下级必须比上级更深（{' > '.join(LEVELS)}）", keys["level"])
        room = self.room(keys.get("room"))
        members = self.members(keys.get("members"), NODE_ROLES,
                               "节点成员不能是 {role}（部门联络员请写在 departments 的 members 里）")
        child_names: dict[str, int] = {}
        children = tuple(self.node(item, (name, level), child_names)
                         for item in self.sequence(keys.get("children"), "children"))
        return NodeSpec(name, level, room, members, children, _line(node))
