"""Writes statuses and events to a store until killed, printing the last index it knows is committed.

Run as ``python crash_writer.py DB FIRST``: status ``2i`` waits for the commit interval (real
clock, 10 ms), status ``2i + 1`` is followed by event ``i``, which commits both; then ``i`` is
printed. Statuses are 1 s apart from T0 + FIRST s, importing 3 kW at 0.20 a kWh.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from voltbridge.core.clock import RealClock
from voltbridge.core.status import ControlEvent, ControlStatus, EventKind, Mode, PowerFlows
from voltbridge.core.types import GridState
from voltbridge.store import Retention, Store

T0 = datetime(2026, 3, 2, tzinfo=UTC)


def main() -> None:
    path, first = Path(sys.argv[1]), int(sys.argv[2])
    # statuses are dated 2026-03-02 whatever the real date: keep everything
    keep = Retention(None, None, None, None, None)
    store = Store(path, RealClock(), keep, commit_interval_s=0.01)
    i = 0
    while True:
        for n in (first + 2 * i, first + 2 * i + 1):
            store.record_status(
                ControlStatus(
                    at=T0 + timedelta(seconds=n),
                    grid_state=GridState.ON_GRID,
                    mode=Mode.AUTO,
                    v2g_allowed=True,
                    power=PowerFlows(grid_kw=3.0, load_kw=3.0),
                    backup_hours=0.0,
                    price_import=0.2,
                    decision=f"status {n}",
                )
            )
        store.record_event(ControlEvent(T0 + timedelta(seconds=n), EventKind.PLAN, f"event {n}"))
        print(n, flush=True)
        i += 1


if __name__ == "__main__":
    main()
