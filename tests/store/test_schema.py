"""Schema versions: a version-1 file is migrated, a newer one refused, a foreign file named; WAL and FULL sync are on."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from voltbridge.store import SCHEMA_VERSION, StoreError, StoreVersionError
from voltbridge.store.schema import migrate

from .builders import at, open_store, status


def test_a_version_1_file_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, path, target=1)
    conn.execute(
        "INSERT INTO events (ts_ms, kind, message, device, data_json) "
        "VALUES (1772409600000, 'grid', 'outage', NULL, '{}')"
    )
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'settings'").fetchone() is None
    conn.close()

    store, _ = open_store(path)
    with store:
        assert [e["message"] for e in store.events()] == ["outage"]
        assert store.events()[0]["at"] == "2026-03-02T00:00:00Z"
        store.record_settings(at(0), {"mode": "auto"})
        store.record_status(status(at(0), grid_kw=1.0))
        store.flush()
        assert store.latest_settings() == {"mode": "auto"}
        assert store.latest_status() is not None
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 3


def test_a_newer_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreVersionError) as refused:
        open_store(path)
    message = str(refused.value)
    assert str(path) in message and "99" in message and "newer voltbridge" in message
    assert "Upgrade voltbridge" in message
    with sqlite3.connect(path) as conn:  # left as it was
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 99


def test_a_file_that_is_not_a_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("shopping list: milk, eggs, a bidirectional charger\n" * 100)
    with pytest.raises(StoreError, match=r"notes\.db is not a voltbridge store"):
        open_store(path)


def test_another_programs_database_is_named(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (x)")
    with pytest.raises(StoreError, match="could not be prepared as a voltbridge store"):
        open_store(path)


def test_wal_full_sync_and_a_fresh_file_at_the_newest_version(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "new.db"
    store, _ = open_store(path)
    with store:
        writer = store._writer
        assert writer.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert writer.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
        assert writer.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
