"""Rate limits for log lines a peer can trigger at will, so that a flood of bad frames costs a few
lines a minute instead of one line (or a traceback) per frame.

Time is read from the injected clock, so a test (or a simulation) decides when a window ends.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from voltbridge.core.clock import Clock

MAX_KEYS = 256
"""Keys remembered at most; the oldest is forgotten first. Keys come from our own finite sets
(error codes, action names we know), this only bounds memory if a caller gets that wrong."""


@dataclass
class _Window:
    start: datetime
    emitted: int = 0
    suppressed: int = 0


class LogLimiter:
    """Lets through at most ``burst`` lines per key in each window of ``window_s`` [s].

    >>> from datetime import UTC, datetime
    >>> from voltbridge.core.clock import VirtualClock
    >>> clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    >>> limit = LogLimiter(clock, burst=2, window_s=60.0)
    >>> [limit.admit("FormatViolation") for _ in range(4)]
    [0, 0, None, None]
    >>> clock.advance(60); limit.admit("FormatViolation")
    2
    """

    def __init__(self, clock: Clock, *, burst: int = 5, window_s: float = 60.0) -> None:
        if burst < 1 or window_s <= 0:
            raise ValueError(f"burst {burst} must be >= 1 and window_s {window_s} [s] > 0")
        self.clock, self.burst, self.window_s = clock, burst, window_s
        self._windows: dict[Hashable, _Window] = {}

    def admit(self, key: Hashable) -> int | None:
        """None when the line for ``key`` must be dropped (it is counted); otherwise the number of
        lines for ``key`` dropped before this one, for the caller to mention in its line."""
        now = self.clock.now()
        window = self._windows.get(key)
        elapsed_s = None if window is None else (now - window.start).total_seconds()
        if window is None or elapsed_s is None or not 0.0 <= elapsed_s < self.window_s:
            dropped = 0 if window is None else window.suppressed
            self._remember(key, _Window(now, emitted=1))
            return dropped
        if window.emitted < self.burst:
            window.emitted += 1
            return 0
        window.suppressed += 1
        return None

    def drain(self) -> dict[Hashable, int]:
        """The lines dropped and not yet mentioned, by key (e.g. to log when a session ends)."""
        left = {k: w.suppressed for k, w in self._windows.items() if w.suppressed}
        for key in left:
            self._windows[key].suppressed = 0
        return left

    def _remember(self, key: Hashable, window: _Window) -> None:
        self._windows.pop(key, None)
        if len(self._windows) >= MAX_KEYS:
            del self._windows[next(iter(self._windows))]
        self._windows[key] = window


def suppressed_note(dropped: int) -> str:
    """The tail of a line that follows ``dropped`` dropped ones ("" when none were)."""
    return f" ({dropped} similar lines suppressed before this one)" if dropped else ""
