"""Load and PV forecasts: scale, shape and physical plausibility."""

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.forecast import clearsky_pv_kw, standard_load_kw, week_profile_kw


def test_standard_profile_sums_to_annual_energy() -> None:
    zone = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 1, 1, tzinfo=zone)
    grid = TimeGrid.regular(start, 8760, 60)
    load = standard_load_kw(grid, 4000.0, "Europe/Berlin")
    assert float(np.sum(load * grid.dt_h)) == pytest.approx(4000.0, rel=0.002)


def test_evening_peak_stays_at_local_time_across_dst() -> None:
    # Days before and after the EU spring change (2026-03-29): the daily maximum is at the same
    # local hour on both.
    tz = "Europe/Berlin"
    zone = ZoneInfo(tz)
    peaks = []
    for day in (25, 31):
        grid = TimeGrid.regular(datetime(2026, 3, day, tzinfo=zone), 24, 60)
        load = standard_load_kw(grid, 4000.0, tz)
        peaks.append(grid.starts()[int(np.argmax(load))].astimezone(zone).hour)
    assert peaks[0] == peaks[1]
    assert 17 <= peaks[0] <= 21


def test_week_profile(tmp_path: Path) -> None:
    csv = tmp_path / "week.csv"
    csv.write_text("weekday,time,kw\nmon,00:00,0.5\nmon,18:00,2.0\ntue,00:00,0.5\n")
    grid = TimeGrid.regular(datetime(2026, 6, 1, tzinfo=UTC), 48, 60)  # Monday in UTC
    load = week_profile_kw(grid, csv, "UTC")
    assert load[17] == pytest.approx(0.5) and load[18] == pytest.approx(2.0)
    assert load[23] == pytest.approx(2.0) and load[24] == pytest.approx(0.5)
    assert load[47] == pytest.approx(0.5)  # Tuesday rows hold for the rest of the week


def test_week_profile_bad_row_names_line(tmp_path: Path) -> None:
    csv = tmp_path / "week.csv"
    csv.write_text("weekday,time,kw\nmon,00:00,lots\n")
    grid = TimeGrid.regular(datetime(2026, 6, 1, tzinfo=UTC), 1, 60)
    with pytest.raises(ValueError, match=r"week.csv:2"):
        week_profile_kw(grid, csv, "UTC")


def test_clearsky_pv_is_plausible() -> None:
    # 7.2 kWp facing south in Sacramento on a clear June day: zero at night, peak near solar
    # noon (about 13:10 PDT), daily yield 4-8 kWh per kWp (NREL PVWatts gives about 6.5).
    zone = ZoneInfo("America/Los_Angeles")
    grid = TimeGrid.regular(datetime(2026, 6, 21, tzinfo=zone), 24, 15)
    pv = clearsky_pv_kw(grid, 38.58, -121.49, 7.2, 22, 180)
    hours = np.array([s.astimezone(zone).hour for s in grid.starts()])
    assert pv[(hours < 5) | (hours >= 21)].max() == 0
    peak_hour = hours[int(np.argmax(pv))]
    assert 12 <= peak_hour <= 14
    assert pv.max() <= 7.2
    per_kwp = float(np.sum(pv * grid.dt_h)) / 7.2
    assert 4.0 < per_kwp < 8.0


def test_inverter_clips() -> None:
    zone = ZoneInfo("America/Los_Angeles")
    grid = TimeGrid.regular(datetime(2026, 6, 21, tzinfo=zone), 24, 15)
    pv = clearsky_pv_kw(grid, 38.58, -121.49, 7.2, 22, 180, inverter_kw=4.0)
    assert pv.max() == pytest.approx(4.0)
