"""SunSpec register maps: every mapped model builds, round-trips, and reads the same in pysunspec2."""

from __future__ import annotations

import math

import pytest
import sunspec2.device as ss_device
from hypothesis import given
from hypothesis import strategies as st

from voltbridge.devices.modbus.errors import DeviceDataError
from voltbridge.devices.modbus.sunspec_map import (
    MAPPED_MODELS,
    ModelReading,
    PointDef,
    device_image,
    fit_sf,
    model_def,
    to_raw,
)

_SAMPLES = {
    "int16": -1234,
    "uint16": 4321,
    "count": 3,
    "acc16": 77,
    "enum16": 4,
    "bitfield16": 0b101,
    "sunssf": -2,
    "int32": -123456,
    "uint32": 3_000_000_000,
    "acc32": 123_456_789,
    "enum32": 2,
    "bitfield32": 1 << 20,
    "int64": -(2**40),
    "uint64": 2**50,
    "acc64": 2**45,
    "float32": 1.5,
}


def _sample(p: PointDef) -> int | float | str | None:
    if p.type == "string":
        return "x" * min(3, 2 * p.size)
    return _SAMPLES.get(p.type)


@pytest.mark.parametrize("model_id", MAPPED_MODELS)
def test_every_mapped_model_builds_and_reads_back_in_voltbridge_and_pysunspec2(
    model_id: int,
) -> None:
    m = model_def(model_id)
    assert not m.has_groups
    offsets = [p.offset for p in m.points]
    assert offsets == sorted(offsets) and offsets[0] == 0
    assert all(a.offset + a.size == b.offset for a, b in zip(m.points, m.points[1:], strict=False))
    values = {p.name: _sample(p) for p in m.points if p.name not in ("ID", "L")}
    regs = m.image(values)
    assert len(regs) == m.length + 2 and regs[:2] == [model_id, m.length]
    ours = ModelReading(m, regs, device="test")
    data = b"".join(r.to_bytes(2, "big") for r in regs)
    theirs = ss_device.Model(model_id=model_id, model_addr=0, model_len=m.length, data=data)
    for name, v in values.items():
        assert ours.raw(name) == v, name
        if v is not None and m.point(name).type not in ("pad",):
            assert getattr(theirs, name).value == v, name


@pytest.mark.parametrize("model_id", MAPPED_MODELS)
def test_an_empty_image_reads_not_implemented_everywhere(model_id: int) -> None:
    m = model_def(model_id)
    r = ModelReading(m, m.image({}), device="test")
    assert all(r.raw(p.name) is None for p in m.points if p.name not in ("ID", "L"))


def test_offsets_follow_the_published_maps() -> None:
    # SunSpec's published layouts: meter 203 W at offset 18, 124 InWRte at 13, 802 SoC at 11
    assert model_def(203).point("W").offset == 18
    assert model_def(124).point("InWRte").offset == 13
    assert model_def(802).point("SoC").offset == 11
    assert model_def(1).length == 66 and model_def(203).length == 105


def test_a_sentinel_in_a_needed_point_is_a_device_data_error_naming_it() -> None:
    m = model_def(203)
    r = ModelReading(m, m.image({"W_SF": 0}), device="grid meter")
    assert r.value("W") is None
    with pytest.raises(DeviceDataError, match=r"grid meter: point 203\.W read '0x8000'"):
        r.require("W")
    r = ModelReading(m, m.image({"W": 100}), device="grid meter")  # W_SF not implemented
    with pytest.raises(DeviceDataError, match="W_SF"):
        r.require("W")


def test_float_nan_reads_not_implemented() -> None:
    p = PointDef("F", "float32", 0, 2, None, None, False, False)
    assert p.decode(p.encode(None)) is None
    assert p.decode(p.encode(math.nan)) is None
    assert p.decode(p.encode(2.5)) == 2.5


def test_values_that_do_not_fit_name_the_point() -> None:
    with pytest.raises(ValueError, match="point W: 40000 does not fit a SunSpec int16"):
        model_def(203).image({"W": 40000})
    with pytest.raises(KeyError, match="no point 'Watts'"):
        model_def(203).image({"Watts": 1})


def test_device_image_opens_with_suns_and_ends_with_the_end_model() -> None:
    regs = device_image([model_def(1).image({})])
    assert regs[:2] == [0x5375, 0x6E53] and regs[-2:] == [0xFFFF, 0]


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
    st.sampled_from(["int16", "int32"]),
)
def test_fit_sf_keeps_the_value_within_half_a_step(value: float, ptype: str) -> None:
    sf = fit_sf(value, ptype, finest=-3)
    raw = to_raw(value, sf)
    p = PointDef("X", ptype, 0, 1 if ptype == "int16" else 2, None, None, False, False)
    assert p.decode(p.encode(raw)) == raw  # fits and is not the sentinel
    assert abs(raw * 10.0**sf - value) <= 0.5 * 10.0**sf + 1e-9
