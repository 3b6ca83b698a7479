"""Real-data evaluation: no settlement fact reaches an IBM feature; baselines and extra features are as-of."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from arrisk.ledger.frames import LedgerFrames
from training.evaluate_ibm import (
    ibm_behaviour_rows,
    ibm_history_rows,
    ibm_invoice_rows,
    own_late_share,
    paperless_channel,
)
from training.extra_features import (
    invoice_behaviour_features,
    invoice_history_features,
    month_ends,
    monthly_account_features,
)


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
    history = ibm_history_rows(frames, sample)
    from arrisk.datasets.ibm_ar import read_raw

    raw = read_raw(data_dir)
    raw["invoice_id"] = "ibm-" + raw["invoiceNumber"]
    channel = paperless_channel(raw)
    behaviour = ibm_behaviour_rows(frames, sample, channel)
    assert behaviour["hist_model_prob_late"].between(0, 1).all()
    for day in days:  # moving any later settlement (SettledDate, hence DaysToSettle) changes nothing
        moved = _shift_after(frames, pd.Timestamp(day), 40)
        rows = sample[sample["issue_date"] == day]
        after, _ = ibm_invoice_rows(moved, rows)
        expected = before[before["invoice_id"].isin(rows["invoice_id"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(after.reset_index(drop=True), expected)
        moved_history = ibm_history_rows(moved, rows).reset_index(drop=True)
        expected_history = history[history["invoice_id"].isin(rows["invoice_id"])].reset_index(drop=True)
        pd.testing.assert_frame_equal(moved_history, expected_history)
        moved_behaviour = ibm_behaviour_rows(moved, rows, channel).reset_index(drop=True)
        expected_behaviour = behaviour[behaviour["invoice_id"].isin(rows["invoice_id"])].reset_index(
            drop=True
        )
        pd.testing.assert_frame_equal(moved_behaviour, expected_behaviour)
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
    assert result["ledger_history_context_lightgbm"]["roc_auc"] > 0.8
    main = result["ledger_history_behaviour_context_lightgbm"]
    assert main["roc_auc"] > result["own_late_share_baseline"]["roc_auc"]
    assert main["candidate"] in result["config"]["candidates"]
    # chosen by the time-ordered CV inside the training period, which every candidate reports
    assert main["selection_score"] == main["time_cv_roc_auc"]
    assert result["n_train"] > result["n_test"] > 400
    assert not any(c.startswith(("Disputed", "DaysToSettle", "Settled")) for c in result["top_features"])


@pytest.mark.slow
def test_home_credit_evaluation_reports_model_and_late_share_baseline(data_dir: Path) -> None:
    from training.evaluate import run_evaluation

    result = run_evaluation("home-credit", data_dir)
    assert result["n_applicants"] == 1000
    assert result["default_rate"] == pytest.approx(0.07)
    assert len(result["splits"]) == 5
    assert all(s["n_test"] == 300 and s["n_test_defaults"] == 21 for s in result["splits"])
    assert result["summary"]["ledger_roc_auc_median"] > 0.5


def _book() -> LedgerFrames:
    from datetime import date

    from arrisk.ledger.generator import generate_book

    return generate_book(n_customers=40, months=8, seed=3, start=date(2025, 1, 1))


def _move_after(frames: LedgerFrames, day: pd.Timestamp, days: int) -> LedgerFrames:
    """Every dated fact after ``day`` (invoices, cash, credit notes, write-offs) moved ``days`` later."""
    import copy

    out = copy.deepcopy(frames)
    shift = pd.Timedelta(days=days)
    dated = {
        "invoices": ["issue_date", "due_date"],
        "payments": ["payment_date"],
        "allocations": ["applied_at"],
        "credit_notes": ["issue_date"],
        "write_offs": ["date"],
    }
    for name, columns in dated.items():
        frame = getattr(out, name)
        later = frame[columns[0]] > day
        for column in columns:
            frame.loc[later, column] += shift
    return out


@pytest.mark.parametrize("as_of", ["2025-05-31", "2025-06-17"])
def test_monthly_account_features_never_see_later_facts(as_of: str) -> None:
    frames = _book()
    day = pd.Timestamp(as_of)
    before = monthly_account_features(frames, as_of, months=4)
    after = monthly_account_features(_move_after(frames, day, 45), as_of, months=4)
    pd.testing.assert_frame_equal(before, after)
    earlier = monthly_account_features(_move_after(frames, day - pd.Timedelta(days=60), 45), as_of, months=4)
    assert not earlier.equals(before)  # control: facts before as_of do count


def test_invoice_history_features_never_see_later_facts() -> None:
    frames = _book()
    day = pd.Timestamp("2025-07-15")
    before = invoice_history_features(frames, day)
    assert before["hist_ew_days_late"].notna().any()
    pd.testing.assert_frame_equal(before, invoice_history_features(_move_after(frames, day, 30), day))
    assert not invoice_history_features(_move_after(frames, day - pd.Timedelta(days=90), 30), day).equals(
        before
    )


def _one_customer_book() -> LedgerFrames:
    """Invoice of 100 issued 2025-01-31, due 2025-02-20; 40 paid on 2025-02-28 (8 days late)."""
    from arrisk.datasets.base import typed_frame

    day = pd.Timestamp
    return LedgerFrames(
        customers=typed_frame(
            "customers",
            {"customer_id": ["c1"], "name": ["C1"], "currency": "EUR", "payment_terms_days": 20,
             "credit_limit": [200.0], "created_at": [day("2025-01-01")]},
        ),
        invoices=typed_frame(
            "invoices",
            {"invoice_id": ["i1"], "customer_id": ["c1"], "invoice_number": ["1"], "currency": "EUR",
             "issue_date": [day("2025-01-31")], "due_date": [day("2025-02-20")], "amount": [100.0]},
        ),
        payments=typed_frame(
            "payments",
            {"payment_id": ["p1"], "customer_id": ["c1"], "payment_date": [day("2025-02-28")],
             "amount": [40.0], "currency": "EUR"},
        ),
        allocations=typed_frame(
            "allocations",
            {"payment_id": ["p1"], "invoice_id": ["i1"], "amount": [40.0], "applied_at": [day("2025-02-28")]},
        ),
    )  # fmt: skip


def test_monthly_account_features_values() -> None:
    row = monthly_account_features(_one_customer_book(), "2025-02-28", months=2).iloc[0]
    assert row["acct_balance_m0"] == pytest.approx(60.0)
    assert row["acct_balance_m1"] == pytest.approx(100.0)
    assert row["acct_util_m0"] == pytest.approx(0.3)
    assert row["acct_dpd_m0"] == 8 and row["acct_dpd_m1"] == 0
    assert row["acct_paid_late_days_m0"] == 8
    assert row["acct_pay_ratio_m0"] == pytest.approx(0.4)
    assert row["acct_invoiced_m1"] == pytest.approx(100.0) and row["acct_invoiced_m0"] == 0
    assert row["acct_months_behind"] == 1
    # trajectory shape: month 0 paid 40 against the 100 invoiced in month 1, not in full
    assert row["acct_paid_vs_invoiced_m0"] == pytest.approx(0.4)
    assert row["acct_months_paid_full"] == 0 and row["acct_months_zero_balance"] == 0
    assert row["acct_util_mean"] == pytest.approx((0.3 + 0.5) / 2)
    assert row["acct_balance_trend"] == pytest.approx(-40.0 / 200.0)  # balance fell by 40 a month
    assert row["acct_headroom"] == pytest.approx(140.0)


def test_month_ends_count_back_from_as_of() -> None:
    ends = month_ends("2025-03-14", 3)
    assert ends == [pd.Timestamp("2025-03-14"), pd.Timestamp("2025-02-28"), pd.Timestamp("2025-01-31")]


def test_invoice_behaviour_features_never_see_later_facts() -> None:
    frames = _book()
    day = pd.Timestamp("2025-07-15")
    channel = pd.Series(
        (np.arange(len(frames.invoices)) % 2).astype("float64"),
        index=frames.invoices["invoice_id"].to_numpy(),
    )
    before = invoice_behaviour_features(frames, day, channel=channel)
    assert before["hist_model_prob_late"].between(0, 1).all()
    later = invoice_behaviour_features(_move_after(frames, day, 30), day, channel=channel)
    pd.testing.assert_frame_equal(before, later)
    earlier = invoice_behaviour_features(
        _move_after(frames, day - pd.Timedelta(days=90), 30), day, channel=channel
    )
    assert not earlier.equals(before)


def _settled_book(days_to_settle: dict[str, list[int]], disputed: set[str]) -> LedgerFrames:
    """Customers with 30-day invoices issued every 40 days from 2024-01-01, each paid in full after
    the given days; invoice ``<customer>-<k>`` in ``disputed`` is disputed (opened on payment)."""
    from arrisk.datasets.base import typed_frame

    inv, pay, alloc, disp = [], [], [], []
    for customer, settles in days_to_settle.items():
        for k, days in enumerate(settles):
            issue = pd.Timestamp("2024-01-01") + pd.Timedelta(days=40 * k)
            invoice_id, paid = f"{customer}-{k}", issue + pd.Timedelta(days=days)
            inv.append((invoice_id, customer, issue, issue + pd.Timedelta(days=30)))
            pay.append((f"p-{invoice_id}", customer, paid))
            alloc.append((f"p-{invoice_id}", invoice_id, paid))
            if invoice_id in disputed:
                disp.append((f"d-{invoice_id}", invoice_id, paid))
    customers = list(days_to_settle)
    return LedgerFrames(
        customers=typed_frame(
            "customers",
            {"customer_id": customers, "name": customers, "currency": "EUR", "payment_terms_days": 30,
             "credit_limit": 1000.0, "created_at": pd.Timestamp("2023-12-01")},
        ),
        invoices=typed_frame(
            "invoices",
            {"invoice_id": [r[0] for r in inv], "customer_id": [r[1] for r in inv],
             "invoice_number": [r[0] for r in inv], "currency": "EUR", "issue_date": [r[2] for r in inv],
             "due_date": [r[3] for r in inv], "amount": 100.0},
        ),
        payments=typed_frame(
            "payments",
            {"payment_id": [r[0] for r in pay], "customer_id": [r[1] for r in pay],
             "payment_date": [r[2] for r in pay], "amount": 100.0, "currency": "EUR"},
        ),
        allocations=typed_frame(
            "allocations",
            {"payment_id": [r[0] for r in alloc], "invoice_id": [r[1] for r in alloc], "amount": 100.0,
             "applied_at": [r[2] for r in alloc]},
        ),
        disputes=typed_frame(
            "disputes",
            {"dispute_id": [r[0] for r in disp], "invoice_id": [r[1] for r in disp],
             "opened_at": [r[2] for r in disp], "resolved_at": [r[2] for r in disp]},
        ),
    )  # fmt: skip


def test_invoice_behaviour_features_values_and_payment_time_model() -> None:
    # 'fast' settles in 20 days (25 when disputed), 'slow' in 40 (45 when disputed): a dispute adds 5
    # days for both; each has a last invoice, issued 5 days before the scoring day, still open
    n = 16
    fast = [20 + (5 if k % 3 == 0 else 0) for k in range(n)] + [999]
    slow = [40 + (5 if k % 4 == 0 else 0) for k in range(n)] + [999]
    disputed = {f"fast-{k}" for k in range(0, n, 3)} | {f"slow-{k}" for k in range(0, n, 4)}
    day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=40 * n + 5)
    rows = invoice_behaviour_features(_settled_book({"fast": fast, "slow": slow}, disputed), day)
    rows = rows.set_index("invoice_id")
    assert list(rows.index) == [f"fast-{n}", f"slow-{n}"]
    last_fast, last_slow = rows.loc[f"fast-{n}"], rows.loc[f"slow-{n}"]
    assert last_fast["hist_dts_mean_undisputed"] == pytest.approx(20.0)
    assert last_slow["hist_dts_mean_undisputed"] == pytest.approx(40.0)
    assert last_fast["hist_dts_last5_mean"] == pytest.approx(np.mean(fast[n - 5 : n]))
    # every 'slow' invoice settled late, no 'fast' one: shares shrunk by 3 invoices toward 1/2
    assert last_slow["hist_late_share_shrunk"] == pytest.approx((n + 3 * 0.5) / (n + 3))
    assert last_fast["hist_late_share_shrunk"] == pytest.approx((0 + 3 * 0.5) / (n + 3))
    n_fast, n_all = 6, 10  # disputed invoices of 'fast', of the book
    assert last_fast["hist_dispute_rate"] == pytest.approx((n_fast + 3 * n_all / (2 * n)) / (n + 3))
    # the pooled model recovers the 5-day dispute effect and the customer levels exactly (no noise):
    # undisputed levels 20 and 40, shrunk by 3 invoices toward their mean of 30
    rate = last_fast["hist_dispute_rate"]
    fast_level = (n * 20 + 3 * 30) / (n + 3)
    assert last_fast["hist_expected_days_to_settle"] == pytest.approx(fast_level + 5 * rate)
    assert last_slow["hist_model_prob_late"] > 0.99 and last_fast["hist_model_prob_late"] < 0.01
    assert last_slow["hist_oldest_open_age"] == 5


def test_paired_bootstrap_gain_sees_a_better_and_an_equal_model() -> None:
    from training.evaluate_ibm import paired_bootstrap_auc_gain

    rng = np.random.default_rng(1)
    y = (rng.random(400) < 0.4).astype(int)
    weak = y + rng.normal(0, 2.0, 400)
    strong = y + rng.normal(0, 0.5, 400)
    gain = paired_bootstrap_auc_gain(y, strong, weak, n=200)
    assert gain["low_2.5"] > 0 and gain["share_not_ahead"] == 0
    same = paired_bootstrap_auc_gain(y, weak, weak, n=50)
    assert same["median"] == 0 and same["share_not_ahead"] == 1
