"""Bad input and faults at the OpenADR 3 VEN: each a clear notice, nothing raised, nothing taken
that should not be, nothing lost (a report waits for a VTN that went away)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.devices.openadr.vtn import Sink, StepClock
from tests.devices.openadr3.test_ven import (
    END,
    NOW,
    START,
    codes,
    elrp,
    feed_elrp_telemetry,
    started,
)
from tests.devices.openadr3.vtn import CLIENT_ID, ENV
from voltbridge.devices.openadr import NoticeCode
from voltbridge.devices.openadr3 import OpenADR3Config, OpenADR3Ven, session
from voltbridge.devices.openadr3.session import PAGE
from voltbridge.programs.events import AnnouncedOutage, ProgramEvent


def refusals(ven: OpenADR3Ven) -> dict[str, str]:
    return {
        str(n.data.get("event_id")): n.message
        for n in ven.notices
        if n.code == NoticeCode.EVENT_REFUSED
    }


def test_each_bad_event_is_refused_with_a_notice_and_the_good_ones_pass() -> None:
    async def go() -> None:
        vtn, ven, _clock, sink = await started()
        try:
            vtn.publish("elrp-1", elrp())
            vtn.publish("big", elrp(start=START + timedelta(days=1), export_kw=20.0))
            vtn.publish("overlap", elrp(start=START + timedelta(hours=1)))
            vtn.publish("past", elrp(start=START - timedelta(days=1)))
            unknown = elrp(start=START + timedelta(days=2))
            unknown["intervals"][0]["payloads"].append({"type": "CURVE", "values": [1.0]})
            vtn.publish("unknown", unknown)
            more_load = elrp(start=START + timedelta(days=3), export_kw=-3.0)
            vtn.publish("more-load", more_load)
            malformed: dict[str, dict[str, Any]] = {
                "no-intervals": {"intervals": []},
                "text-kw": {
                    "intervalPeriod": {"start": START.isoformat(), "duration": "PT1H"},
                    "intervals": [
                        {"id": 0, "payloads": [{"type": "DISPATCH_SETPOINT", "values": ["five"]}]}
                    ],
                },
                "bad-duration": {
                    "intervalPeriod": {"start": START.isoformat(), "duration": "2 hours"},
                    "intervals": elrp()["intervals"],
                },
                "no-timezone": {
                    "intervalPeriod": {"start": "2026-08-20T17:00:00", "duration": "PT1H"},
                    "intervals": elrp()["intervals"],
                },
                "months": {
                    "intervalPeriod": {"start": START.isoformat(), "duration": "P1M"},
                    "intervals": elrp()["intervals"],
                },
            }
            for event_id, body in malformed.items():
                vtn.publish(event_id, body, check=False)
            await ven.step()
            assert [e.event_id for e in sink.events] == ["elrp-1", "big"]
            assert sink.events[1].requested_kw == 7.0  # clipped to the charger
            (clipped,) = [n for n in ven.notices if n.code == NoticeCode.EVENT_CLIPPED]
            assert "20 kW" in clipped.message and clipped.data["event_id"] == "big"
            why = refusals(ven)
            assert set(why) == {"overlap", "past", "unknown", "more-load", *malformed}
            assert "overlaps event 'elrp-1'" in why["overlap"]
            assert "ended" in why["past"]
            assert "CURVE" in why["unknown"]
            assert "more load" in why["more-load"]
            assert "no intervals" in why["no-intervals"]
            assert "not a number" in why["text-kw"]
            assert "ISO 8601" in why["bad-duration"]
            assert "no timezone" in why["no-timezone"]
            assert "months" in why["months"]
            before = len(ven.notices)
            await ven.step()  # the same events again: no new notices, nothing new taken
            assert len(ven.notices) == before and len(sink.events) == 2
            assert NoticeCode.SOFTWARE_FAULT not in codes(ven)
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_an_event_refused_for_overlap_is_taken_once_the_other_is_cancelled() -> None:
    async def go() -> None:
        vtn, ven, _clock, sink = await started()
        try:
            vtn.publish("elrp-1", elrp())
            vtn.publish("overlap", elrp(start=START + timedelta(hours=1)))
            await ven.step()
            assert [e.event_id for e in sink.events] == ["elrp-1"]
            del vtn.events["elrp-1"]
            await ven.step()
            assert sink.cancelled == ["elrp-1"]
            await ven.step()
            assert [e.event_id for e in sink.events] == ["elrp-1", "overlap"]
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_a_taken_event_changed_into_a_bad_one_is_cancelled() -> None:
    async def go() -> None:
        vtn, ven, _clock, sink = await started()
        try:
            vtn.publish("elrp-1", elrp())
            await ven.step()
            vtn.publish("elrp-1", elrp(export_kw=-2.0))  # modified: now asks for more load
            await ven.step()
            assert sink.cancelled == ["elrp-1"] and ven.events == {}
            assert "more load" in refusals(ven)["elrp-1"]
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_vtn_that_goes_away_and_comes_back_gets_the_held_report() -> None:
    async def go() -> None:
        vtn, ven, clock, sink = await started()
        try:
            vtn.publish("elrp-1", elrp())
            await ven.step()
            await vtn.stop()  # the VTN goes away mid-event
            expected_kwh = feed_elrp_telemetry(ven)
            clock.advance_to(END + timedelta(minutes=1))
            await ven.step()
            await ven.step()
            assert codes(ven).count(NoticeCode.VTN_UNREACHABLE) == 1  # said once, not per try
            assert sink.cancelled == []  # a failed poll cancels nothing
            await vtn.start()  # back, same port, same data
            await ven.step()
            assert codes(ven).count(NoticeCode.VTN_RECOVERED) == 1
            (report,) = vtn.reports
            values = report["resources"][0]["intervals"][0]["payloads"][0]["values"]
            assert values == [pytest.approx(-expected_kwh)]
            assert vtn.invalid == []
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_token_renewed_when_it_expires_and_when_the_vtn_answers_401() -> None:
    async def go() -> None:
        vtn, ven, clock, _sink = await started()
        try:
            vtn.publish("elrp-1", elrp())
            await ven.step()
            clock.advance_to(NOW + timedelta(seconds=3600 - 61))
            await ven.step()
            assert vtn.requests.count("POST /auth/token") == 1
            clock.advance_to(NOW + timedelta(seconds=3600 - 59))  # within the renewal margin
            vtn.expires_in_s = 86400
            await ven.step()
            assert vtn.requests.count("POST /auth/token") == 2
            feed_elrp_telemetry(ven)
            clock.advance_to(END + timedelta(minutes=1))
            vtn.tokens.clear()  # the VTN restarted and forgot its tokens: 401
            await ven.step()
            assert NoticeCode.REGISTRATION_REFUSED in codes(ven)
            assert vtn.reports == [] and "elrp-1" in ven.delivered
            await ven.step()  # a new token, then the report
            assert len(vtn.reports) == 1
            assert vtn.requests.count("POST /auth/token") == 3
            assert NoticeCode.VTN_RECOVERED in codes(ven)
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_wrong_or_missing_credentials_are_a_notice_and_a_retry() -> None:
    async def go() -> None:
        vtn, _, clock, sink = await started()
        wrong = OpenADR3Ven(vtn.config(), sink, clock, environ={**ENV, "OADR3_SECRET": "guessed"})
        missing = OpenADR3Ven(vtn.config(), sink, clock, environ={})
        try:
            await wrong.step()
            await missing.step()
            await missing.step()
            assert wrong.ven_id is None and vtn.vens == {}
            assert codes(wrong) == [NoticeCode.REGISTRATION_REFUSED]
            assert "credentials" in wrong.notices[0].message
            assert codes(missing) == [NoticeCode.REGISTRATION_REFUSED]  # once, not per try
            assert "OADR3_ID is not set" in missing.notices[0].message
            wrong.http.environ = ENV  # the installer fixes it
            await wrong.step()
            assert wrong.ven_id == "ven-1"
        finally:
            await wrong.close()
            await missing.close()
            await vtn.stop()

    asyncio.run(go())


def test_report_refused_for_good_is_said_with_its_figure_and_not_resent() -> None:
    async def go() -> None:
        vtn, ven, clock, _sink = await started()
        vtn.report_status = 409
        try:
            vtn.publish("elrp-1", elrp())
            await ven.step()
            expected_kwh = feed_elrp_telemetry(ven)
            clock.advance_to(END + timedelta(minutes=1))
            await ven.step()
            await ven.step()
            refused = [n for n in ven.notices if n.code == NoticeCode.VTN_REJECTED]
            assert len(refused) == 1 and "409" in refused[0].message
            assert refused[0].data["energy_kwh"] == pytest.approx(expected_kwh)
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())


def test_unknown_program_and_failing_sink_are_notices() -> None:
    class FailingSink(Sink):
        def on_event(self, event: ProgramEvent) -> None:
            raise RuntimeError("controller busy")

        def on_outage(self, outage: AnnouncedOutage) -> None:
            raise RuntimeError("controller busy")

    async def go() -> None:
        vtn, _, clock, _ = await started()
        lost = OpenADR3Ven(vtn.config(vtn_program="nope"), Sink(), clock, environ=ENV)
        failing = OpenADR3Ven(vtn.config(), FailingSink(), clock, environ=ENV)
        try:
            vtn.publish("elrp-1", elrp())
            await lost.step()
            assert lost.program_id is None
            assert "no program 'nope'" in lost.notices[-1].message
            await failing.step()
            assert NoticeCode.SOFTWARE_FAULT in codes(failing) and failing.events == {}
        finally:
            await lost.close()
            await failing.close()
            await vtn.stop()

    asyncio.run(go())


def test_vtn_answering_garbage_or_500_is_refused() -> None:
    """A VTN behind a broken proxy: HTML instead of JSON, then a 500."""
    answers = iter(
        [
            httpx.Response(200, json={"tokenURL": "http://127.0.0.1:9/openadr3/auth/token"}),
            httpx.Response(200, json={"access_token": "t", "token_type": "Bearer"}),
            httpx.Response(200, text="<html>maintenance</html>"),
            httpx.Response(503, text="down"),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    async def go() -> None:
        config = OpenADR3Config(
            vtn_url="http://127.0.0.1:9/openadr3",
            ven_name="v",
            program="elrp",
            vtn_program="ELRP",
            client_id_env="OADR3_ID",
            client_secret_env="OADR3_SECRET",
            charger_limit_kw=7.0,
        )
        clock = StepClock(NOW)
        ven = OpenADR3Ven(
            config, Sink(), clock, environ=ENV, transport=httpx.MockTransport(handler)
        )
        await ven.step()
        await ven.step()
        await ven.close()
        rejected = [n for n in ven.notices if n.code == NoticeCode.VTN_REJECTED]
        assert len(rejected) == 1 and "not a JSON" in rejected[0].message
        assert ven.ven_id is None and CLIENT_ID not in str(list(ven.notices))

    asyncio.run(go())


def test_events_beyond_the_pages_read_are_not_taken_as_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def go() -> None:
        vtn, ven, _clock, sink = await started()
        try:
            for day in range(1, PAGE + 1):  # a full first page of events
                vtn.publish(f"elrp-{day}", elrp(start=START + timedelta(days=day)))
            vtn.publish("late", elrp())  # on the second page
            monkeypatch.setattr(session, "MAX_PAGES", 2)
            await ven.step()
            assert "late" in ven.events and len(sink.events) == PAGE + 1
            monkeypatch.setattr(session, "MAX_PAGES", 1)
            vtn.publish("late", elrp(export_kw=4.0))  # changed, but on a page not read
            await ven.step()
            assert sink.cancelled == [] and "late" in ven.events
            (cut,) = [n for n in ven.notices if n.code == NoticeCode.UNSUPPORTED]
            assert "not read" in cut.message
        finally:
            await ven.close()
            await vtn.stop()

    asyncio.run(go())
