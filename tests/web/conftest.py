"""A headless chromium for the module and the demo app served on a free port for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from voltbridge.api import password

from ..api.helpers import Demo, make_demo
from .cdp import CHROMIUM, Chromium
from .server import ServerThread


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: the dashboard's browser tests need chromium")
    browser = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    yield browser
    browser.close()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ServerThread, Demo]]:
    demo = make_demo(tmp_path)
    server = ServerThread(demo.app)
    yield server, demo
    server.stop()


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheaper password hashing (the shipped cost is checked in tests/api/test_auth.py)."""
    monkeypatch.setattr(password, "SCRYPT_N", 2**10)
