"""WideWorldImporters ``Sales.CustomerTransactions`` (2016) as a ledger for cash application.

Mapping:

- customers: ``CustomerID`` (``wwi-<id>``), country US, currency USD, terms 7 days (the payment days
  of WideWorldImporters' customers; that table is not in this file), credit limit unknown (NaN),
  created on the customer's first transaction of 2016.
- invoices: type 1 rows; id ``wwi-<InvoiceID>``, number ``InvoiceID``, issued on ``TransactionDate``,
  due 7 days later, amount ``TransactionAmount`` including tax (what the payments settle).
- payments: type 3 rows; id ``wwi-pay-<CustomerTransactionID>``, ``-TransactionAmount``, customer
  known, no invoice reference, method EFT (``PaymentMethodID`` 4).
- no allocations are imported: every invoice stays open after import, for the cash-application
  matcher to settle. ``FinalizationDate``/``OutstandingBalance`` never reach the ledger; they give
  ``truth``: a payment pays that customer's invoices finalized on the payment's date (one row per
  payment and invoice, with ``exact`` telling whether those invoices sum exactly to the payment).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from arrisk.datasets.base import DatasetBundle, dataset_folder, to_cents, typed_frame
from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames

FOLDER = "wwi_customer_transactions"
FILE = "CustomerTransactions2016.csv"
CURRENCY = "USD"
TERMS_DAYS = 7
INVOICE, PAYMENT = 1, 3
METHODS = {1: "cash", 2: "check", 3: "credit_card", 4: "eft"}
COLUMNS = ["CustomerTransactionID", "CustomerID", "TransactionTypeID", "InvoiceID", "PaymentMethodID",
           "TransactionDate", "TransactionAmount", "FinalizationDate"]  # fmt: skip


def read_raw(path: Path) -> pd.DataFrame:
    folder = dataset_folder(path, folder=FOLDER, required_file=FILE)
    raw = pd.read_csv(folder / FILE, encoding="utf-8")
    missing = [c for c in COLUMNS if c not in raw]
    if missing:
        raise ValidationError(f"{FILE}: missing column(s) {missing}; is this WWI Sales.CustomerTransactions?")
    for column in ("TransactionDate", "FinalizationDate"):
        raw[column] = pd.to_datetime(raw[column], format="%Y-%m-%d").astype("datetime64[ns]")
    raw["cents"] = to_cents(raw["TransactionAmount"])
    raw["customer_id"] = "wwi-" + raw["CustomerID"].astype("int64").astype(str)
    return raw


def load(path: Path) -> DatasetBundle:
    raw = read_raw(path)
    inv = raw[raw["TransactionTypeID"] == INVOICE]
    pay = raw[raw["TransactionTypeID"] == PAYMENT]
    invoice_number = inv["InvoiceID"].astype("int64").astype(str)
    invoices = typed_frame(
        "invoices",
        {
            "invoice_id": "wwi-" + invoice_number,
            "customer_id": inv["customer_id"],
            "invoice_number": invoice_number,
            "issue_date": inv["TransactionDate"],
            "due_date": inv["TransactionDate"] + pd.Timedelta(days=TERMS_DAYS),
            "amount": inv["cents"] / 100.0,
            "currency": CURRENCY,
        },
    )
    payments = typed_frame(
        "payments",
        {
            "payment_id": "wwi-pay-" + pay["CustomerTransactionID"].astype("int64").astype(str),
            "customer_id": pay["customer_id"],
            "payment_date": pay["TransactionDate"],
            "amount": -pay["cents"] / 100.0,
            "currency": CURRENCY,
            "method": pay["PaymentMethodID"].map(lambda m: METHODS.get(int(m), f"method-{int(m)}")),
        },
    )
    frames = LedgerFrames(
        customers=_customers(raw),
        invoices=invoices,
        payments=payments,
        allocations=typed_frame("allocations", {}),
    )
    truth = settlement_truth(invoices, inv["FinalizationDate"].to_numpy(), payments)
    notes = {
        "source": f"{FOLDER}/{FILE}",
        "currency": CURRENCY,
        "terms_days": TERMS_DAYS,
        "amounts": "invoice amount = TransactionAmount including tax; payment = -TransactionAmount",
        "allocations": "none imported: every invoice is open after import (cash application's job)",
        "truth": "payment -> that customer's invoices whose FinalizationDate is the payment date",
        "exact_payments_share": round(
            float(truth.loc[truth["exact"], "payment_id"].nunique() / len(payments)), 4
        ),
        "payments_with_truth": int(truth["payment_id"].nunique()),
        "as_of": str(raw["TransactionDate"].max().date()),
    }
    return DatasetBundle(frames=frames, truth=truth, notes=notes)


def _customers(raw: pd.DataFrame) -> pd.DataFrame:
    first = raw.groupby("customer_id", sort=True)["TransactionDate"].min()
    return typed_frame(
        "customers",
        {
            "customer_id": first.index,
            "name": "WWI customer " + first.index.str[4:],
            "country": "US",
            "currency": CURRENCY,
            "payment_terms_days": TERMS_DAYS,
            "credit_limit": float("nan"),
            "created_at": first.to_numpy(),
        },
    )


def settlement_truth(invoices: pd.DataFrame, finalized: object, payments: pd.DataFrame) -> pd.DataFrame:
    """Which invoices each payment settled: same customer, invoice finalized on the payment date."""
    settled = invoices[["invoice_id", "customer_id", "amount"]].assign(payment_date=finalized)
    pairs = payments[["payment_id", "customer_id", "payment_date", "amount"]].merge(
        settled, on=["customer_id", "payment_date"], suffixes=("_payment", "")
    )
    total = pairs.groupby("payment_id")["amount"].transform("sum")
    pairs["exact"] = (total - pairs["amount_payment"]).abs() < 0.005
    return pairs[["payment_id", "invoice_id", "customer_id", "payment_date", "amount", "exact"]].reset_index(
        drop=True
    )
