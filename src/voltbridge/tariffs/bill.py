"""The bill of a grid power series under a tariff: energy, export credit, fixed and demand."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voltbridge.core import TimeGrid
from voltbridge.tariffs.errors import TariffError
from voltbridge.tariffs.localclock import local_day_fractions, zone_offsets
from voltbridge.tariffs.models import Tariff
from voltbridge.tariffs.vectors import (
    demand_windows,
    export_prices,
    import_prices,
    require_timezone,
)


@dataclass(frozen=True)
class Bill:
    """What a tariff charges for a grid power series [currency] and the energy behind it [kWh].

    Attributes:
        energy_import: sum of import price times imported energy [currency].
        energy_export_credit: sum of export price times exported energy [currency].
        fixed: ``fixed_per_day`` times the local calendar days covered, prorated [currency].
        demand: each demand charge times its month's peak average import power [currency].
        total: ``energy_import - energy_export_credit + fixed + demand`` [currency].
        import_kwh: energy imported [kWh].
        export_kwh: energy exported [kWh].
        currency: ISO 4217 code of every amount.
    """

    energy_import: float
    energy_export_credit: float
    fixed: float
    demand: float
    total: float
    import_kwh: float
    export_kwh: float
    currency: str


def bill(tariff: Tariff, grid: TimeGrid, grid_kw: npt.ArrayLike) -> Bill:
    """Bill ``grid_kw`` (average grid power per step [kW], import > 0, export < 0) on ``grid``.

    The fixed charge is prorated by the fraction of each local calendar day the grid covers
    (a full 23- or 25-hour DST day counts as one day). Demand charges apply per local calendar
    month to the highest per-step average import power [kW] among the steps in the window.

    >>> from datetime import UTC, datetime
    >>> flat = Tariff.model_validate({"currency": "GBP", "import": 0.25, "export": 0.15})
    >>> grid = TimeGrid.regular(datetime(2026, 1, 1, tzinfo=UTC), 2, 60)
    >>> round(bill(flat, grid, [2.0, -1.0]).total, 6)
    0.35
    """
    power_kw = np.asarray(grid_kw, dtype=np.float64)
    if power_kw.shape != (grid.n,):
        raise TariffError(f"grid_kw has shape {power_kw.shape}; the time grid has {grid.n} steps")
    if not np.all(np.isfinite(power_kw)):
        raise TariffError("grid_kw contains NaN or infinite values; fill the gaps before billing")
    import_kwh = np.clip(power_kw, 0.0, None) * grid.dt_h
    export_kwh = np.clip(-power_kw, 0.0, None) * grid.dt_h
    energy_import = float(np.dot(import_prices(tariff, grid), import_kwh))
    export_credit = float(np.dot(export_prices(tariff, grid), export_kwh))
    fixed = 0.0
    if tariff.fixed_per_day:
        tz = require_timezone(tariff, "its fixed daily charge")
        zone = zone_offsets(tz, int(grid.edges_s[0]), int(grid.edges_s[-1]))
        fixed = tariff.fixed_per_day * float(local_day_fractions(zone, grid.edges_s).sum())
    demand = (
        sum(
            window.rate_per_kw * max(float(power_kw[window.mask].max()), 0.0)
            for window in demand_windows(tariff, grid)
        )
        + 0.0
    )
    return Bill(
        energy_import=energy_import,
        energy_export_credit=export_credit,
        fixed=fixed,
        demand=demand,
        total=energy_import - export_credit + fixed + demand,
        import_kwh=float(import_kwh.sum()),
        export_kwh=float(export_kwh.sum()),
        currency=tariff.currency,
    )
