"""Compatibility verdicts and effective limits for car + charger pairs."""

from __future__ import annotations

import dataclasses

import pytest

from voltbridge.catalog import (
    Certification,
    ChargerSpec,
    Mode,
    VehicleSpec,
    certification,
    check_compatibility,
    effective_limits,
    load_catalog,
)

CATALOG = load_catalog()

# Hand-built specs, so these tests do not depend on the data file being right.
CHADEMO_CAR = VehicleSpec(
    id="test-chademo-car",
    make="Nissan",
    model="Leaf",
    connector="chademo",
    v2x_protocols=("chademo",),
    v2h=True,
    v2g=True,
    v2l=False,
    max_ac_charge_kw=6.6,
    max_dc_charge_kw=50.0,
    max_discharge_kw=6.0,
    discharge_floor_pct=20.0,
)
CHADEMO_BOX = ChargerSpec(
    id="test-chademo-box",
    make="Acme",
    model="Bidi",
    current="dc",
    connector="chademo",
    v2x_protocols=("chademo",),
    v2h=True,
    v2g=True,
    max_charge_kw=7.4,
    max_discharge_kw=7.4,
    grid_forming=False,
)


def _text(reasons: tuple[str, ...]) -> str:
    return " ".join(reasons).lower()


def test_leaf_with_quasar_can_do_v2h_and_v2g_when_export_is_allowed() -> None:
    verdicts = check_compatibility(
        CATALOG.vehicle("nissan-leaf-40kwh"), CATALOG.charger("wallbox-quasar"), "any", True
    )
    assert verdicts[Mode.V2H].ok
    assert verdicts[Mode.V2G].ok
    assert all(verdict.mode is mode for mode, verdict in verdicts.items())
    assert verdicts[Mode.V2G].reasons == ()


def test_leaf_with_quasar_2_fails_on_connector_and_protocol() -> None:
    verdicts = check_compatibility(
        CATALOG.vehicle("nissan-leaf-40kwh"), CATALOG.charger("wallbox-quasar-2"), "any", True
    )
    for mode in (Mode.V2H, Mode.V2G):
        assert not verdicts[mode].ok
        text = _text(verdicts[mode].reasons)
        assert "connector" in text and "chademo" in text and "ccs1" in text
        assert "protocol" in text


@pytest.mark.parametrize("policy", ["none", "pv-only"])
def test_v2g_needs_export_policy_any(policy: str) -> None:
    verdicts = check_compatibility(CHADEMO_CAR, CHADEMO_BOX, policy, True)
    assert verdicts[Mode.V2H].ok, "V2H does not export, so the export policy must not matter"
    assert not verdicts[Mode.V2G].ok
    assert "export" in _text(verdicts[Mode.V2G].reasons)
    assert policy in _text(verdicts[Mode.V2G].reasons)


def test_v2g_refused_when_the_household_does_not_allow_it() -> None:
    verdicts = check_compatibility(CHADEMO_CAR, CHADEMO_BOX, "any", False)
    assert verdicts[Mode.V2H].ok
    assert not verdicts[Mode.V2G].ok
    assert "chosen not to allow v2g" in _text(verdicts[Mode.V2G].reasons)


@pytest.mark.parametrize("truck", ["ford-f150-lightning-sr", "ford-f150-lightning-er"])
def test_lightning_with_charge_station_pro_backs_up_the_home_but_no_v2g(truck: str) -> None:
    verdicts = check_compatibility(
        CATALOG.vehicle(truck), CATALOG.charger("ford-charge-station-pro"), "any", True
    )
    assert verdicts[Mode.V2H].ok
    assert verdicts[Mode.V2H].reasons == ()
    assert "power cut" in _text(verdicts[Mode.V2H].notes)
    assert not verdicts[Mode.V2G].ok
    text = _text(verdicts[Mode.V2G].reasons)
    # Per the data, neither Ford nor the charger offers grid export to households.
    assert "f-150 lightning cannot send power to the grid" in text
    assert "charge station pro does not support this" in text


@pytest.mark.parametrize("discharge_kw", [0.0, None])
def test_a_one_way_custom_charger_is_reported_unidirectional(discharge_kw: float | None) -> None:
    one_way = ChargerSpec(
        id="my-wallbox",
        current="dc",
        connector="chademo",
        max_charge_kw=11.0,
        max_discharge_kw=discharge_kw,
        v2x_protocols=("chademo",),
    )
    verdicts = check_compatibility(CHADEMO_CAR, one_way, "any", True)
    for mode in (Mode.V2H, Mode.V2G):
        assert not verdicts[mode].ok
        assert "unidirectional" in _text(verdicts[mode].reasons)


def test_the_car_lacking_a_mode_is_a_reason() -> None:
    no_v2g = CHADEMO_CAR.model_copy(update={"v2g": False})
    unknown_v2h = CHADEMO_CAR.model_copy(update={"v2h": None})
    assert "cannot send power to the grid" in _text(
        check_compatibility(no_v2g, CHADEMO_BOX, "any", True)[Mode.V2G].reasons
    )
    verdict = check_compatibility(unknown_v2h, CHADEMO_BOX, "any", True)[Mode.V2H]
    assert not verdict.ok
    assert "has not said" in _text(verdict.reasons)


def test_unknown_protocol_is_not_assumed_to_match() -> None:
    box = CHADEMO_BOX.model_copy(update={"v2x_protocols": None})
    verdict = check_compatibility(CHADEMO_CAR, box, "any", True)[Mode.V2H]
    assert not verdict.ok
    assert "not published" in _text(verdict.reasons)


def test_a_charger_restricted_to_a_make_refuses_other_makes() -> None:
    ccs_car = VehicleSpec(
        make="Hyundai", connector="ccs1", v2x_protocols=("iso15118-20",), v2h=True, v2g=True
    )
    locked = CATALOG.charger("wallbox-quasar-2").model_copy(update={"compatible_makes": ("Kia",)})
    verdict = check_compatibility(ccs_car, locked, "any", True)[Mode.V2H]
    assert not verdict.ok
    assert "only works both ways with kia" in _text(verdict.reasons)
    assert certification(ccs_car, locked) is Certification.INCOMPATIBLE
    kia = ccs_car.model_copy(update={"make": "Kia"})
    assert check_compatibility(kia, locked, "any", True)[Mode.V2H].ok


def test_quasar_2_is_certified_with_the_ev9_and_electrically_compatible_with_ccs1_cars() -> None:
    """The Quasar 2's hardware is CCS1 with ISO 15118-20: another CCS1 car speaking it works
    electrically (V2H ok) but is flagged as not certified; the EV9 is certified."""
    quasar_2 = CATALOG.charger("wallbox-quasar-2")
    ev9 = CATALOG.vehicle("kia-ev9-99kwh")
    assert certification(ev9, quasar_2) is Certification.CERTIFIED
    assert "only electrically compatible" not in _text(
        check_compatibility(ev9, quasar_2, "any", True)[Mode.V2H].notes
    )
    other = VehicleSpec(
        id="ccs1-car", make="Hyundai", connector="ccs1", v2x_protocols=("iso15118-20",), v2h=True
    )
    verdict = check_compatibility(other, quasar_2, "any", True)[Mode.V2H]
    assert verdict.ok
    assert certification(other, quasar_2) is Certification.ELECTRICAL
    assert "only electrically compatible" in _text(verdict.notes)
    # a charger without certification data says nothing either way
    leaf, quasar = CATALOG.vehicle("nissan-leaf-62kwh"), CATALOG.charger("wallbox-quasar")
    assert certification(leaf, quasar) is Certification.UNRECORDED
    # a CHAdeMO car on the CCS1 Quasar 2 is not compatible at all
    assert certification(leaf, quasar_2) is Certification.INCOMPATIBLE


def test_kia_ev9_with_quasar_2_does_v2h() -> None:
    verdicts = check_compatibility(
        CATALOG.vehicle("kia-ev9-99kwh"), CATALOG.charger("wallbox-quasar-2"), "any", True
    )
    assert verdicts[Mode.V2H].ok
    assert not verdicts[Mode.V2G].ok  # Kia has not confirmed V2G for the EV9


def test_a_ccs1_inlet_takes_a_j1772_plug() -> None:
    verdict = check_compatibility(
        CATALOG.vehicle("chevrolet-silverado-ev-rst"),
        CATALOG.charger("gm-energy-powershift"),
        "none",
        False,
    )[Mode.V2H]
    assert verdict.ok, verdict.reasons


def test_v2l_depends_on_the_car_alone() -> None:
    truck = CATALOG.vehicle("ford-f150-lightning-er")
    one_way = ChargerSpec(max_discharge_kw=0.0, connector="type2")
    for charger in (CATALOG.charger("ford-charge-station-pro"), one_way, CHADEMO_BOX):
        assert check_compatibility(truck, charger, "none", False)[Mode.V2L].ok
        assert not check_compatibility(CHADEMO_CAR, charger, "any", True)[Mode.V2L].ok


def test_an_unknown_export_policy_is_rejected() -> None:
    with pytest.raises(ValueError, match="export_policy"):
        check_compatibility(CHADEMO_CAR, CHADEMO_BOX, "sometimes", True)


def test_verdicts_are_immutable() -> None:
    verdict = check_compatibility(CHADEMO_CAR, CHADEMO_BOX, "any", True)[Mode.V2H]
    with pytest.raises(dataclasses.FrozenInstanceError):
        verdict.ok = False  # type: ignore[misc]


def test_effective_limits_take_the_lower_of_car_and_charger() -> None:
    limits = effective_limits(CHADEMO_CAR, CHADEMO_BOX)
    assert limits.max_charge_kw == 7.4  # DC charger: min(car DC 50, charger 7.4)
    assert limits.max_discharge_kw == 6.0  # min(car 6.0, charger 7.4)
    assert limits.discharge_floor_pct == 20.0


def test_effective_limits_use_the_ac_limit_for_an_ac_charger() -> None:
    ac_box = CHADEMO_BOX.model_copy(update={"current": "ac", "max_charge_kw": 19.2})
    assert effective_limits(CHADEMO_CAR, ac_box).max_charge_kw == 6.6


def test_effective_limits_are_unknown_when_either_side_is() -> None:
    car = CHADEMO_CAR.model_copy(update={"max_discharge_kw": None})
    box = CHADEMO_BOX.model_copy(update={"current": None})
    limits = effective_limits(car, box)
    assert limits.max_discharge_kw is None
    assert limits.max_charge_kw is None
