"""Real weather for the simulator: a typical meteorological year laid on any period, and its PV power."""

from __future__ import annotations

import csv
import gzip
import io
import math
import warnings
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pvlib

from voltbridge.core.timegrid import FloatArray, IntArray, TimeGrid, step_means
from voltbridge.forecast.pv import array_ac_kw

PVLIB_DATA = Path(pvlib.__file__).parent / "data"
"""The folder of data files shipped with pvlib."""
SHIPPED_TMY = ("723170TYA.CSV", "703165TY.csv", "12839.tm2")
"""Typical years shipped inside pvlib: Greensboro NC (TMY3), Sand Point AK (TMY3), Miami FL (TMY2)."""
SHIPPED_DIR = Path(__file__).resolve().parent / "weather_data"
"""Typical years voltbridge ships near its example sites (gzip EPW or PVGIS TMY CSV; sources and
terms in its README.md)."""
SHIPPED_PVGIS_GLOB = "tmy_*.csv.gz"
"""Name of a shipped PVGIS TMY: PVGIS's own CSV download (``tmy_<lat>_<lon>_<years>.csv``), gzip."""
PVGIS_SUFFIX = ".pvgis.csv"
"""Suffix of a PVGIS typical year cached by :mod:`voltbridge.sim.weather_sources`."""

HOURS_PER_YEAR = 8760
EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius [km] (IUGG)."""

_MONTH_START_DAY = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], dtype=np.int64)
# Plausible bounds of each column: TMY files mark missing data with values such as -9900 or 9999.
_BOUNDS = {"ghi": 2000, "dni": 2000, "dhi": 2000, "temp_air": 70, "wind_speed": 80}


@dataclass(frozen=True)
class TmyFile:
    """A typical-year weather file and its station's distance from the site.

    Attributes:
        path: the file.
        station: the station's name as the file gives it.
        distance_km: great-circle distance from the site to the station [km].
        source: where the year comes from, as the report and the JSON name it (e.g.
            "PVGIS TMY", "EnergyPlus EPW (TMY3)", "pvlib shipped TMY3", "site weather file").
    """

    path: Path
    station: str
    distance_km: float
    source: str = "pvlib shipped TMY3"


@dataclass(frozen=True)
class Weather:
    """A typical year at one station, hour by hour in the station's local standard time.

    Row ``k`` covers hour ``k % 24`` of day ``k // 24`` of a 365-day year (row 0 is 1 January
    00:00-01:00) in local standard time, UTC + ``utc_offset_h`` with no daylight saving.

    Attributes:
        station: the station's name.
        latitude: [° north]; longitude: [° east]; altitude_m: [m]; utc_offset_h: [h].
        ghi, dni, dhi: global horizontal, direct normal, diffuse horizontal irradiance, mean over
            the hour [W/m²].
        temp_air: air temperature, mean over the hour [°C].
        wind_speed: wind speed at 10 m, mean over the hour [m/s].
    """

    station: str
    latitude: float
    longitude: float
    altitude_m: float
    utc_offset_h: float
    ghi: FloatArray
    dni: FloatArray
    dhi: FloatArray
    temp_air: FloatArray
    wind_speed: FloatArray


@dataclass(frozen=True)
class WeatherSeries:
    """A typical year laid on a real period: the hours it is made of, and their values per grid step.

    Attributes:
        weather: the typical year.
        hour_edges_s: the site's local-standard-time hours covering the grid [s since the Unix
            epoch, UTC], length ``m + 1``.
        hour_row: the typical-year row used for each of those hours, length ``m``.
        ghi, dni, dhi [W/m²], temp_air [°C], wind_speed [m/s]: per grid step, each hour's value
            held through the hour (a step's value is the time-weighted mean of the hours it spans).
    """

    weather: Weather
    hour_edges_s: IntArray
    hour_row: IntArray
    ghi: FloatArray
    dni: FloatArray
    dhi: FloatArray
    temp_air: FloatArray
    wind_speed: FloatArray


def nearest_tmy(latitude: float, longitude: float) -> TmyFile:
    """The shipped typical year whose station is closest to the site (great-circle distance).

    Candidates are the years voltbridge ships near its example sites (``SHIPPED_DIR``) and the
    three inside pvlib (Greensboro NC, Miami FL, Sand Point AK). ``latitude`` [° north],
    ``longitude`` [° east]. This is the fallback when no PVGIS year of the site is cached; a
    site file can also name its own weather file (``[location] weather_file``).
    """
    return min(
        (
            TmyFile(path, station, _great_circle_km(latitude, longitude, lat, lon), source)
            for path, station, lat, lon, source in _shipped()
        ),
        key=lambda f: f.distance_km,
    )


@lru_cache(maxsize=1)
def _shipped() -> tuple[tuple[Path, str, float, float, str], ...]:
    """(path, station, latitude, longitude, source) of every shipped typical year."""
    out = []
    for name in SHIPPED_TMY:
        path = PVLIB_DATA / name
        station, lat, lon = _header(path)
        kind = "TMY2" if path.suffix.lower() == ".tm2" else "TMY3"
        out.append((path, station, lat, lon, f"pvlib shipped {kind}"))
    for path in sorted(SHIPPED_DIR.glob("*.epw.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            fields = f.readline().strip().split(",")
        # LOCATION,city,state,country,source,WMO,lat,lon,tz,elevation
        kind = fields[4].split()[0] if fields[4] else "EPW"
        station = " ".join(f"{fields[1]} {fields[3]}".split())
        out.append((path, station, float(fields[6]), float(fields[7]), f"EnergyPlus EPW ({kind})"))
    for path in sorted(SHIPPED_DIR.glob(SHIPPED_PVGIS_GLOB)):
        lat, lon = _pvgis_point(path)
        out.append((path, f"PVGIS {lat:.3f}, {lon:.3f}", lat, lon, "PVGIS TMY"))
    return tuple(out)


def _pvgis_point(path: Path) -> tuple[float, float]:
    """Latitude and longitude [°] from the first two lines of a gzip PVGIS TMY CSV
    (``Latitude (decimal degrees): 48.351`` and ``Longitude (decimal degrees): 10.164``)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = [f.readline() for _ in range(2)]
    values = [line.split(":", 1) for line in lines]
    if [v[0].strip() for v in values] != [
        "Latitude (decimal degrees)",
        "Longitude (decimal degrees)",
    ]:
        raise ValueError(f"{path}: not a PVGIS TMY CSV (no latitude and longitude lines)")
    return float(values[0][1]), float(values[1][1])


def _header(path: Path) -> tuple[str, float, float]:
    """Station name, latitude [° north] and longitude [° east] from a TMY3 or TMY2 header line."""
    with path.open(encoding="utf-8", errors="replace") as f:
        line = f.readline()
    if path.suffix.lower() == ".tm2":
        # WBAN CITY... STATE TZ N dd mm W ddd mm ELEV: the city may contain spaces.
        *city, state, _tz, ns, lat_d, lat_m, ew, lon_d, lon_m, _elev = line.split()
        lat = (float(lat_d) + float(lat_m) / 60.0) * (1.0 if ns == "N" else -1.0)
        lon = (float(lon_d) + float(lon_m) / 60.0) * (1.0 if ew == "E" else -1.0)
        return " ".join([*city[1:], state]), lat, lon
    fields = next(csv.reader([line]))  # USAF,"NAME",STATE,TZ,LAT,LON,ELEV
    return " ".join(fields[1].split()), float(fields[4]), float(fields[5])


def load_weather(path: str | Path) -> Weather:
    """Read a TMY3 CSV (``.csv``), TMY2 (``.tm2``), EPW (``.epw``, or gzip ``.epw.gz``) file, a
    cached PVGIS year (``.pvgis.csv``, already hour-start in standard time) or a shipped PVGIS
    TMY CSV (``tmy_*.csv.gz``, PVGIS's download as published, hour-start in UTC) as a typical year.

    These formats stamp each row with the *end* of its hour in local standard time (hour 1 is
    00:00-01:00; TMY3 writes midnight as 24:00) and give irradiance as the energy received in the
    hour before the stamp [Wh/m²], i.e. the hour's mean [W/m²]. Each row is placed on the hour it
    covers (stamp - 1 h), keyed by month, day and hour, never by year: a typical year's months come
    from different years. Temperature and wind are readings at the stamp, so an hour's mean is the
    mean of the readings at its two ends (wrapping around the year). A 29 February is dropped.
    A file is read once per process (cached by its resolved path).
    """
    return _load_cached(str(Path(path).expanduser().resolve()))


def _load_cached(path_str: str) -> Weather:
    """The typical year at ``path_str``, read once per process; its arrays are read-only, since
    every world built in the process shares them."""
    w = _load_cached_rw(path_str)
    for name in ("ghi", "dni", "dhi", "temp_air", "wind_speed"):
        getattr(w, name).flags.writeable = False
    return w


@lru_cache(maxsize=16)
def _load_cached_rw(path_str: str) -> Weather:
    path = Path(path_str)
    if path.name.lower().endswith(PVGIS_SUFFIX):
        from voltbridge.sim.weather_sources import read_pvgis_cache  # it imports this module

        return read_pvgis_cache(path)
    if path.match(SHIPPED_PVGIS_GLOB):
        from voltbridge.sim.weather_sources import read_pvgis_csv_gz  # it imports this module

        return read_pvgis_csv_gz(path)
    data, hour_starts, station, meta = _read(path)
    month = np.asarray(hour_starts.month, dtype=np.int64)
    day = np.asarray(hour_starts.day, dtype=np.int64)
    keep = ~((month == 2) & (day == 29))
    row = (_MONTH_START_DAY[month - 1] + day - 1) * 24 + np.asarray(hour_starts.hour)
    row = row[keep]
    if row.size != HOURS_PER_YEAR or np.unique(row).size != HOURS_PER_YEAR:
        raise ValueError(
            f"{path}: expected one row for each of the 8760 hours of a 365-day year, "
            f"found {row.size} rows covering {np.unique(row).size} distinct hours"
        )
    source = np.empty(HOURS_PER_YEAR, dtype=np.int64)
    source[row] = np.flatnonzero(keep)
    columns: dict[str, FloatArray] = {}
    for name, bound in _BOUNDS.items():
        values = np.asarray(data[name], dtype=np.float64)[source]
        low = -90.0 if name == "temp_air" else 0.0
        bad = ~np.isfinite(values) | (values < low) | (values > bound)
        if bad.any():
            raise ValueError(
                f"{path}: column {name!r} has {int(bad.sum())} missing or implausible values "
                f"(outside {low:g}..{bound:g}); fill them before simulating"
            )
        if name in ("temp_air", "wind_speed"):
            values = 0.5 * (values + np.roll(values, 1))
        values.setflags(write=False)
        columns[name] = values
    lat, lon, alt, tz = (float(meta[k]) for k in ("latitude", "longitude", "altitude", "TZ"))
    return Weather(station, lat, lon, alt, tz, **columns)


def _read(path: Path) -> tuple[Any, pd.DatetimeIndex, str, dict[str, Any]]:
    """The file's table (pvlib's column names), each row's hour start, station name and header.

    Hour starts come from the file's own date and hour-ending fields (1-24, or 0 for a midnight
    written as 00:00 of the next day), not from pvlib's index: pvlib moves a 24:00 that lands on
    29 February to 1 March, which would lose 28 February's last hour.
    """
    name = path.name.lower()
    suffix = ".epw" if name.endswith(".epw.gz") else path.suffix.lower()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if suffix == ".csv":
            data, meta = pvlib.iotools.read_tmy3(path, map_variables=True)
            dates = pd.to_datetime(data["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
            hour_ending = data["Time (HH:MM)"].str.split(":").str[0].astype(int)
            station = str(meta["Name"]).strip('"')
        elif suffix in (".tm2", ".epw"):
            tmy2 = suffix == ".tm2"
            if tmy2:
                data, meta = pvlib.iotools.read_tmy2(path)
            elif name.endswith(".gz"):
                with gzip.open(path, "rt", encoding="utf-8") as f:
                    data, meta = pvlib.iotools.read_epw(io.StringIO(f.read()))
            else:
                data, meta = pvlib.iotools.read_epw(path)
            if tmy2:  # TMY2 gives temperature and wind in tenths of a unit
                data = data.rename(columns={"GHI": "ghi", "DNI": "dni", "DHI": "dhi"})
                data["temp_air"] = data["DryBulb"] / 10.0
                data["wind_speed"] = data["Wspd"] / 10.0
            # The year only matters to place 29 February; 2000 keeps it so that it can be dropped.
            ymd = {"year": 2000, "month": data["month"].astype(int), "day": data["day"].astype(int)}
            dates = pd.to_datetime(pd.DataFrame(ymd))
            hour_ending = data["hour"].astype(int)
            station = f"{meta['City']} {meta['State']}" if tmy2 else str(meta["city"])
        else:
            raise ValueError(
                f"{path}: unknown weather file type {suffix!r}; "
                "give a TMY3 .csv, a TMY2 .tm2 or an .epw (or .epw.gz) file"
            )
    starts = pd.DatetimeIndex(dates + pd.to_timedelta(hour_ending - 1, unit="h"))
    return data, starts, " ".join(station.split()), meta


def weather_on_grid(weather: Weather, grid: TimeGrid, timezone: str) -> WeatherSeries:
    """Lay the typical year on ``grid``: each hour takes the typical hour of the same month, day and
    hour in the site's local *standard* time (29 February reads 28 February; the year is ignored).

    Standard time (the smaller of ``timezone``'s UTC offsets on 1 January and 1 July) is used because
    typical years are in standard time and the sun keeps no daylight saving: mapping by clock time
    would move summer irradiance an hour away from the sun. Values are held through each hour, not
    interpolated, as typical-year irradiance is an hourly mean whose shape within the hour is unknown.
    """
    off = _standard_offset_s(timezone, int(grid.edges_s[0]))
    first = (int(grid.edges_s[0]) + off) // 3600 * 3600 - off
    last = -(-(int(grid.edges_s[-1]) + off) // 3600) * 3600 - off
    edges = np.arange(first, last + 1, 3600, dtype=np.int64)
    local_s = edges[:-1] + off
    days = (local_s // 86400).astype("datetime64[D]")
    months = days.astype("datetime64[M]")
    month = months.astype(np.int64) % 12
    day = (days - months).astype(np.int64)
    day = np.where((month == 1) & (day == 28), 27, day)
    rows = (_MONTH_START_DAY[month] + day) * 24 + (local_s % 86400) // 3600
    held = {
        name: step_means(edges, getattr(weather, name)[rows], grid)
        for name in ("ghi", "dni", "dhi", "temp_air", "wind_speed")
    }
    return WeatherSeries(weather=weather, hour_edges_s=edges, hour_row=rows, **held)


def pv_power_kw(
    series: WeatherSeries,
    grid: TimeGrid,
    latitude: float,
    longitude: float,
    kwp: float,
    tilt_deg: float,
    azimuth_deg: float,
    altitude_m: float = 0.0,
    losses_pct: float = 14.0,
    inverter_kw: float | None = None,
) -> FloatArray:
    """AC power of a PV array under the typical year's weather, mean over each step of ``grid`` [kW].

    ``latitude`` [° north], ``longitude`` [° east], ``altitude_m`` [m]: the site; ``kwp`` [kWp DC];
    ``tilt_deg`` [° from horizontal]; ``azimuth_deg`` [° clockwise from north]; ``losses_pct`` [%]
    system losses; ``inverter_kw`` [kW AC] clipping. ``grid`` must lie within ``series``' hours.

    Power is computed once per hour and held through it (the hour's energy is kept exactly): the
    sun's position is taken at the middle of the part of the hour it is up, so sunrise and sunset
    hours are not lost; an hour with the sun below the horizon throughout gives nothing. Then, as in
    ``forecast.pv``: Hay-Davies transposition, SAPM open-rack cell temperature (from the hour's air
    temperature and wind), PVWatts DC, losses and clipping; beam light also loses what the glass
    reflects (pvlib's physical incidence-angle model; diffuse light is taken as is).

    Limitation: the sun comes from the *site* but the irradiance from the *station*, which may be
    far away (a Sacramento site gets Greensboro's typical year, 3,700 km off). Clouds,
    seasons and yield follow the station's climate; the timing fits the site's sun only as far as
    the two places' solar noons agree in their own standard times (within about half an hour in most
    zones). Give a weather file near the site for a faithful yield.
    """
    rows, w, edges = series.hour_row, series.weather, series.hour_edges_s
    location = pvlib.location.Location(latitude, longitude, altitude=altitude_m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        up = np.asarray(location.get_solarposition(_times(edges))["apparent_elevation"], float)
        mid_s, lit = _sunlit_midpoints(edges, up)
        times = _times(mid_s)
        solar = location.get_solarposition(times)
    ac_kw = array_ac_kw(
        times,
        solar,
        w.dni[rows],
        w.ghi[rows],
        w.dhi[rows],
        w.temp_air[rows],
        w.wind_speed[rows],
        kwp,
        tilt_deg,
        azimuth_deg,
        losses_pct,
        None,
    )
    ac_kw = np.clip(np.where(lit, ac_kw, 0.0), 0.0, inverter_kw)
    return step_means(edges, ac_kw, grid)


def _sunlit_midpoints(edges_s: IntArray, elevation_deg: FloatArray) -> tuple[FloatArray, Any]:
    """Middle of the sunlit part of each hour [s], and whether any of it is sunlit.

    ``elevation_deg`` is the sun's apparent elevation at each edge; sunrise and sunset inside an
    hour are found by linear interpolation of the elevation.
    """
    t0, t1 = edges_s[:-1].astype(np.float64), edges_s[1:].astype(np.float64)
    e0, e1 = elevation_deg[:-1], elevation_deg[1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = t0 + (t1 - t0) * e0 / (e0 - e1)
    start = np.where(e0 > 0, t0, crossing)
    end = np.where(e1 > 0, t1, crossing)
    lit = (e0 > 0) | (e1 > 0)
    mid: FloatArray = np.where(lit, (start + end) / 2.0, (t0 + t1) / 2.0)
    return mid, lit


def _times(seconds: IntArray | FloatArray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(np.round(seconds).astype(np.int64), unit="s", utc=True))


def _standard_offset_s(timezone: str, moment_s: int) -> int:
    """The zone's standard UTC offset [s]: the smaller of its offsets on 1 January and 1 July."""
    zone = ZoneInfo(timezone)
    year = datetime.fromtimestamp(moment_s, zone).year
    offsets = [datetime(year, month, 1, tzinfo=zone).utcoffset() for month in (1, 7)]
    return int(min(o.total_seconds() for o in offsets if o is not None))


def _great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance between two points [km]; angles [°]."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def monthly_clearsky_index(weather: Weather) -> FloatArray:
    """The typical year's clear-sky index by calendar month: its global horizontal irradiation
    over what pvlib's clear sky (Ineichen, Linke turbidity climatology) gives at the station,
    length 12, January first, clipped to [0, 1.2].

    This is the PV forecast's baseline before the controller has measured its own production:
    how much of the clear-sky energy the site's climate delivers in that month (Munich's winter
    is not California's). Each hour is judged at its middle, in the year's standard time.
    """
    start_s = int(datetime(2001, 1, 1, tzinfo=ZoneInfo("UTC")).timestamp())  # a 365-day year
    mid_s = start_s + np.arange(HOURS_PER_YEAR) * 3600 + 1800 - round(weather.utc_offset_h * 3600)
    location = pvlib.location.Location(
        weather.latitude, weather.longitude, altitude=weather.altitude_m
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clear = np.asarray(location.get_clearsky(_times(mid_s), model="ineichen")["ghi"], float)
    month = np.repeat(np.arange(365), 24)
    month = np.searchsorted(_MONTH_START_DAY, month, side="right") - 1
    measured = np.bincount(month, weights=weather.ghi, minlength=12)
    possible = np.bincount(month, weights=np.nan_to_num(clear), minlength=12)
    index: FloatArray = np.clip(measured / np.maximum(possible, 1e-9), 0.0, 1.2)
    return index
