"""Bank statements as the matcher sees them: one ``StatementLine`` per booked entry, any format.

The format is detected from the content, never from the file name, and a malformed file is refused
as a whole (``StatementFormatError`` names the line or element that broke it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from arrisk.errors import ValidationError


class StatementFormatError(ValidationError):
    """A statement that cannot be read; the message names the file, the line or element and why."""


@dataclass(frozen=True)
class StatementLine:
    """One booked entry. ``line_id`` is the bank's own reference, or ``#<position>`` when it has none."""

    line_id: str
    position: int
    booking_date: dt.date
    amount: Decimal  # always positive; ``is_credit`` says the direction
    currency: str
    is_credit: bool
    remittance: str = ""
    payer_name: str | None = None
    payer_account: str | None = None


@dataclass
class Statement:
    format: str  # camt053 | bai2 | mt940 | csv
    account: str | None
    statement_id: str | None
    lines: list[StatementLine] = field(default_factory=list)

    @property
    def credits(self) -> list[StatementLine]:
        return [line for line in self.lines if line.is_credit]


def decode(content: bytes, *, source: str) -> str:
    """Text of a statement file: UTF-8 (with or without BOM), else Latin-1 as banks still send it."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


def detect_format(text: str, *, source: str = "statement") -> str:
    """camt053 | bai2 | mt940 | csv, from the first meaningful characters of the content."""
    head = text.lstrip()[:4000]
    if not head:
        raise StatementFormatError(f"{source}: the file is empty")
    if head.startswith("<"):
        if "camt.053" in head or "BkToCstmrStmt" in head:
            return "camt053"
        raise StatementFormatError(
            f"{source}: XML but not an ISO 20022 camt.053 statement (no BkToCstmrStmt)"
        )
    if head.startswith("01,"):
        return "bai2"
    if head.startswith("{1:") or head.startswith(":20:") or (":20:" in head and ":61:" in text):
        return "mt940"
    first = head.splitlines()[0]
    if any(sep in first for sep in (",", ";", "\t", "|")):
        return "csv"
    raise StatementFormatError(
        f"{source}: format not recognised (not camt.053, BAI2, MT940 or CSV): {first[:60]!r}"
    )


def parse_statement(
    content: bytes, *, source: str = "statement", csv_columns: object | None = None
) -> Statement:
    """Parse a statement in any supported format (detected from its content)."""
    text = decode(content, source=source)
    fmt = detect_format(text, source=source)
    if fmt == "camt053":
        from arrisk.cashapp.formats.camt053 import parse_camt053

        return parse_camt053(content, source=source)
    if fmt == "bai2":
        from arrisk.cashapp.formats.bai2_format import parse_bai2

        return parse_bai2(text, source=source)
    if fmt == "mt940":
        from arrisk.cashapp.formats.mt940_format import parse_mt940

        return parse_mt940(text, source=source)
    from arrisk.cashapp.formats.csv_format import parse_csv

    return parse_csv(text, source=source, columns=csv_columns)  # type: ignore[arg-type]


def parse_amount(raw: str, *, where: str) -> Decimal:
    """A positive money amount from text ('1234.56', '1.234,56', '1234,56'); refuses anything else."""
    from decimal import InvalidOperation

    value = raw.strip().replace(" ", "").replace("'", "")
    if "," in value and "." in value:
        value = (
            value.replace(".", "").replace(",", ".")
            if value.rfind(",") > value.rfind(".")
            else value.replace(",", "")
        )
    elif "," in value:
        value = value.replace(",", ".")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise StatementFormatError(f"{where}: amount {raw!r} is not a number") from None
    if not amount.is_finite():
        raise StatementFormatError(f"{where}: amount {raw!r} is not a number")
    return amount.quantize(Decimal("0.01"))


def parse_iso_date(raw: str, *, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw.strip()[:10])
    except ValueError:
        raise StatementFormatError(f"{where}: date {raw!r} is not a valid YYYY-MM-DD date") from None
