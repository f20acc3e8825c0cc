"""The org file loader: good files parse into the tree, every bad file is refused whole
with the line number and a Chinese reason."""

from datetime import date, timedelta
from pathlib import Path
from textwrap import dedent

import pytest
import yaml

from bot.config import BUNDLED_ORG
from bot.domain import orgfile
from bot.domain.orgfile import (
    LEVELS,
    ROLES,
    Duration,
    OrgFileError,
    load_org_file,
    parse_duration,
    parse_org,
)

DATA = Path(__file__).parent / "data"
SMALL = DATA / "org_small.yaml"
SAMPLE = BUNDLED_ORG


# -- good files ----------------------------------------------------------------------

def test_shared_example_parses():
    org = load_org_file(SMALL)
    assert org.county == "遂川县"
    assert org.timezone == "Asia/Shanghai"
    assert str(org.sla.urgent.accept) == "10m" and str(org.sla.normal.resolve) == "3wd"
    assert len(org.departments) == 14
    paths = {path: node for path, node in org.walk()}
    grid = paths["遂川县/泉江镇城市社区党工委/城南社区/第3网格"]
    assert grid.level == "grid" and grid.room == "城南社区第3网格群"
    assert [(m.id, m.role) for m in grid.members] == [
        ("wxid_liufang", "grid_worker"), ("wxid_zhoujq", "police")]
    assert grid.line == 39
    household = paths["遂川县/泉江镇城市社区党工委/城南社区/第3网格/幸福小区5栋/王建国中心户"]
    assert household.level == "household" and household.members[0].name == "王建国"
    assert list(paths)[0] == "遂川县"  # parents before children
    water = next(d for d in org.departments if d.code == "water")
    assert water.room == "县自来水公司工单群" and water.members[0].role == "liaison"


def test_bundled_sample_is_a_believable_county():
    org = load_org_file(SAMPLE)
    nodes = [node for _, node in org.walk()]
    assert 30 <= len(nodes) <= 60
    assert sum(n.level == "town" for n in nodes) >= 2
    assert all(n.room for n in nodes)
    assert {n.level for n in nodes} == set(LEVELS)
    for node in nodes:
        roles = {m.role for m in node.members}
        if node.level == "grid":
            assert "grid_worker" in roles, node.name
        if node.level in ("county", "town", "community"):
            assert "admin" in roles, node.name
    assert any("police" in {m.role for m in n.members} for n in nodes)
    assert {d.code for d in org.departments} == set(orgfile.DEPARTMENTS)
    assert all(d.room and [m.role for m in d.members] == ["liaison"] for d in org.departments)
    # urban and rural branches both reach household level
    towns = org.root.children
    assert all(any(n.level == "household" for _, n in town.walk()) for town in towns)


def test_bundled_sample_keeps_the_shared_example():
    """The replay scenario relies on the shared example's names, rooms and ids."""
    small, sample = load_org_file(SMALL), load_org_file(SAMPLE)
    sample_nodes = dict(sample.walk())
    for path, node in small.walk():
        assert path in sample_nodes
        assert sample_nodes[path].room == node.room
        assert sample_nodes[path].level == node.level
        assert set(node.members) <= set(sample_nodes[path].members)
    assert small.departments == sample.departments


def test_minimal_file_gets_defaults():
    org = parse_org("county: 某县\nnodes:\n  - {name: 某县, level: county}\n")
    assert org.timezone == "Asia/Shanghai"
    assert org.sla == orgfile.Sla()
    assert (org.holidays, org.workdays, org.departments) == ((), (), ())
    assert org.root.room is None and org.root.children == () and org.root.line == 3


def test_optional_parts():
    org = parse_org(dedent("""\
        county: 某县
        timezone: Asia/Urumqi
        sla: {urgent: {accept: 15m}, normal: {resolve: 5wd}}
        holidays: [2027-01-01, "2027-02-06", 2027-1-2]
        workdays: [2027-02-14]
        nodes:
          - name: 某县
            level: county
            members: [{id: 12345, role: admin}]
            children:
              - name: 某村
                level: community
                children:
                  - {name: 1组, level: group, room: "0801"}
        """))
    assert org.timezone == "Asia/Urumqi"
    assert org.sla.urgent.accept == Duration(15, "m")
    assert org.sla.urgent.resolve == Duration(2, "h")  # default kept
    assert org.sla.normal.accept == Duration(4, "h")
    assert org.sla.normal.resolve == Duration(5, "wd")
    assert org.holidays == (date(2027, 1, 1), date(2027, 2, 6), date(2027, 1, 2))
    assert org.workdays == (date(2027, 2, 14),)
    admin = org.root.members[0]
    assert (admin.id, admin.name, admin.role) == ("12345", "12345", "admin")  # name defaults to id
    group = org.root.children[0].children[0]
    assert group.level == "group" and group.room == "0801"  # skipped levels, text kept as written
    assert [path for path, _ in org.walk()] == ["某县", "某县/某村", "某县/某村/1组"]


def test_constants_match_the_spec():
    assert LEVELS == ("county", "town", "community", "grid", "group", "household")
    assert ROLES == ("admin", "grid_worker", "police", "liaison", "central_household", "resident")


# -- durations -----------------------------------------------------------------------

@pytest.mark.parametrize("text, amount, unit, delta", [
    ("10m", 10, "m", timedelta(minutes=10)),
    ("4h", 4, "h", timedelta(hours=4)),
    ("2d", 2, "d", timedelta(days=2)),
    (" 3wd ", 3, "wd", None),
])
def test_parse_duration(text, amount, unit, delta):
    duration = parse_duration(text)
    assert (duration.amount, duration.unit) == (amount, unit)
    assert str(duration) == f"{amount}{unit}"
    if delta is None:
        with pytest.raises(ValueError):
            duration.to_timedelta()
    else:
        assert duration.to_timedelta() == delta


@pytest.mark.parametrize("text", ["", "10", "m", "10s", "1.5h", "-1h", "0m", "3 weeks", "400d",
                                  "99999999999m"])
def test_parse_duration_rejects(text):
    with pytest.raises(OrgFileError) as err:
        parse_duration(text)
    assert isinstance(err.value, ValueError)
    assert err.value.line is None and err.value.reason


# -- bad files -----------------------------------------------------------------------

# A valid little county; the broken cases below each change one thing in it.
GOOD = """\
county: 某县
departments:
  - code: water
    room: 供水群
    members:
      - {id: wxid_water, name: 李工, role: liaison}
nodes:
  - name: 某县
    level: county
    room: 指挥中心群
    members:
      - {id: wxid_admin, name: 陈主任, role: admin}
    children:
      - name: 某镇
        level: town
        room: 某镇群
        children:
          - name: 某村
            level: community
            children:
              - name: 第1网格
                level: grid
                room: 网格群
                members:
                  - {id: wxid_wgy, name: 网格员, role: grid_worker}
"""


def test_good_base_parses():
    assert parse_org(GOOD).root.children[0].children[0].children[0].name == "第1网格"


def broken(old: str, new: str) -> str:
    assert GOOD.count(old) == 1, old
    return GOOD.replace(old, new)


BROKEN = [
    # (case id, file text, line, words the reason must contain)
    ("yaml syntax", broken("  - name: 某县\n", "  - name: 某县\n   bad: [\n"), 9, "YAML 格式错误"),
    ("tab indent", broken("    level: county\n", "\tlevel: county\n"), 9, "Tab"),
    ("two documents", GOOD + "---\ncounty: 又一县\n", 26, "---"),
    ("empty file", "", None, "文件为空"),
    ("only comments", "# nothing here\n", None, "文件为空"),
    ("top is a list", "- county: 某县\n", 1, "顶层应为映射"),
    ("unknown top key", broken("county: 某县\n", "county: 某县\ncountry: 中国\n"), 2,
     '未知的键 "country"'),
    ("duplicate top key", GOOD + "county: 某县\n", 26, '重复的键 "county"'),
    ("unknown node key", broken("        room: 某镇群\n", "        rooom: 某镇群\n"), 16,
     '未知的键 "rooom"'),
    ("unknown member key", broken("{id: wxid_admin, name: 陈主任, role: admin}",
                                  "{id: wxid_admin, name: 陈主任, role: admin, phone: 139}"), 12,
     '未知的键 "phone"'),
    ("unknown department key", broken("    room: 供水群\n", "    room: 供水群\n    leader: 李\n"), 5,
     '未知的键 "leader"'),
    ("unknown sla key", broken("county: 某县\n", "county: 某县\nsla: {urgnet: {accept: 5m}}\n"), 2,
     '未知的键 "urgnet"'),
    ("unknown sla rule key", broken("county: 某县\n", "county: 某县\nsla:\n  normal:\n    close: 5d\n"),
     4, '未知的键 "close"'),
    ("missing county", broken("county: 某县\n", ""), 1, '缺少必填项 "county"'),
    ("missing nodes", GOOD.split("nodes:")[0], 1, '缺少必填项 "nodes"'),
    ("missing node name", broken("      - name: 某镇\n        level: town\n", "      - level: town\n"), 14,
     '缺少必填项 "name"'),
    ("missing node level", broken("        level: town\n", ""), 14, '缺少必填项 "level"'),
    ("missing member id", broken("{id: wxid_wgy, name: 网格员, role: grid_worker}",
                                 "{name: 网格员, role: grid_worker}"), 25, '缺少必填项 "id"'),
    ("missing member role", broken("{id: wxid_wgy, name: 网格员, role: grid_worker}",
                                   "{id: wxid_wgy, name: 网格员}"), 25, '缺少必填项 "role"'),
    ("missing department code", broken("  - code: water\n    room: 供水群\n", "  - room: 供水群\n"), 3,
     '缺少必填项 "code"'),
    ("empty name", broken("      - name: 某镇\n", "      - name:\n"), 14, '"name" 不能为空'),
    ("unknown level", broken("        level: town\n", "        level: twon\n"), 15,
     '未知的层级 "twon"（可选：county, town, community, grid, group, household）'),
    ("unknown role", broken("role: grid_worker}", "role: gridworker}"), 25, '未知的角色 "gridworker"'),
    ("liaison in a node", broken("role: grid_worker}", "role: liaison}"), 25, "节点成员不能是 liaison"),
    ("admin in a department", broken("role: liaison}", "role: admin}"), 6, "只能是 liaison"),
    ("unknown department code", broken("  - code: water\n", "  - code: 自来水\n"), 3,
     '未知的部门代码 "自来水"（是否指 water？'),
    ("duplicate department", broken("nodes:\n", "  - {code: water}\nnodes:\n"), 7, '部门 "water" 重复（第3行'),
    ("duplicate id across nodes", broken("{id: wxid_wgy,", "{id: wxid_admin,"), 25,
     '联系人 id "wxid_admin" 重复（第12行'),
    ("duplicate id node and department", broken("{id: wxid_admin,", "{id: wxid_water,"), 12,
     '联系人 id "wxid_water" 重复（第6行'),
    ("duplicate id in one list", broken("      - {id: wxid_admin, name: 陈主任, role: admin}\n",
                                        "      - {id: wxid_admin, name: 陈主任, role: admin}\n"
                                        "      - {id: wxid_admin, name: 陈主任, role: admin}\n"), 13,
     '联系人 id "wxid_admin" 重复'),
    ("duplicate room", broken("room: 网格群", "room: 某镇群"), 23, '群名称 "某镇群" 重复（第16行'),
    ("duplicate room node and department", broken("room: 网格群", "room: 供水群"), 23, '群名称 "供水群" 重复'),
    ("duplicate sibling", broken("            children:\n              - name: 第1网格\n",
                                 "            children:\n              - {name: 第1网格, level: grid}\n"
                                 "              - name: 第1网格\n"), 22, '重复的节点名称 "第1网格"（第21行'),
    ("slash in name", broken("name: 某村", "name: 某村/二组"), 18, '不能包含 "/"'),
    ("root not county", broken("    level: county\n", "    level: town\n"), 9, "根节点"),
    ("two roots", GOOD + "  - {name: 另一县, level: county}\n", 26, "只能有一个根节点"),
    ("no root", broken(GOOD[GOOD.index("nodes:"):], "nodes: []\n"), 7, '"nodes" 不能为空'),
    ("county name mismatch", broken("county: 某县\n", "county: 别县\n"), 1, '与根节点名称 "某县"'),
    ("child same level", broken("        level: town\n", "        level: county\n"), 15, "层级顺序错误"),
    ("child shallower", broken("                level: grid\n", "                level: town\n"), 22,
     "层级顺序错误"),
    ("household has children", broken(
        "                  - {id: wxid_wgy, name: 网格员, role: grid_worker}\n",
        "                  - {id: wxid_wgy, name: 网格员, role: grid_worker}\n"
        "                children:\n"
        "                  - name: 户\n"
        "                    level: household\n"
        "                    children:\n"
        "                      - {name: 户下, level: household}\n"), 30, "层级顺序错误"),
    ("bad timezone", broken("county: 某县\n", "county: 某县\ntimezone: Asia/Beijing\n"), 2,
     '无效的时区 "Asia/Beijing"'),
    ("bad sla duration", broken("county: 某县\n", "county: 某县\nsla: {normal: {resolve: 3 days}}\n"), 2,
     'sla.normal.resolve：无效的时限 "3 days"'),
    ("sla duration as number", broken("county: 某县\n", "county: 某县\nsla:\n  urgent:\n    accept: 10\n"),
     4, "无效的时限"),
    ("bad holiday", broken("county: 某县\n", "county: 某县\nholidays:\n  - 2027-01-01\n  - 2027-02-30\n"), 4,
     '无效的日期 "2027-02-30"'),
    ("holiday not a date", broken("county: 某县\n", "county: 某县\nworkdays: [元旦]\n"), 2, '无效的日期 "元旦"'),
    ("holiday and workday", broken("county: 某县\n",
                                   "county: 某县\nholidays: [2027-02-14]\nworkdays: [2027-02-14]\n"), 3,
     "既是假日"),
    ("holidays not a list", broken("county: 某县\n", "county: 某县\nholidays: 2027-01-01\n"), 2,
     '"holidays" 应为列表'),
    ("members not a list", broken("        room: 某镇群\n", "        room: 某镇群\n        members: 刘书记\n"),
     17, '"members" 应为列表'),
    ("children a mapping", broken("            children:\n              - name: 第1网格\n",
                                  "            children:\n                name: 第1网格\n"), 21,
     '"children" 应为列表'),
    ("member not a mapping", broken("{id: wxid_admin, name: 陈主任, role: admin}", "wxid_admin"), 12,
     "成员应为映射"),
    ("name a list", broken("name: 某村", "name: [某村]"), 18, '"name" 应为文字'),
    ("room a mapping", broken("room: 网格群", "room: {topic: 网格群}"), 23, '"room" 应为文字'),
    ("county a list", broken("county: 某县\n", "county: [某县]\n"), 1, '"county" 应为文字'),
    ("control character", broken("name: 某村", "name: 某\x07村"), 18, "控制字符（U+0007）"),
    ("non-text key", broken("        room: 某镇群\n", "        [a]: 某镇群\n"), 16, "未知的键"),
]


@pytest.fixture(params=["default", "pure-python"])
def yaml_loader(request, monkeypatch):
    """Run with libyaml's loader (when installed) and with PyYAML's pure-Python one:
    their error texts differ, the lines and reasons must not."""
    if request.param == "pure-python":
        monkeypatch.setattr(orgfile, "_Loader", yaml.SafeLoader)


@pytest.mark.parametrize("text, line, words", [case[1:] for case in BROKEN],
                         ids=[case[0] for case in BROKEN])
def test_broken_file_is_refused_with_line_and_reason(text, line, words, yaml_loader):
    with pytest.raises(OrgFileError) as err:
        parse_org(text, "org.yaml")
    error = err.value
    assert error.line == line, str(error)
    assert words in error.reason, str(error)
    where = f"org.yaml 第{line}行" if line is not None else "org.yaml"
    assert str(error) == f"{where}：{error.reason}"


def test_error_message_format():
    with pytest.raises(OrgFileError) as err:
        parse_org(broken("        level: town\n", "        level: twon\n"), "org.yaml")
    assert str(err.value) == ('org.yaml 第15行：未知的层级 "twon"'
                              "（可选：county, town, community, grid, group, household）")
    assert isinstance(err.value, ValueError)


def test_first_error_wins():
    text = broken("        level: town\n", "        level: twon\n")
    text = text.replace("role: grid_worker}", "role: gridworker}")
    with pytest.raises(OrgFileError) as err:
        parse_org(text)
    assert err.value.line == 15


def test_broken_file_raises_before_anything_is_returned(tmp_path):
    # The error is at the very end, after a whole valid tree: still nothing comes back.
    path = tmp_path / "org.yaml"
    path.write_text(GOOD + "  - {name: 另一县, level: county}\n", encoding="utf-8")
    result = None
    with pytest.raises(OrgFileError) as err:
        result = load_org_file(path)
    assert result is None
    assert str(err.value).startswith(f"{path} 第26行：")


# -- files and hostile input ---------------------------------------------------------

def test_missing_file(tmp_path):
    with pytest.raises(OrgFileError) as err:
        load_org_file(tmp_path / "nope.yaml")
    assert err.value.line is None and "不存在" in err.value.reason


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(OrgFileError):
        load_org_file(tmp_path)


def test_not_utf8(tmp_path):
    path = tmp_path / "gbk.yaml"
    path.write_bytes(GOOD.encode("gbk"))
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert "UTF-8" in err.value.reason and err.value.line == 1


def test_utf8_bom_is_fine(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(GOOD.encode("utf-8-sig"))
    assert load_org_file(path).county == "某县"


def test_file_too_big(tmp_path, monkeypatch):
    monkeypatch.setattr(orgfile, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.yaml"
    path.write_text(GOOD + "#" * 1000, encoding="utf-8")
    with pytest.raises(OrgFileError) as err:
        load_org_file(path)
    assert "文件过大" in err.value.reason
    with pytest.raises(OrgFileError):
        parse_org(GOOD + "#" * 1000)


def test_too_many_nodes(monkeypatch):
    monkeypatch.setattr(orgfile, "MAX_NODES", 3)  # GOOD has 4
    with pytest.raises(OrgFileError) as err:
        parse_org(GOOD)
    assert "节点数超过上限" in err.value.reason


def test_deep_nesting_is_an_error_not_a_crash(yaml_loader):
    with pytest.raises(OrgFileError) as err:
        parse_org("county: " + "[" * 50_000)
    assert "嵌套" in err.value.reason


def test_alias_bomb_is_stopped(yaml_loader):
    # YAML aliases share nodes, so expanding them could blow up; the duplicate checks
    # stop the walk at the first repeated member.
    text = dedent("""\
        county: 某县
        x: &a [{id: a, role: admin}]
        """)
    with pytest.raises(OrgFileError):
        parse_org(text)
    lines = ["county: 某县", "nodes:", "  - name: 某县", "    level: county",
             "    members: &m0 [{id: boom, role: admin}]"]
    bomb = "\n".join(lines) + "\n    children:\n" + "".join(
        f"      - {{name: n{i}, level: town, members: *m0}}\n" for i in range(1000))
    with pytest.raises(OrgFileError) as err:
        parse_org(bomb)
    assert '联系人 id "boom" 重复' in err.value.reason


def test_no_python_objects_are_built():
    text = GOOD.replace("room: 网格群", "room: !!python/object/apply:os.system [echo hi]")
    with pytest.raises(OrgFileError) as err:
        parse_org(text)
    assert '"room" 应为文字' in err.value.reason
