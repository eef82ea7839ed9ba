"""The spec models: defaults for custom cars, "unknown" handling and clear validation errors."""

from __future__ import annotations

import pydantic
import pytest

from voltbridge.catalog import ChargerSpec, VehicleSpec, unknown_to_none


def test_a_custom_vehicle_needs_no_arguments() -> None:
    car = VehicleSpec()
    assert car.id == "custom"
    assert car.sources == {}
    assert car.usable_kwh is None
    assert car.chemistry == "unknown"


def test_a_custom_charger_from_a_site_file() -> None:
    box = ChargerSpec(id="my-wallbox", current="ac", max_charge_kw=11, max_discharge_kw=0)
    assert box.max_charge_kw == 11.0
    assert box.compatible_makes == ()


def test_specs_are_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        VehicleSpec().usable_kwh = 50.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value"),
    [("usable_kwh", -1.0), ("max_ac_charge_kw", 0.0), ("max_discharge_kw", -3.0)],
)
def test_powers_and_capacities_must_be_positive(field: str, value: float) -> None:
    with pytest.raises(pydantic.ValidationError, match=field):
        VehicleSpec.model_validate({field: value})


def test_percent_must_be_between_0_and_100() -> None:
    with pytest.raises(pydantic.ValidationError, match="discharge_floor_pct"):
        VehicleSpec(discharge_floor_pct=120)


def test_usable_above_gross_is_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="larger than gross_kwh"):
        VehicleSpec(usable_kwh=80, gross_kwh=77)


def test_consumption_in_wh_per_km_is_caught() -> None:
    with pytest.raises(pydantic.ValidationError, match="Wh/km"):
        VehicleSpec(consumption_kwh_per_km=180)


def test_misspelt_fields_and_source_keys_are_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="usabel_kwh"):
        VehicleSpec.model_validate({"usabel_kwh": 50})
    with pytest.raises(pydantic.ValidationError, match="gros_kwh"):
        VehicleSpec(sources={"gros_kwh": "spec sheet"})


def test_a_one_way_charger_cannot_claim_v2h() -> None:
    with pytest.raises(pydantic.ValidationError, match="cannot do V2H"):
        ChargerSpec(max_discharge_kw=0, v2h=True)


def test_v2l_power_without_v2l_is_rejected() -> None:
    with pytest.raises(pydantic.ValidationError, match="v2l_kw"):
        VehicleSpec(v2l=False, v2l_kw=3.6)


def test_unknown_becomes_none_only_in_nullable_fields() -> None:
    car = VehicleSpec.model_validate(
        {
            "gross_kwh": "unknown",
            "v2g": "unknown",
            "v2x_protocols": "unknown",
            "chemistry": "unknown",
        }
    )
    assert car.gross_kwh is None and car.v2g is None and car.v2x_protocols is None
    assert car.chemistry == "unknown"
    assert VehicleSpec(make="unknown").make == "unknown"  # free text stays as written
    assert ChargerSpec.model_validate({"current": "unknown"}).current is None


def test_unknown_to_none_leaves_other_fields_alone() -> None:
    assert unknown_to_none({"a": "unknown", "b": "unknown", "c": 1}, ["a", "c"]) == {
        "a": None,
        "b": "unknown",
        "c": 1,
    }
