"""The simulated world's household load: a varying home drawn with the world's seed, or the
site's measured year when it gives one."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from voltbridge.config import load_site
from voltbridge.sim.world import build_world

EXAMPLE = Path(__file__).parents[2] / "examples" / "leaf-uk-v2g.toml"
START = datetime(2026, 3, 2, tzinfo=UTC)


def test_the_world_seed_draws_the_household() -> None:
    site = load_site(EXAMPLE)
    a = build_world(site, START, 14, seed=1).load_kw
    b = build_world(site, START, 14, seed=1).load_kw
    c = build_world(site, START, 14, seed=2).load_kw
    assert np.array_equal(a, b) and not np.allclose(a, c)
    day = 288
    first, second = a[: 7 * day], a[7 * day : 14 * day]
    assert np.abs(first - second).mean() > 0.1 * first.mean()  # weeks differ


def test_a_measured_year_is_the_world_load(tmp_path: Path) -> None:
    kw = 0.2 + 0.05 * (np.arange(364 * 24) % 24)  # hourly, hour of day in UTC
    rows = ["timestamp,kw"] + [
        f"{(START + timedelta(hours=h)).isoformat()},{v:.3f}" for h, v in enumerate(kw)
    ]
    (tmp_path / "meter.csv").write_text("\n".join(rows) + "\n")
    text = EXAMPLE.read_text().replace("annual_kwh = 3100", 'measured = "meter.csv"')
    (tmp_path / "site.toml").write_text(text)
    world = build_world(load_site(tmp_path / "site.toml"), START, 2, seed=1)
    hourly = world.load_kw[: 48 * 12].reshape(48, 12)
    assert np.allclose(hourly, kw[:48, None], atol=1e-9)
