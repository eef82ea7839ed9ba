"""voltbridge as an OpenADR 3 VEN: a VTN's REST/JSON events in, delivered-energy reports out
(see ``ven.py``; the event mapping is in ``mapping.py``). It hands the controller side the same
grid signals and notices as the OpenADR 2.0b VEN (``voltbridge.devices.openadr``)."""

from voltbridge.devices.openadr3.mapping import (
    EventWithdrawn,
    MappingRules,
    SignalError,
    map_event,
    parse_duration,
)
from voltbridge.devices.openadr3.ven import OpenADR3Ven, report_body
from voltbridge.programs.openadr3_config import OpenADR3Config

__all__ = [
    "EventWithdrawn",
    "MappingRules",
    "OpenADR3Config",
    "OpenADR3Ven",
    "SignalError",
    "map_event",
    "parse_duration",
    "report_body",
]
