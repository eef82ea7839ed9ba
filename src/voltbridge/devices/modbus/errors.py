"""Errors raised by the Modbus drivers, sorted by what a person does about them.

``ConnectionError`` subclasses mean "retry later" (the device did not answer or refused one
request); ``ValueError`` subclasses mean the device answered with something voltbridge cannot use;
``DiscoveryError`` means the configuration does not match the device and a person must fix it.
"""

from __future__ import annotations

from voltbridge.devices.capabilities import DeviceError


class DeviceDataError(DeviceError, ValueError):
    """A device answered with a value outside its physical range, or a "not implemented" sentinel
    where voltbridge needs a value. The message names the device, the SunSpec point and the value."""

    def __init__(self, device: str, point: str, value: object, why: str) -> None:
        super().__init__(f"{device}: point {point} read {value!r}, {why}")
        self.device, self.point, self.value = device, point, value


class DeviceRefusedError(ConnectionError):
    """The device answered a request with a Modbus exception response (``code``: 1 illegal
    function, 2 illegal address, 3 illegal value, 4 device failure, 6 busy, 11 no gateway answer)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class StaleDataError(ConnectionError):
    """A device keeps answering with the same registers while they should be changing (frozen)."""


class DiscoveryError(DeviceError, LookupError):
    """The device does not offer what its driver needs: no SunSpec marker, or none of the SunSpec
    models the driver reads. Fix the configuration (host, port, unit id, base address, driver)."""
