"""A tiny, hand-written book in the interchange format (CSV text), for importer and aging tests."""

from __future__ import annotations

from pathlib import Path

BOOK: dict[str, str] = {
    "customers": (
        "customer_id,name,country,currency,payment_terms_days,credit_limit,segment,collector_id,created_at\n"
        "C1,Acme GmbH,DE,EUR,30,10000.00,smb,col-1,2024-01-01\n"
        "C2,Globex Ltd,GB,GBP,45,50000,enterprise,col-2,2024-01-01\n"
    ),
    "invoices": (
        "invoice_id,customer_id,invoice_number,issue_date,due_date,amount,currency\n"
        "I1,C1,INV-0001,2024-01-05,2024-02-04,1000.00,EUR\n"
        "I2,C1,INV-0002,2024-02-10,2024-03-11,2500.50,EUR\n"
        "I3,C2,INV-0003,2024-01-20,2024-03-05,8000.00,GBP\n"
        "I4,C2,INV-0004,2024-03-01,2024-04-15,1200.00,GBP\n"
    ),
    "payments": (
        "payment_id,payment_date,amount,currency,customer_id,method,reference,payer_name,payer_account\n"
        "P1,2024-02-20,1000.00,EUR,C1,wire,INV-0001,ACME GMBH,DE89370400440532013000\n"
        "P2,2024-03-20,3000.00,GBP,C2,wire,inv 3 part,Globex,GB29NWBK60161331926819\n"
    ),
    "allocations": "payment_id,invoice_id,amount\nP1,I1,1000.00\nP2,I3,3000.00\n",
    "disputes": "dispute_id,invoice_id,opened_at,reason,resolved_at,outcome\nD1,I2,2024-03-15,pricing,,\n",
    "promises": (
        "promise_id,customer_id,promised_date,amount,created_at\nPR1,C2,2024-04-10,5000.00,2024-03-25\n"
    ),
    "write_offs": "invoice_id,date,amount\n",
    "fx_rates": "currency,rate_date,rate_to_base\nEUR,2024-01-01,1\nGBP,2024-01-01,1.16\n",
}


def write_book(folder: Path, overrides: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**BOOK, **(overrides or {})}.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder
