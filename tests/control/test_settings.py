"""The household's settings: strict types, departures in the coming week, no contradictions;
checked by the controller on its own clock against the site file's values.

Cars here keep a 30 % mobility reserve and aim at 80 % (the site file's values), now is
2026-07-08T01:00Z; every value is given by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from voltbridge.control.settings import (
    DEPARTURE_WINDOW_H,
    Settings,
    SettingsUpdate,
    VehicleSettings,
    apply_update,
)
from voltbridge.core.status import Mode

from .harness import CAR, RESERVE_PCT, T0, TARGET_PCT, rig

NOW = datetime(2026, 7, 8, 1, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Car:
    name: str = "ev"
    mobility_reserve_pct: float = 30.0
    target_soc_pct: float = 80.0


def update(**car: object) -> SettingsUpdate:
    return SettingsUpdate.model_validate({"vehicles": {"ev": car}})


def test_a_contradiction_stored_earlier_does_not_block_another_change() -> None:
    stored = Settings(vehicles={"ev": VehicleSettings(target_soc_pct=20.0)})
    changed = apply_update(stored, SettingsUpdate(mode=Mode.OFF), [Car()], NOW)
    assert changed.mode is Mode.OFF and changed.vehicles["ev"].target_soc_pct == 20.0
    changed = apply_update(stored, update(departure="2026-07-08T07:00:00Z"), [Car()], NOW)
    assert changed.vehicles["ev"].departure == datetime(2026, 7, 8, 7, 0, tzinfo=UTC)


def test_going_back_to_the_site_file_is_checked_too() -> None:
    mine = Settings(vehicles={"ev": VehicleSettings(target_soc_pct=20, mobility_reserve_pct=10)})
    with pytest.raises(ValueError) as refused:
        apply_update(mine, update(mobility_reserve_pct=None), [Car()], NOW)
    message = str(refused.value)
    assert message.startswith("vehicles.ev.mobility_reserve_pct: 30 % is above ")
    assert "vehicles.ev.target_soc_pct (20 %)" in message


def test_an_outage_reserve_up_to_the_mobility_reserve_is_taken() -> None:
    taken = apply_update(Settings(), update(outage_reserve_pct=30.0), [Car()], NOW)
    assert taken.vehicles["ev"].outage_reserve_pct == 30.0
    with pytest.raises(ValueError, match=r"outage_reserve_pct \(30.5 %\) is above"):
        apply_update(Settings(), update(outage_reserve_pct=30.5), [Car()], NOW)
    # lowering the mobility reserve under a set outage reserve names both as well
    with pytest.raises(ValueError, match=r"^vehicles\.ev\.mobility_reserve_pct: .*outage_re"):
        apply_update(taken, update(mobility_reserve_pct=20.0), [Car()], NOW)


def test_the_window_is_a_week_on_the_clock_given() -> None:
    edge = NOW + timedelta(hours=DEPARTURE_WINDOW_H)
    assert DEPARTURE_WINDOW_H == 168.0
    apply_update(Settings(), update(departure=edge.isoformat()), [Car()], NOW)
    with pytest.raises(ValueError, match="more than 7 days ahead"):
        apply_update(Settings(), update(departure=edge.isoformat()), [Car()], NOW - timedelta(1))


def test_an_unknown_car_is_named_with_the_known_ones() -> None:
    change = SettingsUpdate(vehicles={"ev2": VehicleSettings(target_soc_pct=90)})
    with pytest.raises(ValueError, match=r"^vehicles\.ev2: no vehicle of that name; known: ev$"):
        apply_update(Settings(), change, [Car()], NOW)


def test_stored_settings_load_back_under_strict_types() -> None:
    """What the runtime reads back from the store (``model_dump(mode="json")``) stays valid."""
    settings = Settings(
        mode=Mode.BACKUP_ONLY,
        backup_reserve_h=6,
        vehicles={"ev": VehicleSettings(departure=NOW, target_soc_pct=90)},
    )
    assert Settings.model_validate(settings.model_dump(mode="json")) == settings
    with pytest.raises(ValidationError):
        Settings.model_validate({"v2g_allowed": "yes"})


def test_the_controller_checks_on_its_clock_against_the_site_file() -> None:
    r = rig()
    assert (r.clock.now(), RESERVE_PCT, TARGET_PCT) == (T0, 30.0, 80.0)
    with pytest.raises(ValueError, match=r"vehicles\.ev\.mobility_reserve_pct \(30 %, from the"):
        r.controller.apply_settings(update(target_soc_pct=25.0), "test")
    with pytest.raises(ValueError, match="is not after now"):
        r.controller.apply_settings(update(departure="2026-07-08T00:59:00Z"), "test")
    taken = r.controller.apply_settings(update(departure="2026-07-09T07:00:00Z"), "test")
    assert taken.vehicles[CAR].departure == datetime(2026, 7, 9, 7, 0, tzinfo=UTC)
