"""SWIFT MT940 through the maintained ``mt-940`` parser.

A ``:61:`` line is one entry; its ``:86:`` carries the remittance text, either free, German
structured (``?20``..``?33``) or SWIFT structured (``/REMI/``, ``/ORDP//NAME/``, ``/IBAN/``).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import mt940
from mt940.options import Options

from arrisk.cashapp.statement import Statement, StatementFormatError, StatementLine

SWIFT_NAME = re.compile(r"/(?:NAME|ORDP//NAME)/([^/]+)")
SWIFT_IBAN = re.compile(r"/(?:IBAN|ACCW)/([A-Z0-9 ]+)")
SWIFT_TAGS = "ORDP|BENM|NAME|IBAN|ACCW|EREF|PREF|ULTD|ULTB|PURP|BIC|CHGS|TRCD|CDTR|SVWZ|MARF|RTRN"
SWIFT_REMI = re.compile(r"/REMI/(.*?)(?=/(?:" + SWIFT_TAGS + r")/|$)", re.S)
SWIFT_EREF = re.compile(r"/EREF/([^/]+)")
SWIFT_BLOCK = re.compile(r"^\{1:.*?\{4:\s*", re.S)


def _line_of(text: str, value: str) -> int:
    """The 1-based line where a tag's value starts in the original text."""
    first = value.strip().splitlines()[0] if value.strip() else value
    idx = text.find(first)
    return text.count("\n", 0, idx) + 1 if idx >= 0 else 1


def _precheck(text: str, *, source: str) -> None:
    tags = re.findall(r"^:(\d{2}[A-Z]?):", text, re.M)
    if "61" not in tags and "60F" not in tags and "60M" not in tags:
        raise StatementFormatError(f"{source}: MT940 without :60F: opening balance or :61: lines")
    for no, raw in enumerate(text.splitlines(), start=1):
        if raw.startswith(":61:") and not re.match(r":61:\d{6}(\d{4})?R?[CD]", raw):
            raise StatementFormatError(
                f"{source} line {no}: :61: does not start YYMMDD[MMDD]C|D: {raw[:40]!r}"
            )


def parse_mt940(text: str, *, source: str = "statement") -> Statement:
    body = SWIFT_BLOCK.sub("", text.replace("\r\n", "\n")).replace("\n-}", "").rstrip("}\n -")
    _precheck(body, source=source)
    transactions = mt940.models.Transactions(
        processors={"post_transaction_details": [mt940.processors.transaction_details_post_processor]},
        options=Options(applicant_iban=True, merge_keeps_values=True),
    )
    try:
        transactions.parse(body)
    except RuntimeError as err:
        value = err.args[2] if len(err.args) > 2 and isinstance(err.args[2], str) else ""
        tag = err.args[1] if len(err.args) > 1 else "tag"
        raise StatementFormatError(
            f"{source} line {_line_of(body, value)}: MT940 {tag!r} {value[:40]!r} is malformed"
        ) from None
    except (KeyError, ValueError, ArithmeticError) as err:
        raise StatementFormatError(f"{source}: MT940 cannot be read: {err}") from None
    data = transactions.data
    statement = Statement(
        format="mt940",
        account=data.get("account_identification"),
        statement_id=data.get("transaction_reference"),
    )
    currency = transactions.currency or "EUR"
    for position, tx in enumerate(transactions, start=1):
        statement.lines.append(_line(tx.data, position, currency))
    return statement


def _line(data: dict[str, Any], position: int, currency: str) -> StatementLine:
    amount = data["amount"]
    value = Decimal(amount.amount)
    details = str(data.get("transaction_details") or "")
    name = data.get("applicant_name") or _first(SWIFT_NAME, details)
    account = data.get("applicant_iban") or _first(SWIFT_IBAN, details)
    refs = [str(data[k]) for k in ("purpose", "end_to_end_reference", "customer_reference") if data.get(k)]
    refs += [_first(SWIFT_REMI, details) or "", _first(SWIFT_EREF, details) or ""]
    purpose = " ".join(r for r in refs if r and r not in ("NONREF", "NOTPROVIDED"))
    if "/REMI/" in details or data.get("purpose"):
        details = ""  # structured: the parts above are the remittance, the rest is names and accounts
    bank_ref = (data.get("bank_reference") or "").strip()
    customer_ref = (data.get("customer_reference") or "").strip()
    ref = bank_ref or (customer_ref if customer_ref and customer_ref != "NONREF" else "")
    booked = data.get("date") or data.get("entry_date")
    if booked is None:
        raise StatementFormatError(f"MT940 line {position}: :61: has no value date")
    return StatementLine(
        line_id=ref or f"#{position}",
        position=position,
        booking_date=dt.date(booked.year, booked.month, booked.day),
        amount=abs(value).quantize(Decimal("0.01")),
        currency=getattr(amount, "currency", None) or currency,
        is_credit=value > 0,
        remittance=" ".join(p for p in (purpose, details) if p).strip(),
        payer_name=str(name).strip() if name else None,
        payer_account=str(account).replace(" ", "") if account else None,
    )


def _first(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(text)
    return found.group(1).strip() if found else None
