"""Home Assistant MQTT discovery and state payloads for voltbridge, as pure functions of the status.

Written to Home Assistant's documented MQTT discovery schema (one retained ``config`` message per
entity under ``<discovery_prefix>/<component>/<node_id>/<object_id>/config``; the keys of each
component are those of Home Assistant's MQTT sensor, binary_sensor, select, switch, number, text
and button integrations). ha-mqtt-discoverable was not used: it runs its own paho client thread
per entity, while voltbridge needs one asyncio client whose reconnects it controls.

State goes out as a few JSON documents (site, settings, one per car) that each entity reads with
a ``value_template``. A value voltbridge does not know is JSON ``null``, which the template
renders as ``None``: Home Assistant's MQTT sensors show that as "unknown", never as 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from voltbridge import __version__
from voltbridge.control.settings import Settings
from voltbridge.core.status import ControlStatus, Mode, VehicleStatus
from voltbridge.core.types import GridState

ONLINE = "online"
OFFLINE = "offline"
HA_STATE_MAX_CHARS = 255
"""Home Assistant refuses a sensor state longer than this [characters]."""


def slug(text: str) -> str:
    """``text`` as a discovery node or object id (``[a-zA-Z0-9_-]+``).

    >>> slug("voltbridge/home.2")
    'voltbridge_home_2'
    """
    return re.sub(r"[^a-zA-Z0-9_-]", "_", text) or "_"


@dataclass(frozen=True)
class Topics:
    """Every topic voltbridge publishes or listens to, from the two prefixes of ``[mqtt]``."""

    prefix: str = "voltbridge"
    discovery_prefix: str = "homeassistant"

    @property
    def node_id(self) -> str:
        """The discovery node id and the start of every unique_id (one per voltbridge)."""
        return slug(self.prefix)

    @property
    def availability(self) -> str:
        """``online`` while connected, ``offline`` (the last will) otherwise; retained."""
        return f"{self.prefix}/availability"

    @property
    def state(self) -> str:
        """The site's state document (power flows, backup, grid, plan, money); retained."""
        return f"{self.prefix}/state"

    @property
    def settings(self) -> str:
        """The household's settings (mode, V2G, backup reserve); retained."""
        return f"{self.prefix}/settings"

    @property
    def error(self) -> str:
        """Refused commands, one JSON message each (not retained)."""
        return f"{self.prefix}/error"

    @property
    def ha_status(self) -> str:
        """Home Assistant's birth message (``online`` when it starts): discovery is resent."""
        return f"{self.discovery_prefix}/status"

    def vehicle_state(self, name: str) -> str:
        """One car's state document; retained."""
        return f"{self.prefix}/vehicle/{name}/state"

    def command(self, key: str) -> str:
        """Where a site-wide setting is changed (``set/mode``, ``set/settings``, ...)."""
        return f"{self.prefix}/set/{key}"

    def vehicle_command(self, name: str, key: str) -> str:
        """Where one car's setting is changed (``vehicle/<name>/set/target_soc_pct``, ...)."""
        return f"{self.prefix}/vehicle/{name}/set/{key}"

    @property
    def command_filters(self) -> tuple[str, ...]:
        """The subscriptions that receive every command."""
        return (f"{self.prefix}/set/+", f"{self.prefix}/vehicle/+/set/+")

    def discovery(self, component: str, object_id: str) -> str:
        """The retained discovery topic of one entity."""
        return f"{self.discovery_prefix}/{component}/{self.node_id}/{slug(object_id)}/config"


@dataclass(frozen=True)
class Site:
    """What the discovery payloads need to know of the home."""

    name: str
    vehicles: tuple[str, ...]
    currency: str = "USD"
    battery: bool = False
    money: bool = False
    """Whether the store can tell money today (the two money sensors exist only then)."""


def _value(key: str) -> str:
    return "{{ value_json." + key + " }}"


def discovery_messages(topics: Topics, site: Site) -> list[tuple[str, dict[str, Any]]]:
    """Every entity's ``(discovery topic, config payload)``, sensors first, then controls."""
    device = {
        "identifiers": [topics.node_id],
        "name": f"voltbridge {site.name}",
        "manufacturer": "voltbridge",
        "model": "home energy manager (V2H, V2G, V2L)",
        "sw_version": __version__,
    }
    common = {
        "availability_topic": topics.availability,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": device,
        "origin": {"name": "voltbridge", "sw_version": __version__},
    }
    out: list[tuple[str, dict[str, Any]]] = []

    def add(component: str, object_id: str, name: str, **config: Any) -> None:
        unique = f"{topics.node_id}_{slug(object_id)}"
        payload = {"name": name, "unique_id": unique, **config, **common}
        out.append((topics.discovery(component, object_id), payload))

    def power(object_id: str, name: str, topic: str, key: str) -> None:
        add(
            "sensor",
            object_id,
            name,
            state_topic=topic,
            value_template=_value(key),
            device_class="power",
            unit_of_measurement="kW",
            state_class="measurement",
        )

    power("grid_power", "Grid power", topics.state, "grid_kw")
    power("pv_power", "PV power", topics.state, "pv_kw")
    power("house_power", "House power", topics.state, "house_kw")
    if site.battery:
        power("battery_power", "Home battery power", topics.state, "battery_kw")
        add(
            "sensor",
            "battery_soc",
            "Home battery charge",
            state_topic=topics.state,
            value_template=_value("battery_soc_pct"),
            device_class="battery",
            unit_of_measurement="%",
            state_class="measurement",
        )
    add(
        "sensor",
        "backup_hours",
        "Backup from storage",
        state_topic=topics.state,
        value_template=_value("backup_hours"),
        device_class="duration",
        unit_of_measurement="h",
        state_class="measurement",
    )
    add(
        "sensor",
        "backup_hours_with_sun",
        "Backup with expected sun",
        state_topic=topics.state,
        value_template=_value("backup_hours_with_sun"),
        device_class="duration",
        unit_of_measurement="h",
        state_class="measurement",
    )
    add(
        "sensor",
        "grid_state",
        "Grid",
        state_topic=topics.state,
        value_template=_value("grid_state"),
        device_class="enum",
        options=[g.value for g in GridState],
    )
    add(
        "sensor",
        "next_departure",
        "Next departure",
        state_topic=topics.state,
        value_template=_value("next_departure"),
        device_class="timestamp",
    )
    add(
        "sensor",
        "next_action",
        "Plan's next action",
        state_topic=topics.state,
        value_template=_value("next_action"),
        icon="mdi:calendar-clock",
    )
    add(
        "binary_sensor",
        "storm_watch",
        "Storm watch",
        state_topic=topics.state,
        value_template=_value("storm_watch"),
        payload_on="ON",
        payload_off="OFF",
        icon="mdi:weather-lightning",
    )
    if site.money:
        for key, name in (("money_today", "Net cost today"), ("savings_today", "Saved today")):
            add(
                "sensor",
                key,
                name,
                state_topic=topics.state,
                value_template=_value(key),
                device_class="monetary",
                unit_of_measurement=site.currency,
            )
    for car in site.vehicles:
        state = topics.vehicle_state(car)
        power(f"{car}_power", f"{car} power", state, "power_kw")
        add(
            "sensor",
            f"{car}_soc",
            f"{car} charge",
            state_topic=state,
            value_template=_value("soc_pct"),
            device_class="battery",
            unit_of_measurement="%",
            state_class="measurement",
        )
        for key, name in (
            ("for_driving_kwh", "kept for driving"),
            ("reserved_for_backup_kwh", "kept for backup"),
        ):
            add(
                "sensor",
                f"{car}_{key}",
                f"{car} {name}",
                state_topic=state,
                value_template=_value(key),
                device_class="energy_storage",
                unit_of_measurement="kWh",
                state_class="measurement",
            )
        add(
            "sensor",
            f"{car}_range",
            f"{car} range",
            state_topic=state,
            value_template=_value("range_km"),
            device_class="distance",
            unit_of_measurement="km",
            state_class="measurement",
        )
        add(
            "binary_sensor",
            f"{car}_plugged_in",
            f"{car} plugged in",
            state_topic=state,
            value_template=_value("plugged_in"),
            payload_on="ON",
            payload_off="OFF",
            device_class="plug",
        )
        add(
            "number",
            f"{car}_target_soc",
            f"{car} target at departure",
            state_topic=state,
            value_template=_value("target_soc_pct"),
            command_topic=topics.vehicle_command(car, "target_soc_pct"),
            min=0,
            max=100,
            step=1,
            unit_of_measurement="%",
            mode="slider",
        )
        add(
            "text",
            f"{car}_departure",
            f"{car} departure",
            state_topic=state,
            value_template="{{ value_json.departure or '' }}",
            command_topic=topics.vehicle_command(car, "departure"),
            min=0,
            max=40,
            icon="mdi:car-clock",
        )
    add(
        "select",
        "mode",
        "Mode",
        state_topic=topics.settings,
        value_template=_value("mode"),
        command_topic=topics.command("mode"),
        options=[m.value for m in Mode],
    )
    add(
        "switch",
        "v2g_allowed",
        "V2G allowed",
        state_topic=topics.settings,
        value_template="{{ 'ON' if value_json.v2g_allowed else 'OFF' }}",
        command_topic=topics.command("v2g_allowed"),
        payload_on="ON",
        payload_off="OFF",
        state_on="ON",
        state_off="OFF",
    )
    add(
        "number",
        "backup_reserve",
        "Backup reserve",
        state_topic=topics.settings,
        value_template=_value("backup_reserve_h"),
        command_topic=topics.command("backup_reserve_h"),
        min=0,
        max=168,
        step=0.5,
        unit_of_measurement="h",
        device_class="duration",
        mode="box",
    )
    add(
        "button",
        "storm_watch_cancel",
        "Cancel storm watch",
        command_topic=topics.command("storm_watch_cancel"),
        payload_press="PRESS",
        icon="mdi:weather-lightning-rainy",
    )
    return out


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.isoformat().replace("+00:00", "Z")


def _on_off(value: bool | None) -> str | None:
    return None if value is None else ("ON" if value else "OFF")


def site_state(status: ControlStatus, money: dict[str, float] | None = None) -> dict[str, Any]:
    """The site's state document. Rounded (1 W, 10 Wh, 0.1 %) so that it changes, and is
    published, only when something a person would see changes."""
    battery = status.battery
    departures = [v.departure for v in status.vehicles.values() if v.departure is not None]
    storm = status.storm_watch
    out: dict[str, Any] = {
        "grid_kw": _round(status.power.grid_kw, 3),
        "pv_kw": _round(status.power.pv_kw, 3),
        "house_kw": _round(status.power.load_kw, 3),
        "battery_kw": None if battery is None else _round(status.power.battery_kw, 3),
        "battery_soc_pct": None if battery is None else _round(battery.soc_pct, 1),
        "backup_hours": round(status.backup_hours, 2),
        "backup_hours_with_sun": _round(status.backup_hours_with_sun, 2),
        "grid_state": status.grid_state.value,
        "next_departure": _iso(min(departures)) if departures else None,
        "next_action": status.decision[:HA_STATE_MAX_CHARS] or None,
        "storm_watch": _on_off(storm.active),
        "storm_outage_id": storm.outage_id,
        "faults": list(status.faults),
    }
    if money is not None:
        out["money_today"] = _round(money.get("net_cost"), 2)
        out["savings_today"] = _round(money.get("savings"), 2)
    return out


def vehicle_state(car: VehicleStatus) -> dict[str, Any]:
    """One car's state document (kWh kept for driving and for backup are parts of its SoC)."""
    return {
        "power_kw": _round(car.power_kw, 3),
        "soc_pct": _round(car.soc_pct, 1),
        "soc_kwh": _round(car.soc_kwh, 2),
        "for_driving_kwh": round(car.for_driving_kwh, 2),
        "reserved_for_backup_kwh": round(car.reserved_for_backup_kwh, 2),
        "range_km": _round(car.range_km, 0),
        "plugged_in": _on_off(car.plugged_in),
        "departure": _iso(car.departure),
        "target_soc_pct": round(car.target_soc_pct, 1),
    }


def settings_state(settings: Settings) -> dict[str, Any]:
    """The settings document the mode select, V2G switch and backup-reserve number read."""
    return {
        "mode": settings.mode.value,
        "v2g_allowed": settings.v2g_allowed,
        "backup_reserve_h": settings.backup_reserve_h,
    }


def state_messages(
    topics: Topics,
    status: ControlStatus | None,
    settings: Settings,
    money: dict[str, float] | None = None,
) -> list[tuple[str, dict[str, Any]]]:
    """Every state document with its topic (the settings alone before the first status)."""
    out = [(topics.settings, settings_state(settings))]
    if status is not None:
        out.append((topics.state, site_state(status, money)))
        out += [(topics.vehicle_state(n), vehicle_state(v)) for n, v in status.vehicles.items()]
    return out
