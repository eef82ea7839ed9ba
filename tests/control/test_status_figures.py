"""The figures of the status the household reads, each checked against a hand count."""

from __future__ import annotations

import asyncio

import pytest

from tests.control.harness import BAT_ETA, BAT_MIN_KWH, CIRCUITS, rig

ESSENTIAL_KW = sum(c.typical_kw for c in CIRCUITS if c.essential)  # fridge and medical: 0.5 kW


def test_backup_hours_count_storage_alone_and_the_sun_apart() -> None:
    """6 kWh in the battery over its 1 kWh floor at 95 % gives 4.75 kWh: 9.5 h of the 0.5 kW
    essential circuits, whatever the sun; the plan's 2 kW of PV (more than the circuits draw)
    makes the figure with the sun longer, and it is shown apart, never in its place."""
    r = rig(car_soc_kwh=40.0, plugged_in=False, battery_soc_kwh=6.0, pv_kw=2.0, load_kw=0.2)
    status = asyncio.run(r.controller.tick())
    alone_h = (6.0 - BAT_MIN_KWH) * BAT_ETA / ESSENTIAL_KW
    assert alone_h == pytest.approx(9.5)
    assert status.backup_hours == pytest.approx(alone_h, rel=1e-6)
    assert status.backup_hours_with_sun is not None
    assert status.backup_hours_with_sun > 48.0  # the sun covers the circuits over the forecast
    body = status.to_dict()
    assert body["backup_hours"] == pytest.approx(9.5)
    assert body["backup_hours_with_sun"] == status.backup_hours_with_sun


def test_without_a_plan_there_is_no_figure_with_the_sun() -> None:
    r = rig(car_soc_kwh=40.0, plugged_in=False, battery_soc_kwh=6.0, pv_kw=2.0)
    r.plans.fail = True
    status = asyncio.run(r.controller.tick())
    assert status.backup_hours == pytest.approx(9.5)
    assert status.backup_hours_with_sun is None
