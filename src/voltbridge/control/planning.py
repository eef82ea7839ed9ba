"""When the controller re-plans, and where the plan is made: in a worker thread beside the loop
(at home, so device I/O and ticks go on while HiGHS solves) or inline (the simulator, which
must stay deterministic).

A plan is asked for every ``replan_s``, and at once on a reason (plug-in, settings, grid back,
start) or when a storage's SoC is ``soc_replan_kwh`` off the plan. While the grid is absent no
plan is made: its prices and limits assume the grid. A failed plan is a warning and the last plan
is kept; a plan older than ``plan_stale_s`` is no longer followed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from datetime import datetime

from voltbridge.control.events import EventLog
from voltbridge.control.io import Snapshot
from voltbridge.control.plan_source import PlanSource, PlanState
from voltbridge.control.settings import Settings
from voltbridge.control.tracking import plan_step
from voltbridge.core.status import EventCode, EventKind, NullRecorder, Recorder
from voltbridge.core.types import Plan
from voltbridge.planner.export import plan_to_dict
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent

log = logging.getLogger("voltbridge.control")


class Replanner:
    """Keeps the plan being followed and makes new ones when due (see the module docstring).

    Attributes:
        plan: the plan being followed, or None.
        plan_at: when it was asked for (its start), or None.
    """

    def __init__(
        self,
        source: PlanSource,
        events: EventLog,
        recorder: Recorder,
        *,
        replan_s: float,
        soc_replan_kwh: float,
        plan_stale_s: float,
        in_thread: bool,
    ) -> None:
        self.source, self.events, self.recorder = source, events, recorder
        self.replan_s, self.soc_replan_kwh = replan_s, soc_replan_kwh
        self.plan_stale_s, self.in_thread = plan_stale_s, in_thread
        self.plan: Plan | None = None
        self.plan_at: datetime | None = None
        # the last attempt, made or failed: replan_s counts from it
        self._tried_at: datetime | None = None
        self._why: str | None = "start"
        self._pending: asyncio.Task[Plan] | None = None
        self._pending_for: tuple[datetime, str] | None = None

    @property
    def planning(self) -> asyncio.Task[Plan] | None:
        """The plan being made in the worker thread, or None."""
        return self._pending

    def request(self, why: str) -> None:
        """Re-plan at the next tick, for ``why`` (in words)."""
        self._why = why

    def followable(self, now: datetime) -> Plan | None:
        """The plan to follow at ``now``: None when there is none or it is too old."""
        if self.plan is None or self.plan_at is None:
            return None
        if (now - self.plan_at).total_seconds() > self.plan_stale_s:
            return None
        return self.plan

    async def step(
        self,
        snap: Snapshot,
        now: datetime,
        soc_pct: dict[str, float],
        settings: Settings,
        grid_connected: bool,
        budget_left_kwh: Mapping[str, float | None] | None = None,
        events: tuple[ProgramEvent, ...] = (),
        announced: tuple[AnnouncedOutage, ...] = (),
    ) -> None:
        """Take a plan finished in the worker thread, then start a new one if one is due.

        ``budget_left_kwh``: what each car may still discharge today [kWh stored], for the plan
        to spend each day's warranty allowance where it is worth most. ``events``: the paid grid
        events the household takes part in. ``announced``: the announced outages not over
        (storm watch)."""
        if self._pending is not None and self._pending.done():
            self._finish(self._pending, now)
        why = self._due(snap, now)
        if why is None or not grid_connected or self._pending is not None:
            return
        plugged = {n: bool(p) for n, p in snap.plugged_in.items() if p is not None}
        state = PlanState(
            now, soc_pct, plugged, settings, dict(budget_left_kwh or {}), events, announced
        )
        self._why = None
        self._pending_for = (now, why)
        if self.in_thread:
            self._pending = asyncio.ensure_future(asyncio.to_thread(self.source.make_plan, state))
            return
        try:
            plan = self.source.make_plan(state)
        except Exception as err:  # a failed plan must not stop the loop: keep the last one
            self._failed(err, now)
        else:
            self._adopt(plan)

    def cancel(self) -> None:
        """Stop waiting for a plan in the worker thread (at shutdown)."""
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None

    def _due(self, snap: Snapshot, now: datetime) -> str | None:
        if self._why is not None:
            return self._why
        if self._tried_at is None or (now - self._tried_at).total_seconds() >= self.replan_s:
            return f"every {self.replan_s / 60:g} minutes"
        step = plan_step(self.plan, now) if self.plan is not None else None
        if step is None:
            return None
        for name, m in snap.storages.items():
            if m is None or m.soc_kwh is None or name not in step.soc_kwh:
                continue
            off = m.soc_kwh - step.soc_kwh[name]
            if abs(off) > self.soc_replan_kwh:
                return f"{name} SoC {off:+.1f} kWh off plan"
        return None

    def _finish(self, task: asyncio.Task[Plan], now: datetime) -> None:
        self._pending = None
        if task.cancelled():
            return
        err = task.exception()
        if err is not None:
            self._failed(err, now)
        else:
            self._adopt(task.result())

    def _failed(self, err: BaseException, now: datetime) -> None:
        log.error("planning failed", exc_info=err)
        self.events.emit(
            EventKind.WARNING,
            EventCode.PLAN_FAILED,
            f"planning failed ({err}); following the last plan",
            data={"exception": type(err).__name__},
        )
        # try again after replan_s, but the plan followed stays as old as it is (plan_stale_s)
        self._tried_at = self._pending_for[0] if self._pending_for else now

    def _adopt(self, plan: Plan) -> None:
        assert self._pending_for is not None
        at, why = self._pending_for
        self.plan, self.plan_at, self._tried_at = plan, at, at
        self.events.emit(
            EventKind.PLAN,
            EventCode.PLAN,
            f"new plan ({why}): bill {plan.cost.bill:.2f} over {plan.grid.n} steps"
            + (f" ({len(plan.warnings)} target(s) cannot be met)" if plan.warnings else ""),
            data={"reason": why, "warnings": list(plan.warnings), "solve_ms": plan.solve_ms},
        )
        if isinstance(self.recorder, NullRecorder):
            return  # nothing records it: skip the JSON (a simulated year plans 35,000 times)
        try:
            minutes = round(float(plan.grid.dt_h[0]) * 60)
            self.recorder.record_plan(at, plan_to_dict(plan, minutes))
        except Exception:  # recording is best effort; the loop goes on
            log.exception("recording the plan failed")
