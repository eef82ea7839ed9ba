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


def array_ac_kw(
    times: pd.DatetimeIndex,
    solar: pd.DataFrame,
    dni: FloatArray,
    ghi: FloatArray,
    dhi: FloatArray,
    temp_air_c: FloatArray | float,
    wind_ms: FloatArray | float,
    kwp: float,
    tilt_deg: float,
    azimuth_deg: float,
    losses_pct: float = 14.0,
    inverter_kw: float | None = None,
) -> FloatArray:
    """AC power of a PV array [kW] at ``times`` from irradiance on the horizontal [W/m²].

    ``solar`` is pvlib's solar position at ``times``; ``temp_air_c`` [°C], ``wind_ms`` [m/s];
    ``kwp`` [kWp DC], ``tilt_deg`` [° from horizontal], ``azimuth_deg`` [° clockwise from north],
    ``losses_pct`` [%] system losses, ``inverter_kw`` [kW AC] clipping. Hay-Davies transposition;
    beam light loses what the glass reflects (pvlib's physical incidence-angle model); SAPM
    open-rack cell temperature; PVWatts DC. The forecast and the simulator share this chain.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zenith, azimuth = solar["apparent_zenith"], solar["azimuth"]
        poa = pvlib.irradiance.get_total_irradiance(
            tilt_deg,
            azimuth_deg,
            zenith,
            azimuth,
            dni,
            ghi,
            dhi,
            dni_extra=pvlib.irradiance.get_extra_radiation(times),
            model="haydavies",
        )
        iam = np.nan_to_num(
            pvlib.iam.physical(pvlib.irradiance.aoi(tilt_deg, azimuth_deg, zenith, azimuth))
        )
        effective = np.asarray(poa["poa_diffuse"] + poa["poa_direct"] * iam, dtype=np.float64)
        params = pvlib.temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"]["open_rack_glass_glass"]
        cell_c = pvlib.temperature.sapm_cell(poa["poa_global"], temp_air_c, wind_ms, **params)
        dc_kw = pvlib.pvsystem.pvwatts_dc(effective, cell_c, kwp, TEMP_COEFF_PER_C)
    ac_kw = np.nan_to_num(np.asarray(dc_kw, dtype=np.float64)) * (1.0 - losses_pct / 100.0)
    out: FloatArray = np.clip(ac_kw, 0.0, inverter_kw)
    return out


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
    The clear sky is pvlib's Ineichen model with its Linke turbidity climatology, at
    ``AMBIENT_C`` and 1 m/s wind; the rest is :func:`array_ac_kw`.
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
    ac_kw = array_ac_kw(
        mids,
        solar,
        clear["dni"],
        clear["ghi"],
        clear["dhi"],
        AMBIENT_C,
        1.0,
        kwp,
        tilt_deg,
        azimuth_deg,
        losses_pct,
        inverter_kw,
    )
    return step_means(edges, ac_kw, grid)
