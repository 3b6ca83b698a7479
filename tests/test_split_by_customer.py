"""Cutting a book by customer (the Dask partitions and the training samples): every fact goes with its
customer, held against a plain dictionary walk of the same rules on a book with awkward rows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames
from features.dask_backend import split_by_customer
from features.synthetic import generate_small_book


def _with_rows(frame: pd.DataFrame, **columns: list) -> pd.DataFrame:
    """``frame`` with rows appended (columns not given: missing)."""
    extra = pd.DataFrame(columns)
    return pd.concat(
        [frame, extra.astype({c: frame[c].dtype for c in extra if c in frame})], ignore_index=True
    )


@pytest.fixture(scope="module")
def book() -> LedgerFrames:
    b = generate_small_book(30, months=8, seed=4)
    cust_of = dict(zip(b.invoices["invoice_id"], b.invoices["customer_id"], strict=True))
    # invoices of the third customer (the tests leave the first, and every 7th, in no book)
    inv = b.invoices.loc[
        b.invoices["customer_id"] == b.customers["customer_id"].iloc[2], "invoice_id"
    ].tolist()
    far = next(i for i in cust_of if cust_of[i] not in (cust_of[inv[0]], b.customers["customer_id"].iloc[0]))
    return replace(
        b,
        # one payment over two customers' invoices; a repeated payment id; payments no one names
        payments=_with_rows(b.payments, payment_id=["PX-SPLIT", "PX-TWICE", "PX-TWICE", "PX-LOST", None],
                            customer_id=[None, None, None, "C-UNKNOWN", None]),
        allocations=_with_rows(b.allocations,
                               payment_id=["PX-SPLIT", "PX-SPLIT", "PX-TWICE", None, "PX-NONE"],
                               invoice_id=[inv[0], far, inv[1], inv[2], "I-UNKNOWN"],
                               amount=[1.0, 1.0, 1.0, 1.0, 1.0]),
        # a credit note on no invoice goes with its customer; one on an unknown invoice too
        credit_notes=_with_rows(b.credit_notes, credit_note_id=["CN-A", "CN-B", "CN-C"],
                                customer_id=[cust_of[inv[3]], cust_of[inv[4]], "C-UNKNOWN"],
                                invoice_id=[None, "I-UNKNOWN", None]),
        disputes=_with_rows(b.disputes, dispute_id=["D-X"], invoice_id=["I-UNKNOWN"]),
        promises=_with_rows(b.promises, promise_id=["PR-X", "PR-Y"], customer_id=["C-UNKNOWN", None]),
    )  # fmt: skip


def _reference(book: LedgerFrames, partition: np.ndarray, n: int) -> list[dict[str, pd.DataFrame]]:
    """The same rules, one row at a time through dictionaries."""
    owner = dict(zip(book.customers["customer_id"], partition, strict=True))
    inv_owner = {
        i: owner.get(c, -1)
        for i, c in zip(book.invoices["invoice_id"], book.invoices["customer_id"], strict=True)
    }

    def of(frame: pd.DataFrame, column: str, table: dict) -> np.ndarray:
        return np.array(
            [table.get(x, -1) if isinstance(x, str) else -1 for x in frame[column]], dtype="int64"
        )

    parts = {
        "customers": np.asarray(partition),
        "invoices": of(book.invoices, "customer_id", owner),
        "promises": of(book.promises, "customer_id", owner),
        "payment_plans": of(book.payment_plans, "customer_id", owner),
        "credit_limits": of(book.credit_limits, "customer_id", owner),
    }
    for name in ("allocations", "disputes", "write_offs", "dunning_events"):
        parts[name] = of(getattr(book, name), "invoice_id", inv_owner)
    notes = book.credit_notes
    by_invoice, by_customer = of(notes, "invoice_id", inv_owner), of(notes, "customer_id", owner)
    parts["credit_notes"] = np.where(by_invoice >= 0, by_invoice, by_customer)
    pay_owner = of(book.payments, "customer_id", owner)
    out = []
    for p in range(n):
        tables = {k: getattr(book, k)[v == p].reset_index(drop=True) for k, v in parts.items()}
        named = set(tables["allocations"]["payment_id"].dropna())
        keep = book.payments["payment_id"].isin(named).to_numpy() | (pay_owner == p)
        tables["payments"] = book.payments[keep].reset_index(drop=True)
        tables["fx_rates"] = book.fx_rates
        out.append(tables)
    return out


@pytest.mark.parametrize("n", [1, 2, 3])
def test_each_fact_goes_with_its_customer_as_the_plain_walk_says(book: LedgerFrames, n: int) -> None:
    partition = np.arange(len(book.customers)) % n
    partition[::7] = -1  # customers in no book
    got = split_by_customer(book, partition, n)
    for p, (ours, expected) in enumerate(zip(got, _reference(book, partition, n), strict=True)):
        for name, table in ours.items():
            assert_frame_equal(table, expected[name], obj=f"partition {p}: {name}")


def test_a_payment_over_two_customers_goes_to_both_and_a_repeated_id_keeps_both_rows(
    book: LedgerFrames,
) -> None:
    owner_of_inv = dict(zip(book.invoices["invoice_id"], book.invoices["customer_id"], strict=True))
    split_inv = book.allocations.loc[book.allocations["payment_id"] == "PX-SPLIT", "invoice_id"]
    customers = [owner_of_inv[i] for i in split_inv]
    partition = np.where(book.customers["customer_id"] == customers[0], 0, 1)
    first, second = split_by_customer(book, partition, 2)
    assert "PX-SPLIT" in set(first.payments["payment_id"]) and "PX-SPLIT" in set(
        second.payments["payment_id"]
    )
    twice = [(part.payments["payment_id"] == "PX-TWICE").sum() for part in (first, second)]
    assert sorted(twice) == [0, 2]
    assert not any("PX-LOST" in set(part.payments["payment_id"]) for part in (first, second))


def test_ids_that_are_numbers_are_matched_by_their_text(book: LedgerFrames) -> None:
    numbered = dict(zip(book.customers["customer_id"], range(1000, 1000 + len(book.customers)), strict=True))
    as_numbers = replace(
        book,
        customers=book.customers.assign(customer_id=book.customers["customer_id"].map(numbered)),
        invoices=book.invoices.assign(customer_id=book.invoices["customer_id"].map(numbered).astype(str)),
    )
    partition = np.arange(len(book.customers)) % 2
    ours = split_by_customer(as_numbers, partition, 2)
    plain = split_by_customer(book, partition, 2)
    for a, b in zip(ours, plain, strict=True):
        assert a.invoices["invoice_id"].tolist() == b.invoices["invoice_id"].tolist()
        assert len(a.invoices) > 0


@pytest.mark.parametrize("table,column", [("customers", "customer_id"), ("invoices", "invoice_id")])
def test_a_repeated_customer_or_invoice_id_is_refused_by_name(
    book: LedgerFrames, table: str, column: str
) -> None:
    frame = getattr(book, table)
    doubled = replace(book, **{table: pd.concat([frame, frame.iloc[:1]], ignore_index=True)})
    partition = np.zeros(len(doubled.customers), dtype="int64")
    with pytest.raises(ValidationError, match=f"{table}: {column} is not unique"):
        split_by_customer(doubled, partition, 1)
