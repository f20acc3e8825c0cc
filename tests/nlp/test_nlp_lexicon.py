"""Loading: jieba's cache in the bot's directory, loaded once; a county's own lexicon."""

import time

import jieba
import pytest

import nlp


def test_jieba_cache_lives_in_cache_dir(classifier, jieba_cache):
    assert (jieba_cache / "jieba.cache").is_file()


def test_second_load_does_not_reinitialise_jieba(classifier, jieba_cache, monkeypatch):
    calls = []
    original = jieba.Tokenizer.initialize

    def counting(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(jieba.Tokenizer, "initialize", counting)
    again = nlp.load(jieba_cache)
    assert calls == []
    assert again.classify("又停电了").department == "power"


def test_domain_words_are_kept_whole(classifier):
    tokens = classifier.tokenizer.lcut("楼下有人占道经营，还有人飞线充电，晚上黑灯瞎火的，井盖也没了")
    for word in ("占道经营", "飞线充电", "黑灯瞎火", "井盖"):
        assert word in tokens


def test_county_lexicon_routes_a_local_word(jieba_cache, tmp_path, classifier):
    text = "村口那口老龙潭枯了，全组人吃水都成问题"
    before = classifier.classify(text)
    assert before.department != "water"

    county = tmp_path / "suichuan"
    county.mkdir()
    (county / "local.txt").write_text(
        "# 遂川县 local words\n[dept_water]\n龙潭 3\n吃水 2\n[places]\n上坪村\n", encoding="utf-8"
    )
    extended = nlp.load(jieba_cache, extra_lexicon=[county])
    after = extended.classify(text)
    assert (after.is_issue, after.department) == (True, "water")
    assert "龙潭" in after.keywords
    assert extended.classify("上坪村的老龙潭枯了，吃水困难").location == "上坪村"
    # the bundled classifier is unchanged
    assert classifier.classify(text) == before


def test_file_named_after_its_section(jieba_cache, tmp_path):
    (tmp_path / "dept_police.txt").write_text("放排 3\n", encoding="utf-8")
    (tmp_path / "not_issue.txt").write_text("防汛值班表 5\n", encoding="utf-8")
    extended = nlp.load(jieba_cache, extra_lexicon=[tmp_path / "dept_police.txt", tmp_path / "not_issue.txt"])
    assert extended.classify("河边有人晚上放排，不知道干什么").department == "police"
    assert not extended.classify("防汛值班表发群里了，停电停水抢修人员见表").is_issue


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[dept_nowhere]\n某词 2\n", "unknown department"),
        ("[stuff]\n某词\n", "unknown section"),
        ("[dept_water]\n某词 很多\n", "weight must be a number"),
        ("[forward]\n(unclosed\n", "bad regular expression"),
        ("[forward]\n" + "(?:" * 600 + "转发" + ")" * 600 + "\n", "bad regular expression"),
    ],
)
def test_bad_lexicon_files_are_rejected_with_line(jieba_cache, tmp_path, content, message):
    bad = tmp_path / "bad.txt"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(nlp.LexiconError, match=message) as info:
        nlp.load(jieba_cache, extra_lexicon=[bad])
    assert "bad.txt:2" in str(info.value)


def test_missing_lexicon_path(jieba_cache, tmp_path):
    with pytest.raises(nlp.LexiconError, match="no such"):
        nlp.load(jieba_cache, extra_lexicon=[tmp_path / "absent.txt"])


# ack.txt line 2 before issue 10: the lone 1 beside \d gave a line of 1s 2**n readings.
EXPLOSIVE_ACK_LINE = (
    r"(?:(?:收到|已收到|好的|好滴|好嘞|好|嗯|哦|噢|ok|okay|明白|知道了|已阅|了解|谢谢|多谢|感谢|辛苦了|收到了"
    r"|在吗|在不在|1|\d|[.。,，!?~～、 ])+)"
)


@pytest.mark.parametrize("section", ["ack", "forward"])
@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a+)+", "nested quantifier"),
        (r"(x*)*", "nested quantifier"),
        (r"(?:收到[,，]*)+", "nested quantifier"),
        (r"(\d|1)+", "ambiguous repetition"),
        (EXPLOSIVE_ACK_LINE, "ambiguous repetition"),
        (r"(?:好的?|的)+", "ambiguous repetition"),  # 好的 is 好的 or 好|的
        (r"(?:[一-龥]|\w)+", "ambiguous repetition"),
        (r"\d*\d*收到", "overlapping repetitions"),
        (r".*收到.*", "overlapping repetitions"),
        (r"(?=(?:a+)+b)收到", "nested quantifier"),
        (r"(收到)\1", "back-references"),
    ],
)
def test_a_regex_whose_time_can_explode_is_refused_with_file_and_line(jieba_cache, tmp_path, section, pattern, reason):
    county = tmp_path / "county.txt"
    county.write_text(f"# 遂川县\n[{section}]\n收悉\n{pattern}\n", encoding="utf-8")
    with pytest.raises(nlp.LexiconError, match=f"refused.*{reason}") as info:
        nlp.load(jieba_cache, extra_lexicon=[county])
    assert "county.txt:4:" in str(info.value)


def test_county_regexes_that_run_in_linear_time_are_accepted(jieba_cache, tmp_path):
    county = tmp_path / "county.txt"
    county.write_text(
        "[ack]\n(?:收悉|已阅知|收到了?|[,，。 ])+\n"
        "[forward]\n(?:居民|群众)来电\\s*[:：]\n[^:：]{0,6}转来\\s*[:：]\n",
        encoding="utf-8",
    )
    extended = nlp.load(jieba_cache, extra_lexicon=[county])
    assert extended.explain("群众来电：3栋楼道的灯不亮了")["text"] == "3栋楼道的灯不亮了"
    assert extended.explain("社区转来：井盖没了")["text"] == "井盖没了"
    assert not extended.classify("收悉，收到了。已阅知").is_issue
    started = time.perf_counter()
    extended.classify("收悉" * 1500 + "啊")
    assert time.perf_counter() - started < 0.1


def test_a_county_pattern_with_many_gaps_stays_linear(jieba_cache, tmp_path):
    # As one regex, A*B*C*D*E*F tries 13 ** 5 gap lengths from every 嗒 before failing.
    county = tmp_path / "county.txt"
    county.write_text("[dept_police]\n嗒*嗒*嗒*嗒*嗒*嘿 4\n", encoding="utf-8")
    extended = nlp.load(jieba_cache, extra_lexicon=[county])
    started = time.perf_counter()
    assert not extended.classify("嗒" * 3000).is_issue
    assert time.perf_counter() - started < 1.0
    found = extended.classify("嗒，嗒嗒，嗒嗒" + "啊" * 12 + "嘿")
    assert (found.department, found.keywords) == ("police", ("嗒…嘿",))
    assert not extended.classify("嗒嗒嗒嗒" + "啊" * 13 + "嗒嘿").is_issue  # a gap of 13
    assert not extended.classify("嗒嗒。嗒嗒嗒嘿").is_issue  # across a sentence end
