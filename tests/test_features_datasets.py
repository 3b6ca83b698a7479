"""Features on the real data sets, checked against the source files' own columns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from features.labels import customer_default_labels, invoice_late_labels
from features.pipeline import CUSTOMER_FEATURES, build_snapshot

pytestmark = pytest.mark.slow


def _load(name: str, data_dir: Path):
    datasets = pytest.importorskip("arrisk.datasets")
    return datasets.load_dataset(name, data_dir)


def test_ibm_ar_lateness_equals_the_files_days_late(data_dir: Path) -> None:
    bundle = _load("ibm-ar", data_dir)
    raw = pd.read_csv(data_dir / "ibm_ar_late_payment" / "WA_Fn-UseC_-Accounts-Receivable.csv", dtype=str)
    raw["customer_id"] = "ibm-" + raw["customerID"]
    raw["DaysLate"] = raw["DaysLate"].astype(int)
    expected = raw.groupby("customer_id")["DaysLate"].agg(["mean", "max", "size"])
    expected["over15"] = raw.assign(x=raw["DaysLate"] > 15).groupby("customer_id")["x"].mean()
    got = build_snapshot(bundle.frames, "2014-01-09").customers.set_index("customer_id")
    assert len(got) == 100
    for customer_id in expected.index[::10]:
        row, exp = got.loc[customer_id], expected.loc[customer_id]
        assert row["days_late_mean"] == pytest.approx(exp["mean"]), customer_id
        assert row["days_late_max"] == exp["max"] and row["n_paid_invoices"] == exp["size"], customer_id
        assert row["share_late_over_15d"] == pytest.approx(exp["over15"]), customer_id
        assert row["open_amount"] == 0  # everything is settled by the data set's end


def test_ibm_ar_open_amount_mid_book(data_dir: Path) -> None:
    bundle = _load("ibm-ar", data_dir)
    raw = pd.read_csv(data_dir / "ibm_ar_late_payment" / "WA_Fn-UseC_-Accounts-Receivable.csv", dtype=str)
    for col in ("InvoiceDate", "SettledDate", "DueDate"):
        raw[col] = pd.to_datetime(raw[col], format="%m/%d/%Y")
    raw["amount"] = raw["InvoiceAmount"].astype(float)
    day = pd.Timestamp("2013-06-30")
    still_open = raw[(raw["InvoiceDate"] <= day) & (raw["SettledDate"] > day)]
    expected = still_open.groupby("customerID")["amount"].sum()
    oldest = (day - still_open["DueDate"]).dt.days.clip(lower=0).groupby(still_open["customerID"]).max()
    got = build_snapshot(bundle.frames, day).customers.set_index("customer_id")
    for customer in expected.index[:8]:
        assert got.loc[f"ibm-{customer}", "open_amount"] == pytest.approx(expected[customer], abs=0.01)
        assert got.loc[f"ibm-{customer}", "oldest_days_past_due"] == oldest[customer]
    labels = invoice_late_labels(bundle.frames, day)
    truth = bundle.targets.set_index("invoice_id")["late"]
    assert (labels.set_index("invoice_id")["late"] == truth.reindex(labels["invoice_id"]).astype(float)).all()


def test_uci_open_amount_is_the_september_bill(data_dir: Path) -> None:
    bundle = _load("uci-credit", data_dir)
    raw = pd.read_csv(data_dir / "uci_credit_card_default" / "UCI_Credit_Card.csv")
    raw.index = "uci-" + raw["ID"].astype(str)
    got = build_snapshot(bundle.frames, "2005-09-30").customers.set_index("customer_id")
    assert len(got) == 30_000
    for customer_id in ["uci-1", "uci-2", "uci-3", "uci-7", "uci-1000", "uci-29999"]:
        bill = max(raw.loc[customer_id, "BILL_AMT1"], 0)
        assert got.loc[customer_id, "open_amount"] == pytest.approx(bill)
        assert got.loc[customer_id, "credit_utilisation"] == pytest.approx(
            bill / raw.loc[customer_id, "LIMIT_BAL"]
        )
    paid_duly = raw.index[raw["PAY_0"] <= 0]
    assert (got.loc[paid_duly, "oldest_days_past_due"] == 0).all()  # nothing overdue when paid duly
    assert np.isfinite(
        got[CUSTOMER_FEATURES].to_numpy(dtype=float)[~np.isnan(got[CUSTOMER_FEATURES].to_numpy(dtype=float))]
    ).all()


def test_home_credit_lateness_of_simple_installments(data_dir: Path) -> None:
    bundle = _load("home-credit", data_dir)
    raw = pd.read_csv(data_dir / "home_credit" / "subsetA_installments_payments.csv", encoding="utf-8-sig")
    key = ["SK_ID_PREV", "NUM_INSTALMENT_NUMBER"]
    rows = raw.groupby(key)["AMT_PAYMENT"].transform("size")
    versions = raw.groupby(key)["NUM_INSTALMENT_VERSION"].transform("nunique")
    simple = raw.assign(simple=(rows == 1) & (versions == 1) & (raw["AMT_PAYMENT"] >= raw["AMT_INSTALMENT"]))
    per_customer = simple.groupby("SK_ID_CURR")["simple"].all()
    chosen = per_customer[per_customer].index[:10]
    assert len(chosen) >= 5
    got = build_snapshot(bundle.frames, "2018-01-01").customers.set_index("customer_id")
    for sk in chosen:
        inst = raw[raw["SK_ID_CURR"] == sk]
        late = (inst["DAYS_ENTRY_PAYMENT"] - inst["DAYS_INSTALMENT"]).clip(lower=0)
        row = got.loc[f"hc-{sk}"]
        assert row["n_paid_invoices"] == len(inst), sk
        assert row["days_late_mean"] == pytest.approx(late.mean()), sk
        assert row["days_late_max"] == late.max(), sk
    labels = customer_default_labels(bundle.frames, "2017-06-01", horizon_days=90)
    assert labels["default"].notna().all() and set(labels["default"].unique()) <= {0.0, 1.0}
