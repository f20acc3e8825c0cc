"""Classifier.route: the department for an explicit report (#上报), problem or not."""

import pytest

from nlp.train import read_corpus


@pytest.mark.parametrize(
    ("text", "department"),
    [
        ("#上报 路灯不亮", "urban_mgmt"),
        ("路灯不亮", "urban_mgmt"),
        ("＃上报 楼道里堆满了纸箱", "fire"),
        ("@网格员小王 #上报 村口变压器有点响", "power"),
        ("/上报：学校食堂的饭菜有问题", "education"),
        # not a problem for classify, but an explicit report still knows where it goes
        ("#上报 明天8点到12点停水", "water"),
        ("井盖已经盖好了", "urban_mgmt"),
        ("请问一下低保一年审核几次啊", "civil_affairs"),
        ("【转发】电梯里有股怪味", "market"),
    ],
)
def test_route_names_the_department(classifier, text, department):
    assert classifier.route(text) == department


@pytest.mark.parametrize("text", ["#上报 3栋那边有点情况", "3栋那边有点情况", "#上报", "", "[图片]", "🙏🙏", None, 12345])
def test_route_without_department_evidence_is_none(classifier, text):
    assert classifier.route(text) is None


def test_route_agrees_with_classify_on_problems(classifier):
    for text in [record["text"] for record in read_corpus()]:
        result = classifier.classify(text)
        if result.is_issue:
            assert classifier.route(text) == result.department, text


def test_route_does_not_change_classify(classifier):
    # route is an extra entry point; classify keeps its public result type
    assert classifier.classify("#上报 3栋那边有点情况").is_issue is False
    assert classifier.route("x" * 10_000) is None
