"""OpenADR3Config: plain HTTP only on loopback, credentials only from the environment."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from voltbridge.devices.openadr import VenConfigError
from voltbridge.devices.openadr3 import OpenADR3Config

BASE: dict[str, Any] = {
    "ven_name": "home",
    "program": "elrp",
    "vtn_program": "ELRP",
    "charger_limit_kw": 7.0,
}


def test_loopback_http_is_fine_remote_http_is_not() -> None:
    assert OpenADR3Config(vtn_url="http://127.0.0.1:8080/oadr3/", **BASE).vtn_url.endswith("oadr3")
    assert OpenADR3Config(vtn_url="http://localhost:8080", **BASE).ssl_verify() is True
    with pytest.raises(ValidationError, match="bearer token"):
        OpenADR3Config(vtn_url="http://vtn.example.com", **BASE)
    with pytest.raises(ValidationError, match="token_url"):
        OpenADR3Config(
            vtn_url="https://vtn.example.com", token_url="http://auth.example.com/t", **BASE
        )
    lab = OpenADR3Config(vtn_url="http://10.0.0.5", allow_insecure=True, **BASE)
    assert lab.vtn_url == "http://10.0.0.5"
    with pytest.raises(ValidationError, match="http"):
        OpenADR3Config(vtn_url="ftp://vtn.example.com", **BASE)


def test_tls_verification_choices(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="allow_insecure"):
        OpenADR3Config(vtn_url="https://vtn.example.com", verify_tls=False, **BASE)
    off = OpenADR3Config(
        vtn_url="https://vtn.example.com", verify_tls=False, allow_insecure=True, **BASE
    )
    assert off.ssl_verify() is False
    with pytest.raises(ValidationError, match="no such file"):
        OpenADR3Config(vtn_url="https://vtn.example.com", ca_file=tmp_path / "none.pem", **BASE)
    ca = Path(ssl.get_default_verify_paths().cafile or "")
    if ca.is_file():
        ctx = OpenADR3Config(vtn_url="https://vtn.example.com", ca_file=ca, **BASE).ssl_verify()
        assert isinstance(ctx, ssl.SSLContext)


def test_credentials_only_from_the_environment() -> None:
    config = OpenADR3Config(vtn_url="https://vtn.example.com", **BASE)
    env = {"VOLTBRIDGE_OADR3_CLIENT_ID": "id", "VOLTBRIDGE_OADR3_CLIENT_SECRET": "secret"}
    assert config.credentials(env) == ("id", "secret")
    with pytest.raises(VenConfigError, match="VOLTBRIDGE_OADR3_CLIENT_SECRET is not set"):
        config.credentials({"VOLTBRIDGE_OADR3_CLIENT_ID": "id"})
    with pytest.raises(ValidationError):
        OpenADR3Config(vtn_url="https://vtn.example.com", client_secret="x", **BASE)
    with pytest.raises(ValidationError):
        OpenADR3Config(vtn_url="https://vtn.example.com", client_id_env="not a name", **BASE)
