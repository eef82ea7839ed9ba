"""The ``optimal`` strategy: voltbridge's real-time controller (not a copy) on the simulated plant.

The controller runs unchanged on a virtual clock, one tick per simulation step, against devices
that read and write the simulator's plant (``PlantBridge``). Its plans come from
``SimPlanSource``: the same planner, on forecasts built only from the simulated past and prices
known at the time. An outage announced ahead (``Outage.notice_h``) reaches the controller at its
announcement through ``Controller.announce_outage``, the path the API takes at home. Off grid the plant follows the controller's setpoints and its shedding
(``grid_forming``), and the house joins the grid only when the controller closes the transfer
switch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from voltbridge.control.controller import ControlConfig, Controller
from voltbridge.control.grid_state import GridLimits
from voltbridge.control.io import DeviceSet
from voltbridge.control.plan_source import PlanState
from voltbridge.control.site_model import ControlSite, control_site
from voltbridge.core.clock import VirtualClock
from voltbridge.core.timegrid import FloatArray
from voltbridge.core.types import Measurement, Plan
from voltbridge.planner import Planner
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent
from voltbridge.sim.context import Context
from voltbridge.sim.plan_inputs import SimPlanInputs

T = TypeVar("T")


def run_now(loop: asyncio.AbstractEventLoop, tick: Coroutine[Any, Any, T]) -> T:
    """Run ``tick`` (one controller tick) to its end now, with ``loop`` as the running loop,
    as the loop runs each of its callbacks, but without making it a task and turning the loop
    twice to finish it (a sixth of a simulated tick).

    The bridge's devices answer at once, so a tick never waits. Were one to wait, it would not
    pass unseen: a device call that waits outside a task cannot be timed (``io.within``), which
    is a software fault of that device (an event, and its traceback logged), and a tick that
    waits anywhere else is a RuntimeError here. The simulator's tests check that a simulated
    home has no fault at all.
    """
    if asyncio.events._get_running_loop() is not None:  # as run_until_complete would say
        tick.close()
        raise RuntimeError("Cannot run the event loop while another loop is running")
    asyncio.events._set_running_loop(loop)
    try:
        tick.send(None)
    except StopIteration as done:
        result: T = done.value
        return result
    finally:
        asyncio.events._set_running_loop(None)
    tick.close()
    raise RuntimeError(
        "a controller tick waited in the simulator: the plant's devices must answer at once"
    )


class PlantBridge:
    """The simulated plant at the current step, seen as devices; setpoints are collected."""

    def __init__(self, ctx: Context, site: ControlSite) -> None:
        self.ctx, self.site = ctx, site
        self.t = 0
        self._now_t, self._now = -1, datetime.min.replace(tzinfo=UTC)
        self.setpoints = [0.0] * len(ctx.params)
        self.transfer_closed = True
        self.circuits_on = {c.name: True for c in site.circuits}
        self.index = {p.name: i for i, p in enumerate(ctx.params)}
        nonessential = [c for c in site.circuits if not c.essential]
        essential = [c for c in site.circuits if c.essential]
        self._share = {
            c.name: c.typical_kw / max(sum(x.typical_kw for x in group), 1e-9)
            for group in (nonessential, essential)
            for c in group
        }

    def now(self) -> datetime:
        """The start of step ``t`` (every reading of a tick carries it: made once a step)."""
        if self._now_t != self.t:
            self._now_t = self.t
            self._now = datetime.fromtimestamp(float(self.ctx.world.grid.edges_s[self.t]), UTC)
        return self._now

    def shed_kw(self) -> float:
        """Demand removed by open relays now [kW]: non-essential circuits share the load above
        the essential part in proportion to their typical draw; essential ones share that part."""
        w, t = self.ctx.world, self.t
        load, essential = float(w.load_kw[t]), float(w.essential_kw[t])
        out = 0.0
        for c in self.site.circuits:
            if not self.circuits_on[c.name]:
                base = essential if c.essential else max(load - essential, 0.0)
                out += base * self._share[c.name]
        return min(out, load)

    # --- devices ------------------------------------------------------------------------------
    async def read_grid(self) -> Measurement:
        w, t, plant = self.ctx.world, self.t, self.ctx.plant
        up = bool(w.grid_up[t])
        grid_kw = float(plant.grid_kw[t - 1]) if t > 0 else 0.0
        return Measurement(
            "meter",
            self.now(),
            power_kw=grid_kw,
            voltage_v=self.site.nominal_voltage_v if up else 0.0,
            frequency_hz=self.site.nominal_frequency_hz if up else 0.0,
        )

    async def read_load(self) -> Measurement:
        demand = float(self.ctx.world.load_kw[self.t]) - self.shed_kw()
        return Measurement("load", self.now(), power_kw=max(demand, 0.0))

    async def read_pv(self) -> Measurement:
        return Measurement("pv", self.now(), power_kw=float(self.ctx.world.pv_kw[self.t]))

    def storage_measurement(self, name: str) -> Measurement:
        i, plant = self.index[name], self.ctx.plant
        power = float(plant.power[i, self.t - 1]) if self.t > 0 else 0.0
        return Measurement(name, self.now(), power_kw=power, soc_kwh=float(plant.soc[i]))

    def plugged(self, name: str) -> bool:
        return bool(self.ctx.plant.models[self.index[name]].plugged_in[self.t])

    def set(self, name: str, kw: float) -> None:
        self.setpoints[self.index[name]] = kw

    async def set_circuit(self, circuit: str, on: bool) -> None:
        if circuit not in self.circuits_on:
            raise KeyError(f"no circuit {circuit!r}")
        self.circuits_on[circuit] = on

    async def circuit_states(self) -> dict[str, bool]:
        return dict(self.circuits_on)

    async def set_transfer(self, grid_connected: bool) -> None:
        self.transfer_closed = grid_connected

    async def transfer_closed_now(self) -> bool:
        return self.transfer_closed


class _Charger:
    def __init__(self, bridge: PlantBridge, name: str) -> None:
        self.bridge, self.name = bridge, name

    async def read_charger(self) -> Measurement:
        return self.bridge.storage_measurement(self.name)

    async def plugged_in(self) -> bool:
        return self.bridge.plugged(self.name)

    async def set_charge_power(self, kw: float) -> None:
        self.bridge.set(self.name, kw)

    async def safe_default(self) -> None:
        self.bridge.set(self.name, 0.0)


class _Battery:
    def __init__(self, bridge: PlantBridge) -> None:
        self.bridge = bridge

    async def read_battery(self) -> Measurement:
        return self.bridge.storage_measurement("battery")

    async def set_battery_power(self, kw: float) -> None:
        self.bridge.set("battery", kw)


class _Switch:
    def __init__(self, bridge: PlantBridge) -> None:
        self.bridge = bridge

    async def set_transfer(self, grid_connected: bool) -> None:
        await self.bridge.set_transfer(grid_connected)

    async def transfer_closed(self) -> bool:
        return await self.bridge.transfer_closed_now()


class SimPlanSource:
    """Plans from forecasts of the simulated past and the prices known at the time; the inputs
    come from series made once a day and sliced per re-plan (``sim/plan_inputs.py``)."""

    def __init__(self, ctx: Context, bridge: PlantBridge, prior_kw: FloatArray) -> None:
        self.ctx, self.bridge, self.prior = ctx, bridge, prior_kw
        self.inputs = SimPlanInputs(ctx, prior_kw)
        self.planner = Planner()
        self.plans = 0

    def make_plan(self, state: PlanState) -> Plan:
        req = self.inputs.request(self.bridge.t, state)
        self.plans += 1
        return self.planner.plan(req)


class ControlledOptimal:
    """Re-plan every 15 minutes on past-only forecasts and run the real-time controller every
    simulation step: it follows the plan, absorbs deviations, and islands the house in outages."""

    name = "optimal"

    def __init__(self) -> None:
        self.bridge: PlantBridge | None = None
        self.controller: Controller | None = None
        self.source: SimPlanSource | None = None
        self.clock: VirtualClock | None = None
        self._unheard: list[ProgramEvent] = []
        self._loop = asyncio.new_event_loop()
        self._notices: list[tuple[datetime, AnnouncedOutage]] = []

    @property
    def plans(self) -> int:
        return 0 if self.source is None else self.source.plans

    def _start(self, ctx: Context) -> None:
        from voltbridge.sim.planned import site_prior_load

        w = ctx.world
        site = control_site(w.site)
        bridge = PlantBridge(ctx, site)
        dt_s = float(w.dt_h[0]) * 3600
        chargers = {p.name: _Charger(bridge, p.name) for p in ctx.params if p.kind == "vehicle"}
        battery = _Battery(bridge) if any(p.kind == "battery" for p in ctx.params) else None
        devices = DeviceSet(
            meter=bridge,
            chargers=dict(chargers),
            battery=battery,
            pv=bridge,
            load_meter=bridge,
            relay=bridge,
            transfer=_Switch(bridge),
        )
        self.clock = VirtualClock(bridge.now())
        self.source = SimPlanSource(ctx, bridge, site_prior_load(ctx))
        limits = GridLimits(
            site.nominal_voltage_v, site.nominal_frequency_hz, stale_after_s=2 * dt_s
        )
        config = ControlConfig(
            tick_s=dt_s,
            stale_after_s=2 * dt_s,
            rewrite_s=dt_s,
            plan_in_thread=False,
            concurrent_reads=False,
        )
        self.controller = Controller(
            site, devices, self.source, self.clock, config, grid_limits=limits
        )
        self.bridge = bridge
        self._unheard = sorted(
            ctx.world.events, key=lambda e: e.received_at or e.start, reverse=True
        )
        self._notices = sorted(
            (
                (o.announced_at, AnnouncedOutage(f"sim-{i + 1}", o.start, o.end, "sim"))
                for i, o in enumerate(w.outages)
                if o.announced_at is not None
            ),
            key=lambda n: n[0],
        )

    def _hear_events(self, now: datetime) -> None:
        """Offer the controller the grid events announced by ``now``, as a VTN would."""
        assert self.controller is not None
        while self._unheard and (self._unheard[-1].received_at or self._unheard[-1].start) <= now:
            self.controller.programs.offer(self._unheard.pop(), now)

    def _announce(self, now: datetime) -> None:
        """Hand the controller each outage announced by ``now``, as the API would at home (an
        announcement made before the period arrives at its first step)."""
        assert self.controller is not None
        while self._notices and self._notices[0][0] <= now:
            at, outage = self._notices.pop(0)
            if outage.end > now:
                self.controller.announce_outage(
                    replace(outage, announced_at=min(at, now)), source="sim"
                )

    def setpoints(self, t: int, ctx: Context) -> list[float]:
        if self.bridge is None:
            self._start(ctx)
        assert self.bridge is not None and self.controller is not None and self.clock is not None
        self.bridge.t = t
        ahead = (self.bridge.now() - self.clock.now()).total_seconds()
        if ahead > 0:
            self.clock.advance(ahead)
        if self._unheard:
            self._hear_events(self.clock.now())
        if self._notices:
            self._announce(self.clock.now())
        run_now(self._loop, self.controller.step())
        return list(self.bridge.setpoints)

    def house(self, t: int) -> tuple[bool, float]:
        """(house joined to the grid by the transfer switch, demand shed by open relays [kW])."""
        assert self.bridge is not None
        return self.bridge.transfer_closed, self.bridge.shed_kw()

    def close(self) -> None:
        self._loop.close()


class ControlledOptimalNoPrograms(ControlledOptimal):
    """``optimal`` deaf to the programs' events: the same controller on the same world, for
    what taking part is worth against the same period without it."""

    name = "optimal-no-programs"

    def _start(self, ctx: Context) -> None:
        super()._start(ctx)
        self._unheard = []
