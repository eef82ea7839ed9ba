"""The dashboard password: generated or configured at first start, kept only as a salted scrypt hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from voltbridge.api.config import ApiConfig

PASSWORD_FILE = "api-password.json"
"""Name of the file in ``ApiConfig.data_dir`` holding the hash (never the password)."""

SCRYPT_N = 2**15
"""scrypt's CPU/memory cost (32 MiB with r = 8); stored with each hash so it can be raised later."""
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32


class PasswordError(RuntimeError):
    """The password file is missing or unreadable; the message says what to do."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass(frozen=True)
class PasswordHash:
    """A salted scrypt hash of the password and the parameters it was made with."""

    salt: bytes
    digest: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    @classmethod
    def make(cls, password: str) -> PasswordHash:
        """Hash ``password`` with a fresh random salt."""
        salt = secrets.token_bytes(SALT_BYTES)
        digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return cls(salt=salt, digest=digest, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)

    def verify(self, password: str) -> bool:
        """Whether ``password`` is the one hashed (the comparison takes constant time)."""
        candidate = _scrypt(password, self.salt, self.n, self.r, self.p)
        return hmac.compare_digest(candidate, self.digest)

    def to_json(self) -> str:
        return json.dumps(
            {
                "scheme": "scrypt",
                "n": self.n,
                "r": self.r,
                "p": self.p,
                "salt": _b64(self.salt),
                "hash": _b64(self.digest),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> PasswordHash:
        data = json.loads(text)
        if data.get("scheme") != "scrypt":
            raise ValueError(f"unknown scheme {data.get('scheme')!r}")
        return cls(
            salt=base64.b64decode(data["salt"]),
            digest=base64.b64decode(data["hash"]),
            n=int(data["n"]),
            r=int(data["r"]),
            p=int(data["p"]),
        )


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        maxmem=256 * n * r + 1024 * 1024,
        dklen=HASH_BYTES,
    )


def password_file(config: ApiConfig) -> Path:
    """Where the hash is kept."""
    return Path(config.data_dir) / PASSWORD_FILE


def _read(path: Path) -> PasswordHash | None:
    if not path.exists():
        return None
    try:
        return PasswordHash.from_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PasswordError(
            f"{path}: cannot read the password hash ({exc}); delete the file to get a new "
            f"password at the next start, or set VOLTBRIDGE_PASSWORD"
        ) from None


def _write(path: Path, hashed: PasswordHash) -> None:
    """Write atomically, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # a leftover could carry looser permissions
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(hashed.to_json())
    os.replace(tmp, path)


def ensure_password(config: ApiConfig) -> str | None:
    """Make sure a password hash exists; return a newly generated password, else None.

    With ``config.password`` its hash is stored (replacing an older one). Without it, the stored
    hash is kept; at the very first start a strong random password is generated, its hash stored
    and the password returned, for the caller (the CLI) to show the household once. It is never
    logged and cannot be recovered: delete the file to get a new one.
    """
    path = password_file(config)
    stored = _read(path)
    if config.password is not None:
        if stored is None or not stored.verify(config.password):
            _write(path, PasswordHash.make(config.password))
        return None
    if stored is not None:
        return None
    generated = secrets.token_urlsafe(16)
    _write(path, PasswordHash.make(generated))
    return generated


def load_password_hash(config: ApiConfig) -> PasswordHash:
    """The hash to check logins against; ``PasswordError`` if there is none yet."""
    if config.password is not None:
        ensure_password(config)
    stored = _read(password_file(config))
    if stored is None:
        raise PasswordError(
            f"no dashboard password yet ({password_file(config)} is missing): call "
            "voltbridge.api.ensure_password(config) first and show the household the password it "
            "returns, or set VOLTBRIDGE_PASSWORD"
        )
    return stored


MIN_PASSWORD_CHARS = 10
"""A password the household sets must be at least this long (a generated one has 22)."""


def reset_password(data_dir: Path, password: str | None = None) -> str:
    """Store the hash of a new dashboard password in ``data_dir`` (``voltbridge password``).

    ``password`` None: a strong random one is generated. Returns the password, for the caller to
    show once. A running voltbridge keeps the password it started with until it restarts.
    Raises ``ValueError`` for a password shorter than ``MIN_PASSWORD_CHARS``.
    """
    if password is None:
        password = secrets.token_urlsafe(16)
    elif len(password) < MIN_PASSWORD_CHARS:
        raise ValueError(
            f"the password has {len(password)} characters; give at least {MIN_PASSWORD_CHARS}"
        )
    _write(Path(data_dir) / PASSWORD_FILE, PasswordHash.make(password))
    return password
