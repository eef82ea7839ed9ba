"""Loading the catalog: lookups with suggestions, duplicate ids and bad entries."""

from __future__ import annotations

import pytest

from voltbridge.catalog import Catalog, CatalogError, load_catalog
from voltbridge.catalog.load import catalog_from_toml

VEHICLE = """
[[vehicle]]
id = "{id}"
make = "Testmake"
model = "Testcar"
usable_kwh = {usable}
gross_kwh = 60.0
v2h = "unknown"
"""
CHARGER = """
[[charger]]
id = "test-box"
make = "Acme"
model = "Bidi"
max_charge_kw = 7.4
max_discharge_kw = 7.4
"""


def test_load_catalog_is_cached() -> None:
    assert load_catalog() is load_catalog()


def test_unknown_vehicle_lookup_suggests_close_ids_and_how_to_list() -> None:
    with pytest.raises(KeyError) as info:
        load_catalog().vehicle("nissan-leaf-40")
    message = str(info.value)
    assert "nissan-leaf-40kwh" in message
    assert "voltbridge catalog" in message


def test_lookup_by_model_name_suggests_matching_ids() -> None:
    with pytest.raises(KeyError) as info:
        load_catalog().charger("quasar")
    assert "wallbox-quasar" in str(info.value)
    assert "wallbox-quasar-2" in str(info.value)


def test_lookup_with_nothing_close_suggests_nothing() -> None:
    with pytest.raises(KeyError) as info:
        load_catalog().vehicle("zzzzzzzz")
    assert "Did you mean" not in str(info.value)
    assert "voltbridge catalog" in str(info.value)


def test_unknown_strings_load_as_none() -> None:
    catalog = catalog_from_toml(VEHICLE.format(id="test-car", usable='"unknown"'), CHARGER)
    car = catalog.vehicle("test-car")
    assert car.usable_kwh is None
    assert car.v2h is None
    assert car.gross_kwh == 60.0
    assert isinstance(catalog, Catalog)


def test_duplicate_ids_are_an_error() -> None:
    vehicles = VEHICLE.format(id="twin", usable=50.0) + VEHICLE.format(id="twin", usable=55.0)
    with pytest.raises(CatalogError, match="duplicate id 'twin'"):
        catalog_from_toml(vehicles, CHARGER)


def test_a_bad_entry_names_the_file_entry_and_field() -> None:
    with pytest.raises(CatalogError) as info:
        catalog_from_toml(VEHICLE.format(id="bad-car", usable=-5), CHARGER)
    message = str(info.value)
    assert "vehicles.toml" in message
    assert "bad-car" in message
    assert "usable_kwh" in message


def test_invalid_toml_is_reported_with_the_file() -> None:
    with pytest.raises(CatalogError) as info:
        catalog_from_toml(VEHICLE.format(id="ok-car", usable=50.0), "[[charger]\n")
    assert "chargers.toml is not valid TOML" in str(info.value)
