"""The warranty's discharge budget per car: its throughput spread evenly over its years, counted
per local day from the measured discharge."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from voltbridge.control.io import Snapshot
from voltbridge.control.site_model import ControlSite


class DischargeBudget:
    """Stored energy each car may still give today under its warranty budget [kWh]."""

    def __init__(self, site: ControlSite, max_gap_s: float) -> None:
        self.site = site
        self.max_gap_s = max_gap_s
        """Longest time one reading's power is held for [s] (a gap in readings counts no more)."""
        self._tz = ZoneInfo(site.timezone)
        self._day: date | None = None
        self._at: datetime | None = None
        self._discharged: dict[str, float] = {}

    def left(self, snap: Snapshot, now: datetime) -> dict[str, float | None]:
        """Count the discharge since the last call, then what is left today per car [kWh of
        stored energy]; None for a car without a budget."""
        day = now.astimezone(self._tz).date()
        if day != self._day:
            self._day, self._discharged = day, {}
        gap_s = 0.0 if self._at is None else (now - self._at).total_seconds()
        self._at = now
        dt_h = min(max(gap_s, 0.0), self.max_gap_s) / 3600.0  # a clock step back counts nothing
        out: dict[str, float | None] = {}
        for v in self.site.vehicles:
            m = snap.storages.get(v.name)
            if m is not None and m.power_kw is not None and m.power_kw < 0:
                used = -m.power_kw / v.efficiency * dt_h
                self._discharged[v.name] = self._discharged.get(v.name, 0.0) + used
            if v.discharge_budget_kwh_per_h is None:
                out[v.name] = None
            else:
                daily = 24.0 * v.discharge_budget_kwh_per_h
                out[v.name] = max(0.0, daily - self._discharged.get(v.name, 0.0))
        return out
