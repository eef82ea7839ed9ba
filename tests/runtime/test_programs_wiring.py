"""A VTN's events reach the controller and the household's answers reach the VTN: a real openleadr
VTN on 127.0.0.1, the real VEN, the runtime's sink and a real controller on a virtual clock."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.control.harness import T0, rig
from tests.devices.openadr.vtn import GUARD_S, Vtn, event, next_opts
from voltbridge.core.status import EventKind
from voltbridge.devices.openadr import OpenADRVen
from voltbridge.runtime.programs import ControllerSink, home_limit_kw

START = T0 + timedelta(hours=20)  # the next evening
ELRP = [("LOAD_DISPATCH", "setpoint", -5.0), ("ELECTRICITY_PRICE", "price", 2.0)]


def test_vtn_events_reach_the_plan_and_answers_reach_the_vtn() -> None:
    r = rig()
    controller = r.controller
    controller.programs.configure({"elrp": "take_part"})

    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        vtn.live = [
            event("elrp-1", START, timedelta(hours=2), ELRP),
            event("old", T0 - timedelta(hours=5), timedelta(hours=1), ELRP),
            event(
                "psps-1",
                START + timedelta(hours=6),
                timedelta(hours=24),
                [("SIMPLE", "level", 1.0)],
                market_context="oadr://utility.example/psps",
            ),
        ]
        sink = ControllerSink(controller)
        config = vtn.config(program=None, charger_limit_kw=None).resolved(
            "elrp", home_limit_kw(r.site)
        )
        ven = OpenADRVen(config, sink, r.clock, on_notice=sink.notice)
        controller.programs.grid_listeners.append(ven.record_grid_power)
        try:
            async with asyncio.timeout(GUARD_S):
                await ven.step()
            opts = await next_opts(vtn, 3)
            assert opts == {"elrp-1": "optIn", "old": "optOut", "psps-1": "optIn"}
            taken = controller.programs.get("elrp-1")
            assert taken is not None and taken.payment_per_kwh == 2.0
            assert [o.outage_id for o in controller.announced_outages()] == ["psps-1"]
            await controller.tick()  # the new event and the outage ask for a plan at once
            state = r.plans.calls[-1]
            assert [e.event_id for e in state.events] == ["elrp-1"]
            assert [o.outage_id for o in state.announced] == ["psps-1"]
            controller.programs.choose("elrp-1", "skip", "dashboard")
            async with asyncio.timeout(GUARD_S):
                await ven.step()
            assert await next_opts(vtn, 1) == {"elrp-1": "optOut"}
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())
    refused = [
        e for e in controller.events if e.device == "openadr" and e.kind is EventKind.WARNING
    ]
    assert any("old" in e.message for e in refused), [e.message for e in controller.events]


def test_one_ven_per_program_with_a_vtn_filled_from_the_site() -> None:
    import tomllib
    from pathlib import Path

    from voltbridge.config import parse_site
    from voltbridge.control.site_model import control_site
    from voltbridge.runtime.programs import start_vens

    example = Path(__file__).parents[2] / "src/voltbridge/examples/ev9-california.toml"
    raw = tomllib.loads(example.read_text())
    raw["programs"] = [
        {
            "id": "elrp",
            "openadr": {"vtn_url": "http://127.0.0.1:9/OpenADR2/Simple/2.0b", "ven_name": "h"},
        },
        {"id": "fixed-export"},  # no VTN: no VEN
    ]
    site = parse_site(raw, example)
    control = control_site(site)
    r = rig()
    [ven] = start_vens(site, control, r.controller, r.clock)
    assert ven.config.program == "elrp"
    # the EV9 on its Quasar 2 gives at most its charger's discharge power
    assert ven.config.charger_limit_kw == sum(v.max_discharge_kw for v in control.vehicles)
    assert ven.record_grid_power in r.controller.programs.grid_listeners


def test_an_openadr3_vtn_gets_its_ven_too() -> None:
    import tomllib
    from pathlib import Path

    from voltbridge.config import parse_site
    from voltbridge.control.site_model import control_site
    from voltbridge.devices.openadr3 import OpenADR3Ven
    from voltbridge.runtime.programs import start_vens

    example = Path(__file__).parents[2] / "src/voltbridge/examples/ev9-california.toml"
    raw = tomllib.loads(example.read_text())
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Connecting to an OpenADR 3 VTN")[1]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    [entry] = tomllib.loads(block)["programs"]
    entry["openadr3"].pop("ca_file")  # exists only on a real home
    entry["openadr3"]["vtn_url"] = "http://127.0.0.1:9/openadr3/3.1.0"
    raw["programs"] = [entry]
    site = parse_site(raw, example)
    r = rig()
    [ven] = start_vens(site, control_site(site), r.controller, r.clock)
    assert isinstance(ven, OpenADR3Ven) and ven.config.program == "elrp"
    assert ven.record_grid_power in r.controller.programs.grid_listeners
