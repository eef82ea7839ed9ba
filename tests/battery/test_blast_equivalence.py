"""voltbridge's ageing equations against BLAST-Lite's own outputs, recorded from BLAST-Lite itself.

``fixtures/blast_lite.json`` was written by ``record_blast_fixtures`` in a virtual environment
with BLAST-Lite 1.1.1 installed with its own dependencies (numpy 1.x); voltbridge computes the
same cases here, on whatever numpy it runs on, and must give the same trajectory: the same
stretches and the same capacity after each, to rounding.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from voltbridge.battery.ageing import CELL_MODELS
from voltbridge.battery.cells import CELLS
from voltbridge.battery.life import simulate_fade

from .blast_cases import CELL_MODELS as CASE_MODELS
from .blast_cases import Case, cases, sample_indices

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "blast_lite.json").read_text())
CASES = {c.name: c for c in cases()}


def test_the_fixture_comes_from_the_blast_lite_release_whose_models_we_use() -> None:
    # 1.1.0 divided the NMC-Gr A temperature by 293.15 + 35 K, fixed in 1.1.1
    assert FIXTURE["versions"]["blast-lite"] == "1.1.1"
    assert set(CASE_MODELS) == set(CELL_MODELS.values()) == set(CELLS)
    recorded = {(r["case"], r["model"]) for r in FIXTURE["results"]}
    assert recorded == {(c, m) for c in CASES for m in CASE_MODELS}


@pytest.mark.parametrize("result", FIXTURE["results"], ids=lambda r: f"{r['case']}-{r['model']}")
def test_the_trajectory_matches_blast_lite(result: dict[str, Any]) -> None:
    case: Case = CASES[result["case"]]
    ours = simulate_fade(
        CELLS[result["model"]], case.time_s, case.soc, case.temperature_c, case.horizon_years
    )
    assert ours.t_days.size - 1 == result["stretches"]
    keep = result["indices"]
    assert keep == sample_indices(ours.t_days.size)
    got = {
        "t_days": ours.t_days,
        "efc": ours.efc,
        "q": ours.q,
        "q_t": ours.q_cal,
        "q_EFC": ours.q_cyc,
    }
    for key, values in got.items():
        want = np.asarray(result[key])
        if key.startswith("q"):  # compare the losses, which are small numbers
            np.testing.assert_allclose(1.0 - values[keep], 1.0 - want, rtol=1e-9, atol=1e-15)
        else:
            np.testing.assert_allclose(values[keep], want, rtol=1e-12, atol=1e-12)
    assert 0.0 < 1.0 - ours.q[-1] < 0.2  # the cases age the cell, and plausibly


def test_the_cases_exercise_every_part_of_the_simulation() -> None:
    by_case = {r["case"]: r for r in FIXTURE["results"] if r["model"] == "NMC_Gr_75Ah_A"}
    # a year of a four-week input: the input was repeated about 13 times
    assert by_case["commute-28d-for-1y"]["t_days"][-1] > 365.0
    # throughput ends stretches: more stretches than days
    assert by_case["uneven-cycles-14d"]["stretches"] > 14
    # resting days are cut into daily stretches too
    assert by_case["rests-between-cycles-30d"]["stretches"] >= 29
    # rest ages by time only
    assert by_case["held-90pct-35C"]["q_EFC"][-1] == 1.0
