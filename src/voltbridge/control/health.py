"""Is the home's control working? Four checks for ``/api/health``, a watchdog and monitoring:
the loop ticks, the devices answer, the store records, the plan being followed is fresh.

Each check says what it found in words with no names or figures of the household in them (the
answer is public: a monitor or a watchdog reads it without a login).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

LATE_TICKS = 3.0
"""The loop counts as stuck when its last tick is older than this many tick periods."""


@dataclass(frozen=True)
class Check:
    """One health check: whether it passes and what it found, in words."""

    ok: bool
    detail: str


def health_checks(
    *,
    now: datetime,
    last_tick: datetime | None,
    tick_s: float,
    faults: Mapping[str, str],
    devices: int,
    recording: bool | None,
    plan_at: datetime | None,
    plan_stale_s: float,
) -> dict[str, Check]:
    """The four checks.

    ``recording``: True when the last status was recorded, False when recording fails, None when
    no store is configured. ``devices``: how many devices the controller reads.
    """
    if last_tick is None:
        loop = Check(False, "the control loop has not ticked yet")
    else:
        age_s = (now - last_tick).total_seconds()
        loop = Check(
            age_s <= LATE_TICKS * tick_s,
            f"last tick {age_s:.0f} s ago (every {tick_s:g} s)",
        )
    failing = len(faults)
    device = Check(
        failing == 0,
        "every device answers"
        if failing == 0
        else f"{failing} of {max(devices, failing)} devices do not answer or are stale",
    )
    if recording is None:
        store = Check(True, "no store configured")
    else:
        store = Check(recording, "recording" if recording else "recording fails")
    if plan_at is None:
        plan = Check(False, "no plan yet")
    else:
        plan_age_s = (now - plan_at).total_seconds()
        plan = Check(
            plan_age_s <= plan_stale_s,
            f"plan made {plan_age_s / 60:.0f} min ago (stale after {plan_stale_s / 60:g} min)",
        )
    return {"loop": loop, "devices": device, "store": store, "plan": plan}
