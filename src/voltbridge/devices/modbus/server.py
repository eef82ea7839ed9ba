"""A pymodbus TCP server that serves a ``SimulatedHome`` as SunSpec devices and relay coils, with
fault injection, so the Modbus drivers can be run against the simulator's physics.

One port, one Modbus unit id per device (``UNIT_IDS``): ``meter`` (models 1 + 203), ``pv``
(1 + 103 + 701), ``battery`` (1 + 103 + 124 + 802) and ``relay`` (coils: the home's circuits in
order from coil 0, then the transfer switch). Every request first integrates the home up to its
clock (``home.sync()``) and rebuilds the addressed device's registers; writes to the battery's
model 124 set ``home.battery.setpoint_kw`` (see ``sim_images.setpoint_from_124``), and writes to
coils switch ``home.circuits_on`` / ``home.set_transfer``. Faults, per device:

- ``freeze``: keep serving the last registers; writes are acknowledged but not applied.
- ``drop``: stop answering (requests hang until ``heal`` or ``stop``), as a hung device does;
  clients see their timeout.
- ``corrupt``: serve out-of-range values (32 MW, 150 % SoC, -230 V) or given raw point values.

The battery's ``InOutWRte_RvrtTms`` is honoured at the first request after it expires (the
simulated battery then holds 0 kW), so it takes effect at most one poll late.

These faults are the server's own; ``SimulatedHome.freeze``/``drop``/``corrupt`` act on the
in-process simulated devices only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from voltbridge.devices.modbus import sim_images as img
from voltbridge.devices.modbus.sunspec_map import (
    INVERTER_MODELS,
    METER_MODELS,
    ModelReading,
    PointDef,
    device_image,
    model_def,
)
from voltbridge.devices.simulated_home import SimulatedHome

Fault = Literal["freeze", "drop", "corrupt"]
UNIT_IDS: Mapping[str, int] = {"meter": 1, "pv": 2, "battery": 3, "relay": 4}
"""Default Modbus unit id of each simulated device."""
Action = Callable[
    [int, int, int, int, list[int], list[int] | list[bool] | None],
    Coroutine[None, None, ExcCodes | None],
]


class _Unit:
    """One simulated device: its unit id, models, registers as last served, faults and controls."""

    def __init__(self, name: str, unit_id: int, models: Sequence[int]) -> None:
        self.name, self.unit_id, self.models = name, unit_id, list(models)
        self.fault: Fault | None = None
        self.overrides: dict[int, img.Values] = {}
        self.controls: dict[int, img.Values] = {}
        self.gate = asyncio.Event()
        self.gate.set()
        self.image: list[int] = []
        self.coils: list[bool] = []
        self.revert_at: datetime | None = None


class SunSpecServer:
    """Serves ``home`` over Modbus TCP at ``host``:``port`` (0 picks a free port; see ``port``).

    Args:
        home: the simulated home whose physics the registers show.
        host: address to listen on (loopback by default).
        port: TCP port; 0 lets the OS choose.
        base_address: where the "SunS" marker sits (40000, 0 and 50000 are the usual ones).
        meter_model: the meter's model (203 three-phase wye by default, or 201, 202, 204).
        pv_models: the PV inverter's AC models, in map order.
        battery_models: the battery's models in map order (AC model, 124 and/or 802); the
            battery is served only when the home has one.
        unit_ids: device name → unit id, overriding ``UNIT_IDS``.
    """

    def __init__(
        self,
        home: SimulatedHome,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        base_address: int = 40000,
        meter_model: int = 203,
        pv_models: Sequence[int] = (103, 701),
        battery_models: Sequence[int] = (103, 124, 802),
        unit_ids: Mapping[str, int] | None = None,
    ) -> None:
        if meter_model not in METER_MODELS:
            raise ValueError(f"meter_model must be one of {list(METER_MODELS)}, got {meter_model}")
        for m in pv_models:
            if m not in INVERTER_MODELS:
                raise ValueError(f"pv_models: {m} is not one of {list(INVERTER_MODELS)}")
        for m in battery_models:
            if m not in (*INVERTER_MODELS, 124, 802):
                raise ValueError(f"battery_models: {m} is not an AC model, 124 or 802")
        self.home, self.host, self.base_address = home, host, base_address
        self._requested_port = port
        self._port: int | None = None
        self._server: ModbusTcpServer | None = None
        units = {**UNIT_IDS, **(unit_ids or {})}
        self._units: dict[str, _Unit] = {
            "meter": _Unit("meter", units["meter"], [1, meter_model]),
            "pv": _Unit("pv", units["pv"], [1, *pv_models]),
            "relay": _Unit("relay", units["relay"], []),
        }
        if home.battery is not None:
            self._units["battery"] = _Unit("battery", units["battery"], [1, *battery_models])
        ids = [u.unit_id for u in self._units.values()]
        if len(set(ids)) != len(ids):
            raise ValueError(
                f"unit ids must differ, got {dict((n, u.unit_id) for n, u in self._units.items())}"
            )
        self.circuits: list[str] = list(home.circuits_kw)
        """Circuit names in coil order: circuit i is coil i."""
        self.transfer_coil = len(self.circuits)
        """The transfer switch's coil, right after the circuits'."""

    # --- life cycle ---------------------------------------------------------------------------
    async def start(self) -> int:
        """Start listening; return the actual port."""
        devices = []
        for u in self._units.values():
            if u.name == "relay":
                n_regs = (self.transfer_coil + 1 + 15) // 16
                u.coils = self._coil_states()
                devices.append(
                    SimDevice(
                        id=u.unit_id,
                        simdata=[SimData(0, count=n_regs, values=0, datatype=DataType.REGISTERS)],
                        use_bit_addressing=True,
                        action=self._relay_action(u),
                    )
                )
            else:
                u.image = self._build(u)
                block = SimData(
                    self.base_address, count=len(u.image), values=0, datatype=DataType.REGISTERS
                )
                devices.append(
                    SimDevice(id=u.unit_id, simdata=[block], action=self._sunspec_action(u))
                )
        self._server = ModbusTcpServer(devices, address=(self.host, self._requested_port))
        await self._server.serve_forever(background=True)
        listener: Any = self._server.transport
        self._port = int(listener.sockets[0].getsockname()[1])
        return self._port

    async def stop(self) -> None:
        """Stop listening, release hung (dropped) requests and close every connection."""
        for u in self._units.values():
            u.gate.set()
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
            self._server = None

    async def __aenter__(self) -> SunSpecServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The port the server listens on (after ``start``)."""
        if self._port is None:
            raise RuntimeError("the server is not started; await start() first")
        return self._port

    def unit_id(self, device: str) -> int:
        """The Modbus unit id serving ``device``."""
        return self._unit(device).unit_id

    def driver_config(self, device: str, timeout_s: float = 1.0) -> dict[str, Any]:
        """A configuration for the voltbridge driver of ``device`` that reaches this server."""
        u = self._unit(device)
        cfg: dict[str, Any] = {
            "name": device,
            "host": self.host,
            "port": self.port,
            "unit_id": u.unit_id,
            "timeout_s": timeout_s,
        }
        if device == "relay":
            cfg["circuits"] = {c: i for i, c in enumerate(self.circuits)}
            cfg["transfer_coil"] = self.transfer_coil
            return cfg
        cfg["base_addresses"] = [self.base_address]
        if device == "pv":
            prof = self.home.pv_profile
            peak = float(prof) if isinstance(prof, int | float) else max(prof, default=0.0)
            cfg["rated_power_kw"] = max(1.0, peak)
        elif device == "battery":
            b = self.home.battery
            assert b is not None
            cfg["rated_power_kw"] = max(b.max_charge_kw, b.max_discharge_kw)
            if 802 not in u.models:
                cfg["capacity_kwh"] = b.capacity_kwh
        return cfg

    # --- faults -------------------------------------------------------------------------------
    def _unit(self, device: str) -> _Unit:
        try:
            return self._units[device]
        except KeyError:
            raise KeyError(
                f"no simulated Modbus device {device!r}; devices: {sorted(self._units)}"
            ) from None

    def freeze(self, device: str) -> None:
        """``device`` keeps serving its last registers and ignores writes (a hung device)."""
        self._unit(device).fault = "freeze"

    def drop(self, device: str) -> None:
        """``device`` stops answering until ``heal``."""
        u = self._unit(device)
        u.fault = "drop"
        u.gate.clear()

    def corrupt(self, device: str, overrides: Mapping[int, img.Values] | None = None) -> None:
        """``device`` serves out-of-range values: ``overrides`` (model id → raw point values), or
        by default power of 32 MW (meter, PV), a voltage of -230 V (meter), SoC 150 % (battery)."""
        u = self._unit(device)
        if device == "relay":
            raise ValueError("coils have no out-of-range values; use freeze or drop on the relay")
        if overrides is None:
            huge: img.Values = {"W": 32000, "W_SF": 3}  # 32 MW
            if device == "meter":
                overrides = {u.models[1]: {**huge, "PhV": -2300}}
            elif device == "pv":
                overrides = dict.fromkeys(u.models[1:], huge)
            else:
                soc: img.Values = {"ChaState": 15000, "SoC": 15000}  # 150 %
                overrides = {
                    m: {k: v for k, v in soc.items() if model_def(m).has(k)} for m in u.models
                }
        u.overrides = {m: dict(v) for m, v in overrides.items()}
        u.fault = "corrupt"

    def heal(self, device: str) -> None:
        """Clear any fault on ``device``."""
        u = self._unit(device)
        u.fault = None
        u.overrides = {}
        u.gate.set()

    # --- SunSpec devices ----------------------------------------------------------------------
    def _model_values(self, u: _Unit, mid: int) -> img.Values:
        h = self.home
        if mid == 1:
            return img.common_values(u.name, u.unit_id)
        if u.name == "meter":
            return img.meter_values(h)
        if u.name == "pv":
            return img.pv_values(h, mid)
        store = h.battery
        assert store is not None
        if mid == 124:
            return img.storage_124_values(store, self._controls(u, 124))
        if mid == 802:
            return img.battery_802_values(store, (h.clock.now() - h.start).total_seconds())
        return img.battery_ac_values(h, store, mid)

    def _controls(self, u: _Unit, mid: int) -> img.Values:
        return u.controls.setdefault(mid, {})

    def _build(self, u: _Unit) -> list[int]:
        self.home.sync()
        if u.revert_at is not None and self.home.clock.now() >= u.revert_at:
            self._controls(u, 124)["StorCtl_Mod"] = 0
            u.revert_at = None
            self._apply_124(u)
        return self._build_models(u)

    def _build_models(self, u: _Unit) -> list[int]:
        models = []
        for mid in u.models:
            values = self._model_values(u, mid)
            if mid != 124:
                values.update(self._controls(u, mid))
            if u.fault == "corrupt":
                values.update(u.overrides.get(mid, {}))
            models.append(model_def(mid).image(values))
        return device_image(models)

    def _model_starts(self, u: _Unit) -> dict[int, int]:
        """Model id → offset of its ID register in the image [registers]."""
        starts, offset = {}, 2
        for mid in u.models:
            starts[mid] = offset
            offset += model_def(mid).length + 2
        return starts

    def _writable(self, u: _Unit) -> dict[int, tuple[int, PointDef]]:
        """Image offset → (model id, point) for each register of a writable point."""
        out: dict[int, tuple[int, PointDef]] = {}
        for mid, start in self._model_starts(u).items():
            for p in model_def(mid).points:
                if p.writable:
                    for k in range(p.size):
                        out[start + p.offset + k] = (mid, p)
        return out

    def _sunspec_action(self, u: _Unit) -> Action:
        async def action(
            fc: int,
            start: int,
            address: int,
            count: int,
            regs: list[int],
            values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            if u.fault == "drop":
                await u.gate.wait()
            if values is not None:
                return self._write(u, address - self.base_address, [int(v) for v in values])
            if u.fault != "freeze":
                u.image = self._build(u)
            regs[: len(u.image)] = u.image
            return None

        return action

    def _write(self, u: _Unit, offset: int, values: list[int]) -> ExcCodes | None:
        writable = self._writable(u)
        if any(offset + k not in writable for k in range(len(values))):
            return ExcCodes.ILLEGAL_ADDRESS
        if u.fault == "freeze":
            return None
        merged = self._build(u)
        merged[offset : offset + len(values)] = values
        starts = self._model_starts(u)
        touched = {writable[offset + k][0] for k in range(len(values))}
        for mid in touched:
            mdef = model_def(mid)
            r = ModelReading(mdef, merged[starts[mid] : starts[mid] + mdef.length + 2], u.name)
            controls = self._controls(u, mid)
            for p in mdef.points:
                if p.writable:
                    controls[p.name] = r.raw(p.name)
        if 124 in touched:
            revert_s = int(self._controls(u, 124).get("InOutWRte_RvrtTms") or 0)
            now = self.home.clock.now()
            u.revert_at = now + timedelta(seconds=revert_s) if revert_s > 0 else None
            self._apply_124(u)
        u.image = self._build_models(u)
        return None

    def _apply_124(self, u: _Unit) -> None:
        """Set the battery's setpoint from model 124's controls as last written."""
        store = self.home.battery
        assert store is not None
        mdef = model_def(124)
        values = img.storage_124_values(store, self._controls(u, 124))
        store.setpoint_kw = img.setpoint_from_124(
            ModelReading(mdef, mdef.image(values), u.name), store
        )
        self.home.refresh()

    # --- relay coils --------------------------------------------------------------------------
    def _coil_states(self) -> list[bool]:
        states = [self.home.circuits_on[c] for c in self.circuits] + [self.home.transfer_closed]
        return states + [False] * (-len(states) % 16)

    def _relay_action(self, u: _Unit) -> Action:
        async def action(
            fc: int,
            start: int,
            address: int,
            count: int,
            regs: list[int],
            values: list[int] | list[bool] | None,
        ) -> ExcCodes | None:
            if u.fault == "drop":
                await u.gate.wait()
            if fc not in (1, 5, 15):
                return ExcCodes.ILLEGAL_FUNCTION
            if values is not None:
                return self._switch(u, address, [bool(v) for v in values])
            if u.fault != "freeze":
                self.home.sync()
                u.coils = self._coil_states()
            regs[: len(u.coils) // 16] = SimUtils.bitsToRegisters(u.coils)
            return None

        return action

    def _switch(self, u: _Unit, address: int, values: list[bool]) -> ExcCodes | None:
        if address + len(values) > self.transfer_coil + 1:
            return ExcCodes.ILLEGAL_ADDRESS
        if u.fault == "freeze":
            return None
        self.home.sync()
        for k, on in enumerate(values):
            coil = address + k
            if coil == self.transfer_coil:
                self.home.set_transfer(on)
            else:
                self.home.circuits_on[self.circuits[coil]] = on
        self.home.refresh()
        u.coils = self._coil_states()
        return None
