"""The importer: good books land whole and idempotently; every bad input is refused, writing nothing."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from arrisk.ledger.importer import import_dir
from arrisk.ledger.validation import ImportValidationError
from arrisk.store import tables as t
from tests.book_files import BOOK, write_book


def _row_counts(engine: Engine) -> dict[str, int]:
    names = [
        "customers",
        "invoices",
        "payments",
        "allocations",
        "disputes",
        "promises",
        "fx_rates",
        "credit_limit_history",
        "import_batches",
        "audit_log",
    ]
    with engine.connect() as conn:
        return {n: conn.execute(text(f"select count(*) from {n}")).scalar_one() for n in names}


def test_import_writes_every_table_with_exact_money(engine: Engine, tmp_path: Path) -> None:
    report = import_dir(engine, write_book(tmp_path / "book"))
    assert report.counts["invoices"]["inserted"] == 4
    assert report.counts["allocations"]["inserted"] == 2
    with engine.connect() as conn:
        amount = conn.execute(select(t.Invoice.amount).where(t.Invoice.invoice_id == "I2")).scalar_one()
        alloc = conn.execute(select(t.Allocation).where(t.Allocation.payment_id == "P2")).one()
        dispute = conn.execute(select(t.Dispute)).one()
    assert amount == Decimal("2500.50") and isinstance(amount, Decimal)
    assert alloc.currency == "GBP" and str(alloc.applied_at) == "2024-03-20" and alloc.source == "import"
    assert dispute.customer_id == "C1" and dispute.status == "open"


def test_import_twice_adds_nothing_and_a_changed_row_is_updated(engine: Engine, tmp_path: Path) -> None:
    folder = write_book(tmp_path / "book")
    import_dir(engine, folder)
    before = _row_counts(engine)
    again = import_dir(engine, folder)
    assert again.inserted == 0 and again.updated == 0
    after = _row_counts(engine)
    assert {k: v for k, v in after.items() if k not in ("import_batches", "audit_log")} == {
        k: v for k, v in before.items() if k not in ("import_batches", "audit_log")
    }
    changed = BOOK["customers"].replace("10000.00", "12000.00")
    report = import_dir(engine, write_book(tmp_path / "book2", {"customers": changed}))
    assert report.counts["customers"] == {"inserted": 0, "updated": 1, "unchanged": 1}
    with engine.connect() as conn:
        limit = conn.execute(
            select(t.Customer.credit_limit).where(t.Customer.customer_id == "C1")
        ).scalar_one()
        history = conn.execute(select(func.count()).select_from(t.CreditLimitChange)).scalar_one()
    assert limit == Decimal("12000.00") and history == 3


def _bad(table: str, old: str, new: str) -> dict[str, str]:
    assert old in BOOK[table], f"test setup: {old!r} not in {table}"
    return {table: BOOK[table].replace(old, new)}


BAD_INPUTS = [
    (
        "missing column",
        {"invoices": BOOK["invoices"].replace("invoice_number,", "")},
        "missing required column 'invoice_number'",
    ),
    (
        "wrong type",
        _bad("invoices", "2500.50", "25x0.50"),
        "invoices.csv row 2: amount '25x0.50' is not a number",
    ),
    (
        "unparsable date",
        _bad("invoices", "2024-01-20", "2024-13-45"),
        "invoices.csv row 3: issue_date '2024-13-45' is not a date",
    ),
    (
        "negative invoice amount",
        _bad("invoices", "1200.00", "-1200.00"),
        "invoices.csv row 4: amount '-1200.00' must be at least 0",
    ),
    (
        "due before issue",
        _bad("invoices", "2024-02-04", "2023-12-01"),
        "invoices.csv row 1: due_date '2023-12-01' is before issue_date",
    ),
    ("duplicate id", _bad("invoices", "I4,C2", "I3,C2"), "invoices.csv row 4: invoice_id 'I3' is duplicated"),
    (
        "unknown customer",
        _bad("invoices", "I4,C2", "I4,C9"),
        "invoices.csv row 4: customer_id 'C9' is not a known customer",
    ),
    (
        "over-allocated payment",
        _bad("allocations", "P1,I1,1000.00", "P1,I1,1000.00\nP1,I2,5.00"),
        "payment_id 'P1' is over-allocated",
    ),
    (
        "over-allocated invoice",
        _bad("allocations", "P2,I3,3000.00", "P2,I4,3000.00"),
        "invoice_id 'I4' is over-allocated",
    ),
    (
        "bad currency",
        _bad("payments", "1000.00,EUR", "1000.00,euro"),
        "payments.csv row 1: currency 'euro' is not a 3-letter ISO currency code",
    ),
    (
        "zero payment",
        _bad("payments", "1000.00,EUR", "0,EUR"),
        "payments.csv row 1: amount '0' must be greater than 0",
    ),
    (
        "unknown invoice in dispute",
        _bad("disputes", "D1,I2", "D1,I77"),
        "disputes.csv row 1: invoice_id 'I77' is not a known invoice",
    ),
    (
        "unknown dispute outcome",
        _bad("disputes", "pricing,,", "pricing,2024-03-20,won"),
        "disputes.csv row 1: outcome 'won' is not one of credit_note, rejected, withdrawn",
    ),
    (
        "empty required id",
        _bad("customers", "C2,Globex", ",Globex"),
        "customers.csv row 2: customer_id is empty; a value is required",
    ),
    (
        "negative terms",
        _bad("customers", "EUR,30,", "EUR,-30,"),
        "customers.csv row 1: payment_terms_days '-30' must be at least 0",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_refused_and_nothing_is_written(
    engine: Engine, tmp_path: Path, case: str, overrides: dict[str, str], message: str
) -> None:
    before = _row_counts(engine)
    with pytest.raises(ImportValidationError) as err:
        import_dir(engine, write_book(tmp_path / "bad", overrides))
    assert message in str(err.value), str(err.value)
    assert "nothing written" in str(err.value)
    assert _row_counts(engine) == before


@pytest.mark.parametrize(
    ("case", "payload", "message"),
    [
        ("byte-order mark", b"\xef\xbb\xbf" + BOOK["customers"].encode(), "byte-order mark"),
        (
            "latin-1 bytes",
            BOOK["customers"].replace("Acme GmbH", "Acme Gm\xfcnd").encode("latin-1"),
            "not UTF-8",
        ),
    ],
)
def test_encoding_problems_are_refused(
    sqlite_engine: Engine, tmp_path: Path, case: str, payload: bytes, message: str
) -> None:
    folder = write_book(tmp_path / "enc")
    (folder / "customers.csv").write_bytes(payload)
    with pytest.raises(ImportValidationError, match=message):
        import_dir(sqlite_engine, folder)
    assert _row_counts(sqlite_engine)["customers"] == 0


def test_a_parquet_file_that_cannot_be_read_is_refused(sqlite_engine: Engine, tmp_path: Path) -> None:
    folder = write_book(tmp_path / "pq")
    (folder / "payments.csv").unlink()
    (folder / "payments.parquet").write_bytes(b"PAR1 cut short")
    with pytest.raises(ImportValidationError, match=r"payments.parquet: is not a readable Parquet file: "):
        import_dir(sqlite_engine, folder)
    assert _row_counts(sqlite_engine)["customers"] == 0


def test_a_later_bad_file_leaves_an_earlier_import_untouched(sqlite_engine: Engine, tmp_path: Path) -> None:
    import_dir(sqlite_engine, write_book(tmp_path / "good"))
    before = _row_counts(sqlite_engine)
    with pytest.raises(ImportValidationError):
        import_dir(sqlite_engine, write_book(tmp_path / "bad", _bad("payments", "2024-02-20", "20/02/2024")))
    assert _row_counts(sqlite_engine) == before


def test_audit_log_is_append_only(engine: Engine, tmp_path: Path) -> None:
    import_dir(engine, write_book(tmp_path / "book"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("update audit_log set actor = 'mallory'"))
    with pytest.raises(Exception, match="append-only"), engine.begin() as conn:
        conn.execute(text("delete from audit_log"))


def test_fast_insert_stores_what_sqlalchemys_insert_stores(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The SQLite driver path (bind processors + scalar defaults) leaves the same stored text as
    SQLAlchemy's own insert, table by table, for a generated book (dates, money, NULLs, JSON lists)."""
    from sqlalchemy import insert

    import arrisk.ledger.writer as writer
    from arrisk.ledger.generator import generate_book
    from arrisk.ledger.importer import import_frames
    from arrisk.store.db import make_engine, migrate

    book = generate_book(n_customers=40, months=6, seed=5)
    engines = []
    for name in ("fast", "sqlalchemy"):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        migrate(engine)
        if name == "sqlalchemy":
            monkeypatch.setattr(
                writer, "insert_rows", lambda conn, model, rows: rows and conn.execute(insert(model), rows)
            )
        import_frames(engine, book, source="same")
        engines.append(engine)
    for table in ("customers", "invoices", "payments", "allocations", "credit_notes", "disputes",
                  "promises", "write_offs", "fx_rates"):  # fmt: skip
        stored = []
        for engine in engines:
            with engine.connect() as conn:
                stored.append(conn.exec_driver_sql(f"select * from {table} order by 1, 2").all())
        assert stored[0] == stored[1], table
        assert len(stored[0]) > 0 or table in ("credit_notes", "write_offs"), table


def test_over_allocation_sums_are_exact_below_a_cent() -> None:
    import pandas as pd

    from arrisk.ledger.importer import _decimal_sums

    keys = pd.Series(["a", "b", "a", "b"])
    cents = pd.Series([Decimal("0.10"), Decimal("5"), Decimal("0.20"), Decimal("1.01")])
    assert _decimal_sums(keys, cents) == {"a": Decimal("0.30"), "b": Decimal("6.01")}
    finer = pd.Series([Decimal("0.105"), Decimal("5"), Decimal("0.2"), Decimal("1.001")])
    assert _decimal_sums(keys, finer) == {"a": Decimal("0.305"), "b": Decimal("6.001")}


def test_store_made_tables_in_a_folder_are_named_as_not_imported(
    engine: Engine, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from arrisk.ledger.cli import print_import_report

    folder = write_book(tmp_path / "book")
    (folder / "dunning_events.csv").write_text("invoice_id,level,event_date\nI1,1,2024-03-01\n")
    report = import_dir(engine, folder)
    assert report.not_imported == ["dunning_events.csv"] and report.counts["invoices"]["inserted"] == 4
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from dunning_events")).scalar_one() == 0
    print_import_report(report)
    assert "not imported: dunning_events.csv" in " ".join(capsys.readouterr().out.split())
    assert import_dir(engine, write_book(tmp_path / "bare")).not_imported == []
