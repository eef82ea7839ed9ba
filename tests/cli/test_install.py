"""A plain install runs every command: nothing outside the declared dependencies is imported, and a
module missing from a broken environment is said in one line, never as a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]


def run_cli(args: list[str], blocked: str) -> subprocess.CompletedProcess[str]:
    """``voltbridge ARGS`` through the console script's function, in a fresh interpreter where
    importing ``blocked`` fails as it does when the package is not installed."""
    code = (
        "import sys\n"
        f"sys.modules[{blocked!r}] = None  # import {blocked} now raises ModuleNotFoundError\n"
        "from voltbridge.cli import main\n"
        f"sys.argv = ['voltbridge', *{args!r}]\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=False
    )


def test_simulate_runs_without_blast_lite() -> None:
    # blast-lite was installed only by the test command: `voltbridge simulate` died without it
    done = run_cli(["simulate", "--days", "2", "--strategies", "smart-charge", "--json"], "blast")
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)["strategies"]["smart-charge"]
    assert row["capacity_fade_pct"] > 0


def test_a_missing_module_is_one_line_not_a_traceback() -> None:
    done = run_cli(["plan", "--json"], "demandlib")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "'demandlib' is missing" in done.stderr and "pip install" in done.stderr
    assert done.stdout == ""


def test_the_console_script_is_the_guarded_entry_point() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["voltbridge"] == "voltbridge.cli:main"
    # no dependency is left to a separate install step
    deps = " ".join(project["dependencies"]).lower()
    readme_block = (ROOT / "README.md").read_text().split("```bash", 1)[1].split("```", 1)[0]
    assert "--no-deps" not in readme_block and "blast" not in deps
