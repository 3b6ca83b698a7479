"""IBM Watson Analytics "Accounts Receivable" late-payment sample as a ledger.

Mapping (one CSV row = one invoice):

- customers: ``customerID`` (ids prefixed ``ibm-``). ``countryCode`` holds five numeric codes that are
  not ISO 3166, so each is mapped to an ISO user-assigned code (XA, XB, ... in code order; the map
  is in ``notes``). One currency, USD, for every customer (the sample is IBM's US demo; amounts are
  not per country). Terms = DueDate - InvoiceDate (30 days for all). Credit limit unknown: NaN.
  ``created_at`` = the customer's first invoice date.
- invoices: ``invoiceNumber`` kept as zero-padded text, InvoiceDate, DueDate (M/D/YYYY), InvoiceAmount.
- payments: one per invoice on ``SettledDate`` for the full amount, fully allocated to it;
  ``PaperlessBill`` (Paper/Electronic) becomes the payment method (paper/electronic).
- disputes: ``Disputed == Yes`` carries no date, so the dispute is opened and resolved on the
  settled date: a model scoring the invoice before settlement cannot see it (the conservative choice).
- ``DaysToSettle``, ``DaysLate`` and ``SettledDate`` never become invoice or customer columns; they
  reach the ledger only through the payment record. Targets: invoice_id, days_late, late.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from arrisk.datasets.base import DatasetBundle, dataset_folder, from_cents, to_cents, typed_frame
from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames

FOLDER = "ibm_ar_late_payment"
FILE = "WA_Fn-UseC_-Accounts-Receivable.csv"
CURRENCY = "USD"
DATE_FORMAT = "%m/%d/%Y"
COLUMNS = [
    "countryCode",
    "customerID",
    "invoiceNumber",
    "InvoiceDate",
    "DueDate",
    "InvoiceAmount",
    "Disputed",
    "SettledDate",
    "PaperlessBill",
    "DaysLate",
]
USER_ASSIGNED_COUNTRIES = [f"X{letter}" for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]


def read_raw(path: Path) -> pd.DataFrame:
    folder = dataset_folder(path, folder=FOLDER, required_file=FILE)
    raw = pd.read_csv(folder / FILE, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in COLUMNS if c not in raw]
    if missing:
        raise ValidationError(f"{FILE}: missing column(s) {missing}; is this the IBM AR sample?")
    for column in ("InvoiceDate", "DueDate", "SettledDate"):
        raw[column] = pd.to_datetime(raw[column], format=DATE_FORMAT).astype("datetime64[ns]")
    raw["cents"] = to_cents(raw["InvoiceAmount"].astype(float))
    return raw


def load(path: Path) -> DatasetBundle:
    raw = read_raw(path)
    codes = sorted(raw["countryCode"].unique())
    if len(codes) > len(USER_ASSIGNED_COUNTRIES):
        raise ValidationError(f"{FILE}: {len(codes)} country codes, at most 26 can be mapped")
    country_map = dict(zip(codes, USER_ASSIGNED_COUNTRIES, strict=False))
    invoice_id = "ibm-" + raw["invoiceNumber"]
    customer_id = "ibm-" + raw["customerID"]
    payment_id = "ibm-pay-" + raw["invoiceNumber"]
    amount = from_cents(raw["cents"])
    frames = LedgerFrames(
        customers=_customers(raw, country_map),
        invoices=typed_frame(
            "invoices",
            {
                "invoice_id": invoice_id,
                "customer_id": customer_id,
                "invoice_number": raw["invoiceNumber"],
                "issue_date": raw["InvoiceDate"],
                "due_date": raw["DueDate"],
                "amount": amount,
                "currency": CURRENCY,
            },
        ),
        payments=typed_frame(
            "payments",
            {
                "payment_id": payment_id,
                "customer_id": customer_id,
                "payment_date": raw["SettledDate"],
                "amount": amount,
                "currency": CURRENCY,
                "method": raw["PaperlessBill"].str.lower(),
                "reference": raw["invoiceNumber"],
            },
        ),
        allocations=typed_frame(
            "allocations",
            {
                "payment_id": payment_id,
                "invoice_id": invoice_id,
                "amount": amount,
                "applied_at": raw["SettledDate"],
            },
        ),
        disputes=_disputes(raw),
    )
    days_late = raw["DaysLate"].astype("int64")
    targets = pd.DataFrame(
        {"invoice_id": invoice_id, "customer_id": customer_id, "days_late": days_late, "late": days_late > 0}
    )
    notes = {
        "source": f"{FOLDER}/{FILE}",
        "currency": f"{CURRENCY} for every customer (country codes are not ISO; amounts carry no currency)",
        "country_codes": country_map,
        "payments": "one per invoice on SettledDate, fully allocated (the file has no payment records)",
        "disputes": "Disputed=Yes has no date: opened and resolved on SettledDate (hidden before settlement)",
        "method": "PaperlessBill lower-cased (paper | electronic)",
        "targets": "invoice_id, days_late (DaysLate), late (DaysLate > 0)",
        "as_of": str(raw["SettledDate"].max().date()),
    }
    return DatasetBundle(frames=frames, targets=targets, notes=notes)


def _customers(raw: pd.DataFrame, country_map: dict[str, str]) -> pd.DataFrame:
    terms = (raw["DueDate"] - raw["InvoiceDate"]).dt.days
    grouped = raw.assign(terms=terms).groupby("customerID", sort=True)
    first = grouped.agg(
        country=("countryCode", "first"),
        created_at=("InvoiceDate", "min"),
        terms=("terms", lambda s: int(s.mode().iloc[0])),
    )
    return typed_frame(
        "customers",
        {
            "customer_id": "ibm-" + first.index.to_series(),
            "name": first.index.to_series(),
            "country": first["country"].map(country_map),
            "currency": CURRENCY,
            "payment_terms_days": first["terms"],
            "credit_limit": float("nan"),
            "created_at": first["created_at"],
        },
    )


def _disputes(raw: pd.DataFrame) -> pd.DataFrame:
    disputed = raw[raw["Disputed"].str.strip().str.lower() == "yes"]
    return typed_frame(
        "disputes",
        {
            "dispute_id": "ibm-dsp-" + disputed["invoiceNumber"],
            "invoice_id": "ibm-" + disputed["invoiceNumber"],
            "opened_at": disputed["SettledDate"],
            "resolved_at": disputed["SettledDate"],
            "reason": "disputed (date unknown in source)",
        },
    )
