"""Day-ahead prices beyond their publication, forecast from the prices published so far.

Day-ahead prices are published around 13:00 for the next day, so a 48-hour plan always reaches
11 to 37 hours past the last published price. Those hours need a forecast; the baseline is
"the last published day again" (``repeat_last_day``), which carries one day's accident (a windy
Sunday, a cold still evening) into the next and has no weekly shape.

The forecast is statsforecast's ``MSTL`` with a daily and a weekly season and an ETS(A,N,N)
level for what is left, fitted on the last ``HISTORY_DAYS`` days of hourly prices: the daily and
weekly shapes are the seasons, and the level follows the last days without copying any one of
them. Measured on the shipped EPEX DE-LU prices (2023-2024, the next 24 hours after each day's
last published hour, every third day from late February 2023): MAE 22.5 EUR/MWh against 27.4 for
repeating the last day, about 0.2 s a fit. Also measured and left out: an hourly profile of the
last 14 days at a level halfway between the last day and the fortnight (24.9), the same with half
the weekday offset (23.7), MSTL with a daily season only on two weeks (23.9), and the mean of
MSTL and that profile (21.9: not enough better to carry a second model). ``tests/forecast``
checks the error against the baseline on the shipped data.

Prices here are hourly [currency/kWh], any linear transform of the day-ahead price (the retail
price with fees and VAT is one): the forecast does not depend on the unit.
"""

from __future__ import annotations

import warnings

import numpy as np

from voltbridge.core.timegrid import FloatArray

HISTORY_DAYS = 28
"""Days of hourly prices the model is fitted on (four weekly seasons)."""
MIN_WEEKLY_DAYS = 14
"""With less history than this the weekly season is left out (two cycles at least)."""
MODEL_NAME = "statsforecast MSTL(24 h, 168 h) + ETS(A,N,N) on the last 28 days"
BASELINE_NAME = "the last published day repeated"


def price_forecast(history: FloatArray, horizon_h: int) -> FloatArray:
    """The next ``horizon_h`` hourly prices after ``history`` (hourly, oldest first).

    Uses the last ``HISTORY_DAYS`` days. With less than two days of history the last day is
    repeated (nothing to fit), with less than ``MIN_WEEKLY_DAYS`` days the weekly season is left
    out. ``ValueError`` without a whole day of history or with a value that is not finite.
    """
    from statsforecast.models import MSTL, AutoETS

    hist = np.asarray(history, dtype=np.float64)[-HISTORY_DAYS * 24 :]
    if hist.size < 24:
        raise ValueError("a price forecast needs at least one day of hourly prices")
    if not np.all(np.isfinite(hist)):
        raise ValueError("the price history holds a value that is not a number")
    days = hist.size // 24
    if days < 2:
        return repeat_last_day(hist, horizon_h)
    hist = hist[hist.size - days * 24 :]
    seasons = [24, 168] if days >= MIN_WEEKLY_DAYS else [24]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' STL and ETS warn on short or flat series
        model = MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ANN"))
        out = np.asarray(model.forecast(y=hist, h=horizon_h)["mean"], dtype=np.float64)
    if not np.all(np.isfinite(out)):  # a degenerate fit: the baseline rather than nonsense
        return repeat_last_day(hist, horizon_h)
    return out


def repeat_last_day(history: FloatArray, horizon_h: int) -> FloatArray:
    """The baseline: the last 24 hourly prices of ``history`` repeated over ``horizon_h`` hours.

    >>> repeat_last_day(np.arange(48.0), 3).tolist()
    [24.0, 25.0, 26.0]
    """
    last = np.asarray(history, dtype=np.float64)[-24:]
    if last.size < 24:
        raise ValueError("repeating the last day needs 24 hourly prices")
    out: FloatArray = last[np.arange(horizon_h) % 24]
    return out
