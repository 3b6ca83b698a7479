"""ISO 20022 camt.053 (bank-to-customer statement), any version, parsed without DTDs or entities.

Namespaces are dropped after a safe parse (defusedxml), so 001.02 to 001.13 read the same way.
One ``Ntry`` is one line; a batch entry with several ``TxDtls`` that carry their own amounts
becomes one line per transaction.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # noqa: N817  (types and ParseError only; parsing is defusedxml)
from decimal import Decimal

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from arrisk.cashapp.statement import (
    Statement,
    StatementFormatError,
    StatementLine,
    parse_amount,
    parse_iso_date,
)


def _strip_namespaces(root: ET.Element) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]


def _text(el: ET.Element | None, path: str) -> str | None:
    if el is None:
        return None
    found = el.find(path)
    if found is None or found.text is None:
        return None
    return found.text.strip() or None


def _load(content: bytes, *, source: str) -> ET.Element:
    try:
        root = SafeET.fromstring(content, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as err:
        raise StatementFormatError(f"{source}: refused unsafe XML ({type(err).__name__}: {err})") from None
    except ET.ParseError as err:
        line, col = err.position
        raise StatementFormatError(
            f"{source}: XML not well-formed at line {line}, column {col}: {err}"
        ) from None
    _strip_namespaces(root)
    return root


def parse_camt053(content: bytes, *, source: str = "statement") -> Statement:
    """All booked entries of every ``Stmt`` in the document."""
    root = _load(content, source=source)
    body = root.find("BkToCstmrStmt")
    if body is None:
        raise StatementFormatError(f"{source}: element Document/BkToCstmrStmt is missing")
    stmts = body.findall("Stmt")
    if not stmts:
        raise StatementFormatError(f"{source}: element BkToCstmrStmt/Stmt is missing")
    statement = Statement(format="camt053", account=None, statement_id=_text(stmts[0], "Id"))
    for s_no, stmt in enumerate(stmts, start=1):
        account = _text(stmt, "Acct/Id/IBAN") or _text(stmt, "Acct/Id/Othr/Id")
        statement.account = statement.account or account
        for e_no, entry in enumerate(stmt.findall("Ntry"), start=1):
            where = f"{source}: element Stmt[{s_no}]/Ntry[{e_no}]"
            statement.lines.extend(_entry_lines(entry, where=where, first_position=len(statement.lines) + 1))
    return statement


def _entry_lines(entry: ET.Element, *, where: str, first_position: int) -> list[StatementLine]:
    amount, currency = _amount(entry, "Amt", where=where)
    indicator = _text(entry, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise StatementFormatError(f"{where}/CdtDbtInd: expected CRDT or DBIT, got {indicator!r}")
    raw_date = _text(entry, "BookgDt/Dt") or _text(entry, "BookgDt/DtTm") or _text(entry, "ValDt/Dt")
    if raw_date is None:
        raise StatementFormatError(f"{where}/BookgDt: booking date is missing")
    booked = parse_iso_date(raw_date, where=f"{where}/BookgDt")
    entry_ref = _text(entry, "AcctSvcrRef") or _text(entry, "NtryRef")
    details = entry.findall("NtryDtls/TxDtls")
    with_amounts = [
        tx for tx in details if tx.find("Amt") is not None or tx.find("AmtDtls/TxAmt/Amt") is not None
    ]
    if len(details) > 1 and len(with_amounts) == len(details):
        lines = []
        for t_no, tx in enumerate(details, start=1):
            tx_where = f"{where}/NtryDtls/TxDtls[{t_no}]"
            path = "Amt" if tx.find("Amt") is not None else "AmtDtls/TxAmt/Amt"
            tx_amount, tx_ccy = _amount(tx, path, where=tx_where)
            ref = _text(tx, "Refs/AcctSvcrRef") or (f"{entry_ref}/{t_no}" if entry_ref else None)
            lines.append(_line(tx, ref, first_position + t_no - 1, booked, tx_amount, tx_ccy, indicator))
        return lines
    first: ET.Element | None = details[0] if details else None
    ref = entry_ref or _text(first, "Refs/AcctSvcrRef")
    return [_line(first, ref, first_position, booked, amount, currency, indicator)]


def _amount(el: ET.Element, path: str, *, where: str) -> tuple[Decimal, str]:
    node = el.find(path)
    if node is None or not (node.text or "").strip():
        raise StatementFormatError(f"{where}/{path}: amount is missing")
    currency = node.get("Ccy")
    if not currency or len(currency) != 3:
        raise StatementFormatError(
            f"{where}/{path}: attribute Ccy is missing or not an ISO code ({currency!r})"
        )
    amount = parse_amount(node.text or "", where=f"{where}/{path}")
    if amount < 0:
        raise StatementFormatError(f"{where}/{path}: amount {amount} is negative (direction is CdtDbtInd)")
    return amount, currency


def _line(
    tx: ET.Element | None,
    ref: str | None,
    position: int,
    booked: object,
    amount: Decimal,
    currency: str,
    indicator: str,
) -> StatementLine:
    parts: list[str] = []
    if tx is not None:
        parts += [(u.text or "").strip() for u in tx.findall("RmtInf/Ustrd")]
        parts += [(n.text or "").strip() for n in tx.findall("RmtInf/Strd/RfrdDocInf/Nb")]
        parts += [(n.text or "").strip() for n in tx.findall("RmtInf/Strd/CdtrRefInf/Ref")]
        e2e = _text(tx, "Refs/EndToEndId")
        if e2e and e2e != "NOTPROVIDED":
            parts.append(e2e)
    party = "Dbtr" if indicator == "CRDT" else "Cdtr"
    name = _text(tx, f"RltdPties/{party}/Nm") or _text(tx, f"RltdPties/{party}/Pty/Nm")
    account = _text(tx, f"RltdPties/{party}Acct/Id/IBAN") or _text(tx, f"RltdPties/{party}Acct/Id/Othr/Id")
    return StatementLine(
        line_id=ref or f"#{position}",
        position=position,
        booking_date=booked,  # type: ignore[arg-type]
        amount=amount,
        currency=currency,
        is_credit=indicator == "CRDT",
        remittance=" ".join(p for p in parts if p),
        payer_name=name,
        payer_account=account,
    )
