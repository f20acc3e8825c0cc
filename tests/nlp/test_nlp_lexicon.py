"""Loading: jieba's cache in the bot's directory, loaded once; a county's own lexicon."""

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
