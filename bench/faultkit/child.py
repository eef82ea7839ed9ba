"""The controller as a process of its own, on the real protocol peers, recording into a real
SQLite store, to be killed with ``kill -9`` by ``restart.py``.

Run as ``python child.py CONFIG_JSON``. It wires things as ``voltbridge run`` does
(``runtime.service.run_home``): the Modbus drivers and the OCPP central system from a
``[devices]`` section (``runtime.devices.open_devices``), the store, the settings restored from
it and persisted on every change, the controller's ``run`` loop. Its clock is a ``ScaledClock``
anchored on the wall clock as the parent's is, so both share one time line. It prints JSON lines:
``ready`` (the central system's port, the settings it starts with), one ``tick`` per status, and
``committed`` after each flush of the store (the last status and the number of events the store
then holds for sure).
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from datetime import datetime, timedelta

from pydantic import SecretStr

from voltbridge.control.controller import ControlConfig, Controller
from voltbridge.control.grid_state import GridLimits
from voltbridge.control.settings import Settings, SettingsUpdate
from voltbridge.core.clock import ScaledClock
from voltbridge.core.status import ControlEvent, ControlStatus, Recorder
from voltbridge.runtime.devices import (
    ChargerLink,
    DevicesSection,
    DriverSection,
    OcppSection,
    open_devices,
)
from voltbridge.store import Store

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1]))
from faultkit.inprocess import RandomPlans, control_site


def emit(**fields: object) -> None:
    print(json.dumps(fields, default=str), flush=True)


class Counting:
    """The store as the recorder, counting the events it was given."""

    def __init__(self, store: Store) -> None:
        self.store, self.events, self.ticks = store, 0, 0

    def record_status(self, status: ControlStatus) -> None:
        self.store.record_status(status)
        self.ticks += 1
        emit(tick=status.at.isoformat(), grid=status.grid_state.value)
        if self.ticks % 5 == 0:
            self.store.flush()
            emit(committed=status.at.isoformat(), events=self.events)

    def record_event(self, event: ControlEvent) -> None:
        self.store.record_event(event)  # committed at once (store.py)
        self.events += 1

    def record_plan(self, at: datetime, plan: dict[str, object]) -> None:
        self.store.record_plan(at, plan)


async def main(cfg: dict[str, object]) -> None:
    start = datetime.fromisoformat(str(cfg["start"]))
    speed = float(str(cfg["speed"]))
    anchor = float(str(cfg["anchor"]))
    clock = ScaledClock(start + timedelta(seconds=(time.time() - anchor) * speed), speed)
    cs = control_site(battery=True)
    port = int(str(cfg["modbus_port"]))
    timeout = {"timeout_s": float(str(cfg["modbus_timeout_s"]))}

    def driver(name: str, unit: int, **extra: object) -> DriverSection:
        spec = {
            "driver": name,
            "host": "127.0.0.1",
            "port": port,
            "unit_id": unit,
            **timeout,
            **extra,
        }
        return DriverSection.model_validate(spec)

    section = DevicesSection(
        meter=driver(
            "sunspec-meter",
            1,
            max_power_kw=60.0,
            voltage_min_v=120.0,
            voltage_max_v=360.0,
            frequency_min_hz=55.0,
            frequency_max_hz=65.0,
        ),
        pv=driver("sunspec-inverter", 2, rated_power_kw=5.0),
        battery=driver("sunspec-battery", 3, rated_power_kw=7.5, capacity_kwh=10.0),
        relay=driver(
            "modbus-relay",
            4,
            circuits=cfg["circuits"],
            transfer_coil=int(str(cfg["transfer_coil"])),
        ),
        ocpp=OcppSection(
            port=0,
            chargers=[
                ChargerLink(
                    vehicle="ev", charger_id="cp1", password=SecretStr(str(cfg["password"]))
                )
            ],
        ),
    )
    home = await open_devices(section, cs, clock)
    assert home.central is not None
    store = Store(__import__("pathlib").Path(str(cfg["db"])), clock)
    saved = store.latest_settings()
    settings = cs.defaults if saved is None else Settings.model_validate(saved)
    recorder = Counting(store)
    rec: Recorder = recorder
    ctl = Controller(
        cs,
        home.devices,
        RandomPlans(cs, random.Random(int(str(cfg["seed"])))),
        clock,
        ControlConfig(tick_s=2.0, device_timeout_s=float(str(cfg["device_timeout_s"]))),
        recorder=rec,
        settings=settings,
        grid_limits=GridLimits(
            240.0, 60.0, enter_service_delay_s=float(str(cfg["enter_service_delay_s"]))
        ),
    )
    ctl.settings_listeners.append(
        lambda new: store.record_settings(clock.now(), new.model_dump(mode="json"))
    )
    emit(ready=True, ocpp_port=home.central.port, settings=settings.model_dump(mode="json"))
    update = cfg.get("settings_update")
    if isinstance(update, dict):
        new = ctl.apply_settings(SettingsUpdate.model_validate(update), "fault campaign")
        emit(settings_committed=new.model_dump(mode="json"))
    await ctl.run()  # the real loop: it ends only when a tick raises
    emit(stopped=True)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
