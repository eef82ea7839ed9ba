"""Commands arriving over MQTT, checked exactly as the API checks them, then handed to the controller.

Each command topic's text (what Home Assistant's select, switch, number, text and button send)
becomes a ``SettingsUpdate`` validated by the same pydantic model as ``PATCH /api/settings``, and
``ControlHandle.apply_settings`` then checks it against the present and the site file, as it does
for the API. Anything wrong comes back as one sentence naming the field; nothing raises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from voltbridge.control.handle import ControlHandle
from voltbridge.control.settings import SettingsUpdate
from voltbridge.runtime.ha_discovery import Topics

SOURCE = "mqtt"
"""The source named in the event every accepted change records."""

MAX_PAYLOAD_BYTES = 4096
"""A longer command is refused unread (no setting needs more)."""

SITE_KEYS = ("mode", "v2g_allowed", "backup_reserve_h", "settings", "storm_watch_cancel")
VEHICLE_KEYS = ("target_soc_pct", "departure")


class CommandError(ValueError):
    """A command that is refused; the message says what was wrong and what to send."""


@dataclass(frozen=True)
class CancelStormWatch:
    """The "cancel storm watch" button: call off the outage storm watch is on for."""


Command = SettingsUpdate | CancelStormWatch


def _text(payload: bytes) -> str:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise CommandError(f"the command is {len(payload)} bytes; at most {MAX_PAYLOAD_BYTES}")
    try:
        return payload.decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CommandError("the command is not UTF-8 text") from None


def _number(field: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise CommandError(f"{field}: {text!r} is not a number") from None


def _update(data: dict[str, Any]) -> SettingsUpdate:
    """``data`` through the API's model; the first error named by its field."""
    try:
        return SettingsUpdate.model_validate(data)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"]) or "settings"
        raise CommandError(f"{where}: {err['msg'].removeprefix('Value error, ')}") from None


def parse_command(topics: Topics, topic: str, payload: bytes) -> Command:
    """The command ``payload`` on ``topic`` means; CommandError saying why it cannot be taken.

    >>> t = Topics()
    >>> parse_command(t, "voltbridge/set/mode", b"charge-now").mode.value
    'charge-now'
    >>> parse_command(t, "voltbridge/set/mode", b"turbo")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    voltbridge.runtime.mqtt_commands.CommandError: mode: Input should be 'auto', ...
    """
    text = _text(payload)
    site_prefix = f"{topics.prefix}/set/"
    car_prefix = f"{topics.prefix}/vehicle/"
    if topic.startswith(site_prefix):
        key = topic.removeprefix(site_prefix)
        if key == "mode":
            return _update({"mode": text})
        if key == "v2g_allowed":
            if text.upper() not in ("ON", "OFF"):
                raise CommandError(f"v2g_allowed: {text!r} is neither ON nor OFF")
            return _update({"v2g_allowed": text.upper() == "ON"})
        if key == "backup_reserve_h":
            return _update({"backup_reserve_h": _number(key, text)})
        if key == "settings":
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CommandError(
                    f"settings: not JSON ({exc.msg} at character {exc.pos})"
                ) from None
            if not isinstance(data, dict):
                raise CommandError("settings: send a JSON object, as PATCH /api/settings takes")
            return _update(data)
        if key == "storm_watch_cancel":
            if text != "PRESS":
                raise CommandError(f"storm_watch_cancel: send PRESS, not {text!r}")
            return CancelStormWatch()
        raise CommandError(f"{topic}: no such command; known: {', '.join(SITE_KEYS)}")
    if topic.startswith(car_prefix) and "/set/" in topic:
        name, _, key = topic.removeprefix(car_prefix).partition("/set/")
        if key == "target_soc_pct":
            car: dict[str, Any] = {"target_soc_pct": _number(key, text)}
        elif key == "departure":
            # empty (or None, as a cleared text entity may send): back to the trip schedule
            car = {"departure": None if text in ("", "None") else text}
        else:
            raise CommandError(f"{topic}: no such command; known: {', '.join(VEHICLE_KEYS)}")
        return _update({"vehicles": {name: car}})
    raise CommandError(f"{topic}: not a voltbridge command topic")


def run_command(handle: ControlHandle, topics: Topics, topic: str, payload: bytes) -> str | None:
    """Parse and apply one command; None when it was taken, else why it was refused."""
    try:
        command = parse_command(topics, topic, payload)
        if isinstance(command, CancelStormWatch):
            status = handle.status
            outage = None if status is None else status.storm_watch.outage_id
            if outage is None:
                raise CommandError("storm_watch_cancel: storm watch is off; nothing to cancel")
            handle.cancel_outage(outage, source=SOURCE)
            return None
        known = handle.vehicle_names
        for name in command.vehicles or {}:
            if name not in known:
                raise CommandError(
                    f"vehicles.{name}: no vehicle of that name; known: {', '.join(known) or 'none'}"
                )
        handle.apply_settings(command, source=SOURCE)
    except ValueError as exc:  # CommandError, the controller's checks, StormError
        return str(exc)
    return None
