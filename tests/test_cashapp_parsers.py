"""Statement parsers on real-format samples, and malformed files refused with their line or element."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from arrisk.cashapp.policy import CsvColumns
from arrisk.cashapp.statement import StatementFormatError, detect_format, parse_statement

FIXTURES = Path(__file__).parent / "fixtures" / "statements"
SAMPLES = {"camt053.xml": "camt053", "bai2.txt": "bai2", "mt940.sta": "mt940", "statement.csv": "csv"}


@pytest.mark.parametrize("name", list(SAMPLES))
def test_every_format_reads_the_same_lines(name: str) -> None:
    # the name given as source is misleading on purpose: the format comes from the content
    statement = parse_statement((FIXTURES / name).read_bytes(), source="upload.bin")
    assert statement.format == SAMPLES[name]
    assert [ln.line_id for ln in statement.lines] == [f"BK-000{i}" for i in range(1, 7)]
    assert [ln.amount for ln in statement.lines] == [
        Decimal(a) for a in ("1190.00", "4200.00", "4409.99", "330.00", "77.77", "12.50")
    ]
    assert [ln.is_credit for ln in statement.lines] == [True] * 5 + [False]
    first, second = statement.lines[0], statement.lines[1]
    assert "2025/101" in first.remittance and first.payer_name == "ACME GmbH"
    assert "CN-2025-00204" in second.remittance and second.payer_name == "Globex Corp"
    assert {ln.booking_date.isoformat() for ln in statement.lines} == {"2025-03-10"}
    assert {ln.currency for ln in statement.lines} == {"EUR"}


def test_payer_accounts_where_the_format_has_them() -> None:
    for name in ("camt053.xml", "mt940.sta", "statement.csv"):
        statement = parse_statement((FIXTURES / name).read_bytes())
        assert statement.lines[0].payer_account == "DE89370400440532013000", name


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("camt053_not_well_formed.xml", "line 23, column 8"),
        ("camt053_missing_amount.xml", "Stmt[1]/Ntry[3]/Amt: amount is missing"),
        ("camt053_external_entity.xml", "refused unsafe XML"),
        ("bai2_bad_amount.txt", "line 6: 16 record amount"),
        ("bai2_bad_totals.txt", "control total"),
        ("mt940_bad_line.sta", "line 9: :61:"),
        ("statement_bad_amount.csv", "line 4 column amount: amount '44O9,99' is not a number"),
    ],
)
def test_malformed_files_are_refused_whole(name: str, where: str) -> None:
    with pytest.raises(StatementFormatError, match=None) as err:
        parse_statement((FIXTURES / name).read_bytes(), source=name)
    assert name in str(err.value) and where in str(err.value)


def test_csv_with_configured_columns_and_credit_debit_columns() -> None:
    text = "Ref|Day|In|Out|Memo|From\nR1|2025-03-01|100.50||INV 7|Acme\nR2|2025-03-02||20.00|fee|\n"
    columns = CsvColumns(
        line_id=["ref"],
        date=["day"],
        credit=["in"],
        debit=["out"],
        remittance=["memo"],
        payer_name=["from"],
        default_currency="USD",
    )
    statement = parse_statement(text.encode(), csv_columns=columns)
    assert [(ln.line_id, ln.amount, ln.is_credit, ln.currency) for ln in statement.lines] == [
        ("R1", Decimal("100.50"), True, "USD"),
        ("R2", Decimal("20.00"), False, "USD"),
    ]


def test_lines_without_bank_reference_get_their_position() -> None:
    text = "date,amount,text\n2025-03-01,10.00,a\n2025-03-01,11.00,b\n"
    assert [ln.line_id for ln in parse_statement(text.encode()).lines] == ["#1", "#2"]


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        ("<?xml version='1.0'?><Document><BkToCstmrStmt/></Document>", "camt053"),
        ("01,A,B,250101,0000,1,,,2/", "bai2"),
        ("{1:F01X}{4:\n:20:X\n:25:Y\n:61:", "mt940"),
        ("date;amount\n", "csv"),
    ],
)
def test_detect_format_from_content(content: str, fmt: str) -> None:
    assert detect_format(content) == fmt


def test_unknown_or_empty_content_is_refused() -> None:
    for content in (b"", b"<html><body/></html>", b"just some words"):
        with pytest.raises(StatementFormatError):
            parse_statement(content, source="x")
