"""A measured load CSV: read in kW or kWh, laid on any period by whole weeks, and refused with a
message naming the file and line."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from voltbridge.config import load_site
from voltbridge.core import TimeGrid
from voltbridge.forecast.measured import MeasuredLoadError, measured_load_kw, read_measured_load

START = datetime(2025, 1, 6, tzinfo=UTC)  # a Monday


def write_year(path: Path, unit: str = "kw", step_min: int = 60, days: int = 364) -> np.ndarray:
    n = days * 24 * 60 // step_min
    kw = 0.3 + (np.arange(n) % 7) * 0.1  # a pattern a step cannot hide
    rows = [f"timestamp,{unit}"]
    for k, value in enumerate(kw):
        moment = (START + timedelta(minutes=k * step_min)).astimezone()
        shown = value * step_min / 60 if unit == "kwh" else value
        rows.append(f"{moment.isoformat()},{shown:.6f}")
    path.write_text("\n".join(rows) + "\n")
    return kw


def test_kw_and_kwh_read_the_same(tmp_path: Path) -> None:
    kw = write_year(tmp_path / "a.csv", "kw", 15)
    write_year(tmp_path / "b.csv", "kwh", 15)
    a, b = read_measured_load(tmp_path / "a.csv"), read_measured_load(tmp_path / "b.csv")
    assert a.interval_s == 900 and a.start_s == int(START.timestamp())
    assert np.allclose(a.kw, kw, atol=1e-6) and np.allclose(b.kw, kw, atol=1e-5)
    assert a.annual_kwh == pytest.approx(float(kw.sum()) * 0.25, rel=1e-6)


def test_a_later_year_repeats_by_whole_weeks(tmp_path: Path) -> None:
    kw = write_year(tmp_path / "m.csv")
    later = START + timedelta(weeks=52 * 2 + 3, hours=5)  # same weekday and hour, years later
    grid = TimeGrid.regular(later, 24, 60)
    k = (3 * 7 * 24 + 5) % kw.size
    assert np.allclose(measured_load_kw(grid, tmp_path / "m.csv"), kw[k : k + 24], atol=1e-6)


HEAD = "timestamp,kw\n"
T0, T1 = "2025-01-06T00:00:00+00:00", "2025-01-06T01:00:00+00:00"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("time,kw\n", r":1: the header must be"),
        (HEAD + f"{T0},0.5\n2025-01-06 01:00,0.5\n", r":3: .*has no UTC offset"),
        (HEAD + f"{T0},0.5\nyesterday,0.5\n", r":3: .*not ISO 8601"),
        (HEAD + f"{T0},lots\n", r":2: 'lots' is not a number"),
        (HEAD + f"{T0},-0.1\n", r":2: kw must be a number >= 0"),
        (HEAD + f"{T0},0.5,1\n", r":2: expected 2 columns"),
        (HEAD + f"{T0},0.5\n2025-01-06T00:30:00+00:00,0.5\n", r":3: intervals must be 15 or 60"),
        (HEAD + f"{T0},1\n{T1},1\n2025-01-06T03:00:00+00:00,1\n", r":4: expected 60 min.*gap"),
        (HEAD + f"{T0},1\n{T1},1\n{T1},1\n", r":4: expected 60 min.*duplicate"),
        (HEAD + f"{T0},1\n{T1},1\n", r": 0\.1 days of readings; give at least 364"),
    ],
)
def test_bad_files_name_the_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(MeasuredLoadError, match=rf"bad\.csv{message}"):
        read_measured_load(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(MeasuredLoadError, match=r"nowhere\.csv: cannot read"):
        read_measured_load(tmp_path / "nowhere.csv")


EXAMPLE = Path(__file__).parents[2] / "examples" / "leaf-uk-v2g.toml"


def site_with_load(path: Path, load: str) -> Path:
    """The leaf example with its [load] table replaced by ``load``."""
    text = EXAMPLE.read_text().replace("[load]\nannual_kwh = 3100\n", f"[load]\n{load}\n")
    path.write_text(text)
    return path


def test_site_takes_a_measured_year_relative_to_its_file(tmp_path: Path) -> None:
    write_year(tmp_path / "meter.csv")
    site = load_site(site_with_load(tmp_path / "site.toml", 'measured = "meter.csv"'))
    assert site.load.measured == tmp_path / "meter.csv"
    assert site.load.annual_kwh is None
    both = site_with_load(tmp_path / "both.toml", 'measured = "meter.csv"\nannual_kwh = 3000')
    with pytest.raises(Exception, match="exactly one of annual_kwh, profile or measured"):
        load_site(both)
