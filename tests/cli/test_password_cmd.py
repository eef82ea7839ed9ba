"""``voltbridge password``: a new password shown once and stored only as a hash that verifies
it; ``--set`` takes the household's own (asked twice); too short is refused, nothing written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voltbridge.api import password as pw
from voltbridge.cli.app import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pw, "SCRYPT_N", 2**10)
    monkeypatch.delenv("VOLTBRIDGE_PASSWORD", raising=False)


def stored(data_dir: Path) -> pw.PasswordHash:
    return pw.PasswordHash.from_json((data_dir / pw.PASSWORD_FILE).read_text())


def test_reset_shows_a_new_password_once_and_stores_its_hash(tmp_path: Path) -> None:
    result = runner.invoke(app, ["password", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    match = re.search(r"new dashboard password .*: (\S+)", result.output.replace("\n", " "))
    assert match is not None, result.output
    new = match.group(1)
    assert stored(tmp_path).verify(new)
    assert new not in (tmp_path / pw.PASSWORD_FILE).read_text()
    again = runner.invoke(app, ["password", "--data-dir", str(tmp_path)])
    assert not stored(tmp_path).verify(new)  # the old one no longer works
    assert "restart voltbridge" in again.output


def test_set_takes_the_households_own(tmp_path: Path) -> None:
    mine = "correct horse battery"
    result = runner.invoke(
        app, ["password", "--data-dir", str(tmp_path), "--set"], input=f"{mine}\n{mine}\n"
    )
    assert result.exit_code == 0, result.output
    assert mine not in result.output
    assert stored(tmp_path).verify(mine)


def test_too_short_is_refused_and_nothing_written(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["password", "--data-dir", str(tmp_path), "--set"], input="short\nshort\n"
    )
    assert result.exit_code == 2
    assert "at least 10" in result.output
    assert not (tmp_path / pw.PASSWORD_FILE).exists()
