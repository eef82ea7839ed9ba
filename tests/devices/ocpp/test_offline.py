"""Losing the connection: stale readings, the station's own fallback, and resuming the session."""

from __future__ import annotations

import pytest


def test_lost_connection_goes_stale_falls_back_and_resumes(ocpp) -> None:
    async def scenario() -> None:
        async with ocpp.running_rig(via_proxy=True) as rig:
            driver, station = rig.driver, rig.station
            await rig.plugged_and_ready()
            await driver.set_charge_power(-5.0)
            tx, needs = driver.transaction_id, driver.needs
            await rig.advance(15)
            await ocpp.eventually(lambda: driver.sample.at >= ocpp.T0.replace(second=10), "meter")
            last = await driver.read_charger()

            rig.proxy.cut()
            await ocpp.eventually(lambda: not driver.connected and not station.connected, "drop")
            await rig.advance(40)
            with pytest.raises(ConnectionError, match="unknown"):
                await driver.read_charger()  # unknown, never the last values as today's
            assert driver.sample is not None and driver.sample.at == last.at  # kept for later
            assert driver.is_stale()
            with pytest.raises(ConnectionError, match="not connected"):
                await driver.set_charge_power(1.0)
            with pytest.raises(ConnectionError):
                await driver.plugged_in()
            assert rig.car.setpoint_kw == -5.0  # still within maxOfflineDuration (60 s)

            await rig.advance(25)  # offline for more than 60 s now
            assert rig.car.setpoint_kw == 0.0
            assert station.control.startswith("TxDefaultProfile")
            assert 2 not in station.stack.profiles  # invalidAfterOfflineDuration: gone for good

            rig.proxy.restore()
            # the station retries with backoff as the clock moves on (at most 60 s apart)
            await rig.advance_until(lambda: driver.connected, "reconnect", max_s=200)
            await ocpp.eventually(lambda: driver.connected and station.connected, "reconnect")
            assert driver.transaction_id == tx == station.transaction_id
            assert driver.needs is needs
            await ocpp.eventually(lambda: rig.car.setpoint_kw == -5.0, "setpoint resumed")
            await rig.advance(10)
            await ocpp.eventually(lambda: driver.sample.at > last.at, "fresh meter values")
            assert not driver.is_stale()
            await driver.set_charge_power(2.0)
            assert rig.car.setpoint_kw == 2.0

    ocpp.run(scenario)


def test_read_charger_before_any_report_raises(ocpp) -> None:
    async def scenario() -> None:
        central = ocpp.central_config()
        from voltbridge.devices.ocpp import CentralSystem

        cs = CentralSystem(central, ocpp.SteppedClock(ocpp.T0))
        with pytest.raises(ConnectionError, match="CP1 is not connected"):
            await cs.charger("CP1").read_charger()
        with pytest.raises(ConnectionError, match="not connected"):
            await cs.charger("CP1").safe_default()
        with pytest.raises(KeyError, match="known chargers: CP1"):
            cs.charger("nope")

    ocpp.run(scenario)
