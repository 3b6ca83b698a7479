"""Cross-currency cash application: a line converted at its booking date's rate, within fx_pct."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import typer
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from arrisk.cashapp.cli import register
from arrisk.cashapp.fx import FxTable
from arrisk.cashapp.policy import load_policy
from arrisk.cashapp.proposals import LineStatus
from arrisk.cashapp.service import import_statement, list_exceptions, resolve_exception, reverse_allocation
from arrisk.cashapp.stateless import match_statement, proposal_rows
from arrisk.cashapp.statement import Statement, StatementLine
from arrisk.errors import ValidationError
from arrisk.store.db import session_scope
from arrisk.store.tables import Allocation, AuditLog, Customer, FxRate, Invoice, Payment, WriteOff

CUSTOMERS = pd.DataFrame(
    {"customer_id": ["C1", "C2"], "name": ["Acme Industrial GmbH", "Globex Corporation"]}
)
RATES = pd.DataFrame(
    {
        "currency": ["USD", "USD", "GBP"],
        "rate_date": pd.to_datetime(["2025-02-01", "2025-03-01", "2025-03-01"]),
        "rate_to_base": [0.90, 0.92, 1.15],
    }
)


def items(*rows: tuple[str, str, str, float, str]) -> pd.DataFrame:
    """(invoice_id, customer_id, invoice_number, open_amount, currency), issued 2025-02-01."""
    return pd.DataFrame(
        {
            "invoice_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "invoice_number": [r[2] for r in rows],
            "issue_date": pd.to_datetime(["2025-02-01"] * len(rows)),
            "due_date": pd.date_range("2025-03-01", periods=len(rows), freq="D"),
            "amount": [r[3] for r in rows],
            "open_amount": [r[3] for r in rows],
            "currency": [r[4] for r in rows],
        }
    )


BOOK = items(
    ("I1", "C1", "INV-000101", 10000.00, "EUR"),
    ("I2", "C2", "INV-000201", 1000.00, "USD"),
    ("I3", "C2", "INV-000202", 4321.00, "EUR"),
)


def usd(
    amount: str,
    text: str = "",
    payer: str | None = None,
    *,
    day: dt.date = dt.date(2025, 3, 20),
    ccy: str = "USD",
) -> StatementLine:
    return StatementLine("L1", 1, day, Decimal(amount), ccy, True, text, payer)


def run(line: StatementLine, rates: pd.DataFrame | None = RATES, book: pd.DataFrame = BOOK):  # type: ignore[no-untyped-def]
    (m,), bk = match_statement(
        Statement("csv", None, None, [line]),
        book,
        CUSTOMERS,
        policy=load_policy(),
        fx_rates=rates,
        base_currency="EUR",
    )
    return m, bk


def allocated(m, bk) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {str(bk.item_id[p]): f"{c / 100:.2f}" for p, c in zip(m.best.positions, m.best.cents, strict=True)}


def test_usd_payment_citing_a_eur_invoice_is_applied_at_the_converted_amount() -> None:
    m, bk = run(usd("10865.00", "INV-000101"))  # 10865.00 USD x 0.92 = 9995.80 EUR, 4.20 short of 10000
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"I1": "9995.80"}
    assert m.best.rule == "invoice_number_fx" and m.best.residues == [420]
    fx = m.best.evidence["fx"]
    assert (fx["from"], fx["to"], fx["rate"], fx["rate_date"]) == ("USD", "EUR", "0.92000000", "2025-03-01")
    assert (fx["line_amount"], fx["converted_amount"]) == ("10865.00", "9995.80")
    same, _ = run(usd("10000.00", "INV-000101", ccy="EUR"))
    assert m.best.confidence < same.best.confidence  # converted amounts are weaker evidence
    rows = proposal_rows([m], bk)
    assert rows[["invoice_id", "amount", "status"]].values.tolist() == [["I1", "9995.80", "auto"]]


def test_cross_rate_goes_via_the_base_currency() -> None:
    # GBP -> USD: 1.15 / 0.92 = 1.25; 800.00 GBP are 1000.00 USD
    m, bk = run(usd("800.00", "INV-000201", ccy="GBP"))
    assert m.status == LineStatus.AUTO and allocated(m, bk) == {"I2": "1000.00"}
    assert m.best.evidence["fx"]["rate"] == "1.25000000"


def test_overpaid_fx_keeps_the_excess_on_account_in_the_line_currency() -> None:
    m, bk = run(usd("10880.00", "INV-000101"))  # 10009.60 EUR: 9.60 EUR over, within 0.5%
    assert m.status == LineStatus.AUTO and allocated(m, bk) == {"I1": "10000.00"}
    assert m.best.left_over == 1043  # 9.60 EUR / 0.92 = 10.43 USD
    rows = proposal_rows([m], bk)
    assert rows[rows.rule == "on_account"].amount.tolist() == ["10.43"]


def test_fx_amount_match_without_a_reference_is_only_suggested() -> None:
    m, bk = run(usd("10865.00", "", "Acme Industrial GmbH"))
    assert m.status == LineStatus.SUGGESTED
    assert m.best.rule == "customer_amount_fx" and allocated(m, bk) == {"I1": "9995.80"}
    assert m.best.confidence < load_policy().auto_apply_threshold
    # no payer either: an amount that fits after conversion is a weak suggestion
    m, bk = run(usd("10865.00", "thank you"))
    assert m.status == LineStatus.SUGGESTED
    assert m.best.rule == "amount_only_fx" and allocated(m, bk) == {"I1": "9995.80"}
    assert m.best.confidence < 0.5


def test_without_rates_no_cross_currency_candidate() -> None:
    for line in (usd("10865.00", "INV-000101"), usd("10865.00", "", "Acme Industrial GmbH")):
        m, bk = run(line, rates=None)
        assert m.status == LineStatus.UNAPPLIED
        assert not any("I1" in allocated_ids(p, bk) for p in m.proposals)


def allocated_ids(p, bk) -> set[str]:  # type: ignore[no-untyped-def]
    return {str(bk.item_id[q]) for q in p.positions}


def test_a_rate_dated_after_the_booking_date_is_not_used() -> None:
    late = RATES.assign(rate_date=pd.to_datetime(["2025-04-01", "2025-04-02", "2025-04-01"]))
    m, _ = run(usd("10865.00", "INV-000101"), rates=late)
    assert m.status == LineStatus.UNAPPLIED and not m.proposals
    # on 2025-02-20 the February rate (0.90) is in force, not March's: 9778.50 EUR is short of 10000
    m, bk = run(usd("10865.00", "INV-000101", day=dt.date(2025, 2, 20)))
    assert m.status == LineStatus.SUGGESTED
    assert m.best.evidence["fx"]["rate_date"] == "2025-02-01"
    assert m.best.evidence["fx"]["converted_amount"] == "9778.50"
    assert m.best.rule == "invoice_number_partial_fx"


def test_fx_table_rates_in_force() -> None:
    table = FxTable(RATES, base_currency="EUR")
    assert table.rate_on("EUR", dt.date(2000, 1, 1)) == (Decimal(1), None)
    assert table.rate_on("USD", dt.date(2025, 1, 31)) is None
    assert table.rate_on("USD", dt.date(2025, 2, 28)) == (Decimal("0.9"), dt.date(2025, 2, 1))
    assert table.rate_on("USD", dt.date(2025, 3, 1)) == (Decimal("0.92"), dt.date(2025, 3, 1))
    assert table.rate_on("CHF", dt.date(2025, 3, 1)) is None
    conv = table.convert(100000, from_ccy="EUR", to_ccy="USD", day=dt.date(2025, 3, 5))
    assert conv is not None and conv.converted == 108696 and conv.back(108696) == 100000


# -- the store path ---------------------------------------------------------------------------

STATEMENT = (
    "bank_reference;booking_date;amount;currency;purpose;payer;iban\n"
    "FX-1;20.03.2025;10865,00;USD;INV-000101;Acme Industrial GmbH;US00111\n"
    "FX-2;20.03.2025;4700,00;USD;monthly settlement;Globex Corporation;US00222\n"
)


def seed(engine: Engine, *, rates: bool) -> None:
    with session_scope(engine) as s:
        for cid, name in (("C1", "Acme Industrial GmbH"), ("C2", "Globex Corporation")):
            s.add(Customer(customer_id=cid, name=name, country="DE", currency="EUR", payment_terms_days=30))
        s.flush()
        for iid, cid, number, amount in (
            ("I1", "C1", "INV-000101", "10000.00"),
            ("I3", "C2", "INV-000202", "4321.00"),
        ):
            s.add(
                Invoice(
                    invoice_id=iid,
                    customer_id=cid,
                    invoice_number=number,
                    issue_date=dt.date(2025, 2, 1),
                    due_date=dt.date(2025, 3, 3),
                    amount=Decimal(amount),
                    currency="EUR",
                )
            )
        if rates:
            for day, rate in ((dt.date(2025, 3, 1), "0.92"), (dt.date(2025, 3, 25), "0.80")):
                s.add(FxRate(currency="USD", rate_date=day, rate_to_base=Decimal(rate)))


def test_store_path_reads_fx_rates_and_posts_in_the_invoice_currency(engine: Engine, settings) -> None:  # type: ignore[no-untyped-def]
    seed(engine, rates=True)
    result = import_statement(engine, STATEMENT.encode(), "fx.csv", actor="alice")
    assert result.statuses == {"FX-1": "auto", "FX-2": "suggested"}  # 4700 USD = 4324.00 EUR, no number
    with session_scope(engine) as s:
        (alloc,) = s.scalars(select(Allocation)).all()
        auto_id = alloc.allocation_id
        assert (alloc.invoice_id, str(alloc.amount), alloc.currency) == ("I1", "9995.80", "EUR")
        assert alloc.rule == "invoice_number_fx"
        pay = s.get(Payment, alloc.payment_id)
        assert (str(pay.amount), pay.currency) == ("10865.00", "USD")
        (wo,) = s.scalars(select(WriteOff)).all()
        assert (wo.invoice_id, str(wo.amount), wo.currency) == ("I1", "4.20", "EUR")
        audit = s.scalars(select(AuditLog).where(AuditLog.action == "cashapp.auto_allocation")).one()
        assert audit.after["evidence"]["fx"]["rate_date"] == "2025-03-01"  # not the 25 March rate
    suggested = list_exceptions(engine)["items"][0]
    assert suggested["suggestions"][0]["allocations"] == [
        {"invoice_id": "I3", "amount": "4321.00", "currency": "EUR"}
    ]
    # a person accepts it: 4321.00 EUR of the 4700 USD payment (4696.74 USD at 0.92)
    resolve_exception(
        engine, suggested["exception_id"], invoice_allocations={"I3": Decimal("4321.00")}, actor="bob"
    )
    with pytest.raises(ValidationError, match="exceed"):
        resolve_exception(
            engine,
            reverse_allocation(engine, auto_id, actor="bob")["exception_id"],
            invoice_allocations={"I1": Decimal("10000.00")},
            actor="bob",
        )
    reversed_item = next(i for i in list_exceptions(engine)["items"] if i["kind"] == "reversed")
    assert (str(reversed_item["amount"]), reversed_item["currency"]) == ("10865.00", "USD")


def test_store_path_without_rates_leaves_foreign_currency_lines_unapplied(engine: Engine, settings) -> None:  # type: ignore[no-untyped-def]
    seed(engine, rates=False)
    result = import_statement(engine, STATEMENT.encode(), "fx.csv", actor="alice")
    assert result.statuses == {"FX-1": "unapplied", "FX-2": "unapplied"}
    with session_scope(engine) as s:
        assert s.scalars(select(Allocation)).all() == []


# -- the stateless CLI ------------------------------------------------------------------------


def test_stateless_cli_with_fx_rates(tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    app = typer.Typer()
    register(app)
    BOOK.to_csv(tmp_path / "open.csv", index=False)
    (tmp_path / "st.csv").write_text(STATEMENT)
    RATES.to_csv(tmp_path / "rates.csv", index=False)
    base = [
        "cashapp",
        "match",
        "--open-invoices",
        str(tmp_path / "open.csv"),
        "--statement",
        str(tmp_path / "st.csv"),
    ]
    runner = CliRunner()
    out = runner.invoke(
        app, [*base, "--out", str(tmp_path / "with.csv"), "--fx-rates", str(tmp_path / "rates.csv")]
    )
    assert out.exit_code == 0, out.output
    rows = pd.read_csv(tmp_path / "with.csv", dtype=str)
    fx1 = rows[rows.line_id == "FX-1"]
    assert fx1[["invoice_id", "amount", "status", "rule"]].values.tolist() == [
        ["I1", "9995.80", "auto", "invoice_number_fx"]
    ]
    out = runner.invoke(app, [*base, "--out", str(tmp_path / "without.csv")])
    assert out.exit_code == 0, out.output
    rows = pd.read_csv(tmp_path / "without.csv", dtype=str, keep_default_na=False)
    assert set(rows.status) == {"unapplied"} and set(rows.invoice_id) == {""}
    (tmp_path / "bad.csv").write_text("currency,rate_date,rate_to_base\nUSD,2025-03-01,-1\n")
    out = runner.invoke(
        app, [*base, "--out", str(tmp_path / "x.csv"), "--fx-rates", str(tmp_path / "bad.csv")]
    )
    assert isinstance(out.exception, ValidationError) and "row 2: rate_to_base" in str(out.exception)
