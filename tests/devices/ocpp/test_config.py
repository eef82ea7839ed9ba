"""Configuration errors name the field and say what to do."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from voltbridge.devices.ocpp import CentralSystemConfig, OcppChargerConfig

GOOD = {"charger_id": "garage-1", "password": "0123456789abcdef", "max_charge_kw": 11.0}


def _error(model: type, **values: object) -> str:
    with pytest.raises(ValidationError) as info:
        model.model_validate(values)
    return str(info.value)


def test_charger_config_validates_at_the_edge() -> None:
    cfg = OcppChargerConfig.model_validate(GOOD)
    assert cfg.max_discharge_kw == 0.0 and cfg.max_offline_duration_s == 60
    assert "0123456789abcdef" not in repr(cfg)  # the password stays secret
    assert "password" in (msg := _error(OcppChargerConfig, **{**GOOD, "password": "short"}))
    assert "16 to 40 characters" in msg
    assert "charger_id" in _error(OcppChargerConfig, **{**GOOD, "charger_id": "a:b"})
    assert "max_discharge_kw" in _error(OcppChargerConfig, **{**GOOD, "max_discharge_kw": -1})
    msg = _error(OcppChargerConfig, **{**GOOD, "offline_charge_kw": 20})
    assert "offline_charge_kw 20.0 exceeds max_charge_kw" in msg
    assert "surprise" in _error(OcppChargerConfig, **{**GOOD, "surprise": 1})


def test_central_config_validates_tls_files_and_unique_ids(tmp_path: Path) -> None:
    assert CentralSystemConfig().host == "127.0.0.1"
    msg = _error(CentralSystemConfig, tls_cert=str(tmp_path / "missing.pem"))
    assert "tls_cert" in msg and "no such file" in msg
    cert = tmp_path / "cert.pem"
    cert.write_text("x")
    assert "give both tls_cert and tls_key" in _error(CentralSystemConfig, tls_cert=str(cert))
    msg = _error(CentralSystemConfig, chargers=[GOOD, {**GOOD, "charger_id": "GARAGE-1"}])
    assert "appears twice" in msg
    assert "port" in _error(CentralSystemConfig, port=70000)
