"""Reading a live child process's output with a deadline: a bare readline() blocks for as long as
the process stays silent, which outlives any deadline the test sets."""
from __future__ import annotations

import queue
import threading
import time
from typing import IO


class LineReader:
    """Lines of `stream`, read on a daemon thread; `readline(timeout)` never blocks past its timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)
        self._lines.put("")                      # end of output

    def readline(self, timeout: float) -> str | None:
        """The next line, "" at end of output, None when nothing came within `timeout` seconds."""
        try:
            return self._lines.get(timeout=max(timeout, 0))
        except queue.Empty:
            return None

    def lines_until(self, done, deadline: float) -> list[str]:
        """Lines read until `done(lines)` is true, the output ends, or the monotonic `deadline` passes."""
        lines: list[str] = []
        while not done(lines):
            line = self.readline(deadline - time.monotonic())
            if not line:
                break
            lines.append(line)
        return lines
