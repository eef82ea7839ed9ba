"""The PV forecast at home: the clear sky times an index learned from the PV the store recorded,
or from a weather provider's cloud forecast where one is configured.

The same model as the simulator's (``forecast/pv_learned.py``): once per UTC day the clear-sky
index of each hour is learned from the hourly PV of the last ``LONG_DAYS`` days read from the store
and the array's clear-sky PV of the same hours; hours without a recording are left out. At each
plan the last ``RECENT_H`` hours' measured index pulls the next few hours toward it. Where
``[forecast] provider = "open-meteo"`` is set, the hours its forecast covers take its cloud-cover
index instead; a failure of the provider is logged, said in ``warnings`` (the plan carries it), and
the learned index stands in. With nothing recorded yet the index is the site's typical one for the
month when known, else 1 (the clear sky, as before the site had a history).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from voltbridge.config import Site
from voltbridge.core.timegrid import FloatArray, IntArray, TimeGrid
from voltbridge.forecast.home_load import History
from voltbridge.forecast.open_meteo import Fetch, WeatherForecastError, cloud_index_forecast
from voltbridge.forecast.open_meteo import urllib_fetch as default_fetch
from voltbridge.forecast.pv_learned import (
    AHEAD_SHARE,
    LONG_DAYS,
    learned_clearsky_index,
    with_recent,
)
from voltbridge.forecast.site import site_clearsky_pv_kw

log = logging.getLogger(__name__)

DAY_S = 86400
HOUR_S = 3600
RECENT_H = 2
"""Hours of measured PV behind the correction of the next few hours [h]."""
PROVIDER_REFRESH_S = 3600
"""A weather forecast is fetched again after this long [s] (providers update hourly)."""
PROVIDER_RETRY_S = 900
"""After a failed fetch the next try waits this long [s] (one plan period)."""


class LearnedHomePv:
    """The site's PV forecast [kW] learned from its recorded production.

    ``history`` reads the store (``Store.history``; rows with ``"at"`` and ``"pv_kw"``);
    ``typical_index`` the site's typical clear-sky index by month (12 values, January first), if
    known; ``fetch`` reads the weather provider's URL (tests serve a recorded answer). A broken
    store or provider never stops planning: the failure is logged and said in ``warnings``.
    """

    def __init__(
        self,
        site: Site,
        history: History,
        typical_index: Sequence[float] | None = None,
        fetch: Fetch = default_fetch,
    ) -> None:
        if site.pv is None:
            raise ValueError("a PV forecast needs the site's [pv]")
        self.site, self.history, self.fetch = site, history, fetch
        self.typical_index = None if typical_index is None else list(typical_index)
        self._day_s: int | None = None
        self._index: FloatArray | None = None
        self._cloud: tuple[IntArray, FloatArray] | None = None
        self._next_fetch_s = 0
        self._provider_warning: str | None = None
        self._history_warning: str | None = None
        self._recent_warning: str | None = None
        self.fits = 0

    @property
    def warnings(self) -> tuple[str, ...]:
        """What the last forecast could not use: the provider, the day's history, recent PV."""
        found = (self._provider_warning, self._history_warning, self._recent_warning)
        return tuple(w for w in found if w is not None)

    def _clear_kw(self, grid: TimeGrid) -> FloatArray:
        return site_clearsky_pv_kw(self.site, grid)

    def _recorded_kw(self, start_s: int, end_s: int, step_s: int) -> FloatArray:
        """Recorded PV [kW] per ``step_s`` from ``start_s`` to ``end_s``, NaN where none."""
        out = np.full((end_s - start_s) // step_s, np.nan)
        rows = self.history(
            datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC), step_s
        )
        for row in rows:
            kw = row.get("pv_kw")
            k = (int(datetime.fromisoformat(row["at"]).timestamp()) - start_s) // step_s
            if kw is not None and 0 <= k < out.size:
                out[k] = max(float(kw), 0.0)
        return out

    def _typical(self, day_s: int) -> float | None:
        if self.typical_index is None:
            return None
        tz = ZoneInfo(self.site.location.timezone)
        month = datetime.fromtimestamp(day_s + DAY_S // 2, tz).month
        return float(self.typical_index[month - 1])

    def _refit(self, day_s: int) -> FloatArray:
        """The learned index per UTC hour of the day from the history before ``day_s``."""
        start_s = day_s - LONG_DAYS * DAY_S
        self._history_warning = None
        try:
            pv = self._recorded_kw(start_s, day_s, HOUR_S)
        except (sqlite3.Error, OSError) as err:  # the store's fault must not stop planning
            log.warning("PV history unreadable, forecasting PV without it: %s", err)
            self._history_warning = f"PV history unreadable, PV from the typical sky: {err}"
            pv = np.full(LONG_DAYS * 24, np.nan)
        except Exception as err:  # a bug: planning goes on, and the traceback says where
            log.exception("PV history could not be read (a bug); forecasting PV without it")
            self._history_warning = f"PV history could not be read (a bug: {err!r})"
            pv = np.full(LONG_DAYS * 24, np.nan)
        hours = TimeGrid(np.arange(start_s, day_s + 1, HOUR_S, dtype=np.int64))
        clear = self._clear_kw(hours)
        seen = np.isfinite(pv)
        if seen.any():  # whole days from the first recorded one
            first = int(np.argmax(seen)) // 24 * 24
            pv, clear = pv[first:], clear[first:]
        else:
            pv, clear = pv[:0], clear[:0]
        self.fits += 1
        return learned_clearsky_index(pv, clear, self._typical(day_s))

    def _recent_index(self, now_s: int) -> float | None:
        """Measured over clear-sky PV energy in the last ``RECENT_H`` hours, in [0, 1.2]."""
        start_s = (now_s - RECENT_H * HOUR_S) // 900 * 900
        end_s = now_s // 900 * 900
        if end_s <= start_s:
            return None
        self._recent_warning = None
        try:
            pv = self._recorded_kw(start_s, end_s, 900)
        except (sqlite3.Error, OSError) as err:  # the day's index stands alone
            log.warning("recent PV unreadable, forecasting without it: %s", err)
            self._recent_warning = f"recent PV unreadable, the day's index stands alone: {err}"
            return None
        except Exception as err:  # a bug: planning goes on, and the traceback says where
            log.exception("recent PV could not be read (a bug); forecasting without it")
            self._recent_warning = f"recent PV could not be read (a bug: {err!r})"
            return None
        clear = self._clear_kw(TimeGrid(np.arange(start_s, end_s + 1, 900, dtype=np.int64)))
        seen = np.isfinite(pv)
        expected = float(clear[seen].sum())
        if expected <= 1e-3:
            return None
        return min(max(float(pv[seen].sum()) / expected, 0.0), 1.2)

    def _provider_index(self, now_s: int) -> tuple[IntArray, FloatArray] | None:
        """The provider's hourly index, fetched when due; None without one or after a failure."""
        cfg = self.site.forecast
        if cfg.provider == "none":
            return None
        if now_s >= self._next_fetch_s:
            loc = self.site.location
            try:
                self._cloud = cloud_index_forecast(
                    cfg.url, loc.latitude, loc.longitude, cfg.timeout_s, self.fetch
                )
                self._next_fetch_s = now_s + PROVIDER_REFRESH_S
                self._provider_warning = None
            except WeatherForecastError as err:
                self._cloud, self._next_fetch_s = None, now_s + PROVIDER_RETRY_S
                message = f"weather forecast ({cfg.provider}) failed, PV from history: {err}"
                log.warning("%s", message)
                self._provider_warning = message
        return self._cloud

    def pv_kw(self, grid: TimeGrid) -> FloatArray:
        """The PV available on ``grid``, mean over each step [kW]."""
        now_s = int(grid.edges_s[0])
        day_s = now_s // DAY_S * DAY_S
        if day_s != self._day_s or self._index is None:
            self._day_s, self._index = day_s, self._refit(day_s)
        # Each step takes the index of the hour its middle falls in: the index is hourly, the
        # clear sky is exact on the plan's own steps (15 minutes near now).
        hour_s = (grid.mid_s // HOUR_S * HOUR_S).astype(np.int64)
        index = self._index[(hour_s - day_s) // HOUR_S % 24]
        # after today the plan counts on a share of the learned index (AHEAD_SHARE), not of a
        # weather provider's
        learned_ahead = hour_s >= day_s + DAY_S
        cloud = self._provider_index(now_s)
        if cloud is not None:
            times, cloud_index = cloud
            k = np.minimum(np.searchsorted(times, hour_s), times.size - 1)
            covered = (times[k] == hour_s) & np.isfinite(cloud_index[k])
            index = np.where(covered, cloud_index[k], index)
            learned_ahead &= ~covered
        ahead_h = (grid.mid_s - now_s) / 3600.0
        index = with_recent(index, self._recent_index(now_s), ahead_h)
        index = np.where(learned_ahead, AHEAD_SHARE * index, index)
        out: FloatArray = self._clear_kw(grid) * index
        return out
