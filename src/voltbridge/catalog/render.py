"""Tables and JSON of the catalog for the `voltbridge catalog` command."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from voltbridge.catalog.load import Catalog

MISSING = "—"
"""How a figure that is not public is shown in tables."""


def _number(value: float | None, unit: str = "") -> str:
    return MISSING if value is None else f"{value:g}{unit}"


def _flag(value: bool | None) -> str:
    return MISSING if value is None else ("yes" if value else "no")


def _items(values: tuple[str, ...] | None) -> str:
    if values is None:
        return MISSING
    return ", ".join(values) if values else "none"


def _capacity(usable_kwh: float | None, gross_kwh: float | None) -> str:
    return f"{_number(usable_kwh)}/{_number(gross_kwh)}"


def _table(title: str, columns: tuple[tuple[str, str], ...]) -> Table:
    """A table whose figures never wrap; only the last (name) column folds on narrow screens."""
    table = Table(title=title, caption=f"{MISSING} = not published by the manufacturer")
    for header, justify in columns[:-1]:
        table.add_column(header, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    table.add_column(columns[-1][0], overflow="fold", min_width=12)
    return table


def vehicle_table(catalog: Catalog) -> Table:
    """One row per vehicle with its key figures; "—" where a figure is not public."""
    table = _table(
        "Vehicles (kWh, kW, kWh/km, %)",
        (
            ("id", "left"),
            ("usable/gross", "right"),
            ("kWh/km", "right"),
            ("AC/DC", "right"),
            ("V2X", "right"),
            ("inlet", "left"),
            ("protocols", "left"),
            ("V2H", "center"),
            ("V2G", "center"),
            ("V2L", "right"),
            ("floor", "right"),
            ("vehicle", "left"),
        ),
    )
    for spec in sorted(catalog.vehicles.values(), key=lambda s: s.id):
        table.add_row(
            spec.id,
            _capacity(spec.usable_kwh, spec.gross_kwh),
            _number(spec.consumption_kwh_per_km),
            f"{_number(spec.max_ac_charge_kw)}/{_number(spec.max_dc_charge_kw)}",
            _number(spec.max_discharge_kw),
            spec.connector or MISSING,
            _items(spec.v2x_protocols),
            _flag(spec.v2h),
            _flag(spec.v2g),
            _number(spec.v2l_kw) if spec.v2l else _flag(spec.v2l),
            _number(spec.discharge_floor_pct),
            f"{spec.make} {spec.model} {spec.variant} ({spec.years})".strip(),
        )
    return table


def charger_table(catalog: Catalog) -> Table:
    """One row per charger with its key figures; "—" where a figure is not public."""
    table = _table(
        "Chargers (kW)",
        (
            ("id", "left"),
            ("current", "center"),
            ("charge", "right"),
            ("discharge", "right"),
            ("backup", "right"),
            ("plug", "left"),
            ("protocols", "left"),
            ("OCPP", "left"),
            ("V2H", "center"),
            ("V2G", "center"),
            ("islands", "center"),
            ("only for", "left"),
            ("certified with", "left"),
            ("charger", "left"),
        ),
    )
    for spec in sorted(catalog.chargers.values(), key=lambda s: s.id):
        table.add_row(
            spec.id,
            spec.current or MISSING,
            _number(spec.max_charge_kw),
            _number(spec.max_discharge_kw),
            _number(spec.backup_kw),
            spec.connector or MISSING,
            _items(spec.v2x_protocols),
            _items(spec.ocpp),
            _flag(spec.v2h),
            _flag(spec.v2g),
            _flag(spec.grid_forming),
            ", ".join(spec.compatible_makes) or "any make",
            ", ".join(spec.certified_vehicles) or MISSING,
            f"{spec.make} {spec.model}",
        )
    return table


def catalog_table(catalog: Catalog) -> tuple[Table, Table]:
    """The vehicle table and the charger table, to print one after the other."""
    return vehicle_table(catalog), charger_table(catalog)


def catalog_json(catalog: Catalog) -> dict[str, Any]:
    """The whole catalog as JSON-ready data; figures that are not public are ``null``."""
    return {
        "vehicles": [
            spec.model_dump(mode="json")
            for spec in sorted(catalog.vehicles.values(), key=lambda s: s.id)
        ],
        "chargers": [
            spec.model_dump(mode="json")
            for spec in sorted(catalog.chargers.values(), key=lambda s: s.id)
        ],
    }
