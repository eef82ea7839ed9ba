"""Household load learned from its recorded history (statsforecast), and the baseline it must beat.

The model is an equal-weight combination of three statsforecast models on hourly means:

- ``MSTL`` with a daily season and an ETS(A,N,N) level for what is left (the last 4 weeks): it
  follows the load's level as it drifts with the seasons, the weather and the household's habits;
- ``SeasonalWindowAverage`` of the same hour over the last 7 days: a calm daily shape;
- ``SeasonalWindowAverage`` of the same hour of the week over the last 4 weeks: the weekend shape.

Why a combination: on a year of the varying household (``forecast/household.py``) each model alone
was measured against the one-day seasonal-naive baseline (MAE of the next 24 hours, refitted daily):
MSTL alone 0.199 kW, MSTL with a weekly season (8 weeks) 0.196 kW but 0.4 s a fit, the daily window
average 0.182 kW, the weekly one 0.192 kW, seasonal naive 0.207 kW, the combination 0.169 kW, about
12 ms a fit. Combining forecasts is the robust winner of forecasting competitions (M4), and none of
the three alone sees both the level and the weekly shape. One fit a day is enough: the household's
pattern does not change within a day, and the planner's re-plans every 15 minutes read the day's
forecast from where they are.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from voltbridge.core.timegrid import FloatArray

HISTORY_DAYS = 28
"""Hours of history the models see, in days."""
DAILY_WINDOW_DAYS = 7
WEEKLY_WINDOW_WEEKS = 4
MODEL_NAME = "statsforecast MSTL(24 h) + SeasonalWindowAverage(24 h x 7, 168 h x 4), mean"
BASELINE_NAME = "seasonal naive (the same hour one day before)"


def learned_load_forecast_kw(history_kw: FloatArray, horizon_h: int) -> FloatArray:
    """The next ``horizon_h`` hourly means [kW] from hourly means ``history_kw`` [kW], oldest first.

    Needs at least one day of history; uses the last ``HISTORY_DAYS`` days. With less than two
    days the daily window average stands alone, with less than a week the weekly one is left out.
    """
    from statsforecast.models import MSTL, AutoETS, SeasonalWindowAverage

    hist = np.asarray(history_kw, dtype=np.float64)[-HISTORY_DAYS * 24 :]
    days = hist.size // 24
    if days < 1:
        raise ValueError("the learned load forecast needs at least one day of hourly history")
    hist = hist[hist.size - days * 24 :]
    parts: list[FloatArray] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' STL and ETS warn on short, flat series
        daily = SeasonalWindowAverage(season_length=24, window_size=min(DAILY_WINDOW_DAYS, days))
        parts.append(np.asarray(daily.forecast(y=hist, h=horizon_h)["mean"], dtype=np.float64))
        if days >= 2:
            mstl = MSTL(season_length=24, trend_forecaster=AutoETS(model="ANN"))
            parts.append(np.asarray(mstl.forecast(y=hist, h=horizon_h)["mean"], dtype=np.float64))
        if days >= 7:
            weekly = SeasonalWindowAverage(
                season_length=168, window_size=min(WEEKLY_WINDOW_WEEKS, days // 7)
            )
            parts.append(np.asarray(weekly.forecast(y=hist, h=horizon_h)["mean"], dtype=np.float64))
    out: FloatArray = np.maximum(np.mean(parts, axis=0), 0.0)
    return out


def seasonal_naive_kw(history_kw: FloatArray, horizon_h: int, season_h: int = 24) -> FloatArray:
    """The last ``season_h`` hours [kW] repeated over ``horizon_h`` hours: the baseline.

    >>> seasonal_naive_kw(np.arange(48.0), 3, 24).tolist()
    [24.0, 25.0, 26.0]
    """
    last = np.asarray(history_kw, dtype=np.float64)[-season_h:]
    if last.size < season_h:
        raise ValueError(f"seasonal naive needs {season_h} hours of history")
    out: FloatArray = last[np.arange(horizon_h) % season_h]
    return out


@dataclass(frozen=True)
class ForecastError:
    """Error of a forecast against what happened, forecast minus actual.

    Attributes:
        mae_kw: mean absolute error [kW].
        bias_kw: mean error [kW] (positive: the forecast was too high).
        n: number of values compared.
    """

    mae_kw: float
    bias_kw: float
    n: int


def forecast_error(forecast_kw: FloatArray, actual_kw: FloatArray) -> ForecastError:
    """MAE and bias of ``forecast_kw`` against ``actual_kw`` [kW].

    >>> forecast_error(np.array([1.0, 3.0]), np.array([2.0, 2.0]))
    ForecastError(mae_kw=1.0, bias_kw=0.0, n=2)
    """
    err = np.asarray(forecast_kw, dtype=np.float64) - np.asarray(actual_kw, dtype=np.float64)
    if err.size == 0:
        return ForecastError(float("nan"), float("nan"), 0)
    return ForecastError(float(np.abs(err).mean()), float(err.mean()), int(err.size))
