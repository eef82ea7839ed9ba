"""Shipped program definitions load, carry the figures the issue names, and cite every figure."""

from __future__ import annotations

import pytest

from voltbridge.programs import shipped


def test_the_shipped_programs_are_there_and_valid() -> None:
    assert {"elrp", "octopus-power-pack", "fixed-export"} <= set(shipped.shipped_ids())
    assert [p.id for p in shipped.list_shipped()] == shipped.shipped_ids()


@pytest.mark.parametrize("name", shipped.shipped_ids())
def test_every_figure_has_a_source(name: str) -> None:
    table = shipped.shipped_table(name)
    assert shipped.unsourced_figures(table) == []
    paths = set(shipped.figure_paths(table))
    for source in table["sources"]:
        assert set(source["figures"]) <= paths, f"{name}: a source cites a figure not in the file"
        assert source["url"] and source["says"] and "verified" in source


def test_elrp_figures() -> None:
    elrp = shipped.load_shipped("elrp")
    assert elrp.event is not None and elrp.window is not None
    assert elrp.event.per_kwh == 2.0
    assert (elrp.window.start_hour, elrp.window.end_hour) == (16, 21)
    assert elrp.window.months == (5, 6, 7, 8, 9, 10)
    assert (elrp.window.min_event_h, elrp.window.max_event_h) == (1.0, 5.0)
    assert elrp.limits.max_hours_per_year == 60.0
    assert elrp.opt_out.penalty_per_event == 0.0 and elrp.opt_out.penalty_per_kwh_short == 0.0
    assert elrp.event.baseline.rule == "10-of-10"


def test_unverified_figures_are_marked() -> None:
    power_pack = shipped.shipped_table("octopus-power-pack")
    unverified = {f for s in power_pack["sources"] if not s["verified"] for f in s["figures"]}
    assert "credit.min_plugged_in_h_per_day" in unverified
    loaded = shipped.load_shipped("octopus-power-pack")
    assert loaded.credit is not None and loaded.credit.min_plugged_in_h_per_day == 6.0


def test_an_unknown_id_names_the_known_ones() -> None:
    with pytest.raises(shipped.UnknownProgram) as info:
        shipped.load_shipped("elrpp")
    assert "elrpp" in str(info.value) and "elrp, fixed-export" in str(info.value)


def test_a_site_may_override_a_shipped_figure_or_define_its_own() -> None:
    cheaper = shipped.resolve_program("elrp", {"event": {"per_kwh": 1.0}})
    assert cheaper.event is not None and cheaper.event.per_kwh == 1.0
    assert cheaper.event.baseline.rule == "10-of-10" and cheaper.sources == ()
    own = shipped.resolve_program("my-vpp", {"currency": "EUR", "capacity": {"per_kw_month": 3.0}})
    assert own.id == "my-vpp" and own.capacity is not None
    with pytest.raises(shipped.UnknownProgram):
        shipped.resolve_program("my-vpp", None)
