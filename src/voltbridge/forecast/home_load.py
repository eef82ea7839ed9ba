"""The load forecast at home, learned once a day from the load the store recorded.

The same model as the simulator's (``forecast/learned.py``), on hourly means of the last
``HISTORY_DAYS`` days read from the store. Hours without a recording (the service was off, the
load meter was stale) take the site's expected load, so a young installation starts from its
profile and moves to its own history as the days fill in. Refitted once per UTC day: the plans of
that day read it from where they are.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import numpy as np

from voltbridge.config import Site
from voltbridge.core.timegrid import FloatArray, TimeGrid, step_means
from voltbridge.forecast.learned import HISTORY_DAYS, learned_load_forecast_kw
from voltbridge.forecast.site import expected_load_kw

log = logging.getLogger(__name__)

History = Callable[[datetime, datetime, int], list[dict[str, Any]]]
"""``Store.history``: rows with ``"at"`` (ISO 8601) and ``"load_kw"`` (None when not recorded)."""

MIN_RECORDED_H = 24
"""Hours of recorded load below which the site's expected load is used alone."""
FORECAST_H = 96
"""Hours each daily forecast covers: the rest of its day plus a 48-hour plan and spare."""
DAY_S = 86400


class LearnedHomeLoad:
    """The site's load forecast [kW] learned from its recorded history.

    ``history`` reads the store (``Store.history``); if it fails the site's expected load is used
    and the failure is logged (once per refit) and said in ``warnings`` for that day (the plan
    carries it), so a broken store never stops planning and is never silent.
    """

    def __init__(self, site: Site, history: History) -> None:
        self.site, self.history = site, history
        self._day_s: int | None = None
        self._path_kw: FloatArray | None = None
        self.fits = 0
        self.warnings: tuple[str, ...] = ()

    def _hourly_history(self, day_s: int) -> tuple[FloatArray, int]:
        """Hourly load [kW] over (at most) the ``HISTORY_DAYS`` days before ``day_s`` from the first
        day with a recording, gaps filled with the expected load, and how many hours were
        recorded."""
        start_s = day_s - HISTORY_DAYS * DAY_S
        hours = TimeGrid(np.arange(start_s, day_s + 1, 3600, dtype=np.int64))
        out = expected_load_kw(self.site, hours).copy()
        rows = self.history(
            datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(day_s, UTC), 3600
        )
        seen = np.zeros(out.size, dtype=bool)
        for row in rows:
            kw = row.get("load_kw")
            k = (int(datetime.fromisoformat(row["at"]).timestamp()) - start_s) // 3600
            if kw is not None and 0 <= k < out.size:
                out[k] = max(float(kw), 0.0)
                seen[k] = True
        if not seen.any():
            return out[:0], 0
        # Whole days from the first recorded one: the profile fills gaps inside the history,
        # it does not stand in for weeks before the installation.
        first_day = int(np.argmax(seen)) // 24 * 24
        return out[first_day:], int(seen.sum())

    def _refit(self, day_s: int) -> FloatArray | None:
        self.warnings = ()
        try:
            hourly, recorded = self._hourly_history(day_s)
        except (sqlite3.Error, OSError) as err:  # the store's fault must not stop planning
            log.warning("load history unreadable, planning on the site's profile: %s", err)
            self.warnings = (f"load history unreadable, load from the site's profile: {err}",)
            return None
        except Exception as err:  # a bug: planning goes on, and the traceback says where
            log.exception("load history could not be read (a bug); planning on the site's profile")
            self.warnings = (f"load history could not be read (a bug: {err!r}); site profile",)
            return None
        if recorded < MIN_RECORDED_H:
            return None
        self.fits += 1
        return learned_load_forecast_kw(hourly, FORECAST_H)

    def load_kw(self, grid: TimeGrid) -> FloatArray:
        """The load on ``grid``, mean over each step [kW]."""
        day_s = int(grid.edges_s[0]) // DAY_S * DAY_S
        if day_s != self._day_s:
            self._day_s, self._path_kw = day_s, self._refit(day_s)
        path = self._path_kw
        if path is None or int(grid.edges_s[-1]) > day_s + path.size * 3600:
            return expected_load_kw(self.site, grid)
        edges = np.arange(day_s, day_s + (path.size + 1) * 3600, 3600, dtype=np.int64)
        return step_means(edges, path, grid)
