"""Data-set adapters: mapping rules on tiny hand-made files, then the real files (skipped where absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

from arrisk.datasets import DATASETS, DatasetBundle, load_dataset
from arrisk.datasets.base import dataset_folder, to_cents
from arrisk.datasets.fifo import FifoBook
from arrisk.errors import NotFoundError
from arrisk.ledger.frames import SCHEMAS

D = pd.Timestamp
_BUNDLES: dict[tuple[str, Path], DatasetBundle] = {}


def bundle(name: str, data_dir: Path) -> DatasetBundle:
    """Each real data set is mapped once per test session (UCI takes a few seconds)."""
    key = (name, data_dir)
    if key not in _BUNDLES:
        _BUNDLES[key] = load_dataset(name, data_dir)
    return _BUNDLES[key]


def raw_rows(path: Path, *, encoding: str = "utf-8") -> list[dict[str, str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.DictReader(handle))


# ---------------------------------------------------------------- code: tiny files, small tables


def test_unknown_dataset_names_the_choices(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="'sap'.*ibm-ar, uci-credit, home-credit, wwi"):
        load_dataset("sap", tmp_path)


def test_folder_is_the_data_set_or_the_root(tmp_path: Path) -> None:
    (tmp_path / "ibm_ar_late_payment").mkdir()
    (tmp_path / "ibm_ar_late_payment" / "a.csv").write_text("x\n")
    expected = tmp_path / "ibm_ar_late_payment"
    assert dataset_folder(tmp_path, folder="ibm_ar_late_payment", required_file="a.csv") == expected
    assert dataset_folder(expected, folder="ibm_ar_late_payment", required_file="a.csv") == expected
    with pytest.raises(NotFoundError, match="b.csv not found"):
        dataset_folder(tmp_path, folder="ibm_ar_late_payment", required_file="b.csv")


@pytest.mark.parametrize(
    ("amount", "cents"), [(20327.805, 2032781), (7679.43, 767943), (0.005, 1), (-2569.1, -256910)]
)
def test_amounts_round_half_up_to_cents(amount: float, cents: int) -> None:
    assert to_cents(pd.Series([amount, 1.0]))[0] == cents


def test_fifo_applies_oldest_first_and_holds_unapplied_cash() -> None:
    book = FifoBook("c1")
    book.payment("p0", 500, D("2024-01-05"))  # nothing open yet: waits
    book.invoice("i1", 300, D("2024-01-31"), D("2024-02-20"))
    book.invoice("i2", 400, D("2024-02-29"), D("2024-03-20"))
    book.credit("cn", 250, D("2024-03-01"), reason="refund")
    assert book.allocations == [("p0", "i1", 300, D("2024-01-31")), ("p0", "i2", 200, D("2024-02-29"))]
    assert book.credit_notes == [("cn-1", "c1", "i2", D("2024-03-01"), 200, "refund")]
    book.close()
    assert book.credit_notes[-1] == ("cn-2", "c1", None, D("2024-03-01"), 50, "refund")
    assert book.days_past_due(D("2024-04-30")) == 0


def test_fifo_roll_over_closes_open_statements() -> None:
    book = FifoBook("c1")
    book.invoice("i1", 300, D("2024-01-31"), D("2024-02-20"))
    book.payment("p1", 100, D("2024-02-15"))
    assert book.days_past_due(D("2024-02-29")) == 9
    carried = book.roll_over("roll", D("2024-02-29"), reason="revolved")
    assert carried == 200
    assert book.credit_notes == [("roll-1", "c1", "i1", D("2024-02-29"), 200, "revolved")]
    assert book.days_past_due(D("2024-02-29")) == 0


UCI_HEADER = (
    '"ID","LIMIT_BAL","SEX","EDUCATION","MARRIAGE","AGE","PAY_0","PAY_2","PAY_3","PAY_4","PAY_5","PAY_6",'
    + ",".join(f'"BILL_AMT{k}"' for k in range(1, 7))
    + ","
    + ",".join(f'"PAY_AMT{k}"' for k in range(1, 7))
    + ',"default.payment.next.month"'
)


def test_uci_statements_carry_new_charges_and_delinquency_ages(tmp_path: Path) -> None:
    # client 7: balances Apr..Sep 1000, 1500, 1500, 1200, 2000, 2000; pays 500 in May, 0 in Jun,
    # 300 in Jul, 0 in Aug, 0 in Sep; status Apr..Jun 0 (revolving), Jul..Sep delinquent 1, 2, 3.
    row = "7,50000,1,1,1,30,3,2,1,0,0,0,2000,2000,1200,1500,1500,1000,0,0,300,0,500,999,1"
    (tmp_path / "UCI_Credit_Card.csv").write_text(
        UCI_HEADER + "\n" + row
    )  # no trailing newline, as the real file
    b = load_dataset("uci-credit", tmp_path)
    inv = b.frames.invoices.set_index("invoice_id")
    # April whole balance; May 1500-1000+500=1000 plus 500 revolved from April; June 0 new + 1500 revolved;
    # July 1200-1500+300=0 new (no invoice); August 800; September 0.
    assert inv["amount"].to_dict() == {"uci-7-2005-04": 1000.0, "uci-7-2005-05": 1500.0,
                                       "uci-7-2005-06": 1500.0, "uci-7-2005-08": 800.0}  # fmt: skip
    # status 1, 2, 3 in Jul..Sep all name the June statement as the oldest unpaid: it is held open and
    # due 90 days before 2005-09-30; May's keeps the ordinary 20-day terms
    assert inv.loc["uci-7-2005-06", "due_date"] == D("2005-07-02")
    assert inv.loc["uci-7-2005-05", "due_date"] == D("2005-06-20")
    pay = b.frames.payments.set_index("payment_id")
    assert pay["payment_date"].to_dict() == {
        "uci-pay-7-2005-05": D("2005-05-15"),
        "uci-pay-7-2005-07": D("2005-07-28"),
    }
    cn = b.frames.credit_notes
    assert cn["amount"].sum() == 500.0 + 1500.0  # April revolved in May, May's statement revolved in June
    assert (b.frames.customers["credit_limit"] == 50000.0).all()
    # open balance telescopes to the September statement balance BILL_AMT1
    assert inv["amount"].sum() - cn["amount"].sum() - pay["amount"].sum() == 2000.0
    assert b.targets.to_dict("records") == [{"customer_id": "uci-7", "default": True}]
    assert b.notes["dpd_vs_status_sept"]["ledger_past_due_share"] == 1.0  # June statement still open
    assert b.notes["dpd_vs_status_sept"]["mean_days_past_due_by_status"] == {"3": 90.0}
    assert [m["months"] for m in b.notes["dpd_vs_status_by_month"].values()] == [1.0] * 6
    assert len(b.truth) == 6 and b.truth["repayment_status"].tolist() == [0, 0, 0, 1, 2, 3]


def test_uci_cured_delinquency_and_arrears_from_before_april(tmp_path: Path) -> None:
    # client 8: status Apr..Sep 2, 3, -1, 0, 1, -1; balances Apr..Sep 900, 900, 300, 300, 500, 0
    # client 9: status 0 throughout; one statement, paid duly
    rows = [
        "8,10000,1,1,1,30,-1,1,0,-1,3,2,0,500,300,300,900,900,0,200,0,600,0,0,1",
        "9,10000,1,1,1,30,-1,-1,-1,-1,-1,0,0,0,0,0,0,400,0,0,0,0,400,0,0",
    ]
    (tmp_path / "UCI_Credit_Card.csv").write_text(UCI_HEADER + "\n" + "\n".join(rows))
    b = load_dataset("uci-credit", tmp_path)
    inv = b.frames.invoices.set_index("invoice_id")
    # April status 2 and May status 3 name the February statement: carved out of April's 900, issued
    # 2005-02-28 and due 90 days before 2005-05-31; April keeps the rest
    assert inv.loc["uci-8-2005-02", ["issue_date", "due_date", "amount"]].tolist() == [
        D("2005-02-28"), D("2005-03-02"), 450.0]  # fmt: skip
    assert inv.loc["uci-8-2005-04", "amount"] == 450.0
    assert (b.frames.customers["created_at"] <= inv["issue_date"].min()).all()
    dpd = b.notes["dpd_vs_status_by_month"]
    assert all(m["months"] == 1.0 for m in dpd.values()), dpd
    # August status 1 names the July statement (due 2005-08-01); the June cure revolved the arrears
    assert inv.loc["uci-8-2005-07", "due_date"] == D("2005-08-01")
    net = (
        inv.groupby("customer_id")["amount"].sum() - b.frames.payments.groupby("customer_id")["amount"].sum()
    )
    net = net.sub(b.frames.credit_notes.groupby("customer_id")["amount"].sum(), fill_value=0)
    assert net.round(2).to_dict() == {"uci-8": 0.0, "uci-9": 0.0}
    assert b.notes["dpd_vs_status_sept"]["mean_days_past_due_by_status"] == {"-1": 0.0}


HC_HEADER = (
    "SK_ID_PREV,SK_ID_CURR,NUM_INSTALMENT_VERSION,NUM_INSTALMENT_NUMBER,DAYS_INSTALMENT,"
    "DAYS_ENTRY_PAYMENT,AMT_INSTALMENT,AMT_PAYMENT"
)


def test_home_credit_reads_bom_merges_versions_and_caps_allocations(tmp_path: Path) -> None:
    rows = [
        "1,100,1,1,-60,-65,100.00,60.00",  # paid in two parts, 5 days early and 10 days late
        "1,100,1,1,-60,-50,100.00,70.00",  # overpays by 30: capped
        "2,100,1,1,-30,-31,20723.58,22500.0",  # one payment split over two versions
        "2,100,2,1,-30,-31,1776.42,22500.0",
    ]
    (tmp_path / "subsetA_installments_payments.csv").write_bytes(
        b"\xef\xbb\xbf" + ("\n".join([HC_HEADER, *rows]) + "\n").encode()
    )
    (tmp_path / "subsetA_application.csv").write_text("SK_ID_CURR,DEFAULTED\n100,0\n200,1\n")
    b = load_dataset("home-credit", tmp_path)
    inv = b.frames.invoices.set_index("invoice_id")
    assert inv["amount"].to_dict() == {"hc-1-1": 100.0, "hc-2-1": 22500.0}
    assert inv.loc["hc-1-1", "due_date"] == D("2017-11-02")  # 2018-01-01 - 60 days
    assert inv.loc["hc-1-1", "issue_date"] == D("2017-10-03")
    assert b.frames.payments["amount"].tolist() == [60.0, 70.0, 22500.0]
    assert b.frames.allocations["amount"].tolist() == [60.0, 40.0, 22500.0]
    assert sorted(b.frames.customers["customer_id"]) == ["hc-100", "hc-200"]
    assert b.targets.set_index("customer_id")["defaulted"].to_dict() == {"hc-100": False, "hc-200": True}


# ---------------------------------------------------------------- data: the real files


def test_ibm_counts_forbidden_columns_and_a_hand_checked_row(data_dir: Path) -> None:
    b = bundle("ibm-ar", data_dir)
    f = b.frames
    assert (len(f.invoices), len(f.customers), len(f.payments), len(f.allocations)) == (2466, 100, 2466, 2466)
    assert len(f.disputes) == 561
    for _, frame in f.items():
        assert not {"DaysToSettle", "DaysLate", "SettledDate", "days_late", "late"} & set(frame.columns)
    assert list(f.invoices.columns) == SCHEMAS["invoices"][0] + SCHEMAS["invoices"][1]
    raw = raw_rows(data_dir / "ibm_ar_late_payment" / "WA_Fn-UseC_-Accounts-Receivable.csv")[1]
    inv = f.invoices.set_index("invoice_number").loc[raw["invoiceNumber"]]
    assert raw["invoiceNumber"].startswith("00") and inv["invoice_id"] == "ibm-" + raw["invoiceNumber"]
    assert inv["issue_date"] == pd.to_datetime(raw["InvoiceDate"], format="%m/%d/%Y")
    assert inv["due_date"] == pd.to_datetime(raw["DueDate"], format="%m/%d/%Y")
    assert inv["amount"] == pytest.approx(float(raw["InvoiceAmount"]))
    pay = f.payments.set_index("payment_id").loc["ibm-pay-" + raw["invoiceNumber"]]
    assert pay["payment_date"] == pd.to_datetime(raw["SettledDate"], format="%m/%d/%Y")
    assert pay["method"] == raw["PaperlessBill"].lower()
    dispute = f.disputes.set_index("invoice_id").loc[inv["invoice_id"]]  # this row is Disputed=Yes
    assert raw["Disputed"] == "Yes" and dispute["opened_at"] == pay["payment_date"]
    target = b.targets.set_index("invoice_id").loc[inv["invoice_id"]]
    assert target["days_late"] == int(raw["DaysLate"]) and bool(target["late"]) == (int(raw["DaysLate"]) > 0)
    assert b.targets["late"].mean() == pytest.approx(0.356, abs=0.001)
    assert set(f.customers["country"]) == {"XA", "XB", "XC", "XD", "XE"}
    assert (f.customers["payment_terms_days"] == 30).all()


def test_ibm_payments_settle_each_invoice_in_full(data_dir: Path) -> None:
    f = bundle("ibm-ar", data_dir).frames
    merged = f.allocations.merge(f.invoices, on="invoice_id", suffixes=("", "_invoice"))
    assert (merged["amount"] == merged["amount_invoice"]).all()
    assert (f.invoices["due_date"] >= f.invoices["issue_date"]).all()


def test_uci_counts_identity_and_status_reconstruction(data_dir: Path) -> None:
    b = bundle("uci-credit", data_dir)
    f = b.frames
    raw = pd.read_csv(data_dir / "uci_credit_card_default" / "UCI_Credit_Card.csv").set_index("ID")
    assert len(f.customers) == 30000 and len(b.targets) == 30000
    assert b.targets["default"].mean() == pytest.approx(0.2212, abs=0.0001)
    # statements before April: the oldest unpaid ones named by April/May statuses, carved out of April
    early = f.invoices["issue_date"] < D("2005-04-30")
    assert (f.invoices["issue_date"] >= D("2004-07-31")).all() and (f.invoices["amount"] > 0).all()
    assert 0 < early.sum() < 0.05 * len(f.invoices)
    # invoices - credit notes - payments == September balance, for every client
    net = (
        f.invoices.groupby("customer_id")["amount"].sum()
        .sub(f.credit_notes.groupby("customer_id")["amount"].sum(), fill_value=0)
        .sub(f.payments.groupby("customer_id")["amount"].sum(), fill_value=0)
    )  # fmt: skip
    expected = raw["BILL_AMT1"].set_axis("uci-" + raw.index.astype(str))
    assert net.reindex(expected.index, fill_value=0).round(2).equals(expected.astype(float))
    # September status <= 0: nothing past due on 2005-09-30; status >= 1 mostly past due
    open_ = _open_amounts(f, D("2005-09-30"))
    past_due = open_[(open_["open"] > 0.005) & (open_["due_date"] < D("2005-09-30"))]["customer_id"].unique()
    status = raw["PAY_0"].set_axis("uci-" + raw.index.astype(str))
    assert not set(past_due) & set(status[status <= 0].index)
    assert status.reindex(past_due).ge(1).all() and len(past_due) > 0.5 * (status >= 1).sum()
    client = f.customers.set_index("customer_id").loc["uci-1"]
    assert client["credit_limit"] == raw.loc[1, "LIMIT_BAL"] and client["currency"] == "TWD"


@pytest.mark.slow
def test_uci_days_past_due_follow_the_september_status(data_dir: Path) -> None:
    from features.pipeline import build_snapshot

    b = bundle("uci-credit", data_dir)
    raw = pd.read_csv(data_dir / "uci_credit_card_default" / "UCI_Credit_Card.csv")
    status = pd.Series(raw["PAY_0"].to_numpy(), index="uci-" + raw["ID"].astype(str))
    got = build_snapshot(b.frames, "2005-09-30").customers.set_index("customer_id")["oldest_days_past_due"]
    got = got.reindex(status.index)
    assert (got[status <= -1] == 0).all() and (got[status == 0] == 0).all()
    two = got[status == 2]
    assert two.median() == 60 and (two == 60).mean() > 0.9  # two months late: 60 days past due
    assert got[status == 1].median() == 30
    months = (got / 30).round() == status.clip(lower=0)
    # misses are clients the status calls late on a zero or credit September balance
    assert months.mean() > 0.93 and raw.set_index(status.index)["BILL_AMT1"][~months].le(0).mean() > 0.75
    agreement = b.notes["dpd_vs_status_by_month"]
    assert min(m["late"] for m in agreement.values()) > 0.94
    assert (
        agreement["2005-09"]["months"] >= months.mean()
    )  # features count a held 1.00 left as settled (tolerance)


def _open_amounts(f, as_of: pd.Timestamp) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    paid = f.allocations[f.allocations["applied_at"] <= as_of].groupby("invoice_id")["amount"].sum()
    credited = f.credit_notes[f.credit_notes["issue_date"] <= as_of].groupby("invoice_id")["amount"].sum()
    inv = f.invoices[f.invoices["issue_date"] <= as_of]
    open_ = inv["amount"] - inv["invoice_id"].map(paid).fillna(0) - inv["invoice_id"].map(credited).fillna(0)
    return inv.assign(open=open_)


def test_allocations_never_exceed_invoice_or_payment(data_dir: Path) -> None:
    for name in ("ibm-ar", "uci-credit", "home-credit"):
        f = bundle(name, data_dir).frames
        assert (f.allocations["amount"] > 0).all()
        assert not f.allocations.duplicated(["payment_id", "invoice_id"]).any()
        for key, table in (("invoice_id", f.invoices), ("payment_id", f.payments)):
            applied = f.allocations.groupby(key)["amount"].sum()
            credited = f.credit_notes.groupby(key)["amount"].sum() if key in f.credit_notes else 0
            used = applied.add(credited, fill_value=0) if key == "invoice_id" else applied
            limit = table.set_index(key)["amount"].reindex(used.index)
            assert (used <= limit + 0.005).all(), f"{name}: {key} over-allocated"
        assert (f.invoices["due_date"] >= f.invoices["issue_date"]).all()


def test_home_credit_bom_and_a_hand_checked_installment(data_dir: Path) -> None:
    path = data_dir / "home_credit" / "subsetA_installments_payments.csv"
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    b = bundle("home-credit", data_dir)
    f = b.frames
    raw = raw_rows(path, encoding="utf-8-sig")
    first = raw[0]
    assert "SK_ID_PREV" in first
    invoice_id = f"hc-{first['SK_ID_PREV']}-{first['NUM_INSTALMENT_NUMBER']}"
    inv = f.invoices.set_index("invoice_id").loc[invoice_id]
    assert inv["due_date"] == D("2018-01-01") + pd.Timedelta(days=int(first["DAYS_INSTALMENT"]))
    assert inv["amount"] == pytest.approx(float(first["AMT_INSTALMENT"]))
    same = [
        r
        for r in raw
        if (r["SK_ID_PREV"], r["NUM_INSTALMENT_NUMBER"])
        == (first["SK_ID_PREV"], first["NUM_INSTALMENT_NUMBER"])
    ]
    pays = f.payments[f.payments["payment_id"].str.startswith(f"hc-pay-{invoice_id[3:]}-")]
    assert sorted(pays["amount"]) == sorted(float(r["AMT_PAYMENT"]) for r in same)
    assert len(f.invoices) == 7183 and len(b.targets) == 1000
    assert b.targets["defaulted"].mean() == pytest.approx(0.07)


def test_wwi_counts_no_allocations_and_settlement_truth(data_dir: Path) -> None:
    b = bundle("wwi", data_dir)
    f = b.frames
    assert (len(f.invoices), len(f.payments), len(f.customers)) == (10642, 4545, 267)
    assert f.allocations.empty
    assert (f.payments["amount"] > 0).all() and (f.payments["method"] == "eft").all()
    assert b.notes["exact_payments_share"] == pytest.approx(0.992, abs=0.0005)
    truth = b.truth
    sums = truth.groupby("payment_id")["amount"].sum()
    paid = f.payments.set_index("payment_id")["amount"].reindex(sums.index)
    exact = truth.groupby("payment_id")["exact"].first()
    assert ((sums - paid).abs() < 0.005).eq(exact).all()
    assert truth.groupby("payment_id")["invoice_id"].size().max() == 46
    raw = raw_rows(data_dir / "wwi_customer_transactions" / "CustomerTransactions2016.csv")
    sample = next(r for r in raw if r["TransactionTypeID"] == "1")
    inv = f.invoices.set_index("invoice_id").loc["wwi-" + sample["InvoiceID"]]
    assert inv["amount"] == pytest.approx(float(sample["TransactionAmount"]))
    assert inv["customer_id"] == "wwi-" + sample["CustomerID"] and inv["issue_date"] == D(
        sample["TransactionDate"]
    )
    assert "FinalizationDate" not in f.invoices and "OutstandingBalance" not in f.invoices


# ---------------------------------------------------------------- end to end: the store and the CLI


@pytest.mark.parametrize("name", ["ibm-ar", "home-credit", "wwi"])
def test_import_into_sqlite_is_idempotent(name: str, data_dir: Path, sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    from arrisk.ledger.importer import import_frames
    from arrisk.store import tables as t

    b = bundle(name, data_dir)
    report = import_frames(sqlite_engine, b.frames, source=f"dataset:{name}")
    assert report.inserted == sum(b.row_counts().values())
    with sqlite_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.Invoice)).scalar() == len(b.frames.invoices)
        assert conn.execute(select(func.count()).select_from(t.Allocation)).scalar() == len(
            b.frames.allocations
        )
    again = import_frames(sqlite_engine, b.frames, source=f"dataset:{name}")
    assert (again.inserted, again.updated) == (0, 0)


def test_ibm_import_on_both_stores(data_dir: Path, engine) -> None:  # type: ignore[no-untyped-def]
    from arrisk.ledger.importer import import_frames
    from arrisk.store import tables as t

    import_frames(engine, bundle("ibm-ar", data_dir).frames, source="dataset:ibm-ar")
    with engine.connect() as conn:
        disputes = conn.execute(select(func.count()).select_from(t.Dispute)).scalar()
        total = conn.execute(select(func.sum(t.Invoice.amount))).scalar()
    assert disputes == 561
    assert float(total) == pytest.approx(
        bundle("ibm-ar", data_dir).frames.invoices["amount"].sum(), abs=0.005
    )


@pytest.mark.slow
def test_uci_import_into_sqlite(data_dir: Path, sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    from arrisk.ledger.importer import import_frames

    b = bundle("uci-credit", data_dir)
    report = import_frames(sqlite_engine, b.frames, source="dataset:uci-credit")
    assert report.inserted == sum(b.row_counts().values())


def test_cli_lists_and_imports(data_dir: Path, settings) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from arrisk.cli import app

    runner = CliRunner()
    listed = runner.invoke(app, ["datasets", "list", "--data-dir", str(data_dir)])
    assert listed.exit_code == 0 and all(name in listed.output for name in DATASETS)
    result = runner.invoke(app, ["datasets", "import", "ibm-ar", str(data_dir / "ibm_ar_late_payment")])
    assert result.exit_code == 0, result.output
    assert "8,059 rows" in result.output and "8,059 inserted" in result.output
