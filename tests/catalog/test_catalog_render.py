"""Rendering the catalog as tables and JSON for the `voltbridge catalog` command."""

from __future__ import annotations

import json

from rich.console import Console

from voltbridge.catalog import catalog_json, catalog_table, load_catalog
from voltbridge.catalog.render import MISSING


def _render() -> str:
    console = Console(record=True, width=400)
    console.print(*catalog_table(load_catalog()))
    return console.export_text()


def test_tables_list_every_vehicle_and_charger() -> None:
    vehicles, chargers = catalog_table(load_catalog())
    assert vehicles.row_count == len(load_catalog().vehicles)
    assert chargers.row_count == len(load_catalog().chargers)
    text = _render()
    for spec_id in [*load_catalog().vehicles, *load_catalog().chargers]:
        assert spec_id in text


def test_unknown_figures_show_as_a_dash_not_none() -> None:
    text = _render()
    assert MISSING in text
    assert "None" not in text


def test_json_is_serialisable_and_keeps_unknowns_as_null() -> None:
    data = catalog_json(load_catalog())
    decoded = json.loads(json.dumps(data))
    ids = [vehicle["id"] for vehicle in decoded["vehicles"]]
    assert ids == sorted(load_catalog().vehicles)
    leaf = next(v for v in decoded["vehicles"] if v["id"] == "nissan-leaf-40kwh")
    assert leaf["usable_kwh"] is None
    assert leaf["v2x_protocols"] == ["chademo"]
    assert leaf["sources"]["gross_kwh"]
    assert len(decoded["chargers"]) == len(load_catalog().chargers)
