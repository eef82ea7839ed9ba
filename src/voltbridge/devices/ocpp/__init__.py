"""OCPP 2.1 edge: voltbridge as the chargers' central system, and a charging-station simulator."""

from voltbridge.devices.ocpp.central import CentralSystem
from voltbridge.devices.ocpp.charger import ChargerRejectedError, OcppCharger
from voltbridge.devices.ocpp.config import CentralSystemConfig, OcppChargerConfig
from voltbridge.devices.ocpp.profiles import OperationMode
from voltbridge.devices.ocpp.readings import EvChargingNeeds, MeterSample
from voltbridge.devices.ocpp.rpc import OcppCallError
from voltbridge.devices.ocpp.station import ChargingStation

__all__ = [
    "CentralSystem",
    "CentralSystemConfig",
    "ChargerRejectedError",
    "ChargingStation",
    "EvChargingNeeds",
    "MeterSample",
    "OcppCallError",
    "OcppCharger",
    "OcppChargerConfig",
    "OperationMode",
]
