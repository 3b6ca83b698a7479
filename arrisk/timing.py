"""Phase timings (what ``benchmarks/train.py`` and the feature benchmark report)."""

from __future__ import annotations

import time


class PhaseClock:
    """Adds the seconds since the previous lap to ``timings[name]`` (no-op without a dict)."""

    def __init__(self, timings: dict[str, float] | None) -> None:
        self.timings = timings
        self.restart()

    def restart(self) -> None:
        self.t0 = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.timings is not None:
            self.timings[name] = self.timings.get(name, 0.0) + now - self.t0
        self.t0 = now
