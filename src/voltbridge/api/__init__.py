"""The HTTP API (REST, WebSocket, metrics, auth) and the dashboard it serves.

Typical use by the CLI::

    config = ApiConfig.from_env(data_dir, timezone=site.location.timezone)
    if (password := ensure_password(config)) is not None:
        print(f"dashboard password (shown once): {password}")
    app = create_app(handle, store, config)
    await make_server(app, config).serve()
"""

from voltbridge.api.app import create_app
from voltbridge.api.config import PASSWORD_ENV, ApiConfig
from voltbridge.api.pages import PAGES
from voltbridge.api.password import PASSWORD_FILE, PasswordError, ensure_password
from voltbridge.api.server import make_server
from voltbridge.api.store_reader import StoreReader

__all__ = [
    "PAGES",
    "PASSWORD_ENV",
    "PASSWORD_FILE",
    "ApiConfig",
    "PasswordError",
    "StoreReader",
    "create_app",
    "ensure_password",
    "make_server",
]
