"""voltbridge as an OpenADR 2.0b VEN: a utility's or aggregator's events in, opt answers and
delivered-energy reports out (see ``ven.py``; the signal mapping is in ``signals.py``)."""

from voltbridge.devices.openadr.delivery import Delivery, DeliveryMeter, held_energy_kwh
from voltbridge.devices.openadr.notices import GridSignalSink, NoticeCode, VenNotice
from voltbridge.devices.openadr.signals import MappingRules, SignalError, map_event
from voltbridge.devices.openadr.ven import OpenADRVen
from voltbridge.devices.openadr.wire import R_ENERGY, R_POWER, REPORT_SPECIFIER_ID
from voltbridge.programs.openadr_config import OpenADRConfig, OpenADRTls, VenConfigError

__all__ = [
    "REPORT_SPECIFIER_ID",
    "R_ENERGY",
    "R_POWER",
    "Delivery",
    "DeliveryMeter",
    "GridSignalSink",
    "MappingRules",
    "NoticeCode",
    "OpenADRConfig",
    "OpenADRTls",
    "OpenADRVen",
    "SignalError",
    "VenConfigError",
    "VenNotice",
    "held_energy_kwh",
    "map_event",
]
