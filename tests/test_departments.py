"""The department list and the lookup behind #转派 and the org file's department codes."""

import pytest

from bot.domain.departments import ALIASES, DEPARTMENTS, department_name, find_department

CODES = ("urban_mgmt", "police", "justice", "market", "environment", "traffic", "emergency",
         "fire", "civil_affairs", "education", "water", "power", "land", "housing")


def test_fourteen_departments_loaded():
    assert tuple(DEPARTMENTS) == CODES
    water = DEPARTMENTS["water"]
    assert (water.code, water.name, water.full_name) == ("water", "供水", "县自来水公司")


def test_department_name():
    assert department_name("urban_mgmt") == "城管"
    assert department_name("nonexistent") == "nonexistent"


@pytest.mark.parametrize("code", CODES)
def test_every_code_name_and_full_name_finds_itself(code):
    dept = DEPARTMENTS[code]
    assert find_department(code) == code
    assert find_department(dept.name) == code
    assert find_department(dept.full_name) == code


@pytest.mark.parametrize("code", CODES)
def test_every_alias_finds_its_department(code):
    for alias in ALIASES[code]:
        assert find_department(alias) == code, alias


@pytest.mark.parametrize("text, code", [
    ("自来水", "water"), ("县自来水公司", "water"), ("自来", "water"),
    ("城管", "urban_mgmt"), ("县城管局", "urban_mgmt"),
    ("派出所", "police"), ("城南派出所", "police"),
    ("交警", "traffic"), ("交警大队", "traffic"), ("公安局交警大队", "traffic"),
    ("消防", "fire"), ("119", "fire"),
    ("供电所", "power"), ("电力", "power"), ("国家电网", "power"),
    ("环保局", "environment"), ("民政", "civil_affairs"), ("住建", "housing"),
    ("住建局", "housing"), ("国土", "land"), ("林业局", "land"), ("市场监督管理局", "market"),
    ("  Water ", "water"), ("URBAN-MGMT", "urban_mgmt"), ("「供水」", "water"),
])
def test_what_people_type(text, code):
    assert find_department(text) == code


@pytest.mark.parametrize("text", ["", "   ", "网格", "管理", "电", "局", "foo", "物业公司"])
def test_unknown_or_ambiguous_gives_none(text):
    assert find_department(text) is None
