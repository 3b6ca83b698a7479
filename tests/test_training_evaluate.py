"""Real-data evaluation: no settlement fact reaches an IBM feature; the late-share baseline is as-of."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from training.evaluate import ibm_invoice_rows, own_late_share


def _shift_after(frames, day: pd.Timestamp, days: int):
    """The same book with every payment, allocation and dispute dated after ``day`` moved later."""
    import copy

    out = copy.deepcopy(frames)
    shift = pd.Timedelta(days=days)
    pay = out.payments
    pay.loc[pay["payment_date"] > day, "payment_date"] += shift
    alloc = out.allocations
    alloc.loc[alloc["applied_at"] > day, "applied_at"] += shift
    for col in ("opened_at", "resolved_at"):
        disputes = out.disputes
        disputes.loc[disputes[col] > day, col] += shift
    return out


def test_ibm_features_never_see_settled_date_days_to_settle_or_disputes(data_dir: Path) -> None:
    from arrisk.datasets import load_dataset

    frames = load_dataset("ibm-ar", data_dir).frames
    invoices = frames.invoices[["invoice_id", "issue_date"]]
    days = sorted(invoices["issue_date"].unique())[200:1000:80]
    sample = invoices[invoices["issue_date"].isin(days)]
    before, _ = ibm_invoice_rows(frames, sample)
    for day in days:  # moving any later settlement (SettledDate, hence DaysToSettle) changes nothing
        moved = _shift_after(frames, pd.Timestamp(day), 40)
        rows = sample[sample["issue_date"] == day]
        after, _ = ibm_invoice_rows(moved, rows)
        expected = before[before["invoice_id"].isin(rows["invoice_id"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(after.reset_index(drop=True), expected)
    # the Disputed flag carries no date: the adapter hides it until settlement, so never at issue
    assert (before["inv_is_disputed"] == 0).all()
    assert not {"DaysToSettle", "SettledDate", "DaysLate", "Disputed"} & set(before.columns)
    # control: moving facts dated before the scoring day does change the features
    day = pd.Timestamp(days[-1])
    rows = sample[sample["issue_date"] == day]
    moved_past = _shift_after(frames, day - pd.Timedelta(days=400), 40)
    changed, _ = ibm_invoice_rows(moved_past, rows)
    assert not changed.reset_index(drop=True).equals(
        before[before["invoice_id"].isin(rows["invoice_id"])].reset_index(drop=True)
    )


def test_own_late_share_uses_only_invoices_settled_before_issue() -> None:
    raw = pd.DataFrame(
        {
            "customerID": ["a", "a", "a", "b"],
            "InvoiceDate": pd.to_datetime(["2013-01-01", "2013-02-01", "2013-03-01", "2013-03-01"]),
            "SettledDate": pd.to_datetime(["2013-01-20", "2013-03-15", "2013-03-20", "2013-03-02"]),
            "DaysLate": ["0", "5", "0", "9"],
        }
    )
    share = own_late_share(raw)
    assert np.isnan(share[0])  # nothing settled yet
    assert share[1] == 0.0  # only the first (on time) invoice was settled by 2013-02-01
    assert share[2] == 0.0  # the late one settles 2013-03-15, after the third invoice's date
    assert np.isnan(share[3])


@pytest.mark.slow
def test_ibm_evaluation_beats_chance_and_reports_protocol(data_dir: Path) -> None:
    from training.evaluate import run_evaluation

    result = run_evaluation("ibm-ar", data_dir)
    assert result["disputed_flag_used"] is False
    assert result["ledger_lightgbm"]["roc_auc"] > 0.8
    assert result["ledger_lightgbm"]["candidate"] in {"shallow", "medium", "wide"}
    assert result["n_train"] > result["n_test"] > 400
