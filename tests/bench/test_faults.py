"""The fault campaign (``bench/faults.py``): a small seeded subset, and proof that its watch
catches a broken controller (an invariant checker that cannot fail would prove nothing)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from faultkit.frames import run_frames
from faultkit.inprocess import Rig, run_home_scenarios, run_scenario
from faultkit.report import Tally


def kinds(tally: Tally) -> set[str]:
    return {f.kind for f in tally.findings}


def sabotaged(sabotage: object) -> Tally:
    """A scenario without injected faults (so nothing is excused) and a broken controller."""
    tally = Tally()
    asyncio.run(run_scenario("test", 0, 7, 0, tally, sabotage, min_ticks=40))  # type: ignore[arg-type]
    return tally


def test_a_seeded_subset_injects_faults_and_frames_and_is_reproducible() -> None:
    a = run_home_scenarios(11, 120)
    b = run_home_scenarios(11, 120)
    assert a.faults_injected >= 100 and a.scenarios == 2
    assert [(f.kind, f.at_s, f.detail) for f in a.findings] == [
        (f.kind, f.at_s, f.detail) for f in b.findings
    ]
    frames, log = run_frames(11, 60, sessions=1)
    assert frames.malformed_frames == 60
    assert len(frames.frames_by_class) >= 8
    assert log.lines > 0  # the central system's log output was counted, not printed


def test_the_seeded_subset_keeps_every_invariant() -> None:
    """Failed before issue 10's fixes (decode errors and refused setpoints stopped the loop;
    deep nesting closed the OCPP session; NotImplemented/NotSupported swapped)."""
    home = run_home_scenarios(3, 120)
    frames, _ = run_frames(3, 100, sessions=1)
    assert home.findings + frames.findings == []


def test_a_discharge_into_a_dead_grid_is_caught() -> None:
    async def export_in_outage(rig: Rig, tick: int) -> None:
        if tick == 5:
            rig.home.grid_down()
            rig.watch.grid_changed(rig.plant.now())
        if tick >= 6 and not rig.home.grid_up:
            await rig.devices.transfer.set_transfer(True)  # type: ignore[union-attr]
            charger = rig.devices.chargers["ev"]
            await charger.set_charge_power(-7.2)
            rig.sim.charger.store.plugged_in = True  # type: ignore[union-attr]
            rig.home.advance(2.0)

    found = kinds(sabotaged(export_in_outage))
    assert {"switch closed to a dead grid", "grid-side discharge", "backfeed"} <= found


def test_a_command_beyond_the_device_limits_is_caught() -> None:
    async def overdrive(rig: Rig, tick: int) -> None:
        if tick == 3:
            await rig.devices.chargers["ev"].set_charge_power(50.0)

    assert "command limits" in kinds(sabotaged(overdrive))


def test_rejoining_the_grid_before_the_enter_service_delay_is_caught() -> None:
    async def hasty(rig: Rig, tick: int) -> None:
        if tick == 3:
            rig.home.grid_down()
            rig.watch.grid_changed(rig.plant.now())
        if tick == 10:
            rig.home.grid_restore()
            rig.watch.grid_changed(rig.plant.now())
        if tick == 12:
            await rig.devices.transfer.set_transfer(True)  # type: ignore[union-attr]

    assert "enter-service delay" in kinds(sabotaged(hasty))


def test_a_loop_that_stops_is_a_stall() -> None:
    async def crash(rig: Rig, tick: int) -> None:
        if tick == 20:

            async def dead() -> None:
                raise RuntimeError("controller stopped")

            rig.controller.tick = dead  # type: ignore[method-assign,assignment]

    tally = sabotaged(crash)
    assert tally.stalls >= 1
    assert any("controller stopped" in f.detail for f in tally.findings)


def test_a_discharge_below_the_floor_is_caught_unless_the_device_ignored_a_stop() -> None:
    from faultkit.plant import Fault

    async def drain(rig: Rig, tick: int) -> None:
        if tick >= 3:
            rig.sim.charger.store.plugged_in = True  # type: ignore[union-attr]
            rig.sim.charger.store.soc_kwh = 1.0  # type: ignore[union-attr]
            await rig.devices.chargers["ev"].set_charge_power(-7.2)
            rig.home.refresh()

    assert "reserve" in kinds(sabotaged(drain))

    async def deaf(rig: Rig, tick: int) -> None:
        if tick >= 3:  # told to stop, acknowledges, and keeps discharging
            store = rig.sim.charger.store  # type: ignore[union-attr]
            store.plugged_in, store.soc_kwh = True, 1.0
            rig.board.faults["charger"] = Fault("frozen")
            await rig.devices.chargers["ev"].set_charge_power(0.0)
            store.setpoint_kw = -7.2
            rig.home.refresh()

    tally = sabotaged(deaf)
    assert "reserve" not in kinds(tally)
    assert tally.excused["reserve (the device ignored a stop)"] > 0
