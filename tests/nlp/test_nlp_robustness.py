"""classify() is called for every chat message: it must never raise and stay pure."""

import pytest

import nlp


@pytest.mark.parametrize(
    "text",
    ["", " ", "\n\t", "😂😂😂", "👍", "[图片]", "[语音]", "\x00\x01\x1b[31m", "\u200b\u2005", "1", "？？？", "@所有人"],
)
def test_empty_and_emoji_only_are_not_problems(classifier, text):
    result = classifier.classify(text)
    assert result == nlp.Classification(False, None, "normal", (), None)


def test_huge_text(classifier):
    text = "小区门口的井盖不见了，" + "啊" * 10_000 + "😂" * 1000
    result = classifier.classify(text)
    assert result.is_issue and result.department == "urban_mgmt"
    assert classifier.classify("哈" * 20_000).is_issue is False


def test_control_characters_and_odd_input(classifier):
    assert classifier.classify("又\x00停\x07电了\r\n").department == "power"
    assert classifier.classify(None).is_issue is False  # type: ignore[arg-type]
    assert classifier.classify(12345).is_issue is False  # type: ignore[arg-type]
    assert classifier.classify("\ud800 surrogate").is_issue is False


def test_deterministic_and_frozen(classifier):
    text = "着火了！幸福小区4栋冒黑烟"
    first = classifier.classify(text)
    assert all(classifier.classify(text) == first for _ in range(5))
    assert first.urgency == "urgent"
    with pytest.raises(AttributeError):
        first.is_issue = False  # type: ignore[misc]
    assert hash(first)


def test_output_contract(classifier):
    for text in ("又停电了", "收到", "后山滑坡了，房子被埋了一半"):
        r = classifier.classify(text)
        assert r.department in nlp.DEPARTMENTS or (r.department is None and not r.is_issue)
        assert r.urgency in ("urgent", "normal")
        assert isinstance(r.keywords, tuple) and all(isinstance(k, str) for k in r.keywords)
