"""Delivering queued messages: email over SMTP, letters as PDF, call tasks as collector activities.

Each outbox item is updated in its own transaction right after its attempt, so a failure is
recorded and retried by the next send and a success is never sent again. Emails carry a stable
Message-ID (one per outbox item) so a receiver can drop the rare duplicate of a crash between the
SMTP accept and the commit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, select, update

from arrisk.dunning.pdf import write_letter
from arrisk.dunning.render import message_context, render_message
from arrisk.dunning.tables import DunningMessage, OutboxItem
from arrisk.store import audit
from arrisk.store.db import session_scope
from arrisk.store.tables import Activity, Customer, DunningEvent


class SmtpSettings(BaseSettings):
    """Where dunning email goes (env ``ARRISK_SMTP_HOST``, ``_PORT``, ``_STARTTLS``, ``_SSL``,
    ``_CA_FILE``, ``_USERNAME``, ...).

    ``starttls`` upgrades a plain connection (usually port 587), ``ssl`` is TLS from the first byte
    (SMTPS, usually port 465). Either way the server's certificate and host name are verified, against
    the system's CAs or the PEM bundle in ``ca_file`` (a company CA, a relay's own certificate).
    """

    model_config = SettingsConfigDict(env_prefix="ARRISK_SMTP_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    ca_file: Path | None = None
    username: str | None = None
    password: SecretStr | None = None
    sender: str = "receivables@example.com"
    timeout_s: float = 10.0


class SmtpConfigError(smtplib.SMTPException):
    """Settings that must not be used to connect (recorded on each outbox item, which stays queued)."""


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Mailer:
    """One SMTP connection reused for a whole delivery pass; reconnects after a drop."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.ssl and s.starttls:
            raise SmtpConfigError(
                "ARRISK_SMTP_SSL and ARRISK_SMTP_STARTTLS exclude each other: SSL is TLS from the first "
                "byte (port 465), STARTTLS upgrades a plain connection (port 587)"
            )
        if s.username and not (s.ssl or s.starttls) and not _loopback(s.host):
            raise SmtpConfigError(
                f"refusing to send the SMTP password to {s.host} in clear text: "
                "set ARRISK_SMTP_STARTTLS=true or ARRISK_SMTP_SSL=true"
            )
        # verified: smtplib's own default context (no context given) checks neither the certificate
        # nor the host name
        context = ssl.create_default_context(cafile=str(s.ca_file) if s.ca_file else None)
        smtp: smtplib.SMTP
        if s.ssl:
            smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s, context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        try:
            if s.starttls:
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
        except BaseException:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage) -> None:
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message)
        except smtplib.SMTPServerDisconnected:
            self._smtp = self._connect()
            self._smtp.send_message(message)

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(smtplib.SMTPException):
                self._smtp.quit()
            self._smtp = None


def _pending(engine: Engine) -> list[tuple[OutboxItem, DunningMessage, dict[str, Any]]]:
    with session_scope(engine) as session:
        rows = session.execute(
            select(OutboxItem, DunningMessage, Customer)
            .join(DunningMessage, DunningMessage.message_id == OutboxItem.message_id)
            .join(Customer, Customer.customer_id == OutboxItem.customer_id)
            .where(OutboxItem.status.in_(["pending", "failed"]))
            .order_by(OutboxItem.outbox_id)
        ).all()
        return [(item, msg, audit.row_dict(cust) or {}) for item, msg, cust in rows]


def _email(
    item: OutboxItem, msg: DunningMessage, customer: dict[str, Any], settings: SmtpSettings, rendered: Any
) -> EmailMessage:
    email = EmailMessage()
    email["From"] = settings.sender
    email["To"] = customer["email"]
    email["Subject"] = rendered.subject
    email["Message-ID"] = f"<dunning-{item.outbox_id}-{msg.message_id}@arrisk>"
    email["X-Arrisk-Dunning-Level"] = str(msg.level)
    email.set_content(rendered.body)
    return email


def _deliver_one(
    item: OutboxItem,
    msg: DunningMessage,
    customer: dict[str, Any],
    *,
    mailer: Mailer,
    letters_dir: Path,
    session: Any,
) -> str | None:
    context = message_context(customer=customer, as_of=msg.as_of, level=msg.level, invoices=msg.invoices)
    rendered = render_message(msg.template, msg.language, context)
    if item.channel == "email":
        if not customer.get("email"):
            raise ValueError(f"customer {customer['customer_id']} has no email address")
        mailer.send(_email(item, msg, customer, mailer.settings, rendered))
        return customer["email"]
    if item.channel == "letter":
        path = letters_dir / f"{msg.message_id}.pdf"
        write_letter(
            path,
            customer=customer,
            subject=rendered.subject,
            body=rendered.body,
            as_of=msg.as_of,
            invoices=msg.invoices,
        )
        return str(path)
    activity = Activity(
        customer_id=msg.customer_id,
        kind="call",
        outcome="dunning_call_task",
        note=f"Dunning level {msg.level}: {rendered.subject}",
        next_follow_up=msg.as_of,
        user_id=customer.get("collector_id"),
    )
    session.add(activity)
    session.flush()
    audit.record_row(session, activity, actor="dunning", action="activity.create")
    return customer.get("collector_id")


def deliver_outbox(
    engine: Engine, *, smtp: SmtpSettings | None = None, letters_dir: Path | None = None
) -> dict[str, int]:
    """Try every pending or failed item once; returns counts of sent and failed."""
    if letters_dir is None:
        from arrisk.settings import get_settings

        letters_dir = get_settings().reports_dir / "dunning" / "letters"
    mailer = Mailer(smtp or SmtpSettings())
    counts = {"sent": 0, "failed": 0}
    touched: set[str] = set()
    try:
        for item, msg, customer in _pending(engine):
            touched.add(msg.message_id)
            with session_scope(engine) as session:
                row = session.get(OutboxItem, item.outbox_id)
                assert row is not None
                row.attempts += 1
                try:
                    target = _deliver_one(
                        item, msg, customer, mailer=mailer, letters_dir=letters_dir, session=session
                    )
                except (OSError, smtplib.SMTPException, ValueError) as err:
                    row.status, row.last_error = "failed", f"{type(err).__name__}: {err}"
                    counts["failed"] += 1
                else:
                    row.status, row.last_error, row.sent_at = "sent", None, dt.datetime.now(dt.UTC)
                    row.artifact = target if item.channel == "letter" else None
                    row.recipient = target if item.channel != "letter" else customer.get("name")
                    counts["sent"] += 1
    finally:
        mailer.close()
    _mark_events(engine, touched)
    return counts


def _mark_events(engine: Engine, message_ids: set[str]) -> None:
    """An invoice's dunning event is sent once every channel of its message went out, else failed."""
    with session_scope(engine) as session:
        for message_id in message_ids:
            msg = session.get(DunningMessage, message_id)
            assert msg is not None
            statuses = set(
                session.scalars(select(OutboxItem.status).where(OutboxItem.message_id == message_id))
            )
            status = "sent" if statuses == {"sent"} else ("failed" if "failed" in statuses else "pending")
            invoice_ids = [line["invoice_id"] for line in msg.invoices]
            session.execute(
                update(DunningEvent)
                .where(DunningEvent.run_id == msg.run_id, DunningEvent.invoice_id.in_(invoice_ids))
                .values(status=status)
            )
