"""PATCH /api/settings refuses wrong types, far or past departures and contradictions with a 422
naming the fields, and answers every malformed body with a 4xx, never a 500.

The demo's "now" is 2026-07-01T19:00Z (``fakes.NOW``); its EV9 keeps a 25 % mobility reserve
and aims at 80 % at departure (the site file's values, ``fakes.DemoCar``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from .helpers import make_demo, run

CAR = "vehicles.ev9."


def patch(tmp_path: Path, change: Any = None, *, content: bytes | None = None) -> httpx.Response:
    demo = make_demo(tmp_path)

    async def body(c: httpx.AsyncClient) -> httpx.Response:
        if content is not None:
            return await c.patch(
                "/api/settings", content=content, headers={"Content-Type": "application/json"}
            )
        return await c.patch("/api/settings", json=change)

    answer = run(demo.app, body)
    if answer.status_code != 200:
        assert demo.handle.updates == []
    return answer


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"backup_reserve_h": True}, "backup_reserve_h"),  # not 1.0 h
        ({"backup_reserve_h": "5"}, "backup_reserve_h"),
        ({"v2g_allowed": "yes"}, "v2g_allowed"),
        ({"v2g_allowed": 1}, "v2g_allowed"),
        ({"mode": 0}, "mode"),
        ({"vehicles": {"ev9": {"target_soc_pct": "80"}}}, CAR + "target_soc_pct"),
        ({"vehicles": {"ev9": {"outage_reserve_pct": False}}}, CAR + "outage_reserve_pct"),
        ({"vehicles": {"ev9": {"departure": 1782932400}}}, CAR + "departure"),  # Unix time
        ({"vehicles": {"ev9": {"departure": "1782932400"}}}, CAR + "departure"),
        ({"vehicles": {"ev9": {"departure": "tomorrow"}}}, CAR + "departure"),
        ({"vehicles": ["ev9"]}, "vehicles"),
    ],
)
def test_types_are_strict(tmp_path: Path, change: dict[str, Any], field: str) -> None:
    answer = patch(tmp_path, change)
    assert answer.status_code == 422, answer.text
    problems = answer.json()
    assert [p["field"] for p in problems["detail"]] == [field]


def test_numbers_may_be_whole_and_times_carry_their_offset(tmp_path: Path) -> None:
    answer = patch(
        tmp_path,
        {
            "backup_reserve_h": 5,
            "v2g_allowed": True,
            "vehicles": {"ev9": {"target_soc_pct": 90, "departure": "2026-07-02T07:30:00-07:00"}},
        },
    )
    assert answer.status_code == 200, answer.text
    settings = answer.json()
    assert settings["backup_reserve_h"] == 5.0 and settings["v2g_allowed"] is True
    assert settings["vehicles"]["ev9"]["departure"] == "2026-07-02T07:30:00-07:00"


@pytest.mark.parametrize(
    ("departure", "words"),
    [
        ("2026-07-01T18:59:00Z", "is not after now (2026-07-01T19:00:00Z)"),
        ("2026-07-01T19:00:00Z", "is not after now"),
        ("2026-07-08T19:00:01Z", "more than 7 days ahead (latest 2026-07-08T19:00:00Z)"),
        ("2062-07-02T07:30:00Z", "check the date"),
    ],
)
def test_departures_outside_the_coming_week_are_refused(
    tmp_path: Path, departure: str, words: str
) -> None:
    answer = patch(tmp_path, {"vehicles": {"ev9": {"departure": departure}}})
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == CAR + "departure" and words in problem["msg"]


@pytest.mark.parametrize("departure", ["2026-07-01T19:00:01Z", "2026-07-08T19:00:00Z"])
def test_departures_inside_the_window_are_taken(tmp_path: Path, departure: str) -> None:
    assert patch(tmp_path, {"vehicles": {"ev9": {"departure": departure}}}).status_code == 200


@pytest.mark.parametrize(
    ("car", "field", "other"),
    [
        ({"target_soc_pct": 20}, "target_soc_pct", "mobility_reserve_pct (25 %, from the site"),
        ({"mobility_reserve_pct": 90}, "mobility_reserve_pct", "target_soc_pct (80 %, from the"),
        (
            {"target_soc_pct": 40, "mobility_reserve_pct": 50},
            "target_soc_pct",
            "mobility_reserve_pct (50 %)",
        ),
        ({"outage_reserve_pct": 40}, "outage_reserve_pct", "mobility_reserve_pct (25 %, from"),
    ],
)
def test_contradictions_are_refused_naming_both_fields(
    tmp_path: Path, car: dict[str, float], field: str, other: str
) -> None:
    answer = patch(tmp_path, {"vehicles": {"ev9": car}})
    assert answer.status_code == 422
    [problem] = answer.json()["detail"]
    assert problem["field"] == CAR + field
    assert CAR + other in problem["msg"]
    assert answer.json()["message"].startswith(CAR + field + ": ")


def test_agreeing_values_given_together_are_taken(tmp_path: Path) -> None:
    change = {"vehicles": {"ev9": {"target_soc_pct": 20, "mobility_reserve_pct": 10}}}
    answer = patch(tmp_path, change)
    assert answer.status_code == 200, answer.text
    assert answer.json()["vehicles"]["ev9"]["target_soc_pct"] == 20.0


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"\xff\xfe\x00garbage",
        b"[" * 10_000,
        b'{"vehicles": ' * 5_000,
        b"[]",
        b"null",
        b'"mode"',
        b'{"backup_reserve_h": NaN}',
        b'{"backup_reserve_h": Infinity}',
        b'{"backup_reserve_h": 1e999}',
        b'{"backup_reserve_h": ' + b"9" * 5000 + b"}",
        b'{"vehicles": {"ev9": {"departure": "9999-12-31T23:59:59+00:00"}}}',
        b'{"vehicles": {"ev9": {"departure": "0001-01-01T00:00:00-23:59"}}}',
        b'{"vehicles": {"ev9": {"target_soc_pct": -0.0001}}}',
        b'{"vehicles": {"' + b"x" * 10_000 + b'": {}}}',
        b'{"vehicles": {"ev9": null}}',
    ],
)
def test_malformed_bodies_get_a_4xx_never_a_500(tmp_path: Path, content: bytes) -> None:
    answer = patch(tmp_path, content=content)
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:200])
    assert answer.json()["detail"]


@pytest.mark.parametrize(
    ("content", "code", "words"),
    [
        (
            b'{"backup_reserve_h": true}',
            422,
            "backup_reserve_h: Input should be a valid number, not true",
        ),
        (b'{"v2g_allowed": "yes"}', 422, 'v2g_allowed: Input should be a valid boolean, not "yes"'),
        (b"", 422, "(body): empty: send a JSON object"),
        (b"[1, 2]", 422, "(body): send a JSON object of the fields to change, not [1, 2]"),
        (b'{"mode": }', 422, "(body): not valid JSON at character 9"),
        (b"[" * 10_000, 400, "nested too deeply"),
    ],
)
def test_refusals_say_what_was_wrong(tmp_path: Path, content: bytes, code: int, words: str) -> None:
    answer = patch(tmp_path, content=content)
    assert answer.status_code == code
    text = answer.json().get("message") or answer.json()["detail"]
    assert words in text, text
