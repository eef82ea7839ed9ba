"""SQLite storage of telemetry, sessions, money, events, plans and settings (the controller's ``Recorder``)."""

from voltbridge.store.errors import StoreError, StoreVersionError
from voltbridge.store.retention import Retention
from voltbridge.store.schema import SCHEMA_VERSION
from voltbridge.store.store import Store

__all__ = ["SCHEMA_VERSION", "Retention", "Store", "StoreError", "StoreVersionError"]
