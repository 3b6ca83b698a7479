"""The synthetic AR book: schema, internal consistency, behaviours, remittance noise, files and CLI."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from arrisk.errors import ValidationError
from arrisk.ledger.frames import SCHEMAS, TABLES, LedgerFrames, read_dir
from arrisk.ledger.generator import book_end, generate_book, write_book
from arrisk.ledger.generator import cli as generator_cli

START = date(2025, 1, 1)
END = pd.Timestamp(book_end(START, 12))
MONEY_TABLES = ("invoices", "payments", "allocations", "write_offs", "promises", "credit_notes")


@pytest.fixture(scope="module")
def book_and_truth() -> tuple[LedgerFrames, pd.DataFrame]:
    return generate_book(n_customers=500, months=12, seed=11, return_truth=True)


@pytest.fixture(scope="module")
def book(book_and_truth: tuple[LedgerFrames, pd.DataFrame]) -> LedgerFrames:
    return book_and_truth[0]


@pytest.fixture(scope="module")
def truth(book_and_truth: tuple[LedgerFrames, pd.DataFrame]) -> pd.Series:
    return book_and_truth[1].set_index("customer_id")["behaviour"]


def _lateness(book: LedgerFrames) -> pd.DataFrame:
    """One row per allocation: its invoice, customer, due date, issue date and days late."""
    inv = book.invoices.set_index("invoice_id")
    alloc = book.allocations.join(inv[["customer_id", "due_date", "issue_date"]], on="invoice_id")
    return alloc.assign(late=(alloc["applied_at"] - alloc["due_date"]).dt.days)


def _open_amounts(book: LedgerFrames) -> pd.Series:
    inv = book.invoices.set_index("invoice_id")["amount"]
    reductions = pd.concat(
        [
            book.allocations.groupby("invoice_id")["amount"].sum(),
            book.credit_notes.groupby("invoice_id")["amount"].sum(),
            book.write_offs.groupby("invoice_id")["amount"].sum(),
        ],
        axis=1,
    ).sum(axis=1)
    return inv - reductions.reindex(inv.index, fill_value=0.0)


# ---------------------------------------------------------------- schema and determinism


def test_every_table_matches_the_interchange_schema(book: LedgerFrames) -> None:
    for name in TABLES:
        frame = getattr(book, name)
        required, optional, dates, id_col = SCHEMAS[name]
        assert list(frame.columns) == required + optional, name
        assert len(frame) > 0, name
        for col in dates:
            assert frame[col].dtype == "datetime64[ns]", (name, col)
        if "amount" in frame:
            assert frame["amount"].dtype == "float64"
            assert (frame["amount"] == frame["amount"].round(2)).all(), name
        if id_col:
            assert frame[id_col].map(type).eq(str).all() and frame[id_col].is_unique, name
    assert not book.allocations.duplicated(["payment_id", "invoice_id"]).any()
    assert book.customers["payment_terms_days"].isin([30, 45, 60]).all()
    assert book.customers["payment_terms_days"].nunique() == 3
    assert book.customers["currency"].nunique() >= 5
    assert book.customers["collector_id"].nunique() >= 5


def test_same_seed_same_book_other_seed_other_book() -> None:
    first = generate_book(n_customers=80, months=6, seed=5)
    again = generate_book(n_customers=80, months=6, seed=5)
    other = generate_book(n_customers=80, months=6, seed=6)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(first, name), getattr(again, name))
    assert not first.invoices["amount"].equals(other.invoices["amount"])


def test_invoice_rate_scales_volumes_and_the_open_backlog_but_not_the_customers(tmp_path: Path) -> None:
    from features.pipeline import build_snapshot

    base = generate_book(n_customers=200, months=12, seed=4)
    same = generate_book(n_customers=200, months=12, seed=4, invoice_rate=1.0)
    busy = generate_book(n_customers=200, months=12, seed=4, invoice_rate=4.0)
    for name in TABLES:  # the default is rate 1: books made before the option are unchanged
        pd.testing.assert_frame_equal(getattr(base, name), getattr(same, name))
    master = ["customer_id", "name", "country", "currency", "segment", "payment_terms_days", "collector_id"]
    pd.testing.assert_frame_equal(base.customers[master], busy.customers[master])
    assert 3.4 < len(busy.invoices) / len(base.invoices) < 4.6
    as_of = pd.Timestamp("2025-12-15")
    open_base = len(build_snapshot(base, as_of).invoices)
    open_busy = len(build_snapshot(busy, as_of).invoices)
    assert 3.0 < open_busy / open_base < 5.0
    counts = write_book(tmp_path / "busy", n_customers=200, months=12, seed=4, invoice_rate=4.0)
    assert counts["invoices"] == len(busy.invoices)


def test_written_files_are_byte_identical_and_equal_the_in_memory_book(tmp_path: Path) -> None:
    def digest(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    write_book(tmp_path / "a", n_customers=120, months=6, seed=9, chunk_customers=50)
    write_book(tmp_path / "b", n_customers=120, months=6, seed=9, chunk_customers=50)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(f"{t}.parquet" for t in TABLES)
    write_book(tmp_path / "c", n_customers=120, months=6, seed=9)
    on_disk, in_memory = read_dir(tmp_path / "c"), generate_book(n_customers=120, months=6, seed=9)
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(on_disk, name), getattr(in_memory, name), check_dtype=False)


def test_ids_run_on_across_chunks(tmp_path: Path) -> None:
    write_book(tmp_path, n_customers=120, months=3, seed=2, chunk_customers=50)
    book = read_dir(tmp_path)
    for name, id_col in (
        ("customers", "customer_id"),
        ("invoices", "invoice_id"),
        ("payments", "payment_id"),
    ):
        assert getattr(book, name)[id_col].is_unique, name
    assert book.invoices["invoice_number"].is_unique
    assert set(book.allocations["invoice_id"]) <= set(book.invoices["invoice_id"])


def test_no_hidden_behaviour_is_written(tmp_path: Path, truth: pd.Series) -> None:
    write_book(tmp_path, n_customers=60, months=3, seed=1, fmt="csv")
    names = set(truth.unique())
    for path in tmp_path.iterdir():
        header = path.read_text(encoding="utf-8").splitlines()[0]
        assert "behaviour" not in header and "default_date" not in header, path.name
        text = path.read_text(encoding="utf-8")
        assert not any(f'"{name}"' in text for name in names), path.name


# ---------------------------------------------------------------- consistency


def test_dates_stay_inside_the_book(book: LedgerFrames) -> None:
    for name in TABLES:
        frame = getattr(book, name)
        for col in SCHEMAS[name][2]:
            if (name, col) == ("invoices", "due_date"):
                continue  # a term, not an event: invoices issued late in the book fall due after it
            values = frame[col].dropna()
            assert (values < END).all(), (name, col, values.max())
            if (name, col) != ("customers", "created_at"):
                assert (values >= pd.Timestamp(START)).all(), (name, col)
    daily = book.fx_rates[book.fx_rates["currency"] != "EUR"].groupby("currency")["rate_date"]
    assert (daily.max() == END - pd.Timedelta(days=1)).all() and (
        daily.size() == (END - pd.Timestamp(START)).days
    ).all()


def test_invoices_follow_their_customer(book: LedgerFrames) -> None:
    inv = book.invoices.join(book.customers.set_index("customer_id"), on="customer_id", rsuffix="_c")
    assert ((inv["due_date"] - inv["issue_date"]).dt.days == inv["payment_terms_days"]).all()
    assert (inv["currency"] == inv["currency_c"]).all()
    assert (inv["amount"] > 0).all()


def test_allocations_never_exceed_payment_or_invoice(book: LedgerFrames) -> None:
    pay = book.payments.set_index("payment_id")
    per_payment = book.allocations.groupby("payment_id")["amount"].sum()
    assert np.allclose(per_payment, pay.loc[per_payment.index, "amount"])
    assert (_open_amounts(book) > -1e-6).all()
    alloc = _lateness(book).join(pay[["payment_date", "customer_id"]], on="payment_id", rsuffix="_pay")
    assert (alloc["applied_at"] == alloc["payment_date"]).all()
    assert (alloc["payment_date"] >= alloc["issue_date"]).all()
    assert (alloc["customer_id"] == alloc["customer_id_pay"]).all()
    for name in MONEY_TABLES:
        assert (getattr(book, name)["amount"] > 0).all(), name


def test_partial_and_multi_invoice_payments_exist(book: LedgerFrames) -> None:
    per_payment = book.allocations.groupby("payment_id").size()
    assert (per_payment >= 2).mean() > 0.05
    per_invoice = book.allocations.groupby("invoice_id").size()
    assert (per_invoice >= 2).sum() > 20


def test_disputes_credit_notes_and_write_offs_agree(book: LedgerFrames, truth: pd.Series) -> None:
    d = book.disputes.join(book.invoices.set_index("invoice_id")["issue_date"], on="invoice_id")
    assert (d["opened_at"] > d["issue_date"]).all()
    resolved = d["resolved_at"].notna()
    assert (d.loc[resolved, "resolved_at"] >= d.loc[resolved, "opened_at"]).all()
    assert (d["outcome"].isna() == ~resolved).all()
    assert set(d["outcome"].dropna()) == {"credit_note", "rejected", "withdrawn"} and (~resolved).any()
    credited = d[d["outcome"] == "credit_note"].set_index("invoice_id")
    notes = book.credit_notes.set_index("invoice_id")
    assert sorted(notes.index) == sorted(credited.index)
    assert (notes["issue_date"] == credited.loc[notes.index, "resolved_at"]).all()
    assert np.allclose(notes["amount"], credited.loc[notes.index, "amount"])
    wo = book.write_offs.join(book.invoices.set_index("invoice_id")["customer_id"], on="invoice_id")
    assert (wo["customer_id"].map(truth) == "defaulter").all()
    last_alloc = book.allocations.groupby("invoice_id")["applied_at"].max()
    paid_before = wo["invoice_id"].map(last_alloc)
    assert (paid_before.isna() | (paid_before < wo["date"])).all()
    assert _open_amounts(book).loc[wo["invoice_id"]].abs().max() < 1e-6


def test_promises_are_kept_and_broken(book: LedgerFrames) -> None:
    pr = book.promises.join(
        book.invoices.set_index("invoice_id")["customer_id"], on="invoice_ids", rsuffix="_i"
    )
    assert (pr["customer_id"] == pr["customer_id_i"]).all()
    assert (pr["created_at"] < pr["promised_date"]).all()
    settled = book.allocations.groupby("invoice_id")["applied_at"].max()
    fully = _open_amounts(book).abs() < 1e-6
    paid_by = pr["invoice_ids"].map(settled.where(fully))
    kept = paid_by.notna() & (paid_by <= pr["promised_date"] + pd.Timedelta(days=3))
    assert 0.2 < kept.mean() < 0.9


# ---------------------------------------------------------------- behaviours


def test_deteriorating_customers_pay_ever_later_prompt_ones_do_not(
    book: LedgerFrames, truth: pd.Series
) -> None:
    alloc = _lateness(book)
    alloc["period"] = np.where(alloc["issue_date"] < "2025-05-01", "early", None)
    alloc.loc[alloc["issue_date"] >= "2025-07-01", "period"] = "late"
    means = alloc.dropna(subset=["period"]).groupby(["customer_id", "period"])["late"].mean().unstack()
    growth = (means["late"] - means["early"]).dropna()
    kind = growth.index.map(truth)
    assert growth[kind == "deteriorating"].median() > 20
    assert abs(growth[kind == "prompt"].median()) < 5
    assert alloc.groupby(alloc["customer_id"].map(truth))["late"].median()["prompt"] <= 2


def test_seasonal_customers_swing_with_the_calendar(book: LedgerFrames, truth: pd.Series) -> None:
    alloc = _lateness(book)
    alloc["month"] = alloc["due_date"].dt.month
    monthly = alloc.groupby(["customer_id", "month"])["late"].median()
    swing = monthly.groupby(level=0).agg(lambda s: s.max() - s.min())
    kind = swing.index.map(truth)
    assert swing[kind == "seasonal"].median() > swing[kind == "slow_steady"].median() + 8


def test_defaulters_reach_90_days_past_due(
    book: LedgerFrames, truth: pd.Series, book_and_truth: tuple[LedgerFrames, pd.DataFrame]
) -> None:
    inv = book.invoices.assign(open=_open_amounts(book).values, kind=book.invoices["customer_id"].map(truth))
    severe = (inv["open"] > 0.005) & (inv["due_date"] <= END - pd.Timedelta(days=90))
    severe |= inv["invoice_id"].isin(book.write_offs["invoice_id"])
    share = (
        inv.assign(severe=severe).groupby("customer_id").agg(kind=("kind", "first"), severe=("severe", "any"))
    )
    by_kind = share.groupby("kind")["severe"].mean()
    assert by_kind["defaulter"] > 0.7
    assert by_kind.drop("defaulter").max() < 0.1
    default_date = book_and_truth[1].set_index("customer_id")["default_date"]
    long_ago = default_date.reindex(share.index) <= END - pd.Timedelta(days=150)
    assert long_ago.sum() > 10 and share.loc[long_ago, "severe"].all()
    assert len(book.write_offs) > 0


def test_serial_disputers_dispute_far_more(book: LedgerFrames, truth: pd.Series) -> None:
    kind = book.invoices["customer_id"].map(truth)
    disputed = book.invoices["invoice_id"].isin(book.disputes["invoice_id"])
    rate = disputed.groupby(kind).mean()
    assert rate["serial_disputer"] > 3 * rate.drop("serial_disputer").max()
    assert rate["serial_disputer"] > 10 * rate["prompt"]


# ---------------------------------------------------------------- remittance


def test_remittance_text_is_varied_and_noisy(book: LedgerFrames) -> None:
    refs = book.payments["reference"]
    text = refs.dropna()
    assert refs.isna().any() and (~text.str.contains(r"\d")).any()
    assert text.str.len().max() <= 140
    for pattern in (
        r"INV-0\d{7}",
        r"(?i)inv#\d",
        r"(?i)rechnung|facture|factuur|fattura|factura|faktura",
        r"^\d{6}$",
    ):
        assert text.str.contains(pattern).any(), pattern
    number = book.invoices.set_index("invoice_id")["invoice_number"].str[4:].astype(int)
    cited = book.allocations.assign(number=book.allocations["invoice_id"].map(number))
    expected = cited.groupby("payment_id")["number"].agg(set)
    found = text.map(lambda r: {int(x) for x in re.findall(r"\d{5,9}", r)})
    found.index = book.payments.loc[text.index, "payment_id"]
    both = pd.concat([expected.rename("expected"), found.rename("found")], axis=1, join="inner")
    exact = both.apply(lambda row: row["found"] == row["expected"], axis=1)
    several = both["found"].map(len) >= 2
    mistyped = both.apply(lambda row: bool(row["found"] - row["expected"]), axis=1)
    assert exact.mean() > 0.7 and several.sum() > 10 and 0 < mistyped.mean() < 0.15
    stripped = text.str.contains(r"(?<![\d])1\d{5}(?!\d)")
    assert stripped.any() and text.str.contains(r"0{2}1\d{5}").any()


def test_payer_names_vary_and_accounts_are_stable(book: LedgerFrames) -> None:
    pay = book.payments.join(book.customers.set_index("customer_id")["name"], on="customer_id")
    same = pay["payer_name"] == pay["name"]
    assert 0.3 < same.mean() < 0.6
    assert (pay["payer_name"] == pay["name"].str.upper()).any()
    accounts = pay.dropna(subset=["payer_account"]).groupby("customer_id")["payer_account"].nunique()
    assert (accounts == 1).all()
    assert 0.02 < pay["payer_account"].isna().mean() < 0.2
    iban = pay["payer_account"].dropna().head(200)
    numeric = iban.map(lambda a: int("".join(str(int(c, 36)) for c in a[4:] + a[:4])))
    assert (numeric % 97 == 1).all()


# ---------------------------------------------------------------- CLI and importer


def _cli() -> typer.Typer:
    app = typer.Typer()
    generator_cli.register(app)
    app.command("noop")(lambda: None)  # a second command keeps `generate` a named sub-command
    return app


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_cli_writes_files_read_dir_reads(tmp_path: Path, fmt: str) -> None:
    args = [
        "generate",
        "--customers",
        "150",
        "--months",
        "4",
        "--seed",
        "3",
        "--out",
        str(tmp_path),
        "--format",
        fmt,
    ]
    result = CliRunner().invoke(_cli(), args)
    assert result.exit_code == 0, result.output
    book = read_dir(tmp_path)
    assert len(book.customers) == 150
    assert len(book.invoices) > 150 and len(book.allocations) > 0
    assert book.payments["reference"].notna().any()
    expected = generate_book(n_customers=150, months=4, seed=3)
    assert book.invoices["amount"].sum() == pytest.approx(expected.invoices["amount"].sum())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--customers", "0"], "n_customers 0"),
        (["--format", "xml"], "format 'xml'"),
        (["--months", "0"], "months 0"),
        (["--start", "2025-13-01"], "--start '2025-13-01'"),
        (["--base-currency", "XYZ"], "base_currency 'XYZ'"),
        (["--invoice-rate", "0"], "invoice_rate 0"),
        (["--invoice-rate", "51"], "invoice_rate 51"),
    ],
)
def test_cli_refuses_bad_options(tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(_cli(), ["generate", "--out", str(tmp_path), *args])
    assert isinstance(result.exception, ValidationError)
    assert message in str(result.exception)


def test_importer_accepts_a_generated_book(sqlite_engine) -> None:  # type: ignore[no-untyped-def]
    from arrisk.ledger.importer import import_frames

    book = generate_book(n_customers=30, months=4, seed=4)
    report = import_frames(sqlite_engine, book, source="generator")
    assert report.counts["invoices"]["inserted"] == len(book.invoices)
    assert report.counts["allocations"]["inserted"] == len(book.allocations)


def test_a_book_generated_with_columns_keeps_those_and_is_otherwise_the_same() -> None:
    from features.source import BOOK_COLUMNS

    full = generate_book(n_customers=200, months=6, seed=3)
    lean = generate_book(n_customers=200, months=6, seed=3, columns=BOOK_COLUMNS)
    assert "payer_name" in full.payments and "payer_name" not in lean.payments
    for name in TABLES:  # the tables the generator makes (the store-made ones stay empty defaults)
        frame, whole = getattr(lean, name), getattr(full, name)
        keep = [c for c in whole.columns if c in BOOK_COLUMNS[name]]
        assert list(frame.columns) == keep, name
        pd.testing.assert_frame_equal(frame, whole[keep], obj=name)
