"""The packaged catalog: required models present, every figure sourced, units plausible."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest

from voltbridge.catalog import ChargerSpec, VehicleSpec, load_catalog

REQUIRED_VEHICLES = [
    "nissan-leaf-40kwh",
    "nissan-leaf-62kwh",
    "mitsubishi-outlander-phev-20kwh",
    "kia-ev6-77kwh",
    "hyundai-ioniq5-77kwh",
    "kia-ev9-99kwh",
    "ford-f150-lightning-sr",
    "ford-f150-lightning-er",
    "vw-id4-77kwh",
    "toyota-bz4x-71kwh-jp",
    "chevrolet-silverado-ev-rst",
    "tesla-cybertruck-awd",
]
REQUIRED_CHARGERS = [
    "wallbox-quasar",
    "wallbox-quasar-2",
    "sigenergy-evdc-25kw",
    "ford-charge-station-pro",
    "gm-energy-powershift",
    "tesla-universal-wall-connector-powershare",
    "nichicon-ev-power-station",
]
# Hard-coded on purpose: a field added to the models must be added here and sourced in the data.
VEHICLE_NUMBERS = [
    "usable_kwh",
    "gross_kwh",
    "consumption_kwh_per_km",
    "max_ac_charge_kw",
    "max_dc_charge_kw",
    "max_discharge_kw",
    "v2l_kw",
    "discharge_floor_pct",
    "warranty_years",
    "warranty_km",
    "warranty_discharge_limit_kwh",
]
VEHICLE_CLAIMS = ["chemistry", "connector", "v2x_protocols", "v2h", "v2g", "v2l"]
CHARGER_NUMBERS = ["max_charge_kw", "max_discharge_kw", "backup_kw", "efficiency"]
CHARGER_CLAIMS = ["current", "connector", "v2x_protocols", "ocpp", "v2h", "v2g", "v2l"]
CHARGER_CLAIMS += ["grid_forming"]
# Words a source uses to say why a figure is missing.
WHY_UNKNOWN = ("not published", "could not", "not confirmed", "no ")

CATALOG = load_catalog()
VEHICLES = sorted(CATALOG.vehicles.values(), key=lambda v: v.id)
CHARGERS = sorted(CATALOG.chargers.values(), key=lambda c: c.id)


def _raw_ids(file_name: str, table: str) -> list[str]:
    text = resources.files("voltbridge.catalog").joinpath("data", file_name).read_text("utf-8")
    return [entry["id"] for entry in tomllib.loads(text)[table]]


def test_every_required_vehicle_and_charger_is_present() -> None:
    assert set(REQUIRED_VEHICLES) <= set(CATALOG.vehicles)
    assert set(REQUIRED_CHARGERS) <= set(CATALOG.chargers)


@pytest.mark.parametrize(
    ("file_name", "table"), [("vehicles.toml", "vehicle"), ("chargers.toml", "charger")]
)
def test_ids_in_the_data_files_are_unique(file_name: str, table: str) -> None:
    ids = _raw_ids(file_name, table)
    assert len(ids) == len(set(ids))


def _check_sourced(spec: VehicleSpec | ChargerSpec, numbers: list[str], claims: list[str]) -> None:
    for field in numbers:
        value = getattr(spec, field)
        assert value is None or (isinstance(value, float) and value > 0), (spec.id, field, value)
    for field in numbers + claims:
        source = spec.sources.get(field, "").strip()
        assert len(source) > 20, f"{spec.id}: {field} has no real source"
        if getattr(spec, field) is None:
            assert any(word in source.lower() for word in WHY_UNKNOWN), (spec.id, field, source)


@pytest.mark.parametrize("vehicle", VEHICLES, ids=lambda v: v.id)
def test_every_vehicle_figure_is_positive_or_unknown_and_sourced(vehicle: VehicleSpec) -> None:
    _check_sourced(vehicle, VEHICLE_NUMBERS, VEHICLE_CLAIMS)


@pytest.mark.parametrize("charger", CHARGERS, ids=lambda c: c.id)
def test_every_charger_figure_is_positive_or_unknown_and_sourced(charger: ChargerSpec) -> None:
    _check_sourced(charger, CHARGER_NUMBERS, CHARGER_CLAIMS)


@pytest.mark.parametrize("vehicle", VEHICLES, ids=lambda v: v.id)
def test_vehicle_units_are_plausible(vehicle: VehicleSpec) -> None:
    if vehicle.usable_kwh is not None:
        assert 10 < vehicle.usable_kwh < 250
    if vehicle.gross_kwh is not None:
        assert 10 < vehicle.gross_kwh < 250
    if vehicle.usable_kwh is not None and vehicle.gross_kwh is not None:
        assert vehicle.usable_kwh <= vehicle.gross_kwh
    if vehicle.consumption_kwh_per_km is not None:
        assert 0.1 <= vehicle.consumption_kwh_per_km <= 0.5
    if vehicle.max_ac_charge_kw is not None:
        assert 1 < vehicle.max_ac_charge_kw <= 22
    if vehicle.max_dc_charge_kw is not None:
        assert 20 <= vehicle.max_dc_charge_kw <= 400
    if vehicle.max_discharge_kw is not None:
        assert 1 < vehicle.max_discharge_kw <= 25
    if vehicle.discharge_floor_pct is not None:
        assert 0 <= vehicle.discharge_floor_pct <= 50
    if vehicle.warranty_years is not None:
        assert 3 <= vehicle.warranty_years <= 15
    if vehicle.warranty_km is not None:
        assert 50_000 <= vehicle.warranty_km <= 1_000_000


@pytest.mark.parametrize("charger", CHARGERS, ids=lambda c: c.id)
def test_charger_units_are_plausible(charger: ChargerSpec) -> None:
    for power in (charger.max_charge_kw, charger.max_discharge_kw, charger.backup_kw):
        if power is not None:
            assert 1 < power <= 50
    if charger.efficiency is not None:
        assert 0.7 < charger.efficiency <= 1
        assert charger.efficiency_note


@pytest.mark.parametrize("vehicle", VEHICLES, ids=lambda v: v.id)
def test_a_vehicle_claiming_v2h_says_how_it_connects(vehicle: VehicleSpec) -> None:
    if vehicle.v2h:
        assert vehicle.connector is not None
        assert vehicle.v2x_protocols


@pytest.mark.parametrize("charger", CHARGERS, ids=lambda c: c.id)
def test_every_catalog_charger_is_bidirectional(charger: ChargerSpec) -> None:
    assert charger.v2h is True
    assert charger.max_discharge_kw is not None and charger.max_discharge_kw > 0


def test_a_restricted_charger_names_a_make_the_catalog_has() -> None:
    makes = {vehicle.make for vehicle in VEHICLES}
    for charger in CHARGERS:
        if charger.compatible_makes:
            assert set(charger.compatible_makes) & makes, charger.id
            assert charger.compatible_vehicles, charger.id


def test_certified_vehicles_are_catalog_vehicles_and_sourced() -> None:
    for charger in CHARGERS:
        for vid in charger.certified_vehicles:
            assert vid in CATALOG.vehicles, (charger.id, vid)
        if charger.certified_vehicles:
            assert charger.sources.get("certified_vehicles"), charger.id


def test_the_ev9_plans_with_its_usable_capacity_not_the_gross_pack() -> None:
    ev9 = CATALOG.vehicle("kia-ev9-99kwh")
    assert ev9.gross_kwh == 99.8
    assert ev9.usable_kwh is not None and ev9.usable_kwh < ev9.gross_kwh
    assert "gross" in ev9.sources["usable_kwh"]
