"""Open-Meteo's hourly cloud-cover forecast as a clear-sky index for the PV forecast (optional).

Open-Meteo (https://open-meteo.com) serves numerical weather forecasts as JSON without a key. Only
``cloud_cover`` is asked for and turned into a clear-sky index with Kasten and Czeplak's relation
(Solar Energy 24, 177-189, 1980, fitted on ten years of Hamburg measurements):

    GHI / GHI_clear = 1 - 0.75 * (N / 8) ** 3.4,   N the cloud cover in oktas.

The official ``openmeteo-requests`` client speaks Open-Meteo's FlatBuffers format and is not
installed here; the documented JSON API needs only the standard library. The provider is never
needed: every failure is raised as a ``WeatherForecastError`` that says what went wrong, and the
caller falls back to the forecast learned from the site's history.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from voltbridge.core.timegrid import FloatArray, IntArray

KC_A = 0.75
"""Kasten-Czeplak: the clear-sky index lost under a fully overcast sky [-]."""
KC_B = 3.4
"""Kasten-Czeplak: the exponent on the cloud-cover fraction [-]."""
FORECAST_DAYS = 3
"""Days of forecast asked for: the 48-hour plan from any hour of today."""

Fetch = Callable[[str, float], bytes]
"""Reads a URL within a timeout [s] and returns the body; raises ``OSError`` on failure."""


class WeatherForecastError(Exception):
    """The weather forecast could not be had; the message says why (for the household's log)."""


def kasten_czeplak_index(cloud_cover_pct: FloatArray) -> FloatArray:
    """Clear-sky index of global horizontal irradiance [-] under ``cloud_cover_pct`` [%].

    >>> kasten_czeplak_index(np.array([0.0, 50.0, 100.0])).round(3).tolist()
    [1.0, 0.929, 0.25]
    """
    cover = np.clip(np.asarray(cloud_cover_pct, dtype=np.float64) / 100.0, 0.0, 1.0)
    out: FloatArray = 1.0 - KC_A * cover**KC_B
    return out


def request_url(base_url: str, latitude: float, longitude: float) -> str:
    """The forecast request: hourly cloud cover, times as Unix seconds in UTC.

    >>> request_url("http://h/v1/forecast", 48.1, 11.6)  # doctest: +ELLIPSIS
    'http://h/v1/forecast?latitude=48.1&longitude=11.6&hourly=cloud_cover&...'
    """
    query = urllib.parse.urlencode(
        {
            "latitude": f"{latitude:.4g}",
            "longitude": f"{longitude:.4g}",
            "hourly": "cloud_cover",
            "forecast_days": FORECAST_DAYS,
            "timeformat": "unixtime",
            "timezone": "GMT",
        }
    )
    return f"{base_url}?{query}"


def parse_cloud_cover(payload: Mapping[str, Any]) -> tuple[IntArray, FloatArray]:
    """Times [s since the epoch, UTC] and cloud cover [%] from Open-Meteo's JSON answer.

    Open-Meteo's ``cloud_cover`` is the value at each time; missing values (null) are NaN.
    """
    if "error" in payload and payload.get("error"):
        raise WeatherForecastError(f"Open-Meteo refused the request: {payload.get('reason')}")
    hourly = payload.get("hourly")
    if not isinstance(hourly, Mapping) or "time" not in hourly or "cloud_cover" not in hourly:
        raise WeatherForecastError("Open-Meteo's answer has no hourly time and cloud_cover")
    try:
        times = np.asarray(hourly["time"], dtype=np.int64)
        cover = np.asarray(
            [np.nan if c is None else float(c) for c in hourly["cloud_cover"]], dtype=np.float64
        )
    except (TypeError, ValueError) as err:
        raise WeatherForecastError(f"Open-Meteo's hourly values are not numbers: {err}") from None
    if times.size != cover.size or times.size < 2 or np.any(np.diff(times) != 3600):
        raise WeatherForecastError("Open-Meteo's hourly series is not hourly (unixtime) steps")
    return times, cover


def urllib_fetch(url: str, timeout_s: float) -> bytes:
    """GET ``url`` with the standard library; ``OSError`` (``URLError``) on any failure."""
    request = urllib.request.Request(url, headers={"User-Agent": "voltbridge"})
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        body: bytes = response.read()
    return body


def cloud_index_forecast(
    base_url: str,
    latitude: float,
    longitude: float,
    timeout_s: float = 10.0,
    fetch: Fetch = urllib_fetch,
) -> tuple[IntArray, FloatArray]:
    """Hour starts [s, UTC] and the clear-sky index of each hour [-] from Open-Meteo.

    Each hour's index is the mean of the Kasten-Czeplak index at its start and its end (cloud
    cover is given at the hour). Raises ``WeatherForecastError`` on any failure.
    """
    url = request_url(base_url, latitude, longitude)
    try:
        body = fetch(url, timeout_s)
    except (OSError, urllib.error.URLError) as err:
        raise WeatherForecastError(f"Open-Meteo unreachable at {base_url}: {err}") from None
    try:
        payload = json.loads(body)
    except ValueError as err:
        raise WeatherForecastError(f"Open-Meteo's answer is not JSON: {err}") from None
    if not isinstance(payload, Mapping):
        raise WeatherForecastError("Open-Meteo's answer is not a JSON object")
    times, cover = parse_cloud_cover(payload)
    index = kasten_czeplak_index(cover)
    hourly: FloatArray = (index[:-1] + index[1:]) / 2.0
    return times[:-1], hourly
