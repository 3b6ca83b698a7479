"""Matcher rules and their traps, on small in-memory books."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from arrisk.cashapp.policy import load_policy
from arrisk.cashapp.proposals import LineStatus
from arrisk.cashapp.refs import find_numbers, text_keys
from arrisk.cashapp.stateless import match_statement, proposal_rows
from arrisk.cashapp.statement import Statement, StatementLine
from arrisk.errors import ValidationError

CUSTOMERS = pd.DataFrame(
    {"customer_id": ["C1", "C2", "C3"], "name": ["Acme Industrial GmbH", "Globex Corporation", "Initech Ltd"]}
)


def book(*rows: tuple[str, str, str, float]) -> pd.DataFrame:
    """(invoice_id, customer_id, invoice_number, open_amount), issued 2025-02-01, due in order given."""
    return pd.DataFrame(
        {
            "invoice_id": [r[0] for r in rows],
            "customer_id": [r[1] for r in rows],
            "invoice_number": [r[2] for r in rows],
            "issue_date": pd.to_datetime(["2025-02-01"] * len(rows)),
            "due_date": pd.date_range("2025-03-01", periods=len(rows), freq="D"),
            "amount": [abs(r[3]) if r[3] > 0 else r[3] for r in rows],
            "open_amount": [r[3] for r in rows],
            "currency": ["EUR"] * len(rows),
        }
    )


def line(
    amount: str,
    text: str = "",
    payer: str | None = None,
    account: str | None = None,
    *,
    date: dt.date = dt.date(2025, 3, 20),
    line_id: str = "L1",
    credit: bool = True,
) -> StatementLine:
    return StatementLine(line_id, 1, date, Decimal(amount), "EUR", credit, text, payer, account)


def run(items: pd.DataFrame, *lines: StatementLine, **kw):  # type: ignore[no-untyped-def]
    statement = Statement("csv", None, None, list(lines))
    matches, bk = match_statement(
        statement, items, kw.pop("customers", CUSTOMERS), policy=load_policy(), **kw
    )
    return matches, bk


def allocated(match, bk) -> dict[str, str]:  # type: ignore[no-untyped-def]
    best = match.best
    return {str(bk.item_id[p]): f"{c / 100:.2f}" for p, c in zip(best.positions, best.cents, strict=True)}


BASE = book(
    ("I1", "C1", "INV-000101", 1190.00),
    ("I2", "C1", "INV-000102", 595.00),
    ("I3", "C1", "INV-000103", 595.00),
    ("I4", "C2", "INV-000201", 2500.00),
    ("I5", "C2", "INV-001234", 870.40),
)


@pytest.mark.parametrize(
    "text", ["INV-000101", "inv 101", "Invoice no. 0101", "Rechnung: INV000101", "RE:#101 thanks"]
)
def test_invoice_number_tolerates_prefixes_separators_and_zeros(text: str) -> None:
    (m,), bk = run(BASE, line("1190.00", text))
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"I1": "1190.00"}
    assert m.best.rule == "invoice_number"


def test_several_numbers_in_one_line() -> None:
    (m,), bk = run(BASE, line("1190.00", "INV-000102/INV-000103"))
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"I2": "595.00", "I3": "595.00"}


def test_typo_in_number_is_found_with_amount() -> None:
    (m,), bk = run(BASE, line("870.40", "invoice 1243"))  # 1234 with two digits swapped
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"I5": "870.40"}
    assert m.best.rule == "invoice_number_typo"


def test_typo_alone_with_wrong_amount_is_only_suggested() -> None:
    (m,), bk = run(BASE, line("100.00", "invoice 1243"))
    assert m.status == LineStatus.SUGGESTED
    assert m.best.rule == "invoice_number_typo_partial"


def test_two_invoices_with_the_same_amount_are_not_guessed() -> None:
    items = book(("I2", "C1", "INV-000102", 595.00), ("I3", "C1", "INV-000103", 595.00))
    (m,), bk = run(items, line("595.00", "Thank you", "ACME Industrial GmbH"))
    assert m.status == LineStatus.SUGGESTED
    assert {str(bk.item_id[p.positions[0]]) for p in m.proposals} == {"I2", "I3"}
    assert all(p.confidence < 0.95 for p in m.proposals)


def test_same_amount_resolved_by_the_number_in_the_text() -> None:
    items = book(("I2", "C1", "INV-000102", 595.00), ("I3", "C1", "INV-000103", 595.00))
    (m,), bk = run(items, line("595.00", "INV 103", "ACME Industrial GmbH"))
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"I3": "595.00"}


def test_number_of_another_customer_is_not_posted() -> None:
    # Globex pays citing Acme's invoice number with Acme's amount: never auto-posted to Acme
    items = book(("I1", "C1", "INV-000101", 1190.00), ("I4", "C2", "INV-000201", 2500.00))
    (m,), bk = run(items, line("1190.00", "INV-000101", "Globex Corporation"))
    assert m.status != LineStatus.AUTO
    conflict = [p for p in m.proposals if "conflict" in p.evidence]
    assert conflict and conflict[0].customer_id == "C1"


def test_one_cent_short_settles_and_leaves_the_cent() -> None:
    (m,), bk = run(BASE, line("1189.99", "INV-000101"))
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"I1": "1189.99"}
    assert m.best.residues == [1]
    assert m.best.evidence["amount"] == "exact"


def test_three_invoices_and_a_credit_note_by_amount() -> None:
    items = book(
        ("A1", "C3", "INV-000301", 1000.00),
        ("A2", "C3", "INV-000302", 250.00),
        ("A3", "C3", "INV-000303", 480.00),
        ("A4", "C3", "INV-000304", 1210.00),
        ("A5", "C3", "INV-000305", 333.00),
        ("CN", "C3", "CN-000306", -120.00),
    )
    # 1000 + 480 + 333 - 120: not all open, not oldest first, no number in the text
    (m,), bk = run(items, line("1693.00", "payment", "Initech Limited"))
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"A1": "1000.00", "A3": "480.00", "A5": "333.00", "CN": "-120.00"}
    assert m.best.rule == "customer_subset"


def test_oldest_first_and_all_open() -> None:
    items = book(("A1", "C3", "N1", 100.00), ("A2", "C3", "N2", 200.00), ("A3", "C3", "N3", 400.00))
    (m,), bk = run(items, line("300.00", "", "Initech Ltd"))
    assert m.best.rule == "customer_oldest_first" and allocated(m, bk) == {"A1": "100.00", "A2": "200.00"}
    (m,), bk = run(items, line("700.00", "", "Initech Ltd"))
    assert m.best.rule == "customer_all_open" and m.status == LineStatus.AUTO


def test_partial_payment_with_number_and_payer_is_applied() -> None:
    (m,), bk = run(BASE, line("500.00", "INV-000101 part payment", "Acme Industrial"))
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"I1": "500.00"}
    assert m.best.rule == "invoice_number_partial" and m.best.residues == [69000]


def test_typo_that_is_another_customers_number_is_read_as_the_payers() -> None:
    items = book(("I1", "C1", "INV-000101", 100.00), ("I9", "C2", "INV-000110", 50.00))
    # '110' exists (Globex's) but Acme pays: one swap away is Acme's 101
    (m,), bk = run(items, line("100.00", "INV 110", "Acme Industrial GmbH"))
    assert m.status == LineStatus.AUTO and allocated(m, bk) == {"I1": "100.00"}


def test_overpayment_is_kept_on_account() -> None:
    (m,), bk = run(BASE, line("1300.00", "INV-000101", "Acme Industrial GmbH"))
    assert m.status == LineStatus.AUTO
    assert allocated(m, bk) == {"I1": "1190.00"}
    assert m.best.left_over == 11000
    rows = proposal_rows([m], bk)
    assert rows[rows.rule == "on_account"].amount.tolist() == ["110.00"]


def test_early_payment_discount_and_bank_fee_are_tolerated() -> None:
    (m,), bk = run(BASE, line("2450.00", "INV-000201", date=dt.date(2025, 2, 8)))  # 2% within 10 days
    assert m.status == LineStatus.AUTO and m.best.evidence["amount"] == "within_tolerance"
    (m,), bk = run(BASE, line("2450.00", "INV-000201", date=dt.date(2025, 4, 8)))  # too late for the discount
    assert m.best.rule == "invoice_number_partial"
    (m,), bk = run(BASE, line("2485.00", "INV-000201"))  # 15.00 bank fee
    assert m.status == LineStatus.AUTO and m.best.residues == [1500]


def test_payer_by_learned_account_and_by_customer_id() -> None:
    (m,), bk = run(
        BASE,
        line("2500.00", "", None, "DE44 5001 0517 5407 3249 31"),
        accounts={"DE44500105175407324931": "C2"},
    )
    assert m.status == LineStatus.AUTO and allocated(m, bk) == {"I4": "2500.00"}
    customers = pd.DataFrame({"customer_id": ["CUST-0001", "CUST-0002"], "name": ["A", "B"]})
    items = book(("X", "CUST-0002", "N-9", 77.00))
    (m,), bk = run(items, line("77.00", "customer no. 2 monthly"), customers=customers)
    assert m.status == LineStatus.AUTO and m.best.customer_id == "CUST-0002"


def test_fuzzy_payer_name() -> None:
    (m,), bk = run(BASE, line("2500.00", "", "GLOBEX CORPORATON"))  # misspelt
    assert m.status == LineStatus.AUTO and allocated(m, bk) == {"I4": "2500.00"}
    assert "payer_name" in m.best.evidence["payer"][0]


def test_nothing_found_stays_unapplied_and_debits_are_ignored() -> None:
    matches, bk = run(BASE, line("12.34", "hello", "Nobody"), line("5.00", "fee", credit=False, line_id="L2"))
    assert [m.status for m in matches] == [LineStatus.UNAPPLIED, LineStatus.DEBIT]
    rows = proposal_rows(matches, bk)
    assert rows.to_dict("records") == [
        {
            "line_id": "L1",
            "invoice_id": "",
            "amount": "12.34",
            "confidence": 0.0,
            "status": "unapplied",
            "rule": "no_candidate",
        }
    ]


def test_an_invoice_is_not_settled_twice_in_one_statement() -> None:
    matches, bk = run(BASE, line("1190.00", "INV-000101"), line("1190.00", "INV-000101", line_id="L2"))
    assert matches[0].status == LineStatus.AUTO
    assert matches[1].status != LineStatus.AUTO


def test_confidence_learns_from_reversed_history() -> None:
    (m,), _ = run(BASE, line("2500.00", "", "Globex Corporation"))
    assert m.status == LineStatus.AUTO
    (m,), _ = run(BASE, line("2500.00", "", "Globex Corporation"), rule_stats={"customer_amount": (200, 150)})
    assert m.status == LineStatus.SUGGESTED and m.best.confidence == pytest.approx(
        (150 + 50 * 0.9949) / 250, abs=1e-3
    )


def test_text_keys_and_typo_lookup() -> None:
    assert text_keys("INV 2025-00101, #0042 and 7", min_digits=3) == ["2025", "202500101", "2025.101", "101"]
    assert find_numbers("inv 1243", {"1234": 1}, min_digits=3, typo_min_digits=4) == ([], ["1234"], {})
    assert find_numbers("inv 1243", {"1234": 1, "1263": 2}, min_digits=3, typo_min_digits=4) == (
        [],
        [],
        {"1243": {"1234", "1263"}},
    )


def test_policy_file_is_validated(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("version: '1'\nauto_apply_threshold: 1.5\n")
    with pytest.raises(ValidationError, match="auto_apply_threshold"):
        load_policy(bad)
    assert load_policy().version
