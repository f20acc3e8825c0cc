"""Whether two reports are about the same problem (for joining duplicates, SPEC §3). The caller
has already matched grid, department and time window; this only compares the texts."""
from __future__ import annotations

import re

_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)
MIN_OVERLAP = 0.2


def _bigrams(text: str) -> set[str]:
    clean = _NOISE.sub("", text)
    return {clean[i:i + 2] for i in range(len(clean) - 1)}


def similar(text_a: str, location_a: str | None, keywords_a: set[str],
            text_b: str, location_b: str | None, keywords_b: set[str]) -> bool:
    # Two different places (5栋 vs 8栋) are two problems, however alike the words.
    if location_a and location_b and location_a not in location_b and location_b not in location_a:
        return False
    if keywords_a & keywords_b:
        return True
    a, b = _bigrams(text_a), _bigrams(text_b)
    if not a or not b:
        return False
    return len(a & b) / min(len(a), len(b)) >= MIN_OVERLAP
