"""The VEN over TLS with XML signatures both ways, as a utility runs OpenADR 2.0b: client
certificate, the VTN's certificate checked against a CA and its hostname, every message signed
and checked against the other side's fingerprint. Certificates are made here (a throw-away CA)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from openleadr import OpenADRServer, utils
from openleadr.service import VTNService

from tests.devices.openadr.test_ven import ELRP, END, NOW, START
from tests.devices.openadr.vtn import GUARD_S, VEN_ID, Sink, StepClock, Vtn, event, next_opts
from voltbridge.devices.openadr import NoticeCode, OpenADRConfig, OpenADRVen

VALID_FROM = datetime(2020, 1, 1, tzinfo=UTC)
VALID_UNTIL = datetime(2100, 1, 1, tzinfo=UTC)  # certificates are checked on the wall clock


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    name: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: x509.Name | None = None,
    issuer_key: ec.EllipticCurvePrivateKey | None = None,
    ca: bool = False,
    ip: str | None = None,
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM)
        .not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if ip is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(IPv4Address(ip))]), critical=False
        )
    return builder.sign(issuer_key or key, hashes.SHA256())


def _write(
    folder: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> tuple[Path, Path]:
    cert_path, key_path = folder / f"{stem}.pem", folder / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"ven-secret")
            if stem == "ven"
            else serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca_key = _key()
    ca = _cert("test CA", ca_key, ca=True)
    paths = {"ca": tmp_path / "ca.pem"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for stem, ip in (("vtn", "127.0.0.1"), ("ven", None)):
        key = _key()
        paths[stem], paths[f"{stem}_key"] = _write(
            tmp_path, stem, _cert(stem, key, ca.subject, ca_key, ip=ip), key
        )
    return paths


@pytest.fixture
def restore_vtn_service() -> Iterator[None]:
    """openleadr keeps the VTN's lookup on a class: give later tests the class as it was."""
    yield
    if "ven_lookup" in VTNService.__dict__:
        del VTNService.ven_lookup
    VTNService.verify_message_signatures = True


def _fingerprint(path: Path) -> str:
    return str(utils.certificate_fingerprint(path.read_text()))


def test_signed_event_over_tls_is_taken_and_a_wrong_fingerprint_refused(
    pki: dict[str, Path], restore_vtn_service: None
) -> None:
    async def go() -> None:
        vtn = Vtn()
        ven_fp = _fingerprint(pki["ven"])
        lookup: dict[str, Any] = {
            "ven_id": VEN_ID,
            "fingerprint": ven_fp,
            "registration_id": "reg-1",
        }
        vtn.server = OpenADRServer(
            vtn_id="VTN-UTILITY",
            cert=str(pki["vtn"]),
            key=str(pki["vtn_key"]),
            http_cert=str(pki["vtn"]),
            http_key=str(pki["vtn_key"]),
            http_ca_file=str(pki["ca"]),
            http_host="127.0.0.1",
            http_port=0,
            ven_lookup=lambda ven_id: lookup if ven_id == VEN_ID else None,
            show_fingerprint=False,
        )
        for name, handler in (
            ("on_create_party_registration", vtn._register),
            ("on_register_report", vtn._register_report),
            ("on_created_event", vtn._created_event),
            ("on_request_event", lambda ven_id: list(vtn.live) or None),
            ("on_poll", vtn._poll),
        ):
            vtn.server.add_handler(name, handler)
        await vtn.start()
        vtn.live = [event("elrp-tls", START, END - START, ELRP)]
        tls = {
            "cert": pki["ven"],
            "key": pki["ven_key"],
            "ca_file": pki["ca"],
            "key_passphrase_env": "VB_OPENADR_KEY",
        }
        url = vtn.url.replace("http://", "https://")
        good = vtn.config(vtn_url=url, tls=tls, vtn_fingerprint=_fingerprint(pki["vtn"]))
        wrong = good.model_copy(update={"vtn_fingerprint": ":".join(["00"] * 10)})
        assert isinstance(good, OpenADRConfig)
        env = {"VB_OPENADR_KEY": "ven-secret"}
        sink, refused_sink = Sink(), Sink()
        ven = OpenADRVen(good, sink, StepClock(NOW), environ=env)
        refused = OpenADRVen(wrong, refused_sink, StepClock(NOW), environ=env)
        try:
            async with asyncio.timeout(GUARD_S):
                await ven.step()
                opts = await next_opts(vtn, 1)
                await refused.step()
        finally:
            await ven.close()
            await refused.close()
            await vtn.stop()
        assert ven.registered and opts == {"elrp-tls": "optIn"}
        assert [e.event_id for e in sink.events] == ["elrp-tls"]
        assert not refused.registered and refused_sink.events == []
        assert [n.code for n in refused.notices] == [NoticeCode.VTN_REJECTED]

    asyncio.run(go())
