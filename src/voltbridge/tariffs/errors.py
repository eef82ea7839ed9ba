"""The error a user must fix when a tariff cannot be priced (bad data, missing dates, no zone)."""

from __future__ import annotations


class TariffError(ValueError):
    """A tariff problem the user must fix: what was wrong, where, and what to do."""
