"""PV power from pvlib: clear-sky irradiance on the array, PVWatts DC model, losses and clipping."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pvlib

from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means

SAMPLE_S = 300
"""Irradiance is evaluated every 5 minutes and averaged onto the grid's steps [s]."""

TEMP_COEFF_PER_C = -0.0037
"""Power temperature coefficient of crystalline silicon modules [1/°C] (PVWatts v5 standard)."""

AMBIENT_C = 20.0
"""Air temperature assumed for a forecast without weather [°C]."""


def clearsky_pv_kw(
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
    """AC power of a PV array under a clear sky, averaged over each step [kW].

    ``kwp`` [kWp DC], ``tilt_deg`` [° from horizontal], ``azimuth_deg`` [° clockwise from north],
    ``altitude_m`` [m], ``losses_pct`` [%] system losses, ``inverter_kw`` [kW AC] clipping.
    The clear sky is pvlib's Ineichen model with its Linke turbidity climatology; transposition
    is Hay-Davies; cell temperature is SAPM's open-rack model at ``AMBIENT_C`` and 1 m/s wind.
    """
    start = grid.edges_s[0] // SAMPLE_S * SAMPLE_S
    end = -(-grid.edges_s[-1] // SAMPLE_S) * SAMPLE_S
    edges = np.arange(start, end + SAMPLE_S, SAMPLE_S, dtype=np.int64)
    mids = pd.DatetimeIndex(pd.to_datetime((edges[:-1] + SAMPLE_S // 2), unit="s", utc=True))
    location = pvlib.location.Location(latitude, longitude, altitude=altitude_m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        solar = location.get_solarposition(mids)
        clear = location.get_clearsky(mids, model="ineichen", solar_position=solar)
        dni_extra = pvlib.irradiance.get_extra_radiation(mids)
        poa = pvlib.irradiance.get_total_irradiance(
            tilt_deg,
            azimuth_deg,
            solar["apparent_zenith"],
            solar["azimuth"],
            clear["dni"],
            clear["ghi"],
            clear["dhi"],
            dni_extra=dni_extra,
            model="haydavies",
        )
        params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
        cell_c = pvlib.temperature.sapm_cell(poa["poa_global"], AMBIENT_C, 1.0, **params)
        dc_kw = pvlib.pvsystem.pvwatts_dc(poa["poa_global"], cell_c, kwp, TEMP_COEFF_PER_C)
    ac_kw = np.nan_to_num(np.asarray(dc_kw, dtype=np.float64)) * (1.0 - losses_pct / 100.0)
    ac_kw = np.clip(ac_kw, 0.0, inverter_kw if inverter_kw is not None else None)
    return step_means(edges, ac_kw, grid)
