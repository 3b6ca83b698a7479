"""CSV statements with configurable columns (``CsvColumns``): one row per booked entry.

Direction comes from a sign, separate credit/debit columns, or a C/D column. Every row is checked
before any is returned; the first bad one is refused with its line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from decimal import Decimal

from arrisk.cashapp.policy import CsvColumns
from arrisk.cashapp.statement import Statement, StatementFormatError, StatementLine, parse_amount

CREDIT_MARKS = {"C", "CR", "CRDT", "CREDIT", "H", "HABEN", "+"}
DEBIT_MARKS = {"D", "DR", "DBIT", "DEBIT", "S", "SOLL", "-"}


def _pick(header: Sequence[str], names: list[str]) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    return next((lowered[n.lower()] for n in names if n.lower() in lowered), None)


def _reader(text: str, columns: CsvColumns, *, source: str) -> csv.DictReader[str]:
    delimiter = columns.delimiter
    if delimiter is None:
        first = text.splitlines()[0]
        delimiter = max((",", ";", "\t", "|"), key=first.count)
    return csv.DictReader(io.StringIO(text), delimiter=delimiter, strict=True)


def parse_csv(text: str, *, source: str = "statement", columns: CsvColumns | None = None) -> Statement:
    columns = columns or CsvColumns()
    reader = _reader(text, columns, source=source)
    header = reader.fieldnames or []
    cols = {
        key: _pick(header, getattr(columns, key))
        for key in (
            "line_id",
            "date",
            "amount",
            "credit",
            "debit",
            "direction",
            "currency",
            "remittance",
            "payer_name",
            "payer_account",
        )
    }
    if cols["date"] is None:
        raise StatementFormatError(f"{source} line 1: no date column (looked for {columns.date})")
    if cols["amount"] is None and cols["credit"] is None:
        raise StatementFormatError(f"{source} line 1: no amount column (looked for {columns.amount})")
    statement = Statement(format="csv", account=columns.own_account, statement_id=None)
    try:
        for position, row in enumerate(reader, start=1):
            if None in row:
                raise StatementFormatError(
                    f"{source} line {reader.line_num}: more fields than the header has"
                )
            where = f"{source} line {reader.line_num}"
            statement.lines.append(_line(row, cols, columns, position=position, where=where))
    except csv.Error as err:
        raise StatementFormatError(f"{source} line {reader.line_num}: CSV {err}") from None
    return statement


def _signed_amount(row: dict[str, str], cols: dict[str, str | None], *, where: str) -> Decimal:
    if cols["amount"] and (row.get(cols["amount"]) or "").strip():
        amount = parse_amount(row[cols["amount"]], where=f"{where} column {cols['amount']}")
        mark = (row.get(cols["direction"]) or "").strip().upper() if cols["direction"] else ""
        if mark in DEBIT_MARKS:
            return -abs(amount)
        if mark and mark not in CREDIT_MARKS:
            raise StatementFormatError(
                f"{where} column {cols['direction']}: {mark!r} is neither credit nor debit"
            )
        return amount
    credit = (row.get(cols["credit"] or "") or "").strip()
    debit = (row.get(cols["debit"] or "") or "").strip()
    if credit:
        return abs(parse_amount(credit, where=f"{where} column {cols['credit']}"))
    if debit:
        return -abs(parse_amount(debit, where=f"{where} column {cols['debit']}"))
    raise StatementFormatError(f"{where}: no amount")


def _date(raw: str, columns: CsvColumns, *, where: str) -> dt.date:
    raw = raw.strip()
    formats = [columns.date_format] if columns.date_format else ["%Y-%m-%d", "%d.%m.%Y", "%Y%m%d", "%d/%m/%Y"]
    for fmt in formats:
        try:
            return dt.datetime.strptime(raw[:10], fmt).date()
        except ValueError:
            continue
    raise StatementFormatError(f"{where}: date {raw!r} does not match {formats}")


def _line(
    row: dict[str, str], cols: dict[str, str | None], columns: CsvColumns, *, position: int, where: str
) -> StatementLine:
    def get(key: str) -> str:
        return (row.get(cols[key] or "") or "").strip() if cols[key] else ""

    amount = _signed_amount(row, cols, where=where)
    return StatementLine(
        line_id=get("line_id") or f"#{position}",
        position=position,
        booking_date=_date(get("date"), columns, where=f"{where} column {cols['date']}"),
        amount=abs(amount),
        currency=(get("currency") or columns.default_currency).upper(),
        is_credit=amount > 0,
        remittance=get("remittance"),
        payer_name=get("payer_name") or None,
        payer_account=get("payer_account").replace(" ", "") or None,
    )
