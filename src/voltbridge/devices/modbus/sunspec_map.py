"""SunSpec register maps built from pysunspec2's model definitions: point offsets, types, scale
factors, "not implemented" sentinels, and encoding/decoding of one model's registers.

Offsets are never written by hand: they are summed from the ``size`` of each point in the model
JSON that ships with pysunspec2 (``sunspec2/models/json/model_<id>.json``). Offsets count from the
model's ``ID`` register (offset 0); ``L`` (offset 1) is the number of registers after it.

>>> m = model_def(203)
>>> m.point("W").offset, m.point("W").type, m.point("W").sf, m.length
(18, 'int16', 'W_SF', 105)
>>> regs = m.image({"W": -1500, "W_SF": 0})
>>> ModelReading(m, regs, device="meter").value("W")
-1500.0
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import sunspec2.device as ss_device
import sunspec2.mb as ss_mb
import sunspec2.mdef as ss_mdef

from voltbridge.devices.modbus.errors import DeviceDataError

Raw = int | float | str
"""A point's register value before scaling: an integer, a float (float32/64) or a string."""

SUNS_MARKER = (0x5375, 0x6E53)
"""The two registers "SunS" that open a SunSpec register map."""
END_MODEL_ID = 0xFFFF
"""The model id that ends a SunSpec model chain (followed by a length of 0)."""
SF_MIN, SF_MAX = -10, 10
"""The range of a ``sunssf`` exponent (SunSpec Information Model Specification, sunssf type)."""
MAX_READ_REGISTERS = 125
"""The most holding registers one Modbus read may ask for."""

METER_MODELS = (203, 201, 202, 204)
"""AC meter models, in the order a meter driver prefers them (three-phase wye first)."""
INVERTER_MODELS = (701, 103, 101, 102)
"""AC measurement models of an inverter, in the order the drivers prefer them (DER model first)."""
STORAGE_MODELS = (124, 802)
"""Storage models: 124 basic storage controls, 802 battery base."""
MAPPED_MODELS = (1, *METER_MODELS, *INVERTER_MODELS, *STORAGE_MODELS)
"""Every model voltbridge reads or serves; one test builds each of them."""

_FORMATS = {
    "int16": "h",
    "uint16": "H",
    "count": "H",
    "acc16": "H",
    "enum16": "H",
    "bitfield16": "H",
    "pad": "H",
    "sunssf": "h",
    "int32": "i",
    "uint32": "I",
    "acc32": "I",
    "enum32": "I",
    "bitfield32": "I",
    "ipaddr": "I",
    "int64": "q",
    "uint64": "Q",
    "acc64": "Q",
    "float32": "f",
    "float64": "d",
}
"""SunSpec numeric type → big-endian struct format (register lengths come from the model JSON)."""
_BYTE_TYPES = {"string", "ipv6addr", "eui48"}


@dataclass(frozen=True)
class PointDef:
    """One point of a SunSpec model.

    Attributes:
        name: the point's name in the model, e.g. ``"W"``.
        type: the SunSpec type, e.g. ``"int16"``, ``"acc32"``, ``"sunssf"``, ``"string"``.
        offset: registers from the model's ``ID`` register [registers].
        size: length [registers].
        sf: the scale factor: the name of a ``sunssf`` point, a fixed exponent, or None.
        units: SunSpec units, e.g. ``"W"``, ``"Wh"``, ``"Hz"``, ``"V"``, ``"Pct"``.
        writable: True for ``RW`` points.
        mandatory: True for points the model marks ``M``.
    """

    name: str
    type: str
    offset: int
    size: int
    sf: str | int | None
    units: str | None
    writable: bool
    mandatory: bool

    def decode(self, registers: Sequence[int]) -> Raw | None:
        """The raw value held in ``registers`` (this point's registers only), None when it is the
        type's "not implemented" sentinel (0x8000 for int16, 0xFFFF for uint16, 0 for acc, NaN, ...)."""
        if len(registers) != self.size:
            raise ValueError(f"point {self.name} has {self.size} registers, got {len(registers)}")
        data = b"".join(int(r & 0xFFFF).to_bytes(2, "big") for r in registers)
        if self.type in _BYTE_TYPES:
            if self.type == "string":
                text = data.rstrip(b"\0").decode("utf-8", errors="replace")
                return text if data[:1] != b"\0" else None
            return None if not any(data) else data.hex()
        if self.type == "pad":
            return None
        (value,) = struct.unpack(">" + _FORMATS[self.type], data)
        if isinstance(value, float):
            return None if math.isnan(value) else value
        return None if value == _sentinel(self.type) else int(value)

    def encode(self, value: Raw | None) -> list[int]:
        """This point's registers for a raw ``value``; None writes the "not implemented" sentinel.

        Raises ValueError naming the point when the value does not fit the type.
        """
        if self.type in _BYTE_TYPES:
            if value is None:
                data = b"" if self.type != "eui48" else b"\0\0" + b"\xff" * 6
            elif self.type == "string":
                data = str(value).encode("utf-8")
            else:
                data = bytes.fromhex(str(value))
            if len(data) > 2 * self.size:
                raise ValueError(
                    f"point {self.name}: {value!r} is longer than {self.size} registers"
                )
            data = data.ljust(2 * self.size, b"\0")
        else:
            raw: Raw = _sentinel(self.type) if value is None else value
            if self.type == "float32" and value is None:
                data = struct.pack(">I", ss_mb.SUNS_UNIMPL_FLOAT32)
            elif self.type == "float64" and value is None:
                data = struct.pack(">Q", ss_mb.SUNS_UNIMPL_FLOAT64)
            else:
                fmt = ">" + _FORMATS[self.type]
                try:
                    data = struct.pack(fmt, raw if fmt[-1] in "fd" else int(raw))
                except (struct.error, ValueError, TypeError) as err:
                    raise ValueError(
                        f"point {self.name}: {value!r} does not fit a SunSpec {self.type}"
                    ) from err
        return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _sentinel(ptype: str) -> int:
    if ptype in ("sunssf", "pad"):
        return int(ss_mb.SUNS_UNIMPL_SUNSSF) if ptype == "sunssf" else 0
    value = ss_mb.unimpl_value[ptype]
    return int(value) if not isinstance(value, str) else 0


@dataclass(frozen=True)
class ModelDef:
    """A SunSpec model's fixed block: its id, name and points (repeating groups are not mapped).

    Attributes:
        model_id: the SunSpec model id, e.g. 203.
        name: the model's name, e.g. ``"ac_meter_abcn"``.
        points: the top-level points in register order, ``ID`` and ``L`` first.
        has_groups: True when the model also defines repeating groups (not mapped here).
    """

    model_id: int
    name: str
    points: tuple[PointDef, ...]
    has_groups: bool = False

    @property
    def length(self) -> int:
        """The model's length ``L`` [registers]: its registers after ``ID`` and ``L``."""
        return sum(p.size for p in self.points) - 2

    def point(self, name: str) -> PointDef:
        """The point called ``name``; unknown names are a KeyError listing the model's points."""
        for p in self.points:
            if p.name == name:
                return p
        known = ", ".join(p.name for p in self.points)
        raise KeyError(f"SunSpec model {self.model_id} has no point {name!r}; points: {known}")

    def has(self, name: str) -> bool:
        """True when the model defines a point called ``name``."""
        return any(p.name == name for p in self.points)

    def image(self, values: Mapping[str, Raw | None]) -> list[int]:
        """The model's registers (``ID``, ``L``, then its points) with ``values`` by point name (raw,
        unscaled); points left out hold their "not implemented" sentinel."""
        if self.has_groups:
            raise ValueError(f"model {self.model_id} has repeating groups, which are not mapped")
        for name in values:
            self.point(name)
        regs: list[int] = []
        for p in self.points:
            if p.name == "ID":
                regs += p.encode(self.model_id)
            elif p.name == "L":
                regs += p.encode(self.length)
            else:
                regs += p.encode(values.get(p.name))
        return regs


@cache
def model_def(model_id: int) -> ModelDef:
    """The definition of SunSpec model ``model_id``, read from pysunspec2's model JSON."""
    try:
        raw: dict[str, Any] = ss_device.get_model_def(model_id)
    except ss_mdef.ModelDefinitionError as err:
        raise KeyError(f"pysunspec2 has no definition of SunSpec model {model_id}: {err}") from err
    group = raw["group"]
    points: list[PointDef] = []
    offset = 0
    for p in group["points"]:
        ptype = str(p["type"])
        size = int(p.get("size") or ss_mdef.point_type_info[ptype]["len"])
        sf = p.get("sf")
        points.append(
            PointDef(
                name=str(p["name"]),
                type=ptype,
                offset=offset,
                size=size,
                sf=sf if sf is None or isinstance(sf, str) else int(sf),
                units=p.get("units"),
                writable=p.get("access") == "RW",
                mandatory=p.get("mandatory") == "M",
            )
        )
        offset += size
    return ModelDef(model_id, str(group["name"]), tuple(points), bool(group.get("groups")))


def fit_sf(value: float, ptype: str, finest: int = -3, coarsest: int = 10) -> int:
    """The smallest scale factor in [``finest``, ``coarsest``] at which ``value`` fits ``ptype``
    without touching its sentinel, so an image keeps as many digits as the register allows.

    >>> fit_sf(2300.0, "int16"), fit_sf(230.0, "uint16", finest=-1), fit_sf(-45000.0, "int16", finest=0)
    (-1, -1, 1)
    """
    fmt = _FORMATS[ptype]
    bits = struct.calcsize(fmt) * 8
    signed = fmt.islower()
    hi = 2 ** (bits - 1) - 1 if signed else 2**bits - 2
    lo = -hi if signed else 0
    for sf in range(finest, coarsest + 1):
        raw = round(value / 10.0**sf)
        if lo <= raw <= hi:
            return sf
    raise ValueError(f"{value} does not fit a {ptype} at any scale factor up to {coarsest}")


def to_raw(value: float, sf: int) -> int:
    """``value`` in engineering units as the integer a register holds at scale factor ``sf``."""
    return round(value / 10.0**sf)


class ModelReading:
    """The registers of one model as read from a device, decoded point by point.

    ``device`` names the device in errors. ``registers`` starts at the model's ``ID`` register and
    may be longer than the fixed block (repeating groups follow it).
    """

    def __init__(self, model: ModelDef, registers: Sequence[int], device: str) -> None:
        need = model.length + 2
        if len(registers) < need:
            raise ValueError(
                f"{device}: model {model.model_id} needs {need} registers, got {len(registers)}"
            )
        self.model, self.device = model, device
        self.registers: tuple[int, ...] = tuple(registers)

    def raw(self, name: str) -> Raw | None:
        """The point's raw (unscaled) value, None when not implemented."""
        p = self.model.point(name)
        return p.decode(self.registers[p.offset : p.offset + p.size])

    def scale_factor(self, name: str) -> int | None:
        """The scale factor exponent of point ``name``; None when its ``sunssf`` point is not
        implemented (then the point's value is unusable)."""
        sf = self.model.point(name).sf
        if sf is None:
            return 0
        if isinstance(sf, int):
            return sf
        raw = self.raw(sf)
        if raw is None:
            return None
        exponent = int(raw)
        if not SF_MIN <= exponent <= SF_MAX:
            # 10**400 overflows a float and 10**-400 reads as 0 kW: neither is a measurement
            raise DeviceDataError(
                self.device,
                f"{self.model.model_id}.{sf}",
                exponent,
                f"a scale factor outside the SunSpec range {SF_MIN}..{SF_MAX}",
            )
        return exponent

    def value(self, name: str) -> float | None:
        """The point's value in its SunSpec units (raw × 10^sf), None when not implemented."""
        raw = self.raw(name)
        if raw is None:
            return None
        if isinstance(raw, str):
            raise TypeError(
                f"point {name} of model {self.model.model_id} is a string, not a number"
            )
        sf = self.scale_factor(name)
        if sf is None:
            return None
        return float(raw) * 10.0**sf

    def require(self, name: str) -> float:
        """Like ``value``, but a missing value is a DeviceDataError naming device, model and point."""
        v = self.value(name)
        if v is None:
            p = self.model.point(name)
            regs = self.registers[p.offset : p.offset + p.size]
            shown = "/".join(f"0x{r:04X}" for r in regs)
            raise DeviceDataError(
                self.device,
                f"{self.model.model_id}.{name}",
                shown,
                f"the SunSpec 'not implemented' value (or its scale factor {p.sf} is); "
                "check that the device's firmware fills this point",
            )
        if not math.isfinite(v):
            raise DeviceDataError(self.device, f"{self.model.model_id}.{name}", v, "is not finite")
        return v


def device_image(models: Sequence[Sequence[int]]) -> list[int]:
    """A whole SunSpec register map: "SunS", each model's registers in order, then the end model."""
    regs = list(SUNS_MARKER)
    for m in models:
        regs += list(m)
    return [*regs, END_MODEL_ID, 0]
