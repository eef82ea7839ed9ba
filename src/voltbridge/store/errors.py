"""The errors the store raises, each saying which file is concerned and what to do."""

from __future__ import annotations


class StoreError(RuntimeError):
    """The store cannot do what was asked (the message names the file and what to do)."""


class StoreVersionError(StoreError):
    """The database file was written by a newer voltbridge than this one."""
