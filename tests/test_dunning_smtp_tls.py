"""Dunning email over TLS against a real SMTP server on 127.0.0.1 (aiosmtpd) with a certificate made
here: STARTTLS and SMTPS, the certificate verified (an unknown one is refused and the item kept for
the next run), the password sent only inside TLS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine, select

from arrisk.dunning.delivery import SmtpSettings
from arrisk.dunning.engine import run_dunning
from arrisk.dunning.tables import OutboxItem
from arrisk.store.db import session_scope
from tests.test_dunning_book import add_customer, add_invoice
from tests.test_dunning_delivery import BOT, _free_port

D = dt.date


@dataclass
class Cert:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def _self_signed(folder: Path, names: list[x509.GeneralName]) -> Cert:
    """A self-signed certificate (its own CA) for ``names``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "arrisk test relay")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    out = Cert(folder / "relay.pem", folder / "relay.key")
    out.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    out.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return out


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> Cert:
    """The relay's certificate, for 127.0.0.1 and localhost."""
    names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    return _self_signed(tmp_path_factory.mktemp("tls"), names)


@dataclass
class Relay:
    """Accepts mail only from ``ar``/``s3cret``; records each message's recipient, whether its session
    was encrypted, and the logins it saw."""

    accepted: list[tuple[str, bool]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"ar", b"s3cret")
        self.logins.append(data.login.decode() if isinstance(data, LoginPassword) else "?")
        return AuthResult(success=ok)

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        if not session.authenticated:
            return "530 5.7.0 authentication required"
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.accepted.append((envelope.rcpt_tos[0], encrypted))
        return "250 OK"


@contextmanager
def _serving(relay: Relay, **tls: Any) -> Iterator[int]:
    """The relay listening on a free loopback port (yielded) until the block ends."""
    port = _free_port()
    controller = Controller(
        relay, hostname="127.0.0.1", port=port, authenticator=relay.authenticate, auth_required=True, **tls
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@pytest.fixture
def starttls_relay(cert: Cert) -> Iterator[tuple[Relay, int]]:
    with _serving(relay := Relay(), tls_context=cert.server_context(), require_starttls=True) as port:
        yield relay, port


@pytest.fixture
def smtps_relay(cert: Cert) -> Iterator[tuple[Relay, int]]:
    # TLS from the first byte: aiosmtpd does not count it as STARTTLS, so AUTH is allowed explicitly
    with _serving(relay := Relay(), ssl_context=cert.server_context(), auth_require_tls=False) as port:
        yield relay, port


def _one_overdue_customer(engine: Engine) -> None:
    add_customer(engine, "C1", email="ap@c1.test")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500")


def _dun(engine: Engine, day: int, settings: SmtpSettings, tmp_path: Path) -> dict[str, int]:
    result = run_dunning(
        engine, D(2025, 2, day), dry_run=False, send=True, actor=BOT, smtp=settings, letters_dir=tmp_path
    )
    return result.delivery


def _item(engine: Engine) -> tuple[str, str | None, int]:
    with session_scope(engine) as s:
        item = s.scalars(select(OutboxItem)).one()
        return item.status, item.last_error, item.attempts


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_the_certificate_is_verified_and_the_login_sent_inside_tls(
    engine: Engine, mode: str, cert: Cert, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # STARTTLS upgrades a plain connection; SMTPS ("ssl") is TLS from the first byte
    relay, port = request.getfixturevalue(f"{'starttls' if mode == 'starttls' else 'smtps'}_relay")
    _one_overdue_customer(engine)
    settings = SmtpSettings(
        host="127.0.0.1", port=port, ca_file=cert.cert, username="ar", password="s3cret", **{mode: True}
    )
    assert _dun(engine, 10, settings, tmp_path) == {"sent": 1, "failed": 0}
    assert relay.accepted == [("ap@c1.test", True)] and relay.logins == ["ar"]
    assert _item(engine)[0] == "sent"


def test_an_unknown_certificate_is_refused_and_the_item_kept_for_the_next_run(
    engine: Engine, starttls_relay: tuple[Relay, int], cert: Cert, tmp_path: Path
) -> None:
    relay, port = starttls_relay
    _one_overdue_customer(engine)
    trusting_nobody = SmtpSettings(
        host="127.0.0.1", port=port, starttls=True, username="ar", password="s3cret"
    )  # the system's CAs do not know the relay's own certificate
    assert _dun(engine, 10, trusting_nobody, tmp_path) == {"sent": 0, "failed": 1}
    status, error, _ = _item(engine)
    assert status == "failed" and "CERTIFICATE_VERIFY_FAILED" in (error or "")
    assert relay.accepted == [] and relay.logins == []  # the password never left
    trusting_the_relay = trusting_nobody.model_copy(update={"ca_file": cert.cert})
    assert _dun(engine, 11, trusting_the_relay, tmp_path) == {"sent": 1, "failed": 0}
    assert relay.accepted == [("ap@c1.test", True)]
    assert _item(engine) == ("sent", None, 2)


def test_a_certificate_for_another_host_name_is_refused(engine: Engine, tmp_path: Path) -> None:
    # trusted (its own CA is given) but made out to another name than the host connected to
    other = _self_signed(tmp_path / "other", [x509.DNSName("relay.example.org")])
    relay = Relay()
    with _serving(relay, tls_context=other.server_context(), require_starttls=True) as port:
        _one_overdue_customer(engine)
        settings = SmtpSettings(host="127.0.0.1", port=port, starttls=True, ca_file=other.cert)
        assert _dun(engine, 10, settings, tmp_path) == {"sent": 0, "failed": 1}
    status, error, _ = _item(engine)
    assert status == "failed" and "CERTIFICATE_VERIFY_FAILED" in (error or "")
    assert "127.0.0.1" in (error or "") and relay.accepted == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (
            SmtpSettings(host="mail.example.org", port=25, username="ar", password="s3cret"),
            "refusing to send the SMTP password to mail.example.org in clear text",
        ),
        (
            SmtpSettings(host="127.0.0.1", port=1, starttls=True, ssl=True),
            "ARRISK_SMTP_SSL and ARRISK_SMTP_STARTTLS exclude each other",
        ),
    ],
)
def test_unsafe_or_contradictory_settings_fail_the_item_before_connecting(
    engine: Engine, settings: SmtpSettings, message: str, tmp_path: Path
) -> None:
    _one_overdue_customer(engine)
    assert _dun(engine, 10, settings, tmp_path) == {"sent": 0, "failed": 1}
    status, error, _ = _item(engine)
    assert status == "failed" and message in (error or "") and "s3cret" not in (error or "")


def test_tls_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, cert: Cert) -> None:
    monkeypatch.setenv("ARRISK_SMTP_SSL", "true")
    monkeypatch.setenv("ARRISK_SMTP_CA_FILE", str(cert.cert))
    s = SmtpSettings()
    assert (s.ssl, s.starttls, s.ca_file) == (True, False, cert.cert)
