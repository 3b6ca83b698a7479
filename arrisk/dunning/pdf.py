"""PDF documents with fpdf2: the dunning letter and the statement of account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fpdf import FPDF


def _latin1(text: str) -> str:
    # The core PDF fonts cover Latin-1 only; anything else prints as '?' rather than failing.
    return text.encode("latin-1", "replace").decode("latin-1")


def _document(title: str) -> FPDF:
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(_latin1(title))
    pdf.set_font("helvetica", size=10)
    return pdf


def _table(pdf: FPDF, header: list[str], rows: list[list[str]], widths: list[int]) -> None:
    pdf.set_font("helvetica", style="B", size=9)
    for text, w in zip(header, widths, strict=True):
        pdf.cell(w, 7, _latin1(text), border=1)
    pdf.ln()
    pdf.set_font("helvetica", size=9)
    for row in rows:
        for text, w in zip(row, widths, strict=True):
            pdf.cell(w, 6, _latin1(text), border=1)
        pdf.ln()


def write_letter(
    path: Path,
    *,
    customer: dict[str, Any],
    subject: str,
    body: str,
    as_of: Any,
    invoices: list[dict[str, Any]],
) -> Path:
    """A letter: address block, subject, the rendered text, and a table of the invoices."""
    pdf = _document(subject)
    pdf.multi_cell(0, 5, _latin1(f"{customer['name']}\n{customer.get('country') or ''}"))
    pdf.ln(4)
    pdf.cell(0, 5, _latin1(str(as_of)), align="R")
    pdf.ln(8)
    pdf.set_font("helvetica", style="B", size=11)
    pdf.multi_cell(0, 6, _latin1(subject))
    pdf.set_font("helvetica", size=10)
    pdf.ln(2)
    pdf.multi_cell(0, 5, _latin1(body))
    pdf.ln(4)
    rows = [
        [
            i["invoice_number"],
            str(i["due_date"]),
            str(i["days_past_due"]),
            f"{i['open_amount']:.2f}",
            i["currency"],
            "" if i.get("fee") is None else f"{i['fee']:.2f}",
        ]
        for i in invoices
    ]
    _table(
        pdf,
        ["Invoice", "Due date", "Days past due", "Open amount", "Currency", "Fee"],
        rows,
        [35, 28, 30, 32, 22, 25],
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path


def write_statement_pdf(
    path: Path, *, customer: dict[str, Any], as_of: Any, lines: list[dict[str, Any]]
) -> Path:
    pdf = _document(f"Statement of account {customer['customer_id']}")
    pdf.set_font("helvetica", style="B", size=12)
    pdf.cell(0, 8, _latin1(f"Statement of account - {customer['name']} ({customer['customer_id']})"))
    pdf.ln(8)
    pdf.set_font("helvetica", size=10)
    pdf.cell(0, 6, _latin1(f"As of {as_of}"))
    pdf.ln(8)
    rows = [
        [
            ln["invoice_number"],
            str(ln["issue_date"]),
            str(ln["due_date"]),
            f"{ln['amount']:.2f}",
            f"{ln['open_amount']:.2f}",
            str(ln["days_past_due"]),
        ]
        for ln in lines
    ]
    _table(
        pdf, ["Invoice", "Issued", "Due", "Amount", "Open", "Days past due"], rows, [35, 27, 27, 32, 32, 28]
    )
    total = sum(ln["open_amount"] for ln in lines)
    pdf.ln(2)
    pdf.set_font("helvetica", style="B", size=10)
    pdf.cell(0, 6, _latin1(f"Total open: {total:.2f}"))
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(path))
    return path
