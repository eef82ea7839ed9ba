"""voltbridge's VEN against a real openleadr VTN on loopback: an ELRP-like event in, optIn out,
delivered energy reported; and every bad input a clear notice, nothing raised, nothing unsafe."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.devices.openadr.vtn import GUARD_S, Sink, StepClock, Vtn, event, next_opts
from voltbridge.devices.openadr import NoticeCode, OpenADRVen

LA = ZoneInfo("America/Los_Angeles")
DAY = datetime(2026, 7, 15, tzinfo=LA)
NOW = DAY.replace(hour=10)
START = DAY.replace(hour=17)  # an ELRP event: 2 h inside the 16:00-21:00 local window
END = DAY.replace(hour=19)
ELRP = [("LOAD_DISPATCH", "setpoint", -5.0), ("ELECTRICITY_PRICE", "price", 2.0)]


def codes(ven: OpenADRVen) -> list[NoticeCode]:
    return [n.code for n in ven.notices]


def test_elrp_event_opt_in_and_delivered_energy_report() -> None:
    """The whole path on the VEN's own loop: register, take the event, optIn, report the kWh."""

    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        vtn.live = [event("elrp-1", START, END - START, ELRP)]
        clock, sink = StepClock(NOW), Sink()
        ven = OpenADRVen(vtn.config(), sink, clock)
        task = asyncio.create_task(ven.run())
        try:
            assert await next_opts(vtn, 1) == {"elrp-1": "optIn"}
            assert vtn.registered_measurements == ["RealEnergy kWh", "RealPower kW"]
            (ev,) = sink.events
            assert (ev.event_id, ev.program, ev.kind) == ("elrp-1", "elrp", "export")
            assert (ev.requested_kw, ev.payment_per_kwh, ev.source) == (5.0, 2.0, "openadr2")
            assert ev.start == datetime(2026, 7, 16, 0, 0, tzinfo=UTC)  # 17:00 PDT
            assert ev.end == datetime(2026, 7, 16, 2, 0, tzinfo=UTC)
            # the controller measures: importing before, 6 kW out in the first hour, 3 kW out
            # in the second, importing after; one sample a minute
            ven.record_grid_power(START - timedelta(minutes=5), 1.0)
            for minute in range(120):
                ven.record_grid_power(
                    START + timedelta(minutes=minute), -6.0 if minute < 60 else -3.0
                )
            ven.record_grid_power(END, 2.0)
            clock.advance_to(END + timedelta(minutes=1))
            async with asyncio.timeout(GUARD_S):
                energy = await vtn.energy.get()
                power = await vtn.power.get()
        finally:
            ven.stop()
            clock.advance_to(clock.now() + timedelta(hours=1))
            await asyncio.wait_for(task, GUARD_S)
            await vtn.stop()
        expected_kwh = 6.0 * 1.0 + 3.0 * 1.0  # kW x h, by hand
        assert energy == [(START.astimezone(UTC), expected_kwh)]
        assert power == [(START.astimezone(UTC), expected_kwh / 2.0)]
        assert ven.delivered["elrp-1"].energy_kwh == expected_kwh
        assert NoticeCode.REPORT_SENT in codes(ven)
        assert not [n for n in ven.notices if n.level == "error"]

    asyncio.run(go())


def test_bad_events_are_refused_or_clipped_each_with_a_notice() -> None:
    """Past, overlapping, unknown-signal and import-setpoint events get optOut; an event asking
    more than the charger gives is clipped; an outage is handed on as one."""

    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        vtn.live = [
            event("past", NOW - timedelta(hours=3), timedelta(hours=1), ELRP),
            event("big", START, END - START, [("LOAD_DISPATCH", "setpoint", -20.0)]),
            event("overlap", START + timedelta(hours=1), timedelta(hours=2), ELRP),
            event(
                "unknown", DAY.replace(hour=20), timedelta(hours=1), [("BID_LOAD", "setpoint", 1.0)]
            ),
            event(
                "import",
                DAY.replace(hour=20),
                timedelta(hours=1),
                [("LOAD_DISPATCH", "setpoint", 3.0)],
            ),
            event(
                "psps",
                NOW + timedelta(days=1),
                timedelta(hours=48),
                [("SIMPLE", "level", 1.0)],
                market_context="oadr://utility.example/psps",
            ),
        ]
        sink = Sink()
        ven = OpenADRVen(vtn.config(), sink, StepClock(NOW))
        try:
            await ven.step()
            opts = await next_opts(vtn, 6)
        finally:
            await ven.close()
            await vtn.stop()
        assert opts == {
            "past": "optOut",
            "big": "optIn",
            "overlap": "optOut",
            "unknown": "optOut",
            "import": "optOut",
            "psps": "optIn",
        }
        assert [e.event_id for e in sink.events] == ["big"]
        assert sink.events[0].requested_kw == 7.4
        assert sink.events[0].payment_per_kwh == 2.0  # the program's, the event had no price
        assert [(o.outage_id, o.hours) for o in sink.outages] == [("psps", 48.0)]
        by_event = {str(n.data.get("event_id")): n for n in ven.notices if "event_id" in n.data}
        assert "ended at" in by_event["past"].message
        assert "overlaps event 'big'" in by_event["overlap"].message
        assert "BID_LOAD/setpoint" in by_event["unknown"].message
        assert "caps import" in by_event["import"].message
        clipped = [n for n in ven.notices if n.code == NoticeCode.EVENT_CLIPPED]
        assert (
            len(clipped) == 1
            and "asks 20 kW" in clipped[0].message
            and "7.4 kW" in clipped[0].message
        )

    asyncio.run(go())


def test_household_choice_answers_and_changes_the_opt() -> None:
    """A skipped event is answered optOut; changing the choice sends the new answer."""

    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        vtn.live = [event("elrp-2", START, END - START, ELRP)]
        sink = Sink(choices={"elrp-2": "skip"})
        ven = OpenADRVen(vtn.config(), sink, StepClock(NOW))
        try:
            await ven.step()
            first = await next_opts(vtn, 1)
            await ven.step()  # nothing changed: nothing sent
            assert vtn.opts.empty()
            sink.choices["elrp-2"] = "take_part"
            await ven.step()
            second = await next_opts(vtn, 1)
        finally:
            await ven.close()
            await vtn.stop()
        assert (first, second) == ({"elrp-2": "optOut"}, {"elrp-2": "optIn"})

    asyncio.run(go())


def test_events_arrive_by_poll_and_a_cancellation_is_handed_on() -> None:
    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        sink = Sink()
        ven = OpenADRVen(vtn.config(), sink, StepClock(NOW))
        first = event("elrp-3", START, END - START, ELRP)
        try:
            await ven.step()
            assert ven.registered and sink.events == []
            second = event("elrp-3b", DAY.replace(hour=20), timedelta(hours=1), ELRP)
            vtn.to_poll = [[first], [second]]  # two messages waiting: one round takes both
            await ven.step()
            assert await next_opts(vtn, 2) == {"elrp-3": "optIn", "elrp-3b": "optIn"}
            vtn.to_poll = [
                [event("elrp-3", START, END - START, ELRP, modification=1, status="cancelled")]
            ]
            await ven.step()
            assert await next_opts(vtn, 1) == {"elrp-3": "optIn"}  # acknowledged
        finally:
            await ven.close()
            await vtn.stop()
        assert sink.cancelled == ["elrp-3"] and list(ven.events) == ["elrp-3b"]

    asyncio.run(go())


def test_vtn_that_refuses_registration_is_one_error_and_retried() -> None:
    async def go() -> None:
        vtn = Vtn(accept=False)
        await vtn.start()
        ven = OpenADRVen(vtn.config(retry_s=30.0), Sink(), StepClock(NOW))
        try:
            await ven.step()
            await ven.step()
            assert not ven.registered
            vtn.accept = True
            await ven.step()
        finally:
            await ven.close()
            await vtn.stop()
        assert codes(ven).count(NoticeCode.REGISTRATION_REFUSED) == 1
        assert "refused to register VEN 'home-1'" in ven.notices[0].message
        assert ven.registered and codes(ven)[-1] == NoticeCode.REGISTERED

    asyncio.run(go())


def test_vtn_that_disappears_is_one_error_and_the_report_waits() -> None:
    """The VTN goes away during an event: one notice, no exception, the report is kept and sent
    once a VTN answers on that address again."""

    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        vtn.live = [event("elrp-4", START, END - START, ELRP)]
        clock = StepClock(NOW)
        ven = OpenADRVen(vtn.config(), Sink(), clock)
        try:
            await ven.step()
            assert await next_opts(vtn, 1) == {"elrp-4": "optIn"}
        finally:
            await vtn.stop()
        ven.record_grid_power(START, -4.0)
        ven.record_grid_power(START + timedelta(minutes=4), -4.0)
        clock.advance_to(START + timedelta(minutes=5))
        await ven.step()
        clock.advance_to(END)
        await ven.step()
        assert codes(ven).count(NoticeCode.VTN_UNREACHABLE) == 1
        assert ven.delivered["elrp-4"].energy_kwh == 4.0 * 9 / 60  # 4 min + one 5-min hold
        assert "elrp-4" in ven.events  # still waiting to be reported
        assert NoticeCode.TELEMETRY in codes(ven)  # most of the window had no telemetry
        back = Vtn(port=vtn.port)
        await back.start()
        try:
            await ven.step()
            async with asyncio.timeout(GUARD_S):
                report = await back.reports.get()
        finally:
            await ven.close()
            await back.stop()
        values = {
            i["report_payload"]["r_id"]: i["report_payload"]["value"] for i in report["intervals"]
        }
        assert values["delivered-energy"] == 0.6  # 4 kW x 9 min, by hand
        assert codes(ven)[-2:] == [NoticeCode.VTN_RECOVERED, NoticeCode.REPORT_SENT]
        assert "elrp-4" not in ven.events

    asyncio.run(go())


def test_unsigned_answers_are_refused_when_the_vtn_must_sign() -> None:
    """With a VTN fingerprint configured, the unsigned test VTN's answers are acted on never."""

    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        vtn.live = [event("elrp-5", START, END - START, ELRP)]
        sink = Sink()
        config = vtn.config(vtn_fingerprint=":".join(["AB"] * 10))
        ven = OpenADRVen(config, sink, StepClock(NOW))
        try:
            await ven.step()
        finally:
            await ven.close()
            await vtn.stop()
        assert not ven.registered and sink.events == []
        assert codes(ven) == [NoticeCode.VTN_REJECTED]

    asyncio.run(go())


def test_a_controller_that_fails_on_an_event_gets_optout_and_a_notice() -> None:
    class Broken(Sink):
        def on_event(self, event: object) -> None:
            raise RuntimeError("store is read-only")

    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        vtn.live = [event("elrp-6", START, END - START, ELRP)]
        ven = OpenADRVen(vtn.config(), Broken(), StepClock(NOW))
        try:
            await ven.step()
            opts = await next_opts(vtn, 1)
        finally:
            await ven.close()
            await vtn.stop()
        assert opts == {"elrp-6": "optOut"} and "elrp-6" not in ven.events
        (fault,) = [n for n in ven.notices if n.code == NoticeCode.SOFTWARE_FAULT]
        assert "store is read-only" in fault.message and fault.level == "error"

    asyncio.run(go())
