"""BAI2 (Cash Management Balance Reporting v2) through the maintained ``bai2`` parser.

Record codes are checked line by line first so a broken file names its line; the library then
checks the structure and the control totals. Type codes 100-399 are credits, 400-699 debits;
amounts are in cents.
"""

from __future__ import annotations

import re
from decimal import Decimal

from bai2.constants import TypeCodeTransaction
from bai2.exceptions import IntegrityException, NotSupportedYetException, ParsingException
from bai2.helpers import IteratorHelper
from bai2.parsers import Bai2FileParser

from arrisk.cashapp.statement import Statement, StatementFormatError, StatementLine

RECORD_CODES = {"01", "02", "03", "16", "49", "88", "98", "99"}
PAYER = re.compile(
    r"(?:ORIG CO NAME|ORIGINATOR|ORDERING PARTY|FROM)[:=]\s*([^,/]+?)(?:\s{2,}|\s+[A-Z ]+:|$)", re.I
)


def _checked_lines(text: str, *, source: str) -> list[tuple[int, str]]:
    lines = [(no, raw.strip()) for no, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    for no, line in lines:
        if line[:2] not in RECORD_CODES or line[2:3] != ",":
            raise StatementFormatError(f"{source} line {no}: unknown BAI2 record code {line[:3]!r}")
        if line[:2] == "16":
            fields = line.split(",")
            if len(fields) < 3 or not fields[2].lstrip("+-").isdigit():
                raise StatementFormatError(
                    f"{source} line {no}: 16 record amount {fields[2:3]} is not a number"
                )
    return lines


def parse_bai2(text: str, *, source: str = "statement") -> Statement:
    lines = _checked_lines(text, source=source)
    helper: IteratorHelper | None = None
    try:
        helper = IteratorHelper(line for _, line in lines)
        parsed = Bai2FileParser(helper).parse()
    except (ParsingException, IntegrityException, NotSupportedYetException, ValueError, IndexError) as err:
        raise StatementFormatError(f"{source} line {_failing_line(helper, lines)}: BAI2 {err}") from None
    except StopIteration:
        raise StatementFormatError(
            f"{source} line {lines[-1][0]}: BAI2 file ends early (no 99 trailer)"
        ) from None
    statement = Statement(format="bai2", account=None, statement_id=parsed.header.file_id)
    for group in parsed.children:
        for account in group.children:
            statement.account = statement.account or account.header.customer_account_number
            currency = account.header.currency or group.header.currency or "USD"
            for detail in account.children:
                statement.lines.append(_line(detail, group, currency, len(statement.lines) + 1))
    return statement


def _failing_line(helper: IteratorHelper | None, lines: list[tuple[int, str]]) -> int:
    if helper is None or helper.current_record is None:
        return lines[0][0]
    code, rest = helper.current_record.rows[0]
    wanted = f"{code.value},{rest}"
    return next((no for no, line in lines if line == wanted), lines[-1][0])


def _line(detail: object, group: object, currency: str, position: int) -> StatementLine:
    type_code = detail.type_code  # type: ignore[attr-defined]
    text = (detail.text or "").strip()  # type: ignore[attr-defined]
    payer = PAYER.search(text)
    bank_ref = (detail.bank_reference or "").strip()  # type: ignore[attr-defined]
    customer_ref = (detail.customer_reference or "").strip()  # type: ignore[attr-defined]
    return StatementLine(
        line_id=bank_ref or f"#{position}",
        position=position,
        booking_date=group.header.as_of_date,  # type: ignore[attr-defined]
        amount=(Decimal(detail.amount or 0) / 100).quantize(Decimal("0.01")),  # type: ignore[attr-defined]
        currency=currency,
        is_credit=type_code.transaction == TypeCodeTransaction.credit,
        remittance=" ".join(p for p in (customer_ref, text) if p),
        payer_name=payer.group(1).strip() if payer else None,
    )
