"""Home Credit Default Risk (subset A) installment histories as a ledger.

Mapping:

- Days in the source are negative offsets from each applicant's application; every application is
  placed on one fixed reference date, 2018-01-01 (``REFERENCE_DATE``), the as-of date of the target.
- customers: every ``SK_ID_CURR`` of ``subsetA_application.csv`` and of the installments
  (``hc-<id>``); the source names no currency, so amounts are booked as ``XXX`` (ISO "no currency").
  Terms 30 days, credit limit unknown (NaN), country unknown.
- invoices: one per installment (``SK_ID_PREV``, ``NUM_INSTALMENT_NUMBER``), due on reference +
  ``DAYS_INSTALMENT``, amount ``AMT_INSTALMENT``. An installment listed under several
  ``NUM_INSTALMENT_VERSION`` values (credit-card splits) is one invoice of the versions' sum, and its
  payment rows, repeated under each version, count once. Issued 30 days before due, or on the
  first payment date when a payment came earlier.
- payments: each payment row, on reference + ``DAYS_ENTRY_PAYMENT`` for ``AMT_PAYMENT`` (zero rows
  skipped), allocated to its installment in date order, capped at what is still open; the rest of
  an overpayment stays unapplied on the payment.
- targets: customer_id, defaulted (``DEFAULTED``) for the applicants of subset A.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from arrisk.datasets.base import DatasetBundle, dataset_folder, to_cents, typed_frame
from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames

FOLDER = "home_credit"
INSTALLMENTS = "subsetA_installments_payments.csv"
APPLICATIONS = "subsetA_application.csv"
REFERENCE_DATE = pd.Timestamp("2018-01-01")
CURRENCY = "XXX"
TERMS_DAYS = 30
KEY = ["SK_ID_PREV", "NUM_INSTALMENT_NUMBER"]
COLUMNS = KEY + ["SK_ID_CURR", "NUM_INSTALMENT_VERSION", "DAYS_INSTALMENT", "DAYS_ENTRY_PAYMENT",
                 "AMT_INSTALMENT", "AMT_PAYMENT"]  # fmt: skip


def read_raw(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = dataset_folder(path, folder=FOLDER, required_file=INSTALLMENTS)
    # utf-8-sig: the installments file starts with a byte-order mark that would rename SK_ID_PREV
    installments = pd.read_csv(folder / INSTALLMENTS, encoding="utf-8-sig")
    missing = [c for c in COLUMNS if c not in installments]
    if missing:
        raise ValidationError(f"{INSTALLMENTS}: missing column(s) {missing}")
    applications = pd.read_csv(
        folder / APPLICATIONS, usecols=["SK_ID_CURR", "DEFAULTED"], encoding="utf-8-sig"
    )
    return installments, applications


def _day(offsets: pd.Series) -> pd.Series:
    return (REFERENCE_DATE + pd.to_timedelta(offsets.astype("int64"), unit="D")).astype("datetime64[ns]")


def load(path: Path) -> DatasetBundle:
    raw, applications = read_raw(path)
    raw = raw.assign(
        invoice_id="hc-" + raw["SK_ID_PREV"].astype("int64").astype(str) + "-"
        + raw["NUM_INSTALMENT_NUMBER"].astype("int64").astype(str),
        customer_id="hc-" + raw["SK_ID_CURR"].astype("int64").astype(str),
    )  # fmt: skip
    payments = _payment_rows(raw)
    invoices = _invoices(raw, payments)
    allocations = _allocations(payments, invoices)
    customer_ids = pd.Index(
        sorted(set("hc-" + applications["SK_ID_CURR"].astype("int64").astype(str)) | set(raw["customer_id"]))
    )
    first_issue = invoices.groupby("customer_id")["issue_date"].min()
    frames = LedgerFrames(
        customers=typed_frame(
            "customers",
            {
                "customer_id": customer_ids,
                "name": "Home Credit applicant " + customer_ids.str[3:],
                "country": None,
                "currency": CURRENCY,
                "payment_terms_days": TERMS_DAYS,
                "credit_limit": float("nan"),
                "created_at": first_issue.reindex(customer_ids).fillna(REFERENCE_DATE).to_numpy(),
            },
        ),
        invoices=typed_frame("invoices", invoices.drop(columns="cents").assign(currency=CURRENCY)),
        payments=typed_frame(
            "payments",
            payments[["payment_id", "customer_id", "payment_date", "amount"]].assign(currency=CURRENCY),
        ),
        allocations=typed_frame("allocations", allocations),
    )
    targets = pd.DataFrame(
        {
            "customer_id": "hc-" + applications["SK_ID_CURR"].astype("int64").astype(str),
            "defaulted": applications["DEFAULTED"].astype("int64").astype(bool),
        }
    )
    return DatasetBundle(frames=frames, targets=targets, notes=_notes(raw, payments))


def _payment_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per real payment: repeats across instalment versions count once; zero rows go."""
    versions = raw.groupby(KEY)["NUM_INSTALMENT_VERSION"].transform("nunique")
    split = raw[versions > 1].drop_duplicates(subset=KEY + ["DAYS_ENTRY_PAYMENT", "AMT_PAYMENT"])
    rows = pd.concat([raw[versions == 1], split]).dropna(subset=["DAYS_ENTRY_PAYMENT", "AMT_PAYMENT"])
    rows = rows.assign(cents=to_cents(rows["AMT_PAYMENT"]), payment_date=_day(rows["DAYS_ENTRY_PAYMENT"]))
    rows = rows[rows["cents"] > 0].sort_values(KEY + ["payment_date", "cents"], kind="stable")
    sequence = rows.groupby(KEY).cumcount() + 1
    rows["payment_id"] = rows["invoice_id"].str.replace("hc-", "hc-pay-", n=1) + "-" + sequence.astype(str)
    rows["amount"] = rows["cents"] / 100.0
    return rows.reset_index(drop=True)


def _invoices(raw: pd.DataFrame, payments: pd.DataFrame) -> pd.DataFrame:
    per_version = raw.drop_duplicates(subset=KEY + ["NUM_INSTALMENT_VERSION"])
    grouped = per_version.groupby("invoice_id", sort=True)
    inv = grouped.agg(
        customer_id=("customer_id", "first"),
        prev=("SK_ID_PREV", "first"),
        number=("NUM_INSTALMENT_NUMBER", "first"),
        days=("DAYS_INSTALMENT", "min"),
        amount_raw=("AMT_INSTALMENT", "sum"),
    ).reset_index()
    inv["cents"] = to_cents(inv["amount_raw"].round(6))
    inv["due_date"] = _day(inv["days"])
    first_paid = payments.groupby("invoice_id")["payment_date"].min()
    terms_issue = inv["due_date"] - pd.Timedelta(days=TERMS_DAYS)
    inv["issue_date"] = np.minimum(terms_issue, inv["invoice_id"].map(first_paid).fillna(terms_issue))
    inv["invoice_number"] = (
        inv["prev"].astype("int64").astype(str) + "/" + inv["number"].astype("int64").astype(str)
    )
    inv["amount"] = inv["cents"] / 100.0
    return inv[["invoice_id", "customer_id", "invoice_number", "issue_date", "due_date", "amount", "cents"]]


def _allocations(payments: pd.DataFrame, invoices: pd.DataFrame) -> pd.DataFrame:
    """Each payment to its own installment in date order, never beyond what is still open."""
    invoice_cents = payments["invoice_id"].map(invoices.set_index("invoice_id")["cents"])
    paid_before = payments.groupby("invoice_id")["cents"].cumsum() - payments["cents"]
    open_before = (invoice_cents - paid_before).clip(lower=0)
    cents = np.minimum(payments["cents"], open_before)
    keep = cents > 0
    return pd.DataFrame(
        {
            "payment_id": payments.loc[keep, "payment_id"],
            "invoice_id": payments.loc[keep, "invoice_id"],
            "amount": cents[keep] / 100.0,
            "applied_at": payments.loc[keep, "payment_date"],
        }
    )


def _notes(raw: pd.DataFrame, payments: pd.DataFrame) -> dict:
    return {
        "source": f"{FOLDER}/{INSTALLMENTS}, {FOLDER}/{APPLICATIONS}",
        "reference_date": str(REFERENCE_DATE.date()),
        "as_of": str(REFERENCE_DATE.date()),
        "currency": f"{CURRENCY} (the source names no currency)",
        "invoices": "one per (SK_ID_PREV, NUM_INSTALMENT_NUMBER); versions summed; issued 30 days before due "
        "or at the first payment if earlier",
        "payments": "one per payment row (repeats across versions once, zero amounts skipped), "
        "allocated to its installment capped at the open amount",
        "installment_rows": len(raw),
        "payment_rows_kept": len(payments),
    }
