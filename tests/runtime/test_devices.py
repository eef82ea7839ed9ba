"""The site's [devices] table: validated at the edge, passwords only from the environment."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from voltbridge.cli.app import app
from voltbridge.cli.common import example_path
from voltbridge.config import load_site
from voltbridge.control.site_model import control_site
from voltbridge.core.clock import VirtualClock
from voltbridge.runtime.devices import DevicesSection, open_devices

SECTION = {
    "meter": {"driver": "sunspec-meter", "host": "127.0.0.1", "port": 1502},
    "ocpp": {
        "port": 0,
        "chargers": [{"vehicle": "ev9", "charger_id": "wallbox-1", "password_env": "VB_TEST_PW"}],
    },
}


def test_an_unknown_key_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationError, match="inverter"):
        DevicesSection.model_validate({**SECTION, "inverter": {"driver": "x"}})


def test_a_driver_setting_error_names_the_table_and_field() -> None:
    site = control_site(load_site(example_path("ev9-california")))
    bad = DevicesSection.model_validate({"meter": {"driver": "sunspec-meter", "port": 1502}})
    with pytest.raises(
        ValueError, match=r"(?s)\[devices.meter\].*sunspec-meter.host: Field required"
    ):
        asyncio.run(open_devices(bad, site, VirtualClock(site_start())))


def test_a_charger_password_must_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    site = control_site(load_site(example_path("ev9-california")))
    monkeypatch.delenv("VB_TEST_PW", raising=False)
    section = DevicesSection.model_validate(SECTION)
    with pytest.raises(ValueError, match="VB_TEST_PW is not set"):
        asyncio.run(open_devices(section, site, VirtualClock(site_start())))


def test_the_central_system_starts_with_the_password_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = control_site(load_site(example_path("ev9-california")))
    monkeypatch.setenv("VB_TEST_PW", "a-long-enough-password-16")
    section = DevicesSection.model_validate(SECTION)

    async def go() -> None:
        home = await open_devices(section, site, VirtualClock(site_start()))
        assert home.central is not None
        try:
            assert set(home.devices.chargers) == {"ev9"}
            assert home.central.port > 0
        finally:
            await home.central.shutdown()

    asyncio.run(go())


def test_run_with_a_site_without_devices_says_what_to_add(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "run",
            "--site",
            str(example_path("ev9-california")),
            "--data-dir",
            str(tmp_path),
            "--port",
            "0",
        ],
    )
    assert result.exit_code == 2
    assert "[devices]" in result.output


def site_start() -> datetime:
    return datetime(2026, 6, 3, tzinfo=UTC)
