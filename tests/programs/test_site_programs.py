"""The ``[[programs]]`` table of a site file: shipped ids, overrides, own definitions, VTN
settings, and errors that name the field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from voltbridge.config import Site, SiteError, parse_site

SITE = """
name = "test"
[location]
latitude = 38.6
longitude = -121.5
timezone = "America/Los_Angeles"
[grid]
import_limit_kw = 20
[tariff]
currency = "USD"
import = 0.3
[load]
annual_kwh = 3000
"""


def site(extra: str) -> Site:
    return parse_site(tomllib.loads(SITE + extra), Path("site.toml"))


def problems(extra: str) -> dict[str, str]:
    with pytest.raises(SiteError) as info:
        site(extra)
    return {p.field: p.message for p in info.value.problems}


def test_no_programs_by_default() -> None:
    assert site("").programs == []


def test_a_shipped_program_with_its_vtn() -> None:
    entry = site(
        """
[[programs]]
id = "elrp"
[programs.openadr]
vtn_url = "http://127.0.0.1:8080/OpenADR2/Simple/2.0b"
ven_name = "home-1"
"""
    ).programs[0]
    assert entry.enabled and entry.openadr is not None
    assert entry.openadr.program is None and entry.openadr.charger_limit_kw is None
    resolved = entry.openadr.resolved(entry.id, 11.5)
    assert (resolved.program, resolved.charger_limit_kw) == ("elrp", 11.5)
    program = entry.program()
    assert program.event is not None and program.event.per_kwh == 2.0


def test_an_override_and_an_own_definition() -> None:
    loaded = site(
        """
[[programs]]
id = "elrp"
[programs.definition.event]
per_kwh = 1.0

[[programs]]
id = "my-vpp"
capacity_kw = 5
[programs.definition]
currency = "USD"
capacity = { per_kw_month = 4.0 }
"""
    )
    elrp, own = (p.program() for p in loaded.programs)
    assert elrp.event is not None and elrp.event.per_kwh == 1.0
    assert own.capacity is not None and loaded.programs[1].capacity_kw == 5.0


def test_an_unknown_id_names_the_field_and_the_known_ids() -> None:
    found = problems('[[programs]]\nid = "elrpp"\n')
    assert "programs[0].id" in found
    assert "elrpp" in found["programs[0].id"] and "elrp, fixed-export" in found["programs[0].id"]


@pytest.mark.parametrize(
    ("extra", "field", "says"),
    [
        (
            'id = "elrp"\n[programs.openadr]\nvtn_url = "http://127.0.0.1"\nven_name = "h"\n'
            'program = "other"',
            "programs[0]",
            "differs from this entry's id",
        ),
        ('id = "elrp"\npassword = "hunter2"', "programs[0].password", "unknown setting"),
        (
            'id = "elrp"\n[programs.openadr]\nvtn_url = "http://vtn.example.com"\nven_name = "h"',
            "programs[0].openadr",
            "needs [tls]",
        ),
        ('id = "elrp"\ncapacity_kw = -1', "programs[0].capacity_kw", "greater than or equal"),
        (
            'id = "elrp"\n[programs.definition.event]\nper_kwh = -2.0',
            "programs[0]",
            "definition.event.per_kwh",
        ),
        ('id = "own"\n[programs.definition]\ncurrency = "USD"', "programs[0]", "pays nothing"),
    ],
)
def test_bad_entries_name_the_field(extra: str, field: str, says: str) -> None:
    found = problems("[[programs]]\n" + extra + "\n")
    assert field in found, found
    assert says in found[field]


def test_ids_are_unique() -> None:
    found = problems('[[programs]]\nid = "elrp"\n[[programs]]\nid = "elrp"\n')
    assert any("repeated: elrp" in message for message in found.values())


def test_readme_documents_every_program_setting() -> None:
    import re

    from voltbridge.config import ProgramEntry

    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme.split("## The site file", 1)[1].split("##", 1)[0]
    assert "`[[programs]]`" in table
    for name in ProgramEntry.model_fields:
        assert re.search(rf"`{name}`", table), f"ProgramEntry.{name} not in README"
