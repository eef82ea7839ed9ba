"""The site's own weather: PVGIS year fetched once and cached, shipped years within 200 km of
every example, a clear fallback offline, and the weather named in the JSON and the report."""

from __future__ import annotations

import gzip
import io
import json
import logging
import math
import tomllib
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from pvlib.iotools import read_pvgis_tmy
from pvlib.location import Location
from typer.testing import CliRunner

from voltbridge.cli import app
from voltbridge.config import load_site
from voltbridge.core.timegrid import step_means
from voltbridge.forecast.pv_learned import AHEAD_SHARE
from voltbridge.sim import weather_sources
from voltbridge.sim.forecasting import planning_grid, pv_forecast
from voltbridge.sim.weather import SHIPPED_DIR, load_weather, monthly_clearsky_index
from voltbridge.sim.weather_sources import (
    PVGIS_TIMEOUT_S,
    WeatherFetchError,
    fetch_pvgis,
    site_weather,
    weather_text,
)
from voltbridge.sim.world import build_world

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "voltbridge" / "examples"
REPLY = Path(__file__).resolve().parent / "data" / "pvgis_tmy_48.14_11.58.json.gz"


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on a sphere of the mean Earth radius (written here, not imported)."""
    r = 6371.0088
    a = (
        math.sin(math.radians(lat2 - lat1) / 2) ** 2
        + math.cos(math.radians(lat1))
        * math.cos(math.radians(lat2))
        * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * r * math.asin(math.sqrt(a))


def recorded_reply(lat: float, lon: float, timeout_s: float) -> tuple[pd.DataFrame, Any]:
    """The recorded PVGIS reply, read by pvlib's own reader (what get_pvgis_tmy returns)."""
    with gzip.open(REPLY, "rt") as f:
        data, meta = read_pvgis_tmy(f, pvgis_format="json", map_variables=True)
    return data, meta


def example_sites() -> list[tuple[str, float, float]]:
    out = []
    for path in sorted(EXAMPLES.glob("*.toml")):
        loc = tomllib.loads(path.read_text())["location"]
        out.append((path.name, float(loc["latitude"]), float(loc["longitude"])))
    return out


def shipped_point(path: Path) -> tuple[float, float]:
    """A shipped file's latitude and longitude, read here from its own header: an EPW's
    LOCATION line, or a PVGIS CSV's ``Latitude (decimal degrees): ..`` lines."""
    with gzip.open(path, "rt") as f:
        first, second = f.readline(), f.readline()
    if path.name.endswith(".epw.gz"):
        fields = first.split(",")  # LOCATION,city,state,country,source,WMO,lat,lon,...
        return float(fields[6]), float(fields[7])
    assert first.startswith("Latitude (decimal degrees):"), path
    assert second.startswith("Longitude (decimal degrees):"), path
    return float(first.split(":")[1]), float(second.split(":")[1])


@pytest.mark.parametrize(("name", "lat", "lon"), example_sites())
def test_every_example_runs_on_a_shipped_year_within_200_km(
    name: str, lat: float, lon: float, tmp_path: Path
) -> None:
    tmy = site_weather(lat, lon, directory=tmp_path)  # empty data dir: no PVGIS cache
    assert tmy.path.parent == SHIPPED_DIR, name
    km = haversine_km(lat, lon, *shipped_point(tmy.path))
    assert km < 200.0, (name, tmy.station, km)
    assert tmy.distance_km == pytest.approx(km, abs=0.01)


def test_munich_falls_back_to_the_openly_licensed_pvgis_year_not_iwec(tmp_path: Path) -> None:
    tmy = site_weather(48.14, 11.58, directory=tmp_path)
    assert tmy.path.name == "tmy_48.351_10.164_2005_2023.csv.gz"
    assert (tmy.source, tmy.station) == ("PVGIS TMY", "PVGIS 48.351, 10.164")
    assert not list(SHIPPED_DIR.glob("DEU_Munich*"))  # ASHRAE IWEC: all rights reserved


def test_the_readme_table_lists_exactly_the_shipped_files() -> None:
    readme = (SHIPPED_DIR / "README.md").read_text()
    listed = {line.split("`")[1] for line in readme.splitlines() if line.startswith("| `")}
    shipped = {p.name for p in SHIPPED_DIR.iterdir() if p.name != "README.md"}
    assert listed == shipped
    assert "DEU_Munich.108660_IWEC.epw.gz" not in shipped  # ASHRAE IWEC: all rights reserved
    assert "Commission Decision 2011/833/EU" in readme and "PVGIS (c) European Union" in readme


def test_shipped_pvgis_csv_is_read_hour_by_hour_in_standard_time() -> None:
    path = SHIPPED_DIR / "tmy_48.351_10.164_2005_2023.csv.gz"
    # Parsed here with pandas alone: the 8760 rows after the `time(UTC),...` header line.
    with gzip.open(path, "rt") as f:
        lines = f.read().splitlines()
    start = lines.index(next(line for line in lines if line.startswith("time(UTC),")))
    raw = pd.read_csv(io.StringIO("\n".join(lines[start : start + 8761])))
    stamp = pd.to_datetime(raw["time(UTC)"], format="%Y%m%d:%H%M")
    assert len(raw) == 8760 and not ((stamp.dt.month == 2) & (stamp.dt.day == 29)).any()
    # PVGIS stamps the hour's start in UTC; Munich's standard time is UTC+1, so UTC hour h of
    # day d is row 24 d + h + 1 (the year's last UTC hour wraps to row 0).
    # Each month comes from a different year (May from leap 2012): count days in a 365-day year.
    ymd = pd.DataFrame({"year": 2001, "month": stamp.dt.month, "day": stamp.dt.day})
    row = ((pd.to_datetime(ymd).dt.dayofyear - 1) * 24 + stamp.dt.hour + 1) % 8760
    expected = np.zeros(8760)
    expected[row.to_numpy()] = raw["G(h)"].to_numpy()
    w = load_weather(path)
    assert (w.latitude, w.longitude, w.altitude_m, w.utc_offset_h) == (48.351, 10.164, 492.0, 1.0)
    assert np.array_equal(w.ghi, expected)
    assert w.ghi[9] == 47.0  # 1 January 08:00-09:00 UTC is 09:00-10:00 CET
    assert float(w.ghi.sum()) / 1000 == pytest.approx(1217.056)  # kWh/m2 in the year
    assert w.temp_air[1] == raw["T2m"].iloc[0] and w.wind_speed[1] == raw["WS10m"].iloc[0]


def test_pvgis_reply_becomes_the_columns_the_simulator_reads(tmp_path: Path) -> None:
    path = fetch_pvgis(48.14, 11.58, tmp_path, recorded_reply)
    assert path.parent == tmp_path / "weather"
    w = load_weather(path)
    assert (w.latitude, w.longitude, w.altitude_m, w.utc_offset_h) == (48.14, 11.58, 519.0, 1.0)
    # Row k is local standard time (UTC+1): UTC hour r = k - 1 (the last UTC hour wraps to 0).
    r = (np.arange(8760) - 1) % 8760
    assert np.array_equal(w.ghi, r % 1000)
    assert np.array_equal(w.dni, r % 500)
    assert np.array_equal(w.dhi, r % 300)
    assert np.array_equal(w.temp_air, r % 50 - 10.0)
    assert np.array_equal(w.wind_speed, r % 20)


def test_a_cached_year_is_used_without_fetching_again(tmp_path: Path) -> None:
    calls: list[float] = []

    def counting(lat: float, lon: float, timeout_s: float) -> tuple[pd.DataFrame, Any]:
        calls.append(timeout_s)
        return recorded_reply(lat, lon, timeout_s)

    first = site_weather(48.14, 11.58, directory=tmp_path, fetch=counting)
    second = site_weather(48.14, 11.58, directory=tmp_path, fetch=counting)
    assert len(calls) == 1 and calls[0] == PVGIS_TIMEOUT_S <= 10.0
    assert first == second
    assert (first.source, first.distance_km) == ("PVGIS TMY", 0.0)


def test_offline_without_cache_falls_back_to_the_closest_shipped_year(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def offline(lat: float, lon: float, timeout_s: float) -> tuple[pd.DataFrame, Any]:
        raise OSError("[Errno -3] Temporary failure in name resolution")

    with caplog.at_level(logging.WARNING, logger="voltbridge.sim.weather_sources"):
        tmy = site_weather(51.45, -2.59, directory=tmp_path, fetch=offline)  # Bristol
    assert tmy.station == "LONDON/GATWICK GBR"
    km = haversine_km(51.45, -2.59, 51.15, -0.18)
    assert tmy.distance_km == pytest.approx(km, abs=0.01)
    text = caplog.text
    assert "PVGIS gave no typical year for 51.450, -2.590" in text
    assert "name resolution" in text
    assert f"{km:.0f} km away" in text
    assert not (tmp_path / "weather").exists()


def test_a_reply_that_is_not_a_year_is_one_clear_error(tmp_path: Path) -> None:
    def half(lat: float, lon: float, timeout_s: float) -> tuple[pd.DataFrame, Any]:
        data, meta = recorded_reply(lat, lon, timeout_s)
        return data.iloc[:4000], meta

    with pytest.raises(WeatherFetchError, match="expected 8760 distinct hours"):
        fetch_pvgis(48.14, 11.58, tmp_path, half)
    assert not list(tmp_path.rglob("*.csv"))


def test_weather_fetch_command_caches_and_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = CliRunner()
    monkeypatch.setattr(weather_sources, "pvgis_fetch", recorded_reply)
    args = ["weather", "fetch", "--lat", "48.14", "--lon", "11.58", "--data-dir", str(tmp_path)]
    ok = runner.invoke(app, args)
    assert ok.exit_code == 0, ok.output
    assert (tmp_path / "weather" / "pvgis_tmy_48.140_11.580.pvgis.csv").exists()

    def down(lat: float, lon: float, timeout_s: float) -> tuple[pd.DataFrame, Any]:
        raise TimeoutError("read timed out")

    monkeypatch.setattr(weather_sources, "pvgis_fetch", down)
    bad = runner.invoke(app, [*args[:-1], str(tmp_path / "other")])
    assert bad.exit_code == 1
    assert "PVGIS gave no typical year" in bad.output and "timed out" in bad.output
    assert "Traceback" not in bad.output


def run_json(example: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("VOLTBRIDGE_DATA_DIR", str(data_dir))
    args = ["simulate", str(EXAMPLES / example), "--days", "2", "--json"]
    result = CliRunner().invoke(app, [*args, "--strategies", "uncontrolled"])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = json.loads(result.stdout[result.stdout.index("{") :])
    return out


def test_simulate_json_names_the_weather_and_its_distance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shipped = run_json("leaf-uk-v2g.toml", tmp_path, monkeypatch)["weather"]
    assert shipped["source"] == "EnergyPlus EPW (IWEC)"
    assert shipped["station"] == "LONDON/GATWICK GBR"
    assert shipped["distance_km"] == pytest.approx(haversine_km(51.45, -2.59, 51.15, -0.18), 0.01)
    fetch_pvgis(48.14, 11.58, tmp_path, recorded_reply)  # as `voltbridge weather fetch` does
    own = run_json("sigen-dynamic-germany.toml", tmp_path, monkeypatch)["weather"]
    assert own == {"source": "PVGIS TMY", "station": "PVGIS 48.140, 11.580", "distance_km": 0.0}


def test_simulate_fetch_weather_fetches_once_then_runs_on_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VOLTBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(weather_sources, "pvgis_fetch", recorded_reply)
    args = ["simulate", str(EXAMPLES / "sigen-dynamic-germany.toml"), "--days", "1", "--json"]
    result = CliRunner().invoke(app, [*args, "--strategies", "uncontrolled", "--fetch-weather"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout[result.stdout.index("{") :])["weather"]["source"] == "PVGIS TMY"
    assert (tmp_path / "weather" / "pvgis_tmy_48.140_11.580.pvgis.csv").exists()


def test_report_words_name_source_station_and_distance() -> None:
    words = weather_text({"source": "PVGIS TMY", "station": "PVGIS 1.000, 2.000", "distance_km": 0})
    assert words == "PVGIS TMY, PVGIS 1.000, 2.000, 0 km from the site"


def test_clearsky_index_is_the_share_of_clear_sky_irradiation() -> None:
    w = load_weather(site_weather(48.14, 11.58, directory=Path("/nonexistent")).path)
    # The station's clear sky, hour by hour (mid-hour, standard time), computed here with
    # pvlib's Location on a tz-aware index rather than from seconds as the module does.
    zone = f"Etc/GMT{-int(w.utc_offset_h):+d}"
    times = pd.date_range("2001-01-01 00:30", periods=8760, freq="h", tz=zone)
    clear = Location(w.latitude, w.longitude, altitude=w.altitude_m).get_clearsky(times)["ghi"]
    half = replace(w, ghi=np.asarray(clear, dtype=np.float64) * 0.5)
    assert monthly_clearsky_index(half) == pytest.approx(np.full(12, 0.5), abs=1e-6)
    assert np.all(monthly_clearsky_index(replace(w, ghi=np.zeros(8760))) == 0.0)


def test_pv_forecast_starts_from_the_sites_typical_clearsky_index(tmp_path: Path) -> None:
    site = load_site(EXAMPLES / "sigen-dynamic-germany.toml")
    start = datetime(2026, 1, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    world = build_world(site, start, 1)
    assert world.pv_clear_index is not None
    january = monthly_clearsky_index(load_weather(world.weather.path))[0]
    assert np.all(world.pv_clear_index[: world.n_sim] == january)
    world.pv_clear_index = np.full(world.grid.n, 0.37)  # midnight: nothing measured yet
    grid = planning_grid(int(world.grid.edges_s[0]))
    expected = step_means(world.grid.edges_s, world.clearsky_pv_kw, grid) * 0.37
    # after the first day the plan counts on AHEAD_SHARE of the index
    tomorrow = grid.starts_s >= int(world.grid.edges_s[0]) + 86400
    expected = np.where(tomorrow, AHEAD_SHARE * expected, expected)
    assert tomorrow.any() and pv_forecast(world, 0, grid) == pytest.approx(expected)
