"""A real Mosquitto broker for the MQTT tests: 127.0.0.1, an OS-chosen port, a password file.

Debian's ``mosquitto`` (``.ci/run`` installs it); tests using it are skipped, saying so, when it
is missing. The password file is made with ``mosquitto_passwd -b``, the documented way.
"""

from __future__ import annotations

import contextlib
import getpass
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

USER = "voltbridge"
PASSWORD = "test-only broker password 4c1e"
HA_USER = "homeassistant"
HA_PASSWORD = "test-only HA password 9b2d"


def _binary(name: str) -> str | None:
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/sbin") / name, Path("/usr/bin") / name) if p.exists()), None
    )


def require_mosquitto() -> tuple[str, str]:
    """The broker and password tool, or the test is skipped naming what is missing."""
    broker, passwd = _binary("mosquitto"), _binary("mosquitto_passwd")
    if broker is None or passwd is None:
        pytest.skip(
            "Debian's mosquitto is not installed (apt-get install mosquitto; .ci/run does it)"
        )
    return broker, passwd


def free_port() -> int:
    """A port the OS chose as free on 127.0.0.1 (the broker binds it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Broker:
    """One Mosquitto process that can be stopped and started again on the same port."""

    folder: Path
    port: int
    binary: str
    process: subprocess.Popen[bytes] | None = None
    tls_port: int | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.folder / "mosquitto.conf")],
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "mosquitto.log").open("ab"),
        )
        self._wait_listening()

    def _wait_listening(self) -> None:
        """Until the port takes connections: a bounded number of tries, each one blocking
        connect (the broker is up in milliseconds; the bound is a hang guard)."""
        for _ in range(500):
            assert self.process is not None
            if self.process.poll() is not None:
                log = (self.folder / "mosquitto.log").read_text(errors="replace")
                raise RuntimeError(f"mosquitto exited ({self.process.returncode}): {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0):
                    return
            except OSError:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.process.wait(timeout=0.02)
        raise RuntimeError(f"mosquitto does not listen on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for 127.0.0.1 signed by it (``openssl``, skipped when
    missing): ``(ca.pem, server.pem, server.key)``."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed (needed to make the TLS test's certificates)")
    folder.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr = folder / "server.pem", folder / "server.key", folder / "server.csr"
    ext = folder / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], check=True, capture_output=True)

    run("req", "-x509", *ec, "-keyout", str(ca_key), "-out", str(ca), "-days", "3",
        "-subj", "/CN=voltbridge test CA")  # fmt: skip
    run("req", *ec, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
        "-CAcreateserial", "-out", str(cert), "-days", "3", "-extfile", str(ext))  # fmt: skip
    return ca, cert, key


def make_broker(folder: Path, tls: bool = False) -> Broker:
    """A broker config in ``folder``: no anonymous clients, two users, no persistence (so a
    restart forgets every retained message and only the bridge can bring them back). With
    ``tls`` a second listener on ``Broker.tls_port`` takes TLS only (``folder/certs/ca.pem``)."""
    binary, passwd = require_mosquitto()
    folder.mkdir(parents=True, exist_ok=True)
    pwfile = folder / "passwords"
    subprocess.run([passwd, "-b", "-c", str(pwfile), USER, PASSWORD], check=True)
    subprocess.run([passwd, "-b", str(pwfile), HA_USER, HA_PASSWORD], check=True)
    pwfile.chmod(0o600)
    port = free_port()
    tls_port = free_port() if tls else None
    listeners = f"listener {port} 127.0.0.1\n"
    if tls_port is not None:
        ca, cert, key = make_certificates(folder / "certs")
        listeners += f"listener {tls_port} 127.0.0.1\ncafile {ca}\ncertfile {cert}\nkeyfile {key}\n"
    (folder / "mosquitto.conf").write_text(
        f"user {getpass.getuser()}\n"  # as root it would switch to the 'mosquitto' user
        "persistence false\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"password_file {pwfile}\n"
        "log_dest stderr\n" + listeners
    )
    return Broker(folder, port, binary, tls_port=tls_port)
