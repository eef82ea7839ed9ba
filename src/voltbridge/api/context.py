"""What every route of one app shares: the controller handle, the store, the settings and the auth."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, status

from voltbridge.api.auth import Authenticator
from voltbridge.api.config import ApiConfig
from voltbridge.api.store_reader import StoreReader
from voltbridge.control.handle import ControlHandle

NO_STORE = (
    "no storage configured: history, events, sessions and money are not recorded; "
    "give the controller a data directory (the SQLite store) to keep them"
)


@dataclass(frozen=True)
class ApiContext:
    """One app's collaborators, handed to each router factory."""

    handle: ControlHandle
    store: StoreReader | None
    config: ApiConfig
    auth: Authenticator

    def require_store(self) -> StoreReader:
        """The store, or a 503 saying that nothing is recorded."""
        if self.store is None:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, NO_STORE)
        return self.store
