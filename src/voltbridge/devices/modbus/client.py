"""One Modbus TCP connection with a deadline on every request, and SunSpec discovery over it.

Every request (connecting included) runs under ``timeout_s``; a device that does not answer in
time, or whose connection fails, raises ConnectionError naming the device and address, and the
connection is closed so the next request starts on a fresh one (a late answer to a timed-out
request can then never be taken for the answer to a later one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException
from pymodbus.pdu import ModbusPDU

from voltbridge.devices.modbus.errors import DeviceRefusedError, DiscoveryError
from voltbridge.devices.modbus.sunspec_map import (
    END_MODEL_ID,
    MAX_READ_REGISTERS,
    SUNS_MARKER,
    ModelReading,
    model_def,
)

_MAX_MODELS = 64
"""A model chain longer than this is taken as garbage (a device that never ends its map)."""
_EXCEPTION_NAMES = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "device failure",
    6: "device busy",
    10: "gateway path unavailable",
    11: "gateway target did not respond",
}


class _NotConnectedError(ConnectionError):
    """The TCP connection could not be opened."""


class ModbusLink:
    """A lazily opened Modbus TCP connection to one unit, each request bounded by ``timeout_s``.

    The pymodbus client is made on first use inside the running event loop (and made again if
    the loop changes or after a failure); pymodbus's own retries are off: the caller polls again.
    Requests on one link run one at a time (many Modbus devices serve one request at a time); the
    wait for the link counts against ``timeout_s``.
    """

    def __init__(self, device: str, host: str, port: int, unit_id: int, timeout_s: float) -> None:
        self.device, self.host, self.port = device, host, port
        self.unit_id, self.timeout_s = unit_id, timeout_s
        self._client: AsyncModbusTcpClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None

    def where(self) -> str:
        """``host:port unit N``, for messages."""
        return f"{self.host}:{self.port} unit {self.unit_id}"

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        client, self._client = self._client, None
        if client is not None and not (self._loop is not None and self._loop.is_closed()):
            client.close()  # a client whose event loop has ended has nothing left to close on

    def _lock_for(self, loop: asyncio.AbstractEventLoop) -> asyncio.Lock:
        if self._lock is None or self._lock_loop is not loop:
            self._lock, self._lock_loop = asyncio.Lock(), loop
        return self._lock

    async def _connected(self) -> AsyncModbusTcpClient:
        loop = asyncio.get_running_loop()
        if self._client is not None and (self._loop is not loop or not self._client.connected):
            self.close()
        if self._client is None:
            self._client = AsyncModbusTcpClient(
                self.host,
                port=self.port,
                timeout=self.timeout_s,
                retries=0,
                reconnect_delay=0,
                name=self.device,
            )
            self._loop = loop
            if not await self._client.connect():
                self.close()
                raise _NotConnectedError(
                    f"{self.device}: cannot connect to {self.where()}; check that the device "
                    "is powered, on the network and that host/port are right"
                )
        return self._client

    async def _call(
        self, what: str, request: Callable[[AsyncModbusTcpClient], Awaitable[ModbusPDU]]
    ) -> ModbusPDU:
        lock = self._lock_for(asyncio.get_running_loop())
        try:
            async with asyncio.timeout(self.timeout_s), lock:
                client = await self._connected()
                response = await request(client)
        except _NotConnectedError:
            raise
        except (TimeoutError, ModbusException, OSError) as err:
            self.close()
            raise ConnectionError(
                f"{self.device}: no answer to {what} from {self.where()} within "
                f"{self.timeout_s} s ({type(err).__name__}: {err}); the device is down, "
                "unreachable or too slow (raise timeout_s)"
            ) from err
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            name = _EXCEPTION_NAMES.get(code, "unknown exception")
            raise DeviceRefusedError(
                f"{self.device}: {self.where()} refused {what} (Modbus exception {code}: {name})",
                code,
            )
        return response

    async def read_registers(self, address: int, count: int) -> list[int]:
        """Read ``count`` holding registers from ``address``, split into reads of at most 125."""
        out: list[int] = []
        while count > 0:
            n = min(count, MAX_READ_REGISTERS)
            start = address

            def req(c: AsyncModbusTcpClient, a: int = start, k: int = n) -> Awaitable[ModbusPDU]:
                return c.read_holding_registers(a, count=k, device_id=self.unit_id)

            resp = await self._call(f"reading {n} registers at {start}", req)
            if len(resp.registers) != n:
                self.close()
                raise ConnectionError(
                    f"{self.device}: asked {self.where()} for {n} registers at {start}, "
                    f"got {len(resp.registers)}"
                )
            out += resp.registers
            address, count = address + n, count - n
        return out

    async def write_registers(self, address: int, values: Sequence[int]) -> None:
        """Write holding registers from ``address`` (one request)."""
        vals = [int(v) & 0xFFFF for v in values]
        await self._call(
            f"writing {len(vals)} registers at {address}",
            lambda c: c.write_registers(address, vals, device_id=self.unit_id),
        )

    async def read_coils(self, address: int, count: int) -> list[bool]:
        """Read ``count`` coils from ``address``."""
        resp = await self._call(
            f"reading {count} coils at {address}",
            lambda c: c.read_coils(address, count=count, device_id=self.unit_id),
        )
        return [bool(b) for b in resp.bits[:count]]

    async def write_coil(self, address: int, value: bool) -> None:
        """Write one coil."""
        await self._call(
            f"writing coil {address}",
            lambda c: c.write_coil(address, value, device_id=self.unit_id),
        )


@dataclass(frozen=True)
class ModelAt:
    """Where one model sits in a device's map: ``address`` of its ID register, ``length`` ``L``."""

    model_id: int
    address: int
    length: int


@dataclass(frozen=True)
class SunSpecLayout:
    """A device's SunSpec map: the base address and its models in order (the first instance of
    each model id is kept; later instances of the same id are ignored)."""

    base_address: int
    models: tuple[ModelAt, ...] = field(default_factory=tuple)

    def ids(self) -> list[int]:
        """The model ids present, in map order."""
        return [m.model_id for m in self.models]

    def find(self, model_id: int) -> ModelAt | None:
        """Where ``model_id`` sits, None when absent."""
        return next((m for m in self.models if m.model_id == model_id), None)

    def first_of(self, model_ids: Sequence[int]) -> int | None:
        """The first of ``model_ids`` (in that order of preference) the device has."""
        return next((i for i in model_ids if self.find(i) is not None), None)


async def discover(link: ModbusLink, base_addresses: Sequence[int]) -> SunSpecLayout:
    """Find the "SunS" marker at the first base address that has it and walk the model chain
    (common model 1, ..., end model 0xFFFF).

    Raises ConnectionError when the device does not answer, DiscoveryError when it answers but
    has no SunSpec map at any of ``base_addresses``.
    """
    for base in base_addresses:
        try:
            marker = await link.read_registers(base, 2)
        except DeviceRefusedError:
            continue
        if tuple(marker) != SUNS_MARKER:
            continue
        return SunSpecLayout(base, tuple(await _walk(link, base + 2)))
    raise DiscoveryError(
        f"{link.device}: no SunSpec marker 'SunS' at addresses {list(base_addresses)} on "
        f"{link.where()}; check the unit id, that SunSpec/Modbus TCP is enabled on the device, "
        "and its base address (base_addresses)"
    )


async def _walk(link: ModbusLink, address: int) -> list[ModelAt]:
    found: list[ModelAt] = []
    for _ in range(_MAX_MODELS):
        if address + 2 > 65536:
            break
        try:
            model_id, length = await link.read_registers(address, 2)
        except DeviceRefusedError:
            break  # some devices end their map without the end model
        if model_id == END_MODEL_ID:
            break
        if all(m.model_id != model_id for m in found):
            found.append(ModelAt(model_id, address, length))
        address += 2 + length
    return found


async def read_model(link: ModbusLink, layout: SunSpecLayout, model_id: int) -> ModelReading:
    """Read one model's registers whole (its fixed block and anything after it up to ``L``)."""
    at = layout.find(model_id)
    if at is None:
        raise DiscoveryError(
            f"{link.device}: {link.where()} has no SunSpec model {model_id}; "
            f"it has models {layout.ids()}"
        )
    mdef = model_def(model_id)
    if at.length < mdef.length:
        raise DiscoveryError(
            f"{link.device}: model {model_id} at {at.address} is {at.length} registers long, "
            f"its definition needs {mdef.length}; the device's map is not SunSpec-conformant"
        )
    regs = await link.read_registers(at.address, at.length + 2)
    if regs[0] != model_id:
        raise ConnectionError(
            f"{link.device}: expected model {model_id} at {at.address}, found {regs[0]}; "
            "the device's map changed, it will be discovered again"
        )
    return ModelReading(mdef, regs, link.device)
