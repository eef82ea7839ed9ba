"""Site files: the examples load and resolve; every error names the file and the field path."""

from pathlib import Path

import pytest

from voltbridge.config import SiteError, load_site, parse_site, resolve_vehicles
from voltbridge.config.models import Site

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.toml"))

MINIMAL = """
name = "test"
[location]
latitude = 51.5
longitude = -0.1
timezone = "Europe/London"
[grid]
import_limit_kw = 20
export_limit_kw = 5
export_policy = "any"
[tariff]
currency = "GBP"
import = 0.3
[load]
annual_kwh = 3000
[[vehicles]]
name = "car"
usable_kwh = 60
consumption_kwh_per_km = 0.18
max_charge_kw = 11
max_discharge_kw = 11
v2h = true
v2g = true
connector = "ccs2"
v2x_protocols = ["iso15118-20"]
[vehicles.charger]
current = "dc"
max_charge_kw = 11
max_discharge_kw = 10
connector = "ccs2"
v2x_protocols = ["iso15118-20"]
v2h = true
v2g = true
[[vehicles.trips]]
days = ["mon"]
depart = "08:00"
return = "18:00"
km = 40
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.toml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> dict[str, str]:
    with pytest.raises(SiteError) as info:
        load_site(write(tmp_path, text))
    assert str(tmp_path / "site.toml") in str(info.value)
    return {p.field: p.message for p in info.value.problems}


def test_there_are_four_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_loads_and_its_models_resolve(path: Path) -> None:
    site = load_site(path)
    resolved = resolve_vehicles(site)
    assert resolved, "every example has a car"
    for rv in resolved:
        assert rv.entry.model is not None and rv.vehicle.id == rv.entry.model
        assert rv.entry.charger.model is not None and rv.charger.id == rv.entry.charger.model
        assert rv.usable_kwh > 0 and rv.max_charge_kw > 0


def test_custom_vehicle_needs_no_catalog(tmp_path: Path) -> None:
    site = load_site(write(tmp_path, MINIMAL))
    (rv,) = resolve_vehicles(site)
    assert rv.usable_kwh == 60 and rv.max_charge_kw == 11 and rv.max_discharge_kw == 10


def test_catalog_model_with_override(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "car"\n', 'name = "car"\nmodel = "nissan-leaf-62kwh"\n')
    text = text.replace("usable_kwh = 60", "usable_kwh = 59")
    site = load_site(write(tmp_path, text))
    (rv,) = resolve_vehicles(site)
    assert rv.vehicle.make == "Nissan" and rv.usable_kwh == 59
    assert rv.vehicle.sources["usable_kwh"] == "site file"


@pytest.mark.parametrize(
    ("old", "new", "field", "says"),
    [
        ('export_policy = "any"', 'export_policy = "some"', "grid.export_policy", "'none'"),
        ('timezone = "Europe/London"', 'timezone = "Mars/Olympus"', "location.timezone", "IANA"),
        ("latitude = 51.5", "latitude = 95", "location.latitude", "less than or equal"),
        ('depart = "08:00"', 'depart = "25:00"', "vehicles[0].trips[0].depart", "HH:MM"),
        ('days = ["mon"]', 'days = ["monday"]', "vehicles[0].trips[0].days[0]", "'mon'"),
        (
            "max_charge_kw = 11\nmax_discharge_kw = 11\nv2h",
            "max_charge_kw = -1\nmax_discharge_kw = 11\nv2h",
            "vehicles[0].max_charge_kw",
            "greater than 0",
        ),
        ("annual_kwh = 3000", "annual_kwh = 3000\nprofile = 'x.csv'", "load", "exactly one"),
        (
            'current = "dc"',
            'current = "dc"\nmaxpower = 3',
            "vehicles[0].charger.maxpower",
            "unknown setting",
        ),
    ],
)
def test_errors_name_the_field(tmp_path: Path, old: str, new: str, field: str, says: str) -> None:
    assert old in MINIMAL
    found = problems(tmp_path, MINIMAL.replace(old, new, 1))
    assert field in found, found
    assert says in found[field]


def test_unknown_catalog_model_suggests_close_ids(tmp_path: Path) -> None:
    text = MINIMAL.replace('name = "car"\n', 'name = "car"\nmodel = "nissan-leaf-62"\n')
    found = problems(tmp_path, text)
    assert "nissan-leaf-62kwh" in found["vehicles[0].model"]


def test_missing_capacity_of_custom_car(tmp_path: Path) -> None:
    found = problems(tmp_path, MINIMAL.replace("usable_kwh = 60\n", ""))
    assert "usable_kwh" in found["vehicles[0].usable_kwh"]


def test_missing_section_and_duplicate_names(tmp_path: Path) -> None:
    text = MINIMAL.replace("[load]\nannual_kwh = 3000\n", "")
    assert problems(tmp_path, text)["load"] == "required setting is missing"
    twice = MINIMAL + MINIMAL[MINIMAL.index("[[vehicles]]") :]
    assert "repeated: car" in problems(tmp_path, twice)["(top level)"]


def test_not_toml_and_missing_file(tmp_path: Path) -> None:
    assert "(syntax)" in problems(tmp_path, "name = ")
    with pytest.raises(SiteError, match="no such file"):
        load_site(tmp_path / "absent.toml")


def test_breaker_caps_import() -> None:
    site: Site = parse_site(
        {
            "location": {"latitude": 0, "longitude": 0, "timezone": "UTC"},
            "grid": {"import_limit_kw": 50, "main_breaker_a": 100, "voltage_v": 230},
            "tariff": {"currency": "EUR", "import": 0.3},
            "load": {"annual_kwh": 3000},
        }
    )
    assert site.grid.import_cap_kw == pytest.approx(23.0)
    assert site.grid.export_cap_kw == 0.0  # default export limit 0
