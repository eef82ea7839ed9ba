"""The ``[mqtt]`` table, ``--mqtt``, the command payloads and the discovery payloads, without a broker."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.api.fakes import NOW, FakeHandle, demo_status
from tests.runtime.ha_schema import check_discovery
from voltbridge.cli import app
from voltbridge.cli.common import example_path
from voltbridge.config import SiteError, parse_site
from voltbridge.config.models import MqttConfig
from voltbridge.core.status import PowerFlows, VehicleStatus
from voltbridge.runtime import ha_discovery
from voltbridge.runtime.mqtt import config_from_url
from voltbridge.runtime.mqtt_commands import (
    SITE_KEYS,
    VEHICLE_KEYS,
    CancelStormWatch,
    CommandError,
    parse_command,
    run_command,
)

ROOT = Path(__file__).parents[2]
README = (ROOT / "README.md").read_text()


def site_with(mqtt: dict[str, Any]) -> Any:
    raw = tomllib.loads(example_path("ev9-california").read_text())
    raw["mqtt"] = mqtt
    return parse_site(raw, example_path("ev9-california"))


def test_a_valid_table_is_read_with_its_defaults() -> None:
    site = site_with({"host": "broker.lan", "username": "vb", "password_env": "VB_MQTT"})
    assert site.mqtt is not None
    assert (site.mqtt.port, site.mqtt.discovery_prefix, site.mqtt.topic_prefix) == (
        1883,
        "homeassistant",
        "voltbridge",
    )
    assert site.mqtt.password({"VB_MQTT": "s3cret"}) == "s3cret"
    with pytest.raises(ValueError, match="environment variable VB_MQTT is not set"):
        site.mqtt.password({})


@pytest.mark.parametrize(
    ("table", "field", "says"),
    [
        ({"host": "b", "port": 70000}, "mqtt.port", "less than or equal to 65535"),
        ({"host": "b", "topic_prefix": "vb/#"}, "mqtt.topic_prefix", "not a plain topic"),
        ({"host": "b", "discovery_prefix": "/ha"}, "mqtt.discovery_prefix", "not a plain"),
        ({"host": "b", "password_env": "MY-PW", "username": "u"}, "mqtt.password_env", "match"),
        ({"host": "b", "password_env": "PW"}, "mqtt", "username: give the broker user"),
        ({"host": "b", "ca_file": "Cargo.toml"}, "mqtt.ca_file", "no such file"),
        ({"host": "b", "tls": True, "cert_file": "README.md"}, "mqtt.cert_file", "no such"),
        ({"host": "b", "hots": "x"}, "mqtt.hots", "unknown setting"),
        ({"port": 1883}, "mqtt.host", "required"),
    ],
)
def test_a_bad_table_is_refused_naming_the_field(
    table: dict[str, Any], field: str, says: str
) -> None:
    with pytest.raises(SiteError) as err:
        site_with(table)
    problems = {p.field: p.message for p in err.value.problems}
    assert field in problems, problems
    assert says in problems[field]


def test_tls_files_are_relative_to_the_site_file_and_need_tls(tmp_path: Path) -> None:
    raw = tomllib.loads(example_path("ev9-california").read_text())
    (tmp_path / "ca.pem").write_text("not checked here")
    raw["mqtt"] = {"host": "b", "ca_file": "ca.pem"}
    with pytest.raises(SiteError, match="ca_file: set tls = true"):
        parse_site(raw, tmp_path / "site.toml")
    raw["mqtt"] = {"host": "b", "tls": True, "ca_file": "ca.pem"}
    site = parse_site(raw, tmp_path / "site.toml")
    assert site.mqtt is not None and site.mqtt.ca_file == tmp_path / "ca.pem"


@pytest.mark.parametrize(
    ("url", "expect"),
    [
        ("mqtt://broker.lan", ("broker.lan", 1883, None, None, False)),
        ("mqtt://ha@10.0.0.2:1884", ("10.0.0.2", 1884, "ha", "VOLTBRIDGE_MQTT_PASSWORD", False)),
        ("mqtts://ha@broker.lan", ("broker.lan", 8883, "ha", "VOLTBRIDGE_MQTT_PASSWORD", True)),
    ],
)
def test_mqtt_urls(url: str, expect: tuple[Any, ...]) -> None:
    c = config_from_url(url)
    assert (c.host, c.port, c.username, c.password_env, c.tls) == expect


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://broker", "is not mqtt://"),
        ("mqtt://u:pw@broker", "leave the password out"),
        ("mqtt://broker:99999", "port"),
    ],
)
def test_bad_mqtt_urls_are_refused(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        config_from_url(url)
    result = CliRunner().invoke(app, ["run", "--mqtt", url, "--duration", "0"])
    assert result.exit_code == 2 and says.split()[0] in result.output


def test_readme_documents_every_mqtt_setting_and_command() -> None:
    table = README.split("## The site file", 1)[1].split("\n## ", 1)[0]
    section = README.split("## Home Assistant (MQTT)", 1)[1].split("\n## ", 1)[0]
    for name in MqttConfig.model_fields:
        assert re.search(rf"`{name}`", table), f"[mqtt] {name} not in the site-file table"
        assert f"{name} =" in section, f"[mqtt] {name} not in the README's example"
    for key in SITE_KEYS:
        assert f"`voltbridge/set/{key}`" in section
    for key in VEHICLE_KEYS:
        assert f"`voltbridge/vehicle/<car>/set/{key}`" in section
    assert "--mqtt" in section and "--mqtt" in CliRunner().invoke(app, ["run", "--help"]).output


T = ha_discovery.Topics()


@pytest.mark.parametrize(
    ("topic", "payload", "says"),
    [
        ("voltbridge/set/mode", b"Turbo", "mode: Input should be"),
        ("voltbridge/set/v2g_allowed", b"yes", "neither ON nor OFF"),
        ("voltbridge/set/backup_reserve_h", b"nan", "backup_reserve_h"),
        ("voltbridge/set/backup_reserve_h", b"-1", "greater than or equal to 0"),
        ("voltbridge/set/backup_reserve_h", b"four", "'four' is not a number"),
        ("voltbridge/set/settings", b"[1]", "send a JSON object"),
        ("voltbridge/set/settings", b'{"mode": "off", "x": 1}', "x: Extra inputs"),
        ("voltbridge/set/settings", b'{"v2g_allowed": 1}', "v2g_allowed: Input should be"),
        ("voltbridge/set/storm_watch_cancel", b"now", "send PRESS"),
        ("voltbridge/set/reboot", b"1", "no such command"),
        ("voltbridge/vehicle/ev9/set/departure", b"tomorrow", "not an ISO 8601 date"),
        ("voltbridge/vehicle/ev9/set/departure", b"2026-07-02T07:45", "timezone"),
        ("voltbridge/vehicle/ev9/set/target_soc_pct", b"101", "less than or equal to 100"),
        ("voltbridge/vehicle/ev9/set/colour", b"red", "no such command"),
        ("voltbridge/set/mode", b"\xff", "not UTF-8"),
        ("voltbridge/set/mode", b"x" * 5000, "at most 4096"),
    ],
)
def test_bad_commands_say_what_is_wrong(topic: str, payload: bytes, says: str) -> None:
    with pytest.raises(CommandError, match=re.escape(says)):
        parse_command(T, topic, payload)


def test_good_commands_become_the_apis_settings_update() -> None:
    assert parse_command(T, "voltbridge/set/v2g_allowed", b"on").v2g_allowed is True  # type: ignore[union-attr]
    assert parse_command(T, "voltbridge/set/backup_reserve_h", b" 6.5 ").backup_reserve_h == 6.5  # type: ignore[union-attr]
    assert isinstance(
        parse_command(T, "voltbridge/set/storm_watch_cancel", b"PRESS"), CancelStormWatch
    )
    update = parse_command(T, "voltbridge/vehicle/ev9/set/departure", b"2026-07-02T07:45:00-07:00")
    assert update.vehicles["ev9"].departure.isoformat() == "2026-07-02T07:45:00-07:00"  # type: ignore[union-attr]
    cleared = parse_command(T, "voltbridge/vehicle/ev9/set/departure", b"")
    assert cleared.vehicles["ev9"].departure is None  # type: ignore[union-attr]
    assert "departure" in cleared.vehicles["ev9"].model_fields_set  # type: ignore[union-attr]


def test_commands_are_checked_against_the_present_by_the_controller() -> None:
    handle = FakeHandle(demo_status(), None)
    past = NOW.isoformat().encode()
    error = run_command(handle, T, "voltbridge/vehicle/ev9/set/departure", past)
    assert error is not None and "is not after now" in error
    assert run_command(handle, T, "voltbridge/vehicle/ev9/set/target_soc_pct", b"90") is None
    assert handle.updates[-1][1] == "mqtt"
    assert handle.settings.vehicles["ev9"].target_soc_pct == 90.0


def test_discovery_for_two_cars_follows_the_schema_and_unknown_stays_unknown() -> None:
    site = ha_discovery.Site("two cars", ("ev9", "leaf.2"), "EUR", battery=False, money=True)
    messages = ha_discovery.discovery_messages(T, site)
    check_discovery({t: p for t, p in messages}, "homeassistant")
    ids = {p["unique_id"] for _, p in messages}
    assert {"voltbridge_leaf_2_soc", "voltbridge_money_today", "voltbridge_mode"} <= ids
    assert not any("battery_power" in i for i in ids)
    status = demo_status()
    silent = VehicleStatus("ev9", plugged_in=None, soc_kwh=None, capacity_kwh=99.8, power_kw=None)
    status = type(status)(
        at=status.at,
        grid_state=status.grid_state,
        mode=status.mode,
        v2g_allowed=False,
        power=PowerFlows(grid_kw=None, pv_kw=1.0, load_kw=None),
        backup_hours=3.0,
        vehicles={"ev9": silent},
    )
    docs = dict(ha_discovery.state_messages(T, status, FakeHandle(status, None).settings))
    assert docs["voltbridge/state"]["grid_kw"] is None and docs["voltbridge/state"]["pv_kw"] == 1.0
    car = json.loads(json.dumps(docs["voltbridge/vehicle/ev9/state"]))
    assert car["soc_pct"] is None and car["plugged_in"] is None and car["power_kw"] is None


def test_backup_hours_are_storage_alone_and_the_sun_is_its_own_sensor() -> None:
    """Home Assistant shows "Backup from storage" as storage alone; the sun's help apart."""
    site = ha_discovery.Site("one car", ("ev9",), "USD", battery=True, money=False)
    messages = dict(ha_discovery.discovery_messages(T, site))
    check_discovery(messages, "homeassistant")
    names = {p["unique_id"]: p["name"] for p in messages.values()}
    assert names["voltbridge_backup_hours"] == "Backup from storage"
    assert names["voltbridge_backup_hours_with_sun"] == "Backup with expected sun"
    status = replace(demo_status(), backup_hours=9.5, backup_hours_with_sun=30.25)
    docs = dict(ha_discovery.state_messages(T, status, FakeHandle(status, None).settings))
    assert docs["voltbridge/state"]["backup_hours"] == 9.5
    assert docs["voltbridge/state"]["backup_hours_with_sun"] == 30.25
