"""Where a site's typical year comes from: its own PVGIS year (fetched once, cached), else the
closest shipped year.

PVGIS (the European Commission's Photovoltaic Geographical Information System) computes a
typical meteorological year for any point from satellite irradiance and reanalysis, so its year
is the site's own weather, not a station's hundreds of kilometres away. It needs the network
once: ``voltbridge weather fetch --lat .. --lon ..`` (or ``simulate --fetch-weather``) stores it
in the data directory, and every later run reads the cache. With neither a cache nor the network
the simulator falls back to the closest shipped year and says how far away that station is.
"""

from __future__ import annotations

import gzip
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pvlib.iotools import read_pvgis_tmy

from voltbridge.sim.weather import (
    _BOUNDS,
    HOURS_PER_YEAR,
    PVGIS_SUFFIX,
    TmyFile,
    Weather,
    _great_circle_km,
    nearest_tmy,
)

log = logging.getLogger(__name__)

DATA_DIR_ENV = "VOLTBRIDGE_DATA_DIR"
"""Environment variable naming the data directory (default ``voltbridge-data``, as ``run``)."""
DEFAULT_DATA_DIR = Path("voltbridge-data")
PVGIS_TIMEOUT_S = 10.0
"""How long one PVGIS request may take [s]: a dead network must fail fast, not hang a run."""
PVGIS_SOURCE = "PVGIS TMY"

Fetch = Callable[[float, float, float], tuple[pd.DataFrame, dict[str, Any]]]
"""(latitude, longitude, timeout [s]) -> PVGIS TMY table (pvlib's names, UTC index) and meta."""


class WeatherFetchError(RuntimeError):
    """PVGIS could not give a typical year (no network, timeout, refused, unreadable)."""


def data_dir() -> Path:
    """The data directory: ``$VOLTBRIDGE_DATA_DIR`` or ``voltbridge-data`` (``run``'s default)."""
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def cache_path(latitude: float, longitude: float, directory: Path | None = None) -> Path:
    """Where the PVGIS year of a point is cached: ``<data dir>/weather/``, keyed to 0.001°
    (about 100 m; PVGIS's own grid is coarser)."""
    base = data_dir() if directory is None else directory
    return base / "weather" / f"pvgis_tmy_{latitude:.3f}_{longitude:.3f}{PVGIS_SUFFIX}"


def utc_offset_h(longitude: float) -> int:
    """The standard-time offset the cached year is kept in [h]: the nominal zone of the
    longitude (15° per hour), e.g. +1 for Munich, 0 for Bristol, -8 for Sacramento. Typical
    years are in standard time; the simulator lays them on the site's own standard time."""
    return round(longitude / 15.0)


def pvgis_fetch(latitude: float, longitude: float, timeout_s: float) -> tuple[pd.DataFrame, Any]:
    """PVGIS's TMY for the point through pvlib (no key needed), in UTC with pvlib's names."""
    from pvlib.iotools import get_pvgis_tmy

    data, meta = get_pvgis_tmy(
        latitude,
        longitude,
        outputformat="json",
        map_variables=True,
        timeout=timeout_s,
        roll_utc_offset=None,
        coerce_year=None,
    )
    return data, meta


def fetch_pvgis(
    latitude: float,
    longitude: float,
    directory: Path | None = None,
    fetch: Fetch | None = None,
    timeout_s: float = PVGIS_TIMEOUT_S,
) -> Path:
    """Fetch the point's PVGIS year (with ``fetch``, default :func:`pvgis_fetch`) and cache it;
    the cache file.

    Every failure (no network, DNS, timeout, an HTTP error, a reply that is not a full year) is
    one :class:`WeatherFetchError` whose message says what happened, never a traceback.
    """
    try:
        data, meta = (fetch or pvgis_fetch)(latitude, longitude, timeout_s)
        table = pvgis_rows(data, utc_offset_h(longitude))
    except Exception as exc:  # network and parsing errors have many types; all mean "no year"
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise WeatherFetchError(
            f"PVGIS gave no typical year for {latitude:.3f}, {longitude:.3f}: {reason[:200]}"
        ) from exc  # the message is the one line users see; the cause stays for debugging
    path = cache_path(latitude, longitude, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    inputs = (meta or {}).get("inputs", {}) if isinstance(meta, dict) else {}
    location = inputs.get("location", inputs) if isinstance(inputs, dict) else {}
    elevation = float(location.get("elevation", 0.0) or 0.0)
    header = (
        f"# PVGIS TMY,{latitude:.6f},{longitude:.6f},{elevation:.1f},{utc_offset_h(longitude)}\n"
    )
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(header)
        table.to_csv(f, index=False, float_format="%.3f")
    tmp.replace(path)  # a run that reads the cache never sees half a file
    return path


def pvgis_rows(data: pd.DataFrame, offset_h: int) -> pd.DataFrame:
    """PVGIS's hourly table (UTC index, pvlib's names) as 8760 rows of one 365-day year in
    standard time UTC + ``offset_h``: row ``k`` is hour ``k % 24`` of day ``k // 24``.

    PVGIS stamps each hour at its start (``20070101:0000`` is 00:00-01:00 UTC), and a typical
    year takes each month from a different year, so rows are keyed by month, day and hour and the
    year is ignored; 29 February is dropped. Moving to standard time wraps the year around.
    """
    index = pd.DatetimeIndex(data.index)
    month = np.asarray(index.month, dtype=np.int64)
    day = np.asarray(index.day, dtype=np.int64)
    keep = ~((month == 2) & (day == 29))
    start = np.array([0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334], dtype=np.int64)
    row = ((start[month - 1] + day - 1) * 24 + np.asarray(index.hour, dtype=np.int64))[keep]
    if row.size != HOURS_PER_YEAR or np.unique(row).size != HOURS_PER_YEAR:
        raise ValueError(f"expected 8760 distinct hours, found {np.unique(row).size}")
    out = pd.DataFrame({"row": (row + offset_h) % HOURS_PER_YEAR})
    for name in _BOUNDS:
        if name not in data.columns:
            raise ValueError(f"the reply has no {name!r} column")
        out[name] = np.asarray(data[name], dtype=np.float64)[keep]
    return out.sort_values("row").reset_index(drop=True)


def read_pvgis_cache(path: Path) -> Weather:
    """A cached PVGIS year as a :class:`Weather` (rows already hour-start in standard time;
    temperature and wind are PVGIS's hourly values, used as the hour's mean)."""
    with path.open(encoding="utf-8") as f:
        _tag, lat, lon, elevation, offset = f.readline().lstrip("# ").strip().split(",")
        table = pd.read_csv(f)
    return _pvgis_weather(path, table, float(lat), float(lon), float(elevation), float(offset))


def read_pvgis_csv_gz(path: Path) -> Weather:
    """A shipped PVGIS TMY (PVGIS's CSV download as published, gzip) as a :class:`Weather`.

    It goes through the same conversion as a fetched year (:func:`pvgis_rows`: UTC hour starts
    laid on the point's nominal standard time), so a shipped year and a cached one of the same
    point give the same hours.
    """
    with gzip.open(path, "rb") as f:  # pvlib parses the CSV layout from bytes
        data, meta = read_pvgis_tmy(f, pvgis_format="csv", map_variables=True)
    point = meta["inputs"]
    lat, lon = float(point["latitude"]), float(point["longitude"])
    offset = utc_offset_h(lon)
    table = pvgis_rows(data, offset)
    return _pvgis_weather(path, table, lat, lon, float(point["elevation"]), float(offset))


def _pvgis_weather(
    path: Path, table: pd.DataFrame, lat: float, lon: float, elevation: float, offset: float
) -> Weather:
    """Check a PVGIS year's rows (every hour once, plausible values) and make it a Weather."""
    if not np.array_equal(table["row"].to_numpy(), np.arange(HOURS_PER_YEAR)):
        raise ValueError(f"{path}: not a full year of hourly rows; delete it and fetch again")
    columns: dict[str, Any] = {}
    for name, bound in _BOUNDS.items():
        values = table[name].to_numpy(dtype=np.float64)
        low = -90.0 if name == "temp_air" else 0.0
        if not np.all(np.isfinite(values) & (values >= low) & (values <= bound)):
            raise ValueError(f"{path}: column {name!r} has implausible values")
        values.setflags(write=False)
        columns[name] = values
    station = f"PVGIS {lat:.3f}, {lon:.3f}"
    return Weather(station, lat, lon, elevation, offset, **columns)


def weather_text(weather: Any) -> str:
    """The JSON's ``weather`` object in words: source, station and its distance from the site."""
    if isinstance(weather, dict):
        return (
            f"{weather['source']}, {weather['station']}, "
            f"{float(weather['distance_km']):.0f} km from the site"
        )
    return str(weather)


def site_weather(
    latitude: float,
    longitude: float,
    weather_file: Path | None = None,
    directory: Path | None = None,
    fetch: Fetch | None = None,
) -> TmyFile:
    """The typical year a site runs on, best first: the site's own ``weather_file``; its cached
    PVGIS year; its PVGIS year fetched now (only when ``fetch`` is given); the closest shipped
    year, with a warning in the log that gives that station's distance."""
    if weather_file is not None:
        return TmyFile(weather_file, weather_file.name, 0.0, "site weather file")
    path = cache_path(latitude, longitude, directory)
    if not path.exists() and fetch is not None:
        try:
            path = fetch_pvgis(latitude, longitude, directory, fetch)
        except WeatherFetchError as exc:
            log.warning("%s", exc)
    if path.exists():
        with path.open(encoding="utf-8") as f:
            _tag, lat, lon, *_ = f.readline().lstrip("# ").split(",")
        km = _great_circle_km(latitude, longitude, float(lat), float(lon))
        return TmyFile(path, f"PVGIS {float(lat):.3f}, {float(lon):.3f}", km, PVGIS_SOURCE)
    shipped = nearest_tmy(latitude, longitude)
    log.warning(
        "no PVGIS typical year cached for %.3f, %.3f (fetch one with `voltbridge weather fetch "
        "--lat %.3f --lon %.3f`); using the shipped year of %s, %.0f km away",
        latitude,
        longitude,
        latitude,
        longitude,
        shipped.station,
        shipped.distance_km,
    )
    return shipped
