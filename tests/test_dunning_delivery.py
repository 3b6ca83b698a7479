"""Delivery against a real SMTP server on 127.0.0.1 (aiosmtpd) and real PDFs read back with pypdf."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from pypdf import PdfReader
from sqlalchemy import Engine, select

from arrisk.collections.actor import Actor
from arrisk.dunning.delivery import SmtpSettings
from arrisk.dunning.engine import run_dunning
from arrisk.dunning.statement import write_statement
from arrisk.dunning.tables import OutboxItem
from arrisk.store.db import session_scope
from arrisk.store.tables import Activity, DunningEvent
from tests.test_dunning_book import add_customer, add_invoice, pay

D = dt.date
BOT = Actor("dunning-bot", "admin")


class Inbox:
    """An SMTP handler keeping every accepted message; it can refuse the first ``refuse`` ones."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = 0

    async def handle_DATA(self, server, session, envelope) -> str:  # type: ignore[no-untyped-def]  # noqa: N802
        if self.refuse > 0:
            self.refuse -= 1
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, SmtpSettings]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, SmtpSettings(host="127.0.0.1", port=port, sender="ar@arrisk.test")
    controller.stop()


def body(msg: Message) -> str:
    return str(msg.get_content())  # type: ignore[attr-defined]


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_send_emails_per_language_and_letters_as_pdf(engine: Engine, smtp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    inbox, settings = smtp
    add_customer(engine, "EN", language="en", email="ap@en.test")
    add_customer(engine, "DE", language="de-DE", email="buchhaltung@de.test")
    add_customer(engine, "FR", language="fr", email="compta@fr.test")
    add_customer(engine, "NOMAIL", email=None)
    for cid in ("EN", "DE", "FR", "NOMAIL"):
        add_invoice(engine, f"{cid}-1", cid, issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="1234.50")
    add_invoice(engine, "EN-2", "EN", issue=D(2025, 1, 3), due=D(2025, 1, 29), amount="99.99")
    result = run_dunning(
        engine, D(2025, 2, 10), dry_run=False, send=True, actor=BOT, smtp=settings, letters_dir=tmp_path
    )
    assert result.delivery == {"sent": 4, "failed": 0}
    by_to = {m["To"]: m for m in inbox.messages}
    assert set(by_to) == {"ap@en.test", "buchhaltung@de.test", "compta@fr.test"}
    en = by_to["ap@en.test"]
    assert en["Subject"] == "Payment reminder: 1334.49 EUR overdue" and en["From"] == "ar@arrisk.test"
    assert "NEN-1: 1234.50 EUR, due 2025-01-31, 10 days past due" in body(en)
    assert "NEN-2: 99.99 EUR, due 2025-01-29, 12 days past due" in body(en)
    assert by_to["buchhaltung@de.test"]["Subject"] == "Zahlungserinnerung: 1234.50 EUR überfällig"
    assert "10 Tage überfällig" in body(by_to["buchhaltung@de.test"])
    assert by_to["compta@fr.test"]["Subject"].startswith("Payment reminder")  # no French template: English
    letter = tmp_path / f"{result.run_id}-NOMAIL.pdf"
    text = pdf_text(letter)
    assert "NNOMAIL-1" in text and "1234.50" in text and "Days past due" in text
    with session_scope(engine) as s:
        assert set(s.scalars(select(DunningEvent.status))) == {"sent"}
        assert set(s.scalars(select(OutboxItem.status))) == {"sent"}


def test_failed_send_is_kept_and_retried_once_without_duplicates(
    engine: Engine, smtp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    inbox, settings = smtp
    add_customer(engine, "C1", email="ap@c1.test")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500")
    inbox.refuse = 1
    first = run_dunning(
        engine, D(2025, 2, 10), dry_run=False, send=True, actor=BOT, smtp=settings, letters_dir=tmp_path
    )
    assert first.delivery == {"sent": 0, "failed": 1} and inbox.messages == []
    with session_scope(engine) as s:
        item = s.scalars(select(OutboxItem)).one()
        assert item.status == "failed" and "451" in (item.last_error or "")
        assert s.scalars(select(DunningEvent.status)).one() == "failed"
    second = run_dunning(
        engine, D(2025, 2, 11), dry_run=False, send=True, actor=BOT, smtp=settings, letters_dir=tmp_path
    )
    assert second.counts["messages"] == 0 and second.delivery == {"sent": 1, "failed": 0}
    third = run_dunning(
        engine, D(2025, 2, 12), dry_run=False, send=True, actor=BOT, smtp=settings, letters_dir=tmp_path
    )
    assert third.delivery == {"sent": 0, "failed": 0}
    assert len(inbox.messages) == 1 and inbox.messages[0]["To"] == "ap@c1.test"
    with session_scope(engine) as s:
        item = s.scalars(select(OutboxItem)).one()
        assert (item.status, item.attempts) == ("sent", 2)
        assert s.scalars(select(DunningEvent.status)).one() == "sent"


def test_unreachable_server_fails_every_item_and_call_tasks_become_activities(
    engine: Engine, tmp_path: Path
) -> None:
    add_customer(engine, "C1", email="ap@c1.test", segment="enterprise")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="5000")
    run_dunning(engine, D(2025, 2, 10), dry_run=False, send=False, actor=BOT)
    dead = SmtpSettings(host="127.0.0.1", port=_free_port(), timeout_s=2)
    level2 = run_dunning(
        engine, D(2025, 3, 3), dry_run=False, send=True, actor=BOT, smtp=dead, letters_dir=tmp_path
    )
    assert level2.messages.iloc[0]["channels"] == ["call_task", "email"]
    # Level 1's queued email and level 2's email fail; level 2's call task is a collector activity.
    assert level2.delivery == {"sent": 1, "failed": 2}
    with session_scope(engine) as s:
        task = s.scalars(select(Activity)).one()
        assert (
            task.kind == "call"
            and task.outcome == "dunning_call_task"
            and task.next_follow_up == D(2025, 3, 3)
        )


def test_statement_of_account_as_csv_and_pdf(engine: Engine, tmp_path: Path) -> None:
    add_customer(engine, "C1")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="1000")
    add_invoice(engine, "I2", "C1", issue=D(2025, 2, 1), due=D(2025, 3, 3), amount="250")
    add_invoice(engine, "I3", "C1", issue=D(2025, 2, 1), due=D(2025, 3, 3), amount="70")
    pay(engine, "P1", "I1", day=D(2025, 2, 15), amount="400")
    pay(engine, "P3", "I3", day=D(2025, 2, 15), amount="70")
    csv_path = write_statement(engine, "C1", D(2025, 3, 10), path=tmp_path / "s.csv", fmt="csv")
    rows = list(csv.DictReader(csv_path.open()))
    assert [(r["invoice_id"], float(r["open_amount"]), int(r["days_past_due"])) for r in rows] == [
        ("I1", 600.0, 38),
        ("I2", 250.0, 7),
    ]
    text = pdf_text(write_statement(engine, "C1", D(2025, 3, 10), path=tmp_path / "s.pdf"))
    assert (
        "Statement of account" in text and "NI1" in text and "600.00" in text and "Total open: 850.00" in text
    )
    assert "NI3" not in text


def test_smtp_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ARRISK_SMTP_HOST", "mail.example.org")
    monkeypatch.setenv("ARRISK_SMTP_PORT", "587")
    monkeypatch.setenv("ARRISK_SMTP_STARTTLS", "true")
    monkeypatch.setenv("ARRISK_SMTP_PASSWORD", "s3cret")
    s = SmtpSettings()
    assert (s.host, s.port, s.starttls) == ("mail.example.org", 587, True)
    assert s.password is not None and s.password.get_secret_value() == "s3cret" and "s3cret" not in repr(s)
