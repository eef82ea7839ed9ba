"""What the API reads from the store (``voltbridge.store.Store`` satisfies it; tests use a fake)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class StoreReader(Protocol):
    """Read access to recorded telemetry, events, charging sessions, money and plans."""

    def history(self, start: datetime, end: datetime, resolution_s: int) -> list[dict[str, Any]]:
        """Telemetry averaged over ``resolution_s`` [s] buckets from ``start`` to ``end``.

        Rows: ``{"at", "grid_kw", "pv_kw", "load_kw", "battery_kw", "battery_soc_kwh",
        "vehicles": {name: {"kw", "soc_kwh", "plugged_in"}}, "grid_state", "clock_stepped"}``;
        ``clock_stepped``: the bucket holds statuses of two time lines because the clock stepped
        back into it. ValueError on a bad range or resolution.
        """
        ...

    def events(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        kind: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        """Events, newest (recorded last) first: ``{"id", "at", "kind", "message", "device", "data"}``."""
        ...

    def sessions(
        self, start: datetime | None = None, end: datetime | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Charging sessions: ``{"id", "vehicle", "start", "end", "charged_kwh",
        "discharged_kwh", "cost", "value"}``."""
        ...

    def money(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Totals over a period: ``{"import_cost", "export_revenue", "net_cost", "baseline_cost",
        "savings", "import_kwh", "export_kwh"}``."""
        ...

    def latest_plan(self) -> dict[str, Any] | None:
        """The last recorded plan (``plan_to_dict``'s shape), or None."""
        ...
