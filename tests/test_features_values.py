"""Hand-checked features and labels on a tiny ledger written out in full."""

from __future__ import annotations

import pandas as pd
import pytest

from arrisk.ledger.frames import LedgerFrames
from features.labels import customer_default_labels, invoice_late_labels
from features.pipeline import build_snapshot

AS_OF = "2025-03-31"
D = pd.Timestamp


def _frame(rows: list[tuple], columns: str) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns.split())
    for col in frame.columns:
        if col.endswith(("_date", "_at")) or col == "date":
            frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame


def tiny_ledger() -> LedgerFrames:
    customers = _frame(
        [
            ("A", "A GmbH", "DE", "EUR", 30, 10000.0, "2024-01-01"),
            ("B", "B Inc", "US", "USD", 30, 5000.0, "2024-01-01"),
            ("C", "C Ltd", "GB", "EUR", 30, 100.0, "2025-05-01"),  # created after the as-of date
        ],
        "customer_id name country currency payment_terms_days credit_limit created_at",
    )
    invoices = _frame(
        [
            ("A1", "A", "n1", "2025-01-01", "2025-01-31", 1000.0, "EUR"),
            ("A2", "A", "n2", "2025-01-15", "2025-02-14", 2000.0, "EUR"),
            ("A3", "A", "n3", "2025-02-01", "2025-03-03", 3000.0, "EUR"),
            ("A4", "A", "n4", "2025-03-01", "2025-03-31", 500.0, "EUR"),
            ("A5", "A", "n5", "2025-01-05", "2025-02-04", 800.0, "EUR"),
            ("A6", "A", "n6", "2025-04-02", "2025-05-02", 9000.0, "EUR"),  # issued after as-of
            ("B1", "B", "m1", "2024-12-01", "2024-12-31", 1000.0, "USD"),
            ("B2", "B", "m2", "2025-03-01", "2025-03-31", 2000.0, "USD"),
            ("B3", "B", "m3", "2024-10-01", "2024-10-31", 100.0, "USD"),
        ],
        "invoice_id customer_id invoice_number issue_date due_date amount currency",
    )
    payments = _frame(
        [
            ("P1", "2025-02-10", 1500.0, "EUR", "A"),
            ("P2", "2025-03-06", 1500.0, "EUR", "A"),
            ("P3", "2025-03-10", 1000.0, "EUR", "A"),
            ("P4", "2025-03-28", 800.0, "EUR", "A"),
            ("P5", "2025-04-05", 3000.0, "EUR", "A"),
            ("P6", "2024-11-20", 100.0, "USD", "B"),
            ("P7", "2025-04-10", 2000.0, "USD", "B"),
        ],
        "payment_id payment_date amount currency customer_id",
    )
    allocations = _frame(
        [
            ("P1", "A1", 1000.0, "2025-02-10", None),
            ("P1", "A2", 500.0, "2025-02-10", None),
            ("P2", "A2", 1500.0, "2025-03-06", None),
            ("P3", "A3", 1000.0, "2025-03-10", "2025-03-20"),  # reversed before the as-of date
            ("P4", "A5", 800.0, "2025-03-28", None),
            ("P5", "A3", 3000.0, "2025-04-05", None),  # applied after the as-of date
            ("P6", "B3", 100.0, "2024-11-20", None),
            ("P7", "B2", 2000.0, "2025-04-10", None),
        ],
        "payment_id invoice_id amount applied_at reversed_at",
    )
    return LedgerFrames(
        customers=customers,
        invoices=invoices,
        payments=payments,
        allocations=allocations,
        credit_notes=_frame(
            [("CN1", "A", "A4", "2025-03-15", 100.0, "EUR")],
            "credit_note_id customer_id invoice_id issue_date amount currency",
        ),
        disputes=_frame(
            [("D1", "A3", "2025-03-05", "2025-04-10", 1200.0), ("D2", "A1", "2025-04-02", None, 50.0)],
            "dispute_id invoice_id opened_at resolved_at amount",
        ),
        promises=_frame(
            [
                ("PR1", "A", "2025-03-05", 1500.0, "2025-02-15"),
                ("PR2", "A", "2025-03-25", 3000.0, "2025-03-20"),
                ("PR3", "A", "2025-04-05", 3000.0, "2025-04-01"),
            ],
            "promise_id customer_id promised_date amount created_at",
        ),
        write_offs=_frame([("B1", "2025-03-15", 1000.0)], "invoice_id date amount"),
        fx_rates=_frame(
            [("USD", "2025-01-01", 0.9), ("USD", "2025-04-01", 0.8), ("EUR", "2024-01-01", 1.0)],
            "currency rate_date rate_to_base",
        ),
        dunning_events=_frame(
            [("A3", "A", 1, "2025-03-10"), ("A3", "A", 2, "2025-04-05")],
            "invoice_id customer_id level event_date",
        ),
        payment_plans=_frame(
            [("PL1", "B", "2025-02-01", "broken", "2025-04-15")],
            "plan_id customer_id created_at status broken_at",
        ),
    )


@pytest.fixture(scope="module")
def snap():
    return build_snapshot(tiny_ledger(), AS_OF)


def row(snap, customer_id: str) -> pd.Series:
    return snap.customers.set_index("customer_id").loc[customer_id]


def test_customers_known_on_the_as_of_date_only(snap) -> None:
    assert sorted(snap.customers["customer_id"]) == ["A", "B"]


def test_lateness_history_by_hand(snap) -> None:
    a = row(snap, "A")
    # paid: A1 10 days late, A2 settled 03-06 = 20 days late, A5 52 days late; A3's allocation was reversed
    assert a["n_paid_invoices"] == 3
    assert a["days_late_mean"] == pytest.approx((10 + 20 + 52) / 3)
    assert a["days_late_wmean"] == pytest.approx((1000 * 10 + 2000 * 20 + 800 * 52) / 3800)
    assert a["days_late_max"] == 52
    assert a["share_late_over_15d"] == pytest.approx(2 / 3)
    assert a["share_late_over_60d"] == 0
    assert a["days_late_trend"] == pytest.approx(21.0)  # slope through (-2, 10), (-1, 20), (0, 52)
    assert row(snap, "B")["days_late_mean"] == 20


def test_exposure_by_hand(snap) -> None:
    a, b = row(snap, "A"), row(snap, "B")
    # A3 3000 open (allocation reversed, the later payment not yet applied), A4 500 - credit note 100
    assert a["open_amount"] == pytest.approx(3400)
    assert a["overdue_amount"] == pytest.approx(3000)
    assert a["oldest_days_past_due"] == 28
    assert a["aging_1_30_amount"] == pytest.approx(3000)
    assert a["aging_current_amount"] == pytest.approx(400)
    assert a["credit_utilisation"] == pytest.approx(3400 / 10000)
    # B: USD at the rate known on 03-31 (0.9, not April's 0.8); B1 is written off, so not open
    assert b["open_amount"] == pytest.approx(2000 * 0.9)
    assert b["credit_utilisation"] == pytest.approx(1800 / 4500)
    assert b["oldest_days_past_due"] == 0
    assert b["n_write_offs"] == 1 and b["write_off_amount"] == pytest.approx(900)


def test_behaviour_by_hand(snap) -> None:
    a, b = row(snap, "A"), row(snap, "B")
    assert a["share_partial_allocations"] == pytest.approx(2 / 4)  # both parts of A2
    assert a["share_multi_invoice_payments"] == pytest.approx(1 / 3)  # P1 of P1, P2, P4
    assert (a["n_disputes"], a["n_open_disputes"], a["open_dispute_amount"]) == (1, 1, 1200)
    assert (a["n_promises"], a["n_promises_kept"], a["n_promises_broken"]) == (2, 1, 1)
    assert a["dunning_max_level"] == 1
    assert (b["n_payment_plans_active"], b["n_payment_plans_broken"]) == (1, 0)


def test_invoice_rows_by_hand(snap) -> None:
    inv = snap.invoices.set_index("invoice_id")
    assert sorted(inv.index) == ["A3", "A4", "B2"]
    a3 = inv.loc["A3"]
    assert (a3["inv_days_past_due"], a3["inv_is_disputed"], a3["inv_dunning_level"]) == (28, 1, 1)
    assert a3["inv_amount_vs_customer_median"] == pytest.approx(3.0)  # median of 1000, 2000, 3000, 500, 800
    assert a3["open_amount"] == pytest.approx(3400)  # the customer's features ride along


@pytest.mark.parametrize(
    ("late_days", "expected"),
    [
        (0, {"A3": 1.0, "A4": 1.0, "B2": 1.0}),
        (15, {"A3": 1.0, "A4": 1.0, "B2": 0.0}),
        (30, {"A3": 1.0, "A4": None, "B2": 0.0}),
    ],
)
def test_invoice_late_labels_with_maturity(late_days: int, expected: dict) -> None:
    labels = invoice_late_labels(tiny_ledger(), AS_OF, late_days=late_days, data_end="2025-04-20")
    got = labels.set_index("invoice_id")["late"].to_dict()
    assert set(got) == set(expected)
    for invoice_id, value in expected.items():
        assert pd.isna(got[invoice_id]) if value is None else got[invoice_id] == value, invoice_id
    days = labels.set_index("invoice_id")["days_late"]
    assert days["A3"] == 33 and days["B2"] == 10


def test_customer_default_labels_and_maturity() -> None:
    labels = customer_default_labels(tiny_ledger(), "2025-01-15", horizon_days=90, data_end="2025-04-20")
    assert labels.set_index("customer_id")["default"].to_dict() == {
        "A": 0.0,
        "B": 1.0,
    }  # B1 written off 03-15
    unknown = customer_default_labels(tiny_ledger(), "2025-01-15", horizon_days=90, data_end="2025-04-10")
    assert unknown["default"].isna().all()  # horizon not over: unknown, never good


def test_default_by_days_past_due_without_write_off() -> None:
    frames = tiny_ledger()
    frames.write_offs = frames.write_offs.iloc[0:0]
    # B1 due 2024-12-31 is 90 days past due on 2025-03-31 and still open: default in (01-15, 04-15]
    labels = customer_default_labels(frames, "2025-01-15", horizon_days=90, data_end="2025-05-01")
    assert labels.set_index("customer_id")["default"]["B"] == 1.0
    early = customer_default_labels(frames, "2024-11-15", horizon_days=90, data_end="2025-05-01")
    assert early.set_index("customer_id")["default"]["B"] == 0.0  # 90 dpd only on 03-31, after 02-13


@pytest.mark.parametrize("as_of", ["2025-03-31", "2025-07-31", "2025-10-15"])
def test_labels_from_a_snapshots_ids_equal_labels_that_cut_the_book_themselves(as_of: str) -> None:
    """Training hands the snapshot's open invoices and customers to the labels (no second as-of cut);
    the labels must be the ones the labels find on their own."""
    from features.synthetic import generate_small_book

    frames = generate_small_book(80, months=12, seed=4)
    snap = build_snapshot(frames, as_of)
    assert len(snap.invoices) > 10
    late = invoice_late_labels(frames, as_of, late_days=5)
    late_given = invoice_late_labels(
        frames, as_of, late_days=5, open_ids=pd.Index(snap.invoices["invoice_id"])
    )
    pd.testing.assert_frame_equal(late_given, late)
    assert late["late"].notna().any()
    default = customer_default_labels(frames, as_of, horizon_days=60)
    default_given = customer_default_labels(
        frames, as_of, horizon_days=60, customer_ids=pd.Index(snap.customers["customer_id"])
    )
    pd.testing.assert_frame_equal(default_given, default)


def test_late_labels_of_several_dates_from_one_outcome_cut_equal_labels_cut_per_date() -> None:
    from features.synthetic import generate_small_book

    frames = generate_small_book(80, months=12, seed=4)
    outcomes: dict = {}
    for as_of in ["2025-03-31", "2025-07-31", "2025-10-15"]:
        shared = invoice_late_labels(frames, as_of, late_days=5, outcomes=outcomes)
        pd.testing.assert_frame_equal(shared, invoice_late_labels(frames, as_of, late_days=5))
    assert len(outcomes) == 1  # the book was cut at the data's end once for the three dates


@pytest.mark.parametrize("reversals", [False, True], ids=["no-reversals", "reversed-after-the-horizon"])
def test_default_labels_from_the_data_end_cut_equal_labels_cut_at_the_horizon(
    reversals: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read at the data's end or at the horizon's end (``data_end`` = the horizon's end cuts the book
    there, as the labels always did), the default labels are the same; a reversal after the horizon
    of an allocation made within it makes the labels cut at the horizon (else they would differ)."""
    from features import labels
    from features.synthetic import generate_small_book

    frames = generate_small_book(80, months=12, seed=4)
    alloc = frames.allocations.assign(reversed_at=pd.NaT)
    reversed_on = D("2025-08-15")
    if reversals:  # every allocation applied in February is reversed in August
        february = (alloc["applied_at"] >= D("2025-02-01")) & (alloc["applied_at"] < D("2025-03-01"))
        alloc.loc[february, "reversed_at"] = reversed_on
    frames.allocations = alloc.astype({"reversed_at": "datetime64[ns]"})
    end, outcomes = labels.latest_event_date(frames), {}
    dates = ["2025-01-31", "2025-03-31", "2025-06-30", "2025-08-31"]
    horizons = [D(d) + pd.Timedelta(days=90) for d in dates]
    defaults = 0.0
    for as_of, horizon_end in zip(dates, horizons, strict=True):
        assert labels._unsettles_after(frames, horizon_end, end) == (reversals and horizon_end < reversed_on)
        one_cut = customer_default_labels(frames, as_of, data_end=end, outcomes=outcomes)
        at_horizon = customer_default_labels(frames, as_of, data_end=horizon_end)
        pd.testing.assert_frame_equal(one_cut, at_horizon)
        defaults += one_cut["default"].sum()
    assert defaults > 0
    assert set(outcomes) == {end, *(h for h in horizons if reversals and h < reversed_on)}
    if reversals:  # the fallback is needed: read at the data's end, some labels change
        monkeypatch.setattr(labels, "_unsettles_after", lambda *_: False)
        differ = [
            not customer_default_labels(frames, d, data_end=end).equals(
                customer_default_labels(frames, d, data_end=h)
            )
            for d, h in zip(dates, horizons, strict=True)
        ]
        assert any(differ)
