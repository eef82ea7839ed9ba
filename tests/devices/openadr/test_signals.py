"""The signal mapping on event dicts shaped as openleadr parses them (recorded from its parser):
each accepted signal, each refusal with the field it names, and the configuration's checks."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from voltbridge.devices.openadr import (
    DeliveryMeter,
    MappingRules,
    OpenADRConfig,
    SignalError,
    VenConfigError,
    held_energy_kwh,
    map_event,
)
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent
from voltbridge.programs.openadr_config import OpenADRTls

NOW = datetime(2026, 7, 15, 17, 0, tzinfo=UTC)
START = datetime(2026, 7, 16, 0, 0, tzinfo=UTC)
RULES = MappingRules("elrp", 2.0, "export", 7.4, "oadr://u/psps")


def raw(*signals: tuple[str, str, list[float]], **changes: Any) -> dict[str, Any]:
    """An event as openleadr's parser hands it over (``oadrDistributeEvent`` ``events[i]``)."""
    event: dict[str, Any] = {
        "event_descriptor": {
            "event_id": "e1",
            "modification_number": 0,
            "market_context": "oadr://u/elrp",
            "event_status": "far",
            "created_date_time": NOW - timedelta(hours=2),
        },
        "active_period": {"dtstart": START, "duration": timedelta(hours=2)},
        "event_signals": [
            {
                "signal_name": name,
                "signal_type": kind,
                "signal_id": f"s{i}",
                "intervals": [
                    {
                        "dtstart": START,
                        "duration": timedelta(hours=1),
                        "signal_payload": v,
                        "uid": j,
                    }
                    for j, v in enumerate(values)
                ],
            }
            for i, (name, kind, values) in enumerate(signals)
        ],
        "response_required": "always",
    }
    event.update(changes)
    return event


def grid(*signals: tuple[str, str, list[float]], **changes: Any) -> ProgramEvent:
    mapped = map_event(raw(*signals, **changes), RULES, NOW)
    assert isinstance(mapped.signal, ProgramEvent)
    return mapped.signal


def refusal(event: dict[str, Any]) -> str:
    with pytest.raises(SignalError) as info:
        map_event(event, RULES, NOW)
    return str(info.value)


def test_each_signal_maps_as_the_table_says() -> None:
    e = grid(
        ("LOAD_DISPATCH", "setpoint", [-3.0, -5.0]), ("ELECTRICITY_PRICE", "price", [2.5, 2.0])
    )
    assert (e.kind, e.requested_kw, e.payment_per_kwh) == ("export", 5.0, 2.0)
    assert (e.start, e.end, e.received_at, e.choice) == (
        START,
        START + timedelta(hours=2),
        NOW,
        "undecided",
    )
    e = grid(("LOAD_DISPATCH", "delta", [-2.0]))
    assert (e.kind, e.requested_kw, e.payment_per_kwh) == ("reduce", 2.0, 2.0)
    e = grid(("LOAD_CONTROL", "x-loadControlCapacity", [0.5, 0.25]))
    assert (e.kind, e.requested_kw) == ("reduce", pytest.approx(0.75 * 7.4))
    e = grid(("SIMPLE", "level", [0.0, 2.0]))
    assert (e.kind, e.requested_kw) == ("export", 0.0)
    e = grid(("ENERGY_PRICE", "price", [1.5]))
    assert (e.kind, e.requested_kw, e.payment_per_kwh) == ("export", 0.0, 1.5)


def test_outage_by_market_context_or_signal() -> None:
    descriptor = {**raw()["event_descriptor"], "market_context": "oadr://u/psps"}
    for event in (
        raw(("SIMPLE", "level", [1.0]), event_descriptor=descriptor),
        raw(("x-outage", "level", [1.0])),
    ):
        outage = map_event(event, RULES, NOW).signal
        assert isinstance(outage, AnnouncedOutage)
        assert (outage.outage_id, outage.hours, outage.notice_h()) == ("e1", 2.0, 9.0)


def test_clipping_is_said() -> None:
    mapped = map_event(raw(("LOAD_DISPATCH", "setpoint", [-11.0])), RULES, NOW)
    assert isinstance(mapped.signal, ProgramEvent) and mapped.signal.requested_kw == 7.4
    assert mapped.notes == (
        "event 'e1' asks 11 kW, more than the charger's 7.4 kW: clipped to 7.4 kW",
    )


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"event_descriptor": {}}, "no eventID"),
        ({"event_descriptor": None}, "no eventDescriptor"),
        ({"active_period": None}, "no activePeriod"),
        ({"active_period": {"dtstart": START}}, "no duration"),
        ({"active_period": {"duration": timedelta(hours=1)}}, "no dtstart"),
        (
            {
                "active_period": {
                    "dtstart": START.replace(tzinfo=None),
                    "duration": timedelta(hours=1),
                }
            },
            "no timezone",
        ),
        (
            {"active_period": {"dtstart": START, "duration": timedelta(hours=-1)}},
            "at or before the start",
        ),
        ({"active_period": {"dtstart": START, "duration": timedelta(0)}}, "at or before the start"),
        (
            {
                "active_period": {
                    "dtstart": NOW - timedelta(hours=3),
                    "duration": timedelta(hours=1),
                }
            },
            "before it arrived",
        ),
        ({"active_period": {"dtstart": START, "duration": timedelta(days=8)}}, "longer than"),
        ({"event_signals": []}, "no eventSignals"),
    ],
)
def test_malformed_events_are_refused_naming_the_field(change: dict[str, Any], says: str) -> None:
    assert says in refusal(raw(("LOAD_DISPATCH", "setpoint", [-5.0]), **change))


@pytest.mark.parametrize(
    ("signal", "says"),
    [
        (("BID_LOAD", "setpoint", [1.0]), "does not understand"),
        (("LOAD_DISPATCH", "multiplier", [1.0]), "not one voltbridge acts on"),
        (("LOAD_DISPATCH", "setpoint", [2.0]), "caps import"),
        (("LOAD_DISPATCH", "delta", [1.0]), "more load"),
        (("LOAD_CONTROL", "x-loadControlCapacity", [1.5]), "outside 0..1"),
        (("SIMPLE", "level", [0.0]), "asks for nothing"),
        (("SIMPLE", "level", [4.0]), "outside 0..3"),
        (("ELECTRICITY_PRICE", "price", [-1.0]), "negative price"),
        (("ELECTRICITY_PRICE", "priceRelative", [1.0]), "does not understand"),
        (("LOAD_DISPATCH", "setpoint", [float("nan")]), "not finite"),
    ],
)
def test_unknown_or_wrong_way_signals_are_refused(
    signal: tuple[str, str, list[float]], says: str
) -> None:
    assert says in refusal(raw(signal))


def test_missing_payload_and_two_dispatch_signals_are_refused() -> None:
    event = raw(("LOAD_DISPATCH", "setpoint", [-5.0]))
    del event["event_signals"][0]["intervals"][0]["signal_payload"]
    assert "without a numeric payload" in refusal(event)
    two = raw(("LOAD_DISPATCH", "setpoint", [-5.0]), ("LOAD_DISPATCH", "delta", [-1.0]))
    assert "more than one dispatch signal" in refusal(two)


def test_delivery_holds_samples_at_most_the_gap() -> None:
    t = np.array([0.0, 600.0, 4000.0])  # the second sample's hold ends 300 s on, not at 4000 s
    kwh, covered_h = held_energy_kwh(t, np.array([6.0, 3.0, 1.0]), 0.0, 3600.0, 300.0)
    assert kwh == pytest.approx((6.0 * 300 + 3.0 * 300) / 3600)  # kW x s / 3600, by hand
    assert covered_h == pytest.approx(600 / 3600)
    meter = DeliveryMeter(max_gap_s=300.0)
    assert meter.add(START, 2.0) is None  # importing: negative delivery, floored at zero
    assert meter.delivered(START, START + timedelta(minutes=5)).energy_kwh == 0.0
    assert "not after" in (meter.add(START, -1.0) or "")
    assert "no timezone" in (meter.add(START.replace(tzinfo=None), -1.0) or "")
    assert "not a number" in (meter.add(START + timedelta(minutes=1), float("nan")) or "")


def test_config_is_safe_by_default(tmp_path: Path) -> None:
    base = {"ven_name": "home", "program": "elrp", "charger_limit_kw": 7.4}
    OpenADRConfig.model_validate({**base, "vtn_url": "http://127.0.0.1:8080/OpenADR2/Simple/2.0b"})
    with pytest.raises(ValidationError, match="needs \\[tls\\]"):
        OpenADRConfig.model_validate({**base, "vtn_url": "http://vtn.utility.example/OpenADR2"})
    with pytest.raises(ValidationError, match="charger_limit_kw"):
        OpenADRConfig.model_validate({**base, "vtn_url": "http://127.0.0.1", "charger_limit_kw": 0})
    with pytest.raises(ValidationError, match="no such file"):
        OpenADRTls.model_validate(
            {"cert": tmp_path / "c.pem", "key": tmp_path / "k.pem", "ca_file": tmp_path / "ca.pem"}
        )
    for name in ("c.pem", "k.pem", "ca.pem"):
        (tmp_path / name).write_text("x")
    tls = OpenADRTls.model_validate(
        {
            "cert": tmp_path / "c.pem",
            "key": tmp_path / "k.pem",
            "ca_file": tmp_path / "ca.pem",
            "key_passphrase_env": "VB_KEY",
        }
    )
    with pytest.raises(ValidationError, match="https"):
        OpenADRConfig.model_validate({**base, "vtn_url": "http://vtn.example", "tls": tls})
    OpenADRConfig.model_validate({**base, "vtn_url": "https://vtn.example", "tls": tls})
    assert tls.passphrase({"VB_KEY": "secret"}) == "secret"
    with pytest.raises(VenConfigError, match="VB_KEY is not set"):
        tls.passphrase({})


def test_readme_example_is_a_valid_config() -> None:
    """The README's example table validates (its TLS files exist only on a real home)."""
    readme = (Path(__file__).parents[3] / "README.md").read_text()
    section = readme.split("## Connecting to a VTN (OpenADR 2.0b)")[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    [entry] = tomllib.loads(block.group(1))["programs"]
    assert entry["id"] == "elrp"
    table = entry["openadr"]
    assert set(table["tls"]) == set(OpenADRTls.model_fields) - {"check_hostname"}
    del table["tls"]
    config = OpenADRConfig.model_validate({**table, "allow_insecure": True})
    assert config.program is None and config.charger_limit_kw == 7.4
    assert config.resolved(entry["id"], 11.5).program == "elrp"
