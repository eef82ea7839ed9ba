"""Parsing meter values and charging needs (snake_case, as handlers receive them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from voltbridge.devices.ocpp.readings import (
    EvChargingNeeds,
    capacity_from_needs,
    merge_meter_values,
    parse_charging_needs,
)

T = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def _sv(value: float, measurand: str, unit: str | None = None, **kw: object) -> dict[str, object]:
    sv: dict[str, object] = {"value": value, "measurand": measurand, **kw}
    if unit:
        sv["unit_of_measure"] = {"unit": unit}
    return sv


def test_meter_values_become_signed_kw_kwh_and_percent() -> None:
    mv = [
        {
            "timestamp": "2026-03-01T18:00:10Z",
            "sampled_value": [
                _sv(0.0, "Power.Active.Import", "W"),
                _sv(4200.0, "Power.Active.Export", "W"),
                _sv(12.5, "Energy.Active.Import.Register", "kWh"),
                _sv(55.0, "SoC", "Percent"),
                _sv(230.0, "Voltage", "V"),
            ],
        }
    ]
    s = merge_meter_values(None, mv, latest=T + timedelta(minutes=1))
    assert s is not None
    assert (s.at, s.power_kw, s.energy_import_kwh, s.soc_pct) == (
        T + timedelta(seconds=10),
        -4.2,
        12.5,
        55.0,
    )
    # per-phase import, a later entry without SoC keeps the SoC; an older one changes nothing
    later = [
        {
            "timestamp": "2026-03-01T18:00:20Z",
            "sampled_value": [
                _sv(1000.0, "Power.Active.Import", "W", phase="L1"),
                _sv(1000.0, "Power.Active.Import", "W", phase="L2"),
                _sv(1.0, "Power.Active.Import", "kW", phase="L3"),
            ],
        },
        {"timestamp": "2026-03-01T18:00:05Z", "sampled_value": [_sv(1.0, "SoC")]},
    ]
    s2 = merge_meter_values(s, later, latest=T + timedelta(minutes=1))
    assert s2 is not None and (s2.power_kw, s2.soc_pct) == (3.0, 55.0)
    # a charger clock running ahead cannot make data look fresher than now
    ahead = [{"timestamp": "2026-03-01T19:00:00Z", "sampled_value": [_sv(0, "SoC")]}]
    s3 = merge_meter_values(s2, ahead, latest=T + timedelta(minutes=1))
    assert s3 is not None and s3.at == T + timedelta(minutes=1)
    with pytest.raises(ValueError, match="unit 'A'"):
        merge_meter_values(None, [{"timestamp": "2026-03-01T18:00:00Z", "sampled_value": [
            _sv(1.0, "Power.Active.Import", "A")]}], latest=T)  # fmt: skip


def test_charging_needs_in_voltbridge_units() -> None:
    needs = parse_charging_needs(
        {
            "requested_energy_transfer": "AC_BPT",
            "available_energy_transfer": ["AC_three_phase", "AC_BPT"],
            "departure_time": "2026-03-02T07:30:00Z",
            "v2x_charging_parameters": {
                "max_charge_power": 3680.0,
                "max_charge_power_l2": 3680.0,
                "max_charge_power_l3": 3680.0,
                "max_discharge_power": 7000.0,
                "ev_target_energy_request": 24000.0,
                "ev_max_energy_request": 36000.0,
                "ev_min_v2x_energy_request": -12000.0,
                "target_soc": 80,
            },
        },
        received_at=T,
    )
    assert needs.bidirectional
    assert needs.departure == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert needs.max_charge_kw == pytest.approx(11.04)
    assert (needs.max_discharge_kw, needs.energy_requested_kwh) == (7.0, 24.0)
    assert (needs.target_soc_pct, needs.energy_to_min_v2x_kwh) == (80.0, -12.0)
    assert capacity_from_needs(needs, soc_pct=40.0) == pytest.approx(60.0)


def test_capacity_from_needs_falls_back_and_gives_up() -> None:
    n = EvChargingNeeds(T, "AC_BPT", energy_to_max_soc_kwh=20.0)
    assert capacity_from_needs(n, soc_pct=60.0) == pytest.approx(50.0)
    assert capacity_from_needs(n, soc_pct=None) is None
    assert capacity_from_needs(EvChargingNeeds(T, "AC_BPT"), soc_pct=50.0) is None
    assert not EvChargingNeeds(T, "AC_three_phase").bidirectional
