"""Throughput and startup of the classifier, measured against bare jieba.

    python -m nlp.bench [FILE] [--cache-dir DIR] [--rounds N]

FILE is JSON lines with a "text" field (default: the dev set, nlp/corpus/dev.jsonl).
Prints messages per second for bare `jieba.lcut` and for `Classifier.classify` on the
same messages in the same run, their ratio (target >= 0.5), and the startup time of a
fresh process that imports nlp, calls load() with a warm cache and classifies one message
(target < 1.5 s).

Both rates count this process's CPU time (time.process_time), not the wall clock, so that
other processes taking turns on the cores do not count. The two take turns pass by pass,
each rate the best of `--rounds` passes, so that a load that comes and goes (a test suite
on the other core, sharing the memory caches) weighs on both alike. The startup time is
wall-clock time, as a user waits for it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

DEFAULT_FILE = Path(__file__).with_name("corpus") / "dev.jsonl"
RATIO_TARGET = 0.5
STARTUP_TARGET_S = 1.5

_STARTUP_SNIPPET = """
import time
t0 = time.perf_counter()
import nlp
c = nlp.load({cache!r})
c.classify("又停电了")
print(time.perf_counter() - t0)
"""


def _texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as fh:
        return [str(json.loads(line).get("text", "")) for line in fh if line.strip()]


def _rates(fns: list, texts: list[str], rounds: int) -> list[float]:
    """Messages per CPU second of each function, best of `rounds` passes (least disturbed by
    other load); the functions take turns, one pass each per round."""
    best = [float("inf")] * len(fns)
    for _ in range(rounds):
        for i, fn in enumerate(fns):
            start = time.process_time()
            for text in texts:
                fn(text)
            best[i] = min(best[i], time.process_time() - start)
    return [len(texts) / b for b in best]


def _startup(cache_dir: str | None, runs: int = 3) -> float:
    """Fresh interpreter: import nlp + load(); the first run warms jieba's cache."""
    code = _STARTUP_SNIPPET.format(cache=cache_dir)
    times = []
    for _ in range(runs + 1):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return min(times[1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp.bench", description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(DEFAULT_FILE))
    parser.add_argument("--cache-dir", help="jieba cache directory (default: ~/.cache/gridbot)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    import jieba

    import nlp

    texts = _texts(Path(args.file))
    jieba.setLogLevel(30)
    jieba.initialize()
    classifier = nlp.load(args.cache_dir)
    for text in texts:  # warm both paths before timing
        jieba.lcut(text)
        classifier.classify(text)

    bare, full = _rates([jieba.lcut, classifier.classify], texts, args.rounds)
    ratio = full / bare
    startup = _startup(args.cache_dir)

    chars = sum(len(t) for t in texts) / max(len(texts), 1)
    print(f"messages: {len(texts)} from {args.file} (mean {chars:.0f} chars), best of {args.rounds} rounds")
    print(f"bare jieba.lcut      {bare:10.0f} msgs/s")
    print(f"classifier.classify  {full:10.0f} msgs/s")
    print(f"ratio                {ratio:10.2f}   (target >= {RATIO_TARGET})  {'ok' if ratio >= RATIO_TARGET else 'BELOW TARGET'}")
    print(f"startup (warm cache) {startup:10.3f} s  (target < {STARTUP_TARGET_S})  "
          f"{'ok' if startup < STARTUP_TARGET_S else 'ABOVE TARGET'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
