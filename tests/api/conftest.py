"""Cheaper password hashing for tests (the shipped cost is checked in test_auth)."""

from __future__ import annotations

import pytest

from voltbridge.api import password


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(password, "SCRYPT_N", 2**10)
