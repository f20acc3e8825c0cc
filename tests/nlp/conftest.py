"""One classifier per test session; jieba's cache goes to a temporary directory."""

import pytest

import nlp


@pytest.fixture(scope="session")
def jieba_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("jieba-cache")


@pytest.fixture(scope="session")
def classifier(jieba_cache):
    return nlp.load(jieba_cache)
