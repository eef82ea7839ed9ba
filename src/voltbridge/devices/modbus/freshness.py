"""Frozen-device detection for registers that carry no timestamp: when did the readings last change.

SunSpec devices do not timestamp their registers, so a device whose firmware hangs while its
Modbus stack keeps answering serves the same registers forever. The rule:

    A reading's ``at`` is the clock time of the last read at which the device's registers (every
    model the driver reads, scale factors and energy counters included) differed from the read
    before, or the time of this read when the device reports no power flow at all.

A live device's registers keep changing while power flows: its energy counters advance, its state
of charge moves, a model 802 heartbeat ticks, and real measurements jitter in their last digit.
A frozen one's ``at`` stops advancing, and the controller's stale-data rule (``now - at`` beyond
its limit is a fault, never a value) catches it.

Limits:
    - A device frozen while it reads exactly zero power is not detected (nothing would have
      changed on a live device either). PV at night and an idle battery look alive.
    - A live device whose power is steady and whose counters are coarse ages as if frozen until a
      counter ticks: a counter in steps of ``r`` [Wh] at ``p`` [W] ticks every ``3600 r / p`` [s]
      (36 s for 1 Wh steps at 100 W). Set the stale limit above that, or poll less often.
    - A device that changes its registers but serves wrong values is not caught here; range checks
      at the driver edge catch the values that are physically impossible.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from voltbridge.core.clock import Clock


class LastChange:
    """Tracks when one device's registers last changed, on the injected clock.

    >>> from datetime import UTC, datetime
    >>> from voltbridge.core.clock import VirtualClock
    >>> clock = VirtualClock(datetime(2026, 1, 1, tzinfo=UTC))
    >>> t = LastChange(clock)
    >>> t.observe([1, 2], idle=False).second
    0
    >>> clock.advance(5); t.observe([1, 2], idle=False).second  # unchanged: frozen so far
    0
    >>> clock.advance(5); t.observe([1, 3], idle=False).second
    10
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._registers: tuple[int, ...] | None = None
        self._changed_at: datetime | None = None

    def observe(self, registers: Sequence[int], idle: bool) -> datetime:
        """Record one read of ``registers``; ``idle`` when the device reports zero power.

        Returns the time the registers last changed (or now, when idle or first seen).
        """
        now = self.clock.now()
        regs = tuple(registers)
        if self._changed_at is None or idle or regs != self._registers:
            self._changed_at = now
        self._registers = regs
        return self._changed_at

    def age_s(self) -> float:
        """Seconds since the registers last changed [s]; 0 before the first read."""
        if self._changed_at is None:
            return 0.0
        return (self.clock.now() - self._changed_at).total_seconds()
