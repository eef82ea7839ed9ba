"""Typical-year weather: station choice, file reading, mapping onto real dates, PV from it."""

import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from voltbridge.core import TimeGrid
from voltbridge.sim.weather import (
    PVLIB_DATA,
    Weather,
    load_weather,
    nearest_tmy,
    pv_power_kw,
    weather_on_grid,
)

GREENSBORO = PVLIB_DATA / "723170TYA.CSV"
# Raw TMY3 columns (0-based), read here with the csv module, independently of pvlib.
GHI, DNI, DHI, TEMP, WIND = 4, 7, 10, 31, 46


def raw_tmy3_rows() -> list[list[str]]:
    with GREENSBORO.open() as f:
        return list(csv.reader(f))[2:]


def test_nearest_tmy_picks_the_closest_station() -> None:
    assert nearest_tmy(25.76, -80.19).path.name == "12839.tm2"  # Miami
    assert nearest_tmy(61.22, -149.90).path.name == "703165TY.csv"  # Anchorage -> Sand Point
    assert nearest_tmy(35.78, -78.64).path.name == "723170TYA.CSV"  # Raleigh -> Greensboro
    miami = nearest_tmy(25.8, -80.0)
    assert "MIAMI" in miami.station
    # One degree of latitude north of the Greensboro station: R * pi / 180 = 111.195 km.
    north = nearest_tmy(37.1, -79.95)
    assert north.station == "GREENSBORO PIEDMONT TRIAD INT"
    assert north.distance_km == pytest.approx(111.195, abs=0.01)


def test_tmy3_rows_land_on_the_hour_they_cover() -> None:
    w = load_weather(GREENSBORO)
    assert (w.latitude, w.longitude, w.utc_offset_h) == (36.1, -79.95, -5.0)
    assert w.ghi.shape == (8760,)
    rows = {(r[0][:5], r[1]): r for r in raw_tmy3_rows()}
    # 21 June, stamped 13:00 = the hour 12:00-13:00; 21 June is day 171 of a 365-day year.
    noon = rows[("06/21", "13:00")]
    k = 171 * 24 + 12
    assert (w.ghi[k], w.dni[k], w.dhi[k]) == (float(noon[GHI]), float(noon[DNI]), float(noon[DHI]))
    before = rows[("06/21", "12:00")]
    assert w.temp_air[k] == pytest.approx((float(before[TEMP]) + float(noon[TEMP])) / 2)
    assert w.wind_speed[k] == pytest.approx((float(before[WIND]) + float(noon[WIND])) / 2)
    # February comes from 1996, a leap year: its 28th's 24:00 is still 28 February 23:00-24:00.
    k = 58 * 24 + 23
    late, midnight = rows[("02/28", "23:00")], rows[("02/28", "24:00")]
    assert w.temp_air[k] == pytest.approx((float(late[TEMP]) + float(midnight[TEMP])) / 2)
    # The last row (31 December 24:00) is the year's last hour.
    last = rows[("12/31", "24:00")]
    assert w.temp_air[0] == pytest.approx(
        (float(last[TEMP]) + float(rows[("01/01", "01:00")][TEMP])) / 2
    )


def test_epw_reads_like_the_same_data_as_tmy3(tmp_path: Path) -> None:
    lines = ["LOCATION,Greensboro,NC,USA,TMY3,723170,36.10,-79.95,-5.0,273.0"]
    lines += [f"HEADER {i}" for i in range(7)]
    for r in raw_tmy3_rows():
        month, day, year = r[0].split("/")
        fields = ["0"] * 35
        fields[:5] = [year, str(int(month)), str(int(day)), str(int(r[1][:2])), "0"]
        fields[6], fields[13], fields[14], fields[15] = r[TEMP], r[GHI], r[DNI], r[DHI]
        fields[21] = r[WIND]
        lines.append(",".join(fields))
    path = tmp_path / "greensboro.epw"
    path.write_text("\n".join(lines) + "\n")
    epw, tmy3 = load_weather(path), load_weather(GREENSBORO)
    assert epw.station == "Greensboro"
    for name in ("ghi", "dni", "dhi", "temp_air", "wind_speed"):
        assert np.array_equal(getattr(epw, name), getattr(tmy3, name)), name


def test_unknown_file_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "weather.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"\.epw"):
        load_weather(path)


def numbered_year() -> Weather:
    """A fake typical year whose every value is its row number."""
    rows = np.arange(8760, dtype=np.float64)
    return Weather("fake", 0.0, 0.0, 0.0, -5.0, rows, rows, rows, rows, rows)


def test_real_dates_map_to_the_same_local_standard_month_day_hour() -> None:
    w = numbered_year()
    tz = "America/New_York"
    # 14 January 2026 12:00 EST (17:00 UTC): day 13, hour 12.
    g = TimeGrid.regular(datetime(2026, 1, 14, 17, tzinfo=UTC), 1, 5)
    assert np.all(weather_on_grid(w, g, tz).ghi == 13 * 24 + 12)
    # 4 July 2026 13:30 EDT is 12:30 EST: day 184, hour 12.
    g = TimeGrid.regular(datetime(2026, 7, 4, 17, 30, tzinfo=UTC), 0.25, 5)
    assert np.all(weather_on_grid(w, g, tz).ghi == 184 * 24 + 12)
    # 29 February 2028 reads 28 February; 1 March is day 59 in every year.
    g = TimeGrid.regular(datetime(2028, 2, 29, 15, tzinfo=UTC), 24, 60)
    series = weather_on_grid(w, g, tz)
    assert series.ghi[0] == 58 * 24 + 10
    assert series.ghi[-1] == 59 * 24 + 9
    # Year-agnostic: the same local date in another year gives the same hours.
    a = weather_on_grid(w, TimeGrid.regular(datetime(2026, 5, 5, tzinfo=UTC), 48, 5), tz)
    b = weather_on_grid(w, TimeGrid.regular(datetime(2031, 5, 5, tzinfo=UTC), 48, 5), tz)
    assert np.array_equal(a.ghi, b.ghi)


def test_values_are_held_through_the_hour() -> None:
    w = numbered_year()
    # One 90-minute step from 12:00 EST: an hour of row 12 and half an hour of row 13.
    start = datetime(2026, 1, 1, 17, tzinfo=UTC)
    g = TimeGrid(np.array([0, 5400]) + int(start.timestamp()))
    assert weather_on_grid(w, g, "America/New_York").temp_air[0] == pytest.approx(
        (12 * 1.0 + 13 * 0.5) / 1.5
    )


@pytest.fixture(scope="module")
def greensboro_year() -> tuple[TimeGrid, np.ndarray]:
    grid = TimeGrid.regular(datetime(2026, 1, 1, 5, tzinfo=UTC), 8760, 5)
    series = weather_on_grid(load_weather(GREENSBORO), grid, "America/New_York")
    return grid, pv_power_kw(series, grid, 36.1, -79.95, 1.0, 30.0, 180.0, 273.0)


def test_yearly_yield_at_greensboro_is_plausible(greensboro_year: tuple) -> None:
    grid, pv = greensboro_year
    assert grid.n == 105_120
    kwh_per_kwp = float(np.sum(pv * grid.dt_h))
    assert 1200 < kwh_per_kwp < 1600
    assert 0 < pv.max() <= 1.0


def test_pv_is_zero_at_night(greensboro_year: tuple) -> None:
    grid, pv = greensboro_year
    # Greensboro's sun rises after 05:00 and sets before 20:00 standard time all year.
    hour_est = ((grid.starts_s - 5 * 3600) % 86400) // 3600
    night = (hour_est < 5) | (hour_est >= 20)
    assert np.all(pv[night] == 0.0)
    assert np.all(pv >= 0.0)


def test_pv_energy_does_not_depend_on_the_step_and_clips() -> None:
    weather = load_weather(GREENSBORO)
    start = datetime(2026, 6, 1, 4, 10, tzinfo=UTC)
    fine = TimeGrid.regular(start, 72, 5)
    coarse = TimeGrid.regular(start, 72, 60)
    site = (36.1, -79.95, 4.0, 25.0, 200.0)
    e_fine = pv_power_kw(weather_on_grid(weather, fine, "America/New_York"), fine, *site)
    e_coarse = pv_power_kw(weather_on_grid(weather, coarse, "America/New_York"), coarse, *site)
    assert np.sum(e_fine * fine.dt_h) == pytest.approx(np.sum(e_coarse * coarse.dt_h), rel=1e-9)
    series = weather_on_grid(weather, fine, "America/New_York")
    clipped = pv_power_kw(series, fine, *site, inverter_kw=1.5)
    assert clipped.max() == pytest.approx(1.5)
    assert np.all(clipped <= e_fine + 1e-12)
    # Outside the hours the series covers, the grid is refused.
    later = TimeGrid.regular(start + timedelta(days=10), 1, 5)
    with pytest.raises(ValueError, match="cover"):
        pv_power_kw(series, later, *site)
