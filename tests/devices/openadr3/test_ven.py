"""voltbridge's OpenADR 3 VEN against a VTN on loopback written to the spec's OpenAPI description:
authenticate, register, receive an ELRP-like event, hand it on, report the delivered kWh."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.devices.openadr.vtn import GUARD_S, Sink, StepClock
from tests.devices.openadr3.vtn import ENV, PROGRAM_ID, Vtn
from voltbridge.devices.openadr import NoticeCode, VenNotice
from voltbridge.devices.openadr3 import OpenADR3Ven

LA = ZoneInfo("America/Los_Angeles")
DAY = datetime(2026, 8, 20, tzinfo=LA)
NOW = DAY.replace(hour=10)
START = DAY.replace(hour=17)  # ELRP: 2 h inside the 16:00-21:00 local window, 2 USD/kWh
END = DAY.replace(hour=19)


def descriptor(payload_type: str, units: str, currency: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "objectType": "EVENT_PAYLOAD_DESCRIPTOR",
        "payloadType": payload_type,
        "units": units,
    }
    if currency is not None:
        out["currency"] = currency
    return out


def elrp(
    start: datetime = START, hours: int = 2, export_kw: float = 5.0, usd_per_kwh: float = 2.0
) -> dict[str, Any]:
    """An eventRequest body: hourly intervals asking ``export_kw`` out, paying ``usd_per_kwh``."""
    payloads = [
        {"type": "DISPATCH_SETPOINT", "values": [-export_kw]},
        {"type": "EXPORT_PRICE", "values": [usd_per_kwh]},
    ]
    return {
        "eventName": "ELRP grid event",
        "payloadDescriptors": [
            descriptor("DISPATCH_SETPOINT", "KW"),
            descriptor("EXPORT_PRICE", "KWH", "USD"),
        ],
        "intervalPeriod": {"start": start.isoformat(), "duration": "PT1H"},
        "intervals": [{"id": i, "payloads": payloads} for i in range(hours)],
    }


def codes(ven: OpenADR3Ven) -> list[NoticeCode]:
    return [n.code for n in ven.notices]


async def started(**config: Any) -> tuple[Vtn, OpenADR3Ven, StepClock, Sink]:
    vtn = Vtn()
    await vtn.start()
    clock, sink = StepClock(NOW), Sink()
    ven = OpenADR3Ven(vtn.config(**config), sink, clock, environ=ENV)
    return vtn, ven, clock, sink


def feed_elrp_telemetry(ven: OpenADR3Ven) -> float:
    """Grid power every 15 min over the event; returns the delivered kWh worked out by hand."""
    ven.record_grid_power(START - timedelta(minutes=5), 1.0)  # importing before: not counted
    for minute, grid_kw in [(0, -6.0), (15, -6.0), (30, -6.0), (45, -6.0)]:
        ven.record_grid_power(START + timedelta(minutes=minute), grid_kw)
    for minute, grid_kw in [(60, -4.0), (75, -4.0), (90, 1.0), (105, 1.0)]:
        ven.record_grid_power(START + timedelta(minutes=minute), grid_kw)
    ven.record_grid_power(END, 2.0)
    return 6.0 * 1.0 + 4.0 * 0.5 - 1.0 * 0.5  # kW x h: out 6 kW 1 h, 4 kW 30 min, in 1 kW 30 min


def test_elrp_event_received_and_delivered_energy_reported() -> None:
    async def go() -> None:
        vtn, ven, clock, sink = await started()
        try:
            vtn.publish("elrp-1", elrp())
            await ven.step()
            assert ven.ven_id == "ven-1" and ven.program_id == PROGRAM_ID
            assert [v["venName"] for v in vtn.vens.values()] == ["home-ven-1"]
            (ev,) = sink.events
            assert (ev.event_id, ev.program, ev.kind, ev.source) == (
                "elrp-1",
                "elrp",
                "export",
                "openadr3",
            )
            assert (ev.requested_kw, ev.payment_per_kwh) == (5.0, 2.0)
            assert ev.start == datetime(2026, 8, 21, 0, 0, tzinfo=UTC)  # 17:00 PDT
            assert ev.end == datetime(2026, 8, 21, 2, 0, tzinfo=UTC)
            assert NoticeCode.EVENT_RECEIVED in codes(ven)
            expected_kwh = feed_elrp_telemetry(ven)
            clock.advance_to(END + timedelta(minutes=1))
            await ven.step()
            (report,) = vtn.reports
            assert report["eventID"] == "elrp-1" and report["clientName"] == "home-ven-1"
            (resource,) = report["resources"]
            (interval,) = resource["intervals"]
            assert interval["payloads"][0]["type"] == "DELTA_USAGE"
            assert interval["payloads"][0]["values"] == [pytest.approx(-expected_kwh)]
            assert resource["intervalPeriod"]["duration"] == "PT7200S"
            assert ven.delivered["elrp-1"].energy_kwh == pytest.approx(expected_kwh)
            assert NoticeCode.REPORT_SENT in codes(ven)
            assert ven.events == {}  # reported: done with
            await ven.step()
            assert len(vtn.reports) == 1  # sent once
            assert vtn.invalid == []  # every body both ways conforms to the OpenAPI schemas
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_run_polls_on_the_injected_clock() -> None:
    """The loop sleeps ``poll_s`` on the clock; the next event arrives when the clock says so."""

    async def go() -> None:
        vtn = Vtn()
        await vtn.start()
        clock, sink = StepClock(NOW), Sink()
        received = asyncio.Queue[VenNotice]()

        def on_notice(notice: VenNotice) -> None:
            if notice.code == NoticeCode.EVENT_RECEIVED:
                received.put_nowait(notice)

        ven = OpenADR3Ven(vtn.config(), sink, clock, on_notice=on_notice, environ=ENV)
        vtn.publish("elrp-1", elrp())
        task = asyncio.create_task(ven.run())
        try:
            async with asyncio.timeout(GUARD_S):
                first = await received.get()
            assert first.data["event_id"] == "elrp-1"
            vtn.publish("elrp-2", elrp(start=START + timedelta(days=1)))
            assert received.empty()
            clock.advance_to(NOW + timedelta(seconds=60))
            async with asyncio.timeout(GUARD_S):
                second = await received.get()
            assert second.data["event_id"] == "elrp-2"
            assert second.at == NOW + timedelta(seconds=60)
            assert vtn.requests.count("POST /auth/token") == 1  # the token is reused
        finally:
            ven.stop()
            clock.advance_to(clock.now() + timedelta(hours=1))
            await asyncio.wait_for(task, GUARD_S)
            await vtn.stop()
        assert [e.event_id for e in sink.events] == ["elrp-1", "elrp-2"]

    asyncio.run(go())


def test_existing_ven_is_found_not_created_again() -> None:
    async def go() -> None:
        vtn, ven, clock, _sink = await started()
        other = OpenADR3Ven(vtn.config(), Sink(), clock, environ=ENV)
        try:
            await ven.step()
            await other.step()
            assert ven.ven_id == other.ven_id == "ven-1"
            assert len(vtn.vens) == 1
            assert vtn.requests.count("POST /openadr3/vens") == 1
        finally:
            await ven.close()
            await other.close()
            await vtn.stop()

    asyncio.run(go())


def test_skipped_event_gets_no_report() -> None:
    async def go() -> None:
        vtn, ven, clock, sink = await started()
        sink.choices["elrp-1"] = "skip"
        try:
            vtn.publish("elrp-1", elrp())
            await ven.step()
            feed_elrp_telemetry(ven)
            clock.advance_to(END + timedelta(minutes=1))
            await ven.step()
            assert vtn.reports == []
            assert ven.notices[-1].code == NoticeCode.OPT_SENT
            assert "skipped" in ven.notices[-1].message
            assert "elrp-1" not in ven.delivered
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_undecided_follows_default_choice_skip() -> None:
    async def go() -> None:
        vtn, ven, clock, _sink = await started(default_choice="skip")
        try:
            vtn.publish("elrp-1", elrp())
            await ven.step()
            clock.advance_to(END + timedelta(minutes=1))
            await ven.step()
            assert vtn.reports == []
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_announced_outage_and_cancellations() -> None:
    """ALERT_POSSIBLE_OUTAGE becomes an announced outage; an event deleted on the VTN, or given
    a window of no length (User Guide 7.9), is cancelled."""

    async def go() -> None:
        vtn, ven, _clock, sink = await started()
        outage_start = DAY.replace(hour=14) + timedelta(days=1)
        try:
            vtn.publish(
                "psps-1",
                {
                    "eventName": "PSPS",
                    "intervalPeriod": {"start": outage_start.isoformat(), "duration": "PT48H"},
                    "intervals": [
                        {
                            "id": 0,
                            "payloads": [
                                {"type": "ALERT_POSSIBLE_OUTAGE", "values": ["PSPS in your area"]}
                            ],
                        }
                    ],
                },
            )
            vtn.publish("elrp-1", elrp())
            vtn.publish("elrp-2", elrp(start=START + timedelta(days=2)))
            await ven.step()
            (outage,) = sink.outages
            assert (outage.outage_id, outage.hours, outage.source) == ("psps-1", 48.0, "openadr3")
            assert outage.start == outage_start and outage.notice_h() == pytest.approx(28.0)
            assert [e.event_id for e in sink.events] == ["elrp-1", "elrp-2"]
            del vtn.events["elrp-1"]
            withdrawn = elrp()
            withdrawn["intervalPeriod"] = {"start": "0001-01-01", "duration": "PT0S"}
            vtn.publish("elrp-2", withdrawn)
            await ven.step()
            assert sorted(sink.cancelled) == ["elrp-1", "elrp-2"]
            assert set(ven.events) == set() and set(ven.outages) == {"psps-1"}
            assert codes(ven).count(NoticeCode.EVENT_CANCELLED) == 2
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())
