"""Record BLAST-Lite's own outputs for ``blast_cases`` into ``fixtures/blast_lite.json``.

Run it by hand in a virtual environment with BLAST-Lite (not needed by voltbridge itself), from
the repository root:

    python3 -m venv /tmp/blast && /tmp/blast/bin/pip install 'blast-lite==1.1.1'
    /tmp/blast/bin/python -m tests.battery.record_blast_fixtures

The file keeps the versions that produced it; ``test_blast_equivalence`` compares against it.
"""

from __future__ import annotations

import importlib
import json
import platform
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

from .blast_cases import CELL_MODELS, cases, sample_indices

FIXTURE = Path(__file__).parent / "fixtures" / "blast_lite.json"


def main() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        models = importlib.import_module("blast.models")
    results = []
    for case in cases():
        for name in CELL_MODELS:
            cell = getattr(models, name)()
            with np.errstate(divide="ignore", invalid="ignore"):  # one-sample stretches
                cell.simulate_battery_life(
                    {"Time_s": case.time_s, "SOC": case.soc, "Temperature_C": case.temperature_c},
                    threshold_time=case.horizon_years,
                )
            t_days = np.asarray(cell.stressors["t_days"], dtype=np.float64)
            keep = sample_indices(t_days.size)
            pick = {
                "t_days": t_days,
                "efc": np.asarray(cell.stressors["efc"], dtype=np.float64),
                "q": np.asarray(cell.outputs["q"], dtype=np.float64),
                "q_t": np.asarray(cell.outputs["q_t"], dtype=np.float64),
                "q_EFC": np.asarray(cell.outputs["q_EFC"], dtype=np.float64),
            }
            results.append(
                {
                    "case": case.name,
                    "model": name,
                    "stretches": int(t_days.size - 1),
                    "indices": keep,
                    **{k: [float(v[i]) for i in keep] for k, v in pick.items()},
                }
            )
    versions = {
        "blast-lite": metadata.version("blast-lite"),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }
    FIXTURE.parent.mkdir(exist_ok=True)
    lines = ",\n".join(json.dumps(r, separators=(",", ":")) for r in results)
    FIXTURE.write_text(f'{{"versions":{json.dumps(versions)},\n"results":[\n{lines}]}}\n')
    print(f"{len(results)} results from {versions} -> {FIXTURE}")


if __name__ == "__main__":
    main()
