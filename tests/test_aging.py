"""Aging, DSO and CEI against numbers worked out by hand on the tiny book."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from arrisk.errors import ValidationError
from arrisk.ledger.aging import AgingConfig, aging_report, dso_countback
from arrisk.ledger.asof import open_items
from arrisk.ledger.frames import read_dir
from arrisk.ledger.importer import import_dir
from arrisk.ledger.load import load_frames
from tests.book_files import write_book


@pytest.fixture
def frames(tmp_path: Path):  # type: ignore[no-untyped-def]
    return read_dir(write_book(tmp_path / "book"))


def test_open_items_as_of_ignore_later_payments(frames) -> None:  # type: ignore[no-untyped-def]
    before = open_items(frames, "2024-02-19").set_index("invoice_id")
    after = open_items(frames, "2024-02-20").set_index("invoice_id")
    assert before.loc["I1", "open_amount"] == 1000.0 and "I1" not in after.index
    assert after.loc["I3", "open_amount"] == 8000.0
    later = open_items(frames, "2024-03-20").set_index("invoice_id")
    assert later.loc["I3", "open_amount"] == 5000.0  # 8000 - 3000 paid on 2024-03-20
    assert later.loc["I3", "open_amount_base"] == pytest.approx(5000.0 * 1.16)
    assert later.loc["I3", "days_past_due"] == 15  # due 2024-03-05
    assert "I4" in later.index and "I4" not in open_items(frames, "2024-02-29").set_index("invoice_id").index


def test_aging_buckets_by_customer(frames) -> None:  # type: ignore[no-untyped-def]
    table = aging_report(frames, "2024-04-30", by="customer").table.set_index("customer")
    # C1: I2 2500.50 EUR due 2024-03-11 -> 50 dpd. C2: I3 5000 GBP 56 dpd, I4 1200 GBP 15 dpd; GBP at 1.16
    assert table.loc["C1", "31-60"] == pytest.approx(2500.50)
    assert table.loc["C2", "31-60"] == pytest.approx(5800.0)
    assert table.loc["C2", "1-30"] == pytest.approx(1392.0)
    assert table.loc["TOTAL", "total"] == pytest.approx(2500.50 + 5800 + 1392)
    assert table.loc["TOTAL", "oldest_days_past_due"] == 56
    assert table.loc["TOTAL", "share_over_90"] == 0.0


def test_share_over_90_and_configurable_buckets(frames) -> None:  # type: ignore[no-untyped-def]
    report = aging_report(frames, "2024-07-01", by="currency", config=AgingConfig(bounds=(15, 45)))
    table = report.table.set_index("currency")
    assert list(table.columns[:4]) == ["current", "1-15", "16-45", "45+"]
    # 2024-07-01: I2 112 dpd, I3 118 dpd, I4 77 dpd -> everything but I4 over 90
    total = 2500.50 + 5800 + 1392
    assert table.loc["TOTAL", "share_over_90"] == pytest.approx((2500.50 + 5800) / total)
    ccy = report.by_currency.set_index("currency")
    assert ccy.loc["GBP", "total"] == pytest.approx(6200.0)


def test_dso_countback_by_hand() -> None:
    # AR 150 against monthly sales 100 (31 days), 100 (30 days): 31 + 30 * 50/100 = 46 days
    assert dso_countback(150.0, [(100.0, 31), (100.0, 30)]) == pytest.approx(46.0)
    assert dso_countback(0.0, [(100.0, 31)]) == 0.0


def test_cei_by_hand(frames) -> None:  # type: ignore[no-untyped-def]
    # window (2024-02-29, 2024-03-30] in EUR base; begin AR = I2 2500.5 + I3 8000*1.16 = 11780.5
    # sales = I4 1200*1.16 = 1392; end AR = 2500.5 + 5000*1.16 + 1392 = 9692.5, end current = I4 1392
    table = aging_report(frames, "2024-03-30", by="currency").table.set_index("currency")
    begin, sales, end, end_current = 11780.5, 1392.0, 9692.5, 1392.0
    expected = 100 * (begin + sales - end) / (begin + sales - end_current)
    assert table.loc["TOTAL", "cei"] == pytest.approx(expected)


def test_bad_buckets_and_grouping_are_refused(frames) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError, match="strictly increasing"):
        AgingConfig(bounds=(60, 30))
    with pytest.raises(ValidationError, match="--by"):
        aging_report(frames, "2024-04-30", by="planet")


def test_store_round_trip_gives_the_same_aging(sqlite_engine: Engine, frames, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import_dir(sqlite_engine, write_book(tmp_path / "again"))
    from_store = aging_report(load_frames(sqlite_engine), "2024-04-30", by="collector").table
    from_files = aging_report(frames, "2024-04-30", by="collector").table
    pd.testing.assert_frame_equal(from_store, from_files)


def test_cli_import_and_aging(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from arrisk.cli import app

    runner = CliRunner()
    folder = write_book(tmp_path / "cli")
    result = runner.invoke(app, ["import", str(folder)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["report", "aging", "--as-of", "2024-04-30", "--format", "csv", "--by", "currency"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].startswith("currency,current,1-30,31-60")
    assert lines[-1].startswith("TOTAL,0.0,1392.0,8300.5")
    assert (settings.home / "arrisk.db").exists()
