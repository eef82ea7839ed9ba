"""Home Assistant's MQTT discovery rules, written down from its documentation, to check payloads.

Sources: https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery (topic format, device
and origin blocks, availability) and the pages of the MQTT sensor, binary_sensor, select, switch,
number, text and button integrations (required and allowed keys), and the sensor page's table of
device classes and their units. Only what voltbridge uses is listed; an unknown key is an error
here so that a typo never reaches a household's Home Assistant, where it would be refused.
"""

from __future__ import annotations

import re
from typing import Any

ID = re.compile(r"^[a-zA-Z0-9_-]+$")
"""node_id and object_id in the discovery topic."""

COMMON = {
    "name",
    "unique_id",
    "device",
    "origin",
    "availability_topic",
    "payload_available",
    "payload_not_available",
    "icon",
    "entity_category",
    "enabled_by_default",
    "qos",
    "json_attributes_topic",
    "json_attributes_template",
    "value_template",
}
STATE = {"state_topic"}
COMMAND = {"command_topic", "command_template", "retain", "optimistic"}

REQUIRED = {
    "sensor": {"state_topic"},
    "binary_sensor": {"state_topic"},
    "select": {"command_topic", "options"},
    "switch": {"command_topic"},
    "number": {"command_topic"},
    "text": {"command_topic"},
    "button": {"command_topic"},
}
ALLOWED = {
    "sensor": COMMON
    | STATE
    | {
        "device_class",
        "unit_of_measurement",
        "state_class",
        "options",
        "suggested_display_precision",
        "expire_after",
    },
    "binary_sensor": COMMON
    | STATE
    | {"device_class", "payload_on", "payload_off", "expire_after", "off_delay"},
    "select": COMMON | STATE | COMMAND | {"options"},
    "switch": COMMON
    | STATE
    | COMMAND
    | {"device_class", "payload_on", "payload_off", "state_on", "state_off"},
    "number": COMMON
    | STATE
    | COMMAND
    | {"min", "max", "step", "mode", "unit_of_measurement", "device_class", "payload_reset"},
    "text": COMMON | STATE | COMMAND | {"min", "max", "mode", "pattern"},
    "button": COMMON | COMMAND | {"payload_press", "device_class"},
}

UNITS = {
    "power": {"W", "kW", "MW"},
    "battery": {"%"},
    "energy_storage": {"Wh", "kWh", "MWh"},
    "distance": {"km", "m", "mi"},
    "duration": {"s", "min", "h", "d"},
    "timestamp": {None},
    "enum": {None},
}
"""Sensor (and number) device classes and their allowed units (None: no unit)."""
STATE_CLASSES = {"measurement", "total", "total_increasing"}
BINARY_CLASSES = {"plug", "problem", "power", "connectivity", "running"}
CURRENCY = re.compile(r"^[A-Z]{3}$")


def check_discovery(messages: dict[str, dict[str, Any]], prefix: str) -> None:
    """AssertionError naming the entity and the rule for the first payload that breaks one."""
    unique_ids: set[str] = set()
    commands: set[str] = set()
    devices: list[Any] = []
    availability: set[str] = set()
    for topic, config in messages.items():
        parts = topic.split("/")
        assert len(parts) == 5 and parts[0] == prefix and parts[4] == "config", topic
        component, node_id, object_id = parts[1:4]
        assert component in REQUIRED, f"{topic}: unknown component"
        assert ID.match(node_id) and ID.match(object_id), f"{topic}: ids must be [a-zA-Z0-9_-]+"
        missing = REQUIRED[component] - config.keys()
        assert not missing, f"{topic}: missing {missing}"
        unknown = config.keys() - ALLOWED[component]
        assert not unknown, f"{topic}: keys Home Assistant does not know: {unknown}"
        uid = config["unique_id"]
        assert isinstance(uid, str) and uid and uid not in unique_ids, f"{topic}: unique_id"
        unique_ids.add(uid)
        assert isinstance(config["name"], str) and config["name"]
        device = config["device"]
        assert device["identifiers"] and device["name"], f"{topic}: device block"
        devices.append(device)
        assert config["origin"]["name"], f"{topic}: origin block"
        availability.add(config["availability_topic"])
        assert (config["payload_available"], config["payload_not_available"]) == (
            "online",
            "offline",
        )
        for key in ("state_topic", "command_topic", "availability_topic"):
            if key in config:
                assert not set("#+") & set(config[key]), f"{topic}: {key} has a wildcard"
                assert config[key].startswith("voltbridge/"), f"{topic}: {key} outside prefix"
        if "command_topic" in config:
            assert config["command_topic"] not in commands, f"{topic}: command topic reused"
            commands.add(config["command_topic"])
            assert "/set/" in config["command_topic"]
        if "value_template" in config:
            assert (
                config["value_template"].startswith("{{")
                and "value_json" in (config["value_template"])
            ), f"{topic}: value_template"
        _component_rules(topic, component, config)
    assert len(availability) == 1, "one availability topic for all entities"
    assert all(d == devices[0] for d in devices), "every entity on the same device"


def _component_rules(topic: str, component: str, config: dict[str, Any]) -> None:
    cls = config.get("device_class")
    unit = config.get("unit_of_measurement")
    if component in ("sensor", "number") and cls is not None:
        if cls == "monetary":
            assert unit is not None and CURRENCY.match(unit), f"{topic}: monetary needs a currency"
            assert config.get("state_class") in (None, "total"), f"{topic}: monetary state_class"
        else:
            assert cls in UNITS, f"{topic}: device_class {cls!r} not in the table"
            assert unit in UNITS[cls], f"{topic}: {unit!r} is not a unit of {cls}"
    if component == "sensor":
        if "state_class" in config:
            assert config["state_class"] in STATE_CLASSES, f"{topic}: state_class"
        if cls == "enum":
            assert config["options"] and "state_class" not in config, f"{topic}: enum rules"
    if component == "binary_sensor" and cls is not None:
        assert cls in BINARY_CLASSES, f"{topic}: binary device_class {cls!r}"
    if component == "select":
        options = config["options"]
        assert isinstance(options, list) and options and len(set(options)) == len(options)
    if component == "number":
        assert config.get("min", 1) < config.get("max", 100), f"{topic}: min < max"
        assert config.get("step", 1) > 0, f"{topic}: step"
        assert config.get("mode", "auto") in ("auto", "box", "slider"), f"{topic}: mode"
    if component == "text":
        assert 0 <= config.get("min", 0) <= config.get("max", 255) <= 255, f"{topic}: min/max"
