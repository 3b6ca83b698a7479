"""The stateless matcher: open invoices, customers and a statement in; proposed allocations out.

``match_statement`` is the one entry point used by the CLI, the benchmark and the store service;
``proposal_rows`` flattens its result into the CSV contract (line_id, invoice_id, amount,
confidence, status, rule). An allocation's amount is in its invoice's currency (a line paid in
another currency is converted at its booking date's rate); unapplied and on-account rows are in the
line's currency. Without exchange rates only invoices in the line's own currency are considered.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd

from arrisk.cashapp.book import OpenBook
from arrisk.cashapp.fx import fx_table, validate_fx_rates
from arrisk.cashapp.matcher import Matcher
from arrisk.cashapp.payers import PayerIndex
from arrisk.cashapp.policy import CashAppPolicy, load_policy
from arrisk.cashapp.proposals import LineMatch, LineStatus
from arrisk.cashapp.statement import Statement, parse_statement
from arrisk.errors import ValidationError
from arrisk.settings import get_settings

OUTPUT_COLUMNS = ["line_id", "invoice_id", "amount", "confidence", "status", "rule"]
INVOICE_COLUMNS = ["invoice_id", "customer_id", "invoice_number", "due_date", "amount", "currency"]


def match_statement(
    statement: Statement,
    open_items: pd.DataFrame,
    customers: pd.DataFrame | None = None,
    *,
    policy: CashAppPolicy | None = None,
    accounts: dict[str, str] | None = None,
    rule_stats: dict[str, tuple[int, int]] | None = None,
    fx_rates: pd.DataFrame | None = None,
    base_currency: str | None = None,
) -> tuple[list[LineMatch], OpenBook]:
    """Match every line of ``statement``; returns the matches and the book they point into.

    ``fx_rates`` (currency, rate_date, rate_to_base) lets a line match invoices in other currencies;
    ``base_currency`` defaults to the settings' one."""
    policy = policy or load_policy()
    base = base_currency or get_settings().base_currency
    fx = fx_table(fx_rates, base_currency=base)
    book = OpenBook.from_frame(open_items)
    if customers is None:
        customers = pd.DataFrame({"customer_id": pd.unique(open_items["customer_id"].astype(str))})
    payers = PayerIndex(customers, policy=policy, accounts=accounts)
    matcher = Matcher(book, payers, policy=policy, rule_stats=rule_stats, fx=fx)
    return matcher.match(statement.lines), book


def proposal_rows(matches: list[LineMatch], book: OpenBook) -> pd.DataFrame:
    """One row per proposed allocation; a line with nothing proposed is one 'unapplied' row."""
    rows: list[dict[str, object]] = []
    for m in matches:
        if m.status == LineStatus.DEBIT:
            continue
        if m.status == LineStatus.UNAPPLIED or not m.proposals:
            rows.append(_row(m.line.line_id, "", m.line.amount * 100, 0.0, "unapplied", "no_candidate"))
            continue
        chosen = m.proposals[:1] if m.status == LineStatus.AUTO else m.proposals
        for p in chosen:
            for pos, cents in zip(p.positions, p.cents, strict=True):
                rows.append(
                    _row(m.line.line_id, str(book.item_id[pos]), cents, p.confidence, m.status.value, p.rule)
                )
            if p.left_over > 0 and m.status == LineStatus.AUTO:
                rows.append(_row(m.line.line_id, "", p.left_over, p.confidence, "unapplied", "on_account"))
    return pd.DataFrame(rows, columns=OUTPUT_COLUMNS)


def _row(
    line_id: str, invoice_id: str, cents: int | float | Decimal, confidence: float, status: str, rule: str
) -> dict[str, object]:
    return {
        "line_id": line_id,
        "invoice_id": invoice_id,
        "amount": f"{int(cents) / 100:.2f}",
        "confidence": round(float(confidence), 4),
        "status": status,
        "rule": rule,
    }


def read_open_invoices(path: Path) -> pd.DataFrame:
    """The ``invoices`` interchange table, with an optional ``open_amount`` column (default: amount)."""
    frame = _read(path)
    missing = [c for c in INVOICE_COLUMNS if c not in frame]
    if missing:
        raise ValidationError(
            f"{path}: open invoices lack column(s) {missing} (the invoices interchange format)"
        )
    for col in ("amount", "open_amount"):
        if col in frame:
            values = pd.to_numeric(frame[col], errors="coerce")
            bad = values.isna() & frame[col].notna()
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0]) + 2
                raise ValidationError(f"{path} row {row}: {col} {frame[col][bad].iloc[0]!r} is not a number")
            frame[col] = values.astype("float64")
    for col in ("due_date", "issue_date"):
        if col in frame:
            frame[col] = pd.to_datetime(frame[col], errors="raise")
    return frame


def read_fx_rates(path: Path) -> pd.DataFrame:
    """The ``fx_rates`` interchange table (currency, rate_date, rate_to_base), validated."""
    return validate_fx_rates(_read(path), source=str(path))


def read_customers(path: Path) -> pd.DataFrame:
    frame = _read(path)
    if "customer_id" not in frame:
        raise ValidationError(f"{path}: customers lack column 'customer_id'")
    return frame


def _read(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise ValidationError(f"{path}: file not found")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])


def match_files(
    *,
    open_invoices: Path,
    statement: Path,
    out: Path,
    customers: Path | None = None,
    policy_path: Path | None = None,
    fx_rates: Path | None = None,
) -> dict[str, int]:
    """The ``arrisk cashapp match`` command: files in, proposals CSV out; returns counts by status."""
    policy = load_policy(policy_path)
    parsed = parse_statement(Path(statement).read_bytes(), source=str(statement), csv_columns=policy.csv)
    items = read_open_invoices(open_invoices)
    cust = read_customers(customers) if customers else None
    rates = read_fx_rates(fx_rates) if fx_rates else None
    matches, book = match_statement(parsed, items, cust, policy=policy, fx_rates=rates)
    rows = proposal_rows(matches, book)
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out, index=False)
    counts: dict[str, int] = {}
    for m in matches:
        counts[m.status.value] = counts.get(m.status.value, 0) + 1
    return counts
