"""A writer killed with SIGKILL mid-write: the file opens, passes integrity_check and holds all it reported committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .builders import T0, at, open_store

WRITER = Path(__file__).with_name("crash_writer.py")


def run_and_kill(path: Path, first: int, at_least: int) -> int:
    """Start the writer, kill it once it has reported ``at_least`` statuses; the last index it reported."""
    writer = subprocess.Popen(
        [sys.executable, str(WRITER), str(path), str(first)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    reported = first - 1
    deadline = time.monotonic() + 600  # guards against a hung writer only
    while reported < first + at_least:
        line = writer.stdout.readline()
        if not line:
            pytest.fail(f"the writer stopped: {writer.stderr.read() if writer.stderr else ''}")
        reported = int(line)
        assert time.monotonic() < deadline, "the writer hangs"
    os.kill(writer.pid, signal.SIGKILL)
    rest = writer.stdout.read()  # lines printed before the kill
    writer.wait()
    assert writer.returncode == -signal.SIGKILL
    for line in rest.splitlines():
        reported = int(line) if line.strip().isdigit() else reported
    return reported


def check_file(path: Path, reported: int) -> int:
    """Integrity, and everything up to ``reported`` there; returns how many statuses are stored."""
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        times = [row[0] for row in conn.execute("SELECT ts_ms FROM ticks ORDER BY ts_ms")]
    stored = len(times)
    t0_ms = int(T0.timestamp() * 1000)
    assert times == [t0_ms + 1000 * n for n in range(stored)]  # no holes
    assert stored >= reported + 1
    store, _ = open_store(path)
    with store:
        messages = {e["message"] for e in store.events(limit=100_000)}
        assert {f"event {n}" for n in range(1, reported + 1, 2)} <= messages
        # money was committed with the statuses it came from: 3 kW between each two of them
        bill = store.money(at(0), at(stored + 60))
        assert bill["import_kwh"] == pytest.approx(3.0 * (stored - 1) / 3600)
        assert bill["import_cost"] == pytest.approx(0.2 * 3.0 * (stored - 1) / 3600)
        latest = store.latest_status()
        assert latest is not None and latest["decision"] == f"status {stored - 1}"
    return stored


def test_sigkill_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    stored = 0
    for _ in range(3):  # each run continues the file from where the last one stood
        reported = run_and_kill(path, first=stored, at_least=100)
        stored = check_file(path, reported)
