"""The classifier's faster internals give what the slower, plainer ways give."""

import json
import marshal
import re
from pathlib import Path

import jieba
import pytest

from nlp import classifier as classifier_module

CORPUS_DIR = Path(classifier_module.__file__).with_name("corpus")

# Cases the corpus has few of: ASCII runs, digits, spaces and line ends, punctuation, blocks
# that jieba passes through, characters it does not know.
ODD_TEXTS = [
    "",
    " ",
    "\r\n",
    "a",
    "110",
    "打110报警",
    "3栋2单元402漏水",
    "wifi坏了 ok?",
    "A1b2 c3-d4_e5.f6%g7+h8#i9&j0",
    "路灯不亮\r\n\r\n  ——  已经三天了！！",
    "@小王 [微笑] 停电了吗？",
    "㐀㐁𠀀停电",
    "停电" * 200,
]


def _corpus_texts() -> list[str]:
    texts = []
    for path in sorted(CORPUS_DIR.glob("*.jsonl")):
        with path.open(encoding="utf-8") as fh:
            texts += [str(json.loads(line).get("text", "")) for line in fh if line.strip()]
    return texts


def test_cut_gives_jiebas_tokens(classifier):
    tokenizer = classifier.tokenizer
    for text in _corpus_texts() + ODD_TEXTS:
        normalized = classifier.normalize(text)
        for form in (text, normalized):
            assert classifier_module._cut(tokenizer, form) == list(tokenizer.cut(form, HMM=False)), form


def test_jieba_cache_is_read_as_jieba_reads_it(classifier, jieba_cache):
    base = classifier_module._base_tokenizer(Path(jieba_cache).resolve())
    tokenizer = jieba.Tokenizer()
    assert classifier_module._read_jieba_cache(tokenizer, Path(jieba_cache) / "jieba.cache")
    assert tokenizer.initialized
    assert tokenizer.total == base.total
    assert tokenizer.FREQ == base.FREQ


@pytest.mark.parametrize(
    "content",
    [None, b"", b"not marshal at all", marshal.dumps([1, 2]), marshal.dumps(({}, "total"))],
    ids=["missing", "empty", "garbage", "wrong shape", "wrong types"],
)
def test_unusable_jieba_cache_is_left_to_jieba(tmp_path, content):
    path = tmp_path / "jieba.cache"
    if content is not None:
        path.write_bytes(content)
    tokenizer = jieba.Tokenizer()
    assert not classifier_module._read_jieba_cache(tokenizer, path)
    assert not tokenizer.initialized  # so _base_tokenizer() lets jieba build the dictionary


def test_alternatives_without_gap_match_as_the_regex_would(classifier):
    matcher = classifier._matcher
    patterns = {id(p): p for bucket in matcher._anchors.values() for p in bucket}.values()
    single = [p for p in patterns if len(p.parts) == 1]
    assert single  # the lexicon has "A|B" terms
    for pattern in single:
        regex = re.compile("(?:" + "|".join(map(re.escape, pattern.parts[0])) + ")")
        for alt in pattern.parts[0]:
            for text in (f"x{alt}y", f"x{alt}{alt}", f"x{alt}"):
                expected = regex.match(text, 1)
                assert pattern.end_of_match(text, 1, set()) == (expected.end() if expected else None)
