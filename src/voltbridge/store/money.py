"""Money from the status stream: grid power times price integrated over time, per minute, and the bill of a period.

Each status holds until the next one (a zero-order hold): the interval ``[t0, t1)`` between two
statuses is priced with the first one's grid power and prices,

    import_kwh = max(grid_kw, 0) * dt_h        import_cost = import_kwh * price_import
    export_kwh = max(-grid_kw, 0) * dt_h       export_revenue = export_kwh * price_export
    baseline_cost = baseline_cost_per_h * dt_h

``baseline_cost_per_h`` is the controller's like-with-like rate (``voltbridge.control.baseline``:
the baseline's charging counts only for the kWh the real cars have also charged, so that savings
never include a charge the real home has not made yet); a status without it (older ones) is
priced as ``(max(b, 0) * price_import - max(-b, 0) * price_export) * dt_h``, b = baseline_grid_kw.

Intervals longer than the store's ``max_gap_s`` are not integrated: data is missing, not zero. An
unknown price (None) prices its energy at nothing (the energy is still counted). Each interval is
cut at minute boundaries and summed into the ``site_1m`` and ``site_15m`` rollups.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from voltbridge.store.codec import HOUR_MS, MINUTE_MS, QUARTER_HOUR_MS, ceil_to, floor_to
from voltbridge.store.sample import Sample


@dataclass
class MoneyDelta:
    """Energy [kWh] and money [currency] over one piece of time."""

    import_kwh: float = 0.0
    export_kwh: float = 0.0
    import_cost: float = 0.0
    export_revenue: float = 0.0
    baseline_cost: float = 0.0

    def add(self, other: MoneyDelta) -> None:
        self.import_kwh += other.import_kwh
        self.export_kwh += other.export_kwh
        self.import_cost += other.import_cost
        self.export_revenue += other.export_revenue
        self.baseline_cost += other.baseline_cost


def split_ms(t0_ms: int, t1_ms: int, period_ms: int) -> list[tuple[int, int]]:
    """Cut ``[t0_ms, t1_ms)`` at multiples of ``period_ms``: (bucket start, length [ms]) pairs.

    >>> split_ms(50_000, 130_000, 60_000)
    [(0, 10000), (60000, 60000), (120000, 10000)]
    """
    pieces = []
    t = t0_ms
    while t < t1_ms:
        bucket = floor_to(t, period_ms)
        stop = min(bucket + period_ms, t1_ms)
        pieces.append((bucket, stop - t))
        t = stop
    return pieces


def interval_money(held: Sample, dt_h: float) -> MoneyDelta:
    """Energy and money of holding ``held`` for ``dt_h`` hours (see the module's equations)."""
    price_import = held.price_import or 0.0
    price_export = held.price_export or 0.0
    grid_kw = 0.0 if held.grid_kw is None else held.grid_kw  # unknown: nothing is counted
    import_kwh = max(grid_kw, 0.0) * dt_h
    export_kwh = max(-grid_kw, 0.0) * dt_h
    baseline = held.baseline_grid_kw
    rate = held.baseline_cost_per_h
    if rate is None:
        rate = max(baseline, 0.0) * price_import - max(-baseline, 0.0) * price_export
    return MoneyDelta(
        import_kwh=import_kwh,
        export_kwh=export_kwh,
        import_cost=import_kwh * price_import,
        export_revenue=export_kwh * price_export,
        baseline_cost=rate * dt_h,
    )


def money_pieces(held: Sample, end_ms: int) -> list[tuple[int, MoneyDelta]]:
    """Money of ``[held.at_ms, end_ms)`` per minute bucket: (bucket start [ms], delta) pairs."""
    return [
        (bucket, interval_money(held, length_ms / HOUR_MS))
        for bucket, length_ms in split_ms(held.at_ms, end_ms, MINUTE_MS)
    ]


_SUMS = (
    "SELECT COALESCE(SUM(import_kwh), 0), COALESCE(SUM(export_kwh), 0), "
    "COALESCE(SUM(import_cost), 0), COALESCE(SUM(export_revenue), 0), "
    "COALESCE(SUM(baseline_cost), 0) FROM {table} WHERE bucket_ms >= ? AND bucket_ms < ?"
)


def _sum(conn: sqlite3.Connection, table: str, lo_ms: int, hi_ms: int) -> MoneyDelta:
    if lo_ms >= hi_ms:
        return MoneyDelta()
    row = conn.execute(_SUMS.format(table=table), (lo_ms, hi_ms)).fetchone()
    return MoneyDelta(*(float(x) for x in row))


def money_between(conn: sqlite3.Connection, start_ms: int, end_ms: int) -> dict[str, float]:
    """The bill of every minute whose start lies in ``[start_ms, end_ms)``.

    Whole quarter hours inside the range are read from ``site_15m`` (kept longest), the minutes
    at either end from ``site_1m``; edge minutes older than the one-minute retention are gone.
    """
    total = MoneyDelta()
    first_q = ceil_to(start_ms, QUARTER_HOUR_MS)
    last_q = floor_to(end_ms, QUARTER_HOUR_MS)
    if first_q < last_q:
        total.add(_sum(conn, "site_15m", first_q, last_q))
        total.add(_sum(conn, "site_1m", start_ms, first_q))
        total.add(_sum(conn, "site_1m", last_q, end_ms))
    else:
        total.add(_sum(conn, "site_1m", start_ms, end_ms))
    net = total.import_cost - total.export_revenue
    return {
        "import_cost": total.import_cost,
        "export_revenue": total.export_revenue,
        "net_cost": net,
        "baseline_cost": total.baseline_cost,
        "savings": total.baseline_cost - net,
        "import_kwh": total.import_kwh,
        "export_kwh": total.export_kwh,
    }
