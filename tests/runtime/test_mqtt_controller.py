"""The bridge ``voltbridge run`` starts (``home_bridge``), on a real controller driving a simulated
home, a real store and a real Mosquitto: Home Assistant sees the car charge tick by tick, its
mode change reaches the controller (recorded as a settings event naming mqtt), and a refused
command is in the controller's event list."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.control.harness import CAR, CAR_KWH, T0, rig
from tests.runtime.mqtt_broker import PASSWORD, USER, make_broker
from tests.runtime.test_mqtt_bridge import GUARD_S, HomeAssistant, SteppedClock, wait_set
from voltbridge.config.models import MqttConfig
from voltbridge.core.status import EventCode, EventKind, Mode
from voltbridge.runtime.mqtt import home_bridge
from voltbridge.store import Store


def test_home_assistant_follows_a_running_controller(tmp_path: Path) -> None:
    broker = make_broker(tmp_path / "broker")
    r = rig(car_soc_kwh=30.0, load_kw=1.0, plan_kw={CAR: 5.0})
    store = Store(tmp_path / "voltbridge.sqlite", r.clock)
    bridge_clock = SteppedClock(T0)  # the throttle's time, moved by the test
    config = MqttConfig(host="127.0.0.1", port=broker.port, username=USER, publish_every_s=5.0)
    bridge = home_bridge(config, PASSWORD, r.controller, r.site, "USD", store, bridge_clock)
    broker.start()
    car_topic = f"voltbridge/vehicle/{CAR}/state"

    async def scenario() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(bridge.run(stop))
        try:
            await wait_set(bridge.connected)
            async with HomeAssistant(broker.port) as ha:
                await r._run(r.tick_s, None)
                await ha.until(lambda: car_topic in ha.latest)
                first = ha.doc(car_topic)
                assert first["soc_pct"] == 50.0 and first["plugged_in"] == "ON"
                assert ha.doc("voltbridge/state")["money_today"] == 0.0

                await r._run(900.0, None)  # a quarter hour charging at 5 kW
                bridge_clock.advance(5.0)
                await ha.until(lambda: ha.doc(car_topic)["soc_pct"] > 50.0)
                soc_kwh = r.car.soc_kwh
                await r._run(r.tick_s, None)
                bridge_clock.advance(5.0)
                await ha.until(lambda: ha.doc(car_topic)["soc_kwh"] == round(soc_kwh, 2))
                assert ha.doc(car_topic)["soc_pct"] == round(100 * soc_kwh / CAR_KWH, 1)
                assert ha.doc(car_topic)["power_kw"] > 0

                await ha.send("voltbridge/set/mode", "off")
                await ha.until(lambda: ha.doc("voltbridge/settings")["mode"] == "off")
                assert r.controller.settings.mode is Mode.OFF
                changed = [e for e in r.controller.events if e.code is EventCode.SETTINGS]
                assert changed[-1].kind is EventKind.MODE
                assert changed[-1].data["source"] == "mqtt"

                await ha.send("voltbridge/set/v2g_allowed", "maybe")
                await ha.until(lambda: len(ha.errors) == 1)
                assert "v2g_allowed" in ha.errors[0]["error"]
                refused = [e for e in r.controller.events if e.data.get("refused")]
                assert len(refused) == 1 and refused[0].kind is EventKind.WARNING
                assert "v2g_allowed" in refused[0].message
            stop.set()
            await asyncio.wait_for(task, GUARD_S)
        finally:
            stop.set()
            await asyncio.gather(task, return_exceptions=True)

    try:
        asyncio.run(asyncio.wait_for(scenario(), 5 * GUARD_S))
    finally:
        broker.stop()
        store.close()
