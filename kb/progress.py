"""Progress of a long run, on stderr: one line updated in place on a terminal, and in a log (CI,
a pipe, a file) a line a minute, so a long run shows life and a short one prints nothing extra.

`Meter` knows nothing of what it counts beyond a unit name: `build` counts files (and the
characters of their bodies), `extract` the characters of one body.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

LOG_INTERVAL = 60.0  # seconds between lines in a log
LIVE_INTERVAL = 0.2  # seconds between redraws on a terminal
LIVE_DELAY = 1.0  # a run shorter than this never draws, so quick commands do not flicker
CLOCK: Callable[[], float] = time.monotonic  # the clock meters read unless given one (tests replace it)


@dataclass(slots=True)
class Meter:
    label: str  # the command: "build", "extract"
    total: int  # units of work
    unit: str  # what a unit is, plural: "files", "characters"
    stream: TextIO
    live: bool  # a terminal: one line redrawn in place
    clock: Callable[[], float] = time.monotonic
    interval: float = LOG_INTERVAL
    done: int = 0
    chars: int = 0
    started: float = field(init=False)
    next_at: float = field(init=False)
    drawn: int = field(init=False, default=0)  # width of the live line on screen

    def __post_init__(self) -> None:
        self.started = self.clock()
        self.next_at = self.started + (LIVE_DELAY if self.live else self.interval)

    def advance(self, units: int = 1, chars: int = 0) -> None:
        """`units` more done, holding `chars` characters."""
        self.update(self.done + units, self.chars + chars)

    def update(self, done: int, chars: int | None = None) -> None:
        """`done` units done so far (and `chars` characters; by default the units are characters)."""
        self.done, self.chars = done, done if chars is None else chars
        now = self.clock()
        if now < self.next_at:
            return
        self.next_at = now + (LIVE_INTERVAL if self.live else self.interval)
        line = self.line(now)
        if self.live:
            self.stream.write("\r" + line + " " * max(0, self.drawn - len(line)))
            self.drawn = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        """Clear the live line: the command's own output follows."""
        if self.live and self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        share = f" ({100 * self.done // self.total}%)" if self.total else ""
        parts = [f"{self.label}: {_count(self.done, self.unit)}/{_count(self.total, self.unit)} {self.unit}{share}",
                 f"{_count(self.chars / elapsed, 'characters')} chars/s"]
        if 0 < self.done < self.total:
            parts.append(f"ETA {duration(elapsed * (self.total - self.done) / self.done)}")
        return ", ".join(parts)


def meter(label: str, total: int, unit: str, stream: TextIO | None = None,
          clock: Callable[[], float] | None = None) -> Meter:
    """A meter on `stream` (stderr), live when it is a terminal."""
    stream = stream or sys.stderr
    live = bool(getattr(stream, "isatty", lambda: False)())
    return Meter(label, total, unit, stream, live, clock or CLOCK, LIVE_INTERVAL if live else LOG_INTERVAL)


def _count(n: float, unit: str) -> str:
    """Files in full (1,234); characters shortened (1.2 M)."""
    if unit != "characters" or n < 10_000:
        return f"{int(n):,}"
    return f"{n / 1e6:.1f} M" if n >= 1e6 else f"{n / 1e3:.0f} k"


def duration(seconds: float) -> str:
    """'45 s', '3 min 10 s', '2 h 05 min'."""
    s = int(seconds + 0.5)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
