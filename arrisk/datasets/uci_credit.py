"""UCI "default of credit card clients" (Taiwan, April-September 2005) as a ledger of monthly statements.

Source definitions: ``BILL_AMTk`` is the statement balance of month k and ``PAY_AMTk`` the amount
paid in month k (k=1 September ... k=6 April); ``PAY_0, PAY_2..PAY_6`` the repayment status of
September ... April (-2 no consumption, -1 paid duly, 0 revolving, 1..9 months late). A payment
made in month k settles the statement of month k+1 (``PAY_AMT1`` often equals ``BILL_AMT2``).

Mapping:

- customers: one per ``ID`` (``uci-<ID>``), currency TWD, credit limit ``LIMIT_BAL``, country TW,
  terms 20 days, created 2005-03-01 (before the first statement).
- statements: ``BILL_AMTk`` is a running balance, so each month's invoice carries only the month's
  new charges, ``BILL_AMTk - (BILL_AMTk+1 - PAY_AMTk)``; April's is its whole balance. The open
  balance at each statement date then equals ``BILL_AMTk`` exactly. Issued on the last day of the
  month, due 20 days later. Negative new charges (refunds, reversals, a credit opening balance)
  become credit notes on that date instead of invoices; zero charges make nothing.
- payments: ``PAY_AMTk`` for May..September, dated the 15th of month k (before the previous
  statement's due date, the 20th) when that month's status is -2/-1/0, and the 28th (after it)
  when the status is 1..9 months late. ``PAY_AMT6`` (April) settles the March statement, which is
  outside the data, and is left out.
- allocations and credit notes: applied first-in first-out to the oldest open statement; cash or
  credit that finds nothing open waits and is applied to the next statement on its issue date.
- days past due follow the repayment status: in a month whose status is -2/-1/0 (not delinquent:
  the minimum was paid, the balance revolves) every statement still open is closed by a credit
  note "revolved into the next statement" and its open amount is carried into that month's
  statement. In a delinquent month (1..9) nothing revolves, so the unpaid statements stay open
  and age. Measured on the file: every client with September status <= 0 has 0 days past due
  on 2005-09-30; statuses 1..8 give mean days past due rising from about 37 to 133.
  The raw statuses are kept in ``truth`` (customer_id, statement_month, repayment_status).
- targets: customer_id, default (``default.payment.next.month``), as of 2005-09-30.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from arrisk.datasets.base import DatasetBundle, dataset_folder, month_end, typed_frame
from arrisk.datasets.fifo import HELD_FLOOR_CENTS, FifoBook
from arrisk.errors import ValidationError
from arrisk.ledger.frames import LedgerFrames

FOLDER = "uci_credit_card_default"
FILE = "UCI_Credit_Card.csv"
CURRENCY = "TWD"
TERMS_DAYS = 20
ON_TIME_DAY, LATE_DAY = 15, 28
CREATED_AT = pd.Timestamp("2004-07-01")
AS_OF = pd.Timestamp("2005-09-30")
TARGET = "default.payment.next.month"
ROLLOVER = "revolved into the next statement"
NEGATIVE_CHARGES = "negative new charges on the statement"
LAGS = range(6, 0, -1)  # k = 6 (April) ... 1 (September)
DAYS_PER_MONTH_LATE = 30
FIRST_MONTH = pd.Period("2005-04", freq="M")
STATEMENT_DATES = {k: month_end(2005, 10 - k) for k in LAGS}


def month_of(k: int) -> int:
    return 10 - k


def status_column(k: int) -> str:
    return "PAY_0" if k == 1 else f"PAY_{k}"


def read_raw(path: Path) -> pd.DataFrame:
    folder = dataset_folder(path, folder=FOLDER, required_file=FILE)
    raw = pd.read_csv(folder / FILE, encoding="utf-8")
    needed = ["ID", "LIMIT_BAL", TARGET] + [f"{p}{k}" for p in ("BILL_AMT", "PAY_AMT") for k in LAGS]
    missing = [c for c in needed + [status_column(k) for k in LAGS] if c not in raw]
    if missing:
        raise ValidationError(f"{FILE}: missing column(s) {missing}; is this the UCI credit card file?")
    return raw


def load(path: Path) -> DatasetBundle:
    raw = read_raw(path)
    ids = raw["ID"].astype("int64").astype(str)
    customer_id = "uci-" + ids
    cents = {f"{p}{k}": (raw[f"{p}{k}"].astype("float64") * 100).round().astype("int64").to_numpy()
             for p in ("BILL_AMT", "PAY_AMT") for k in LAGS}  # fmt: skip
    status = {k: raw[status_column(k)].astype("int64").to_numpy() for k in LAGS}
    ledger = _build(customer_id.to_list(), cents, status)
    customers = typed_frame(
        "customers",
        {
            "customer_id": customer_id,
            "name": "UCI client " + ids,
            "country": "TW",
            "currency": CURRENCY,
            "payment_terms_days": TERMS_DAYS,
            "credit_limit": raw["LIMIT_BAL"].astype("float64"),
            "created_at": CREATED_AT,
        },
    )
    frames = LedgerFrames(customers=customers, **ledger["frames"])
    targets = pd.DataFrame({"customer_id": customer_id, "default": raw[TARGET].astype("int64").astype(bool)})
    truth = _status_truth(customer_id, status)
    notes = _notes(ledger["dpd"], status)
    return DatasetBundle(frames=frames, targets=targets, truth=truth, notes=notes)


def _build(customer_ids: list[str], cents: dict[str, np.ndarray], status: dict[int, np.ndarray]) -> dict:
    invoices: list[tuple] = []
    payments: list[tuple] = []
    allocations: list[tuple] = []
    credit_notes: list[tuple] = []
    dpd = np.zeros((len(customer_ids), len(LAGS)), dtype="int64")
    for row, customer_id in enumerate(customer_ids):
        months = {k: int(status[k][row]) for k in LAGS}
        book, dpd[row] = _client_book(customer_id, row, cents, months, invoices, payments)
        book.close()
        allocations += book.allocations
        credit_notes += book.credit_notes
    return {"frames": _frames(invoices, payments, allocations, credit_notes), "dpd": dpd}


def delinquency_plan(months: dict[int, int]) -> dict[pd.Period, tuple[pd.Timestamp, pd.Period]]:
    """Statement month left unpaid -> (its due date, last month end it must stay open).

    Status k >= 1 at month x says the oldest unpaid statement is the one of month x-k, k*30 days past
    due at the month end. A later month of the same run re-dates the same statement (latest wins).
    """
    plan: dict[pd.Period, tuple[pd.Timestamp, pd.Period]] = {}
    for k in LAGS:
        late = months[k]
        if late >= 1:
            month = pd.Period(year=2005, month=month_of(k), freq="M")
            plan[month - late] = (STATEMENT_DATES[k] - pd.Timedelta(days=DAYS_PER_MONTH_LATE * late), month)
    return plan


def _client_book(
    customer_id: str,
    row: int,
    cents: dict[str, np.ndarray],
    months: dict[int, int],
    invoices: list[tuple],
    payments: list[tuple],
) -> tuple[FifoBook, list[int]]:
    """One client's statements, payments, FIFO allocation and revolving; days past due per month end."""
    plan = delinquency_plan(months)
    book = FifoBook(customer_id)
    month_end_dpd = []
    number = customer_id[4:]
    opening = _opening_arrears(book, number, int(cents["BILL_AMT6"][row]), plan, invoices)
    for k in LAGS:
        month, statement_date = month_of(k), STATEMENT_DATES[k]
        period = pd.Period(year=2005, month=month, freq="M")
        book.held = {f"uci-{number}-{p}" for p, (_, last) in plan.items() if last >= period}
        paid = int(cents[f"PAY_AMT{k}"][row]) if k < 6 else 0
        if paid > 0:
            day = LATE_DAY if months[k] >= 1 else ON_TIME_DAY
            pay_date = pd.Timestamp(year=2005, month=month, day=day)
            payment_id = f"uci-pay-{number}-2005-{month:02d}"
            payments.append((payment_id, customer_id, pay_date, paid))
            book.payment(payment_id, paid, pay_date)
        previous = int(cents[f"BILL_AMT{k + 1}"][row]) if k < 6 else opening
        charge = int(cents[f"BILL_AMT{k}"][row]) - previous + paid
        # not delinquent: everything past due revolves; delinquent: only what is older than the
        # oldest unpaid statement the status names
        overdue_from = statement_date - pd.Timedelta(days=DAYS_PER_MONTH_LATE * max(months[k], 0))
        charge += book.roll_over(
            f"uci-roll-{number}-{period}", statement_date, reason=ROLLOVER, due_before=overdue_from
        )
        _statement(book, number, period, charge, plan, invoices)
        month_end_dpd.append(book.days_past_due(statement_date))
    return book, month_end_dpd


def _opening_arrears(book: FifoBook, number: str, balance: int, plan: dict, invoices: list[tuple]) -> int:
    """Unpaid statements from before April that the statuses name, carved out of the April balance.

    Returns the cents of the April balance they take.
    """
    before = sorted(p for p in plan if p < FIRST_MONTH)
    if balance <= 0 or not before:
        return 0
    share = balance // (len(before) + 1)
    for period in before:
        _issue(book, f"uci-{number}-{period}", number, period, share, plan[period][0], invoices)
    return share * len(before)


def _statement(
    book: FifoBook, number: str, period: pd.Period, charge: int, plan: dict, invoices: list[tuple]
) -> None:
    statement_date = period.to_timestamp(how="end").normalize()
    if charge > 0:
        due = plan[period][0] if period in plan else statement_date + pd.Timedelta(days=TERMS_DAYS)
        _issue(book, f"uci-{number}-{period}", number, period, charge, due, invoices)
    elif charge < 0:
        book.credit(f"uci-cn-{number}-{period}", -charge, statement_date, reason=NEGATIVE_CHARGES)


def _issue(
    book: FifoBook,
    invoice_id: str,
    number: str,
    period: pd.Period,
    cents: int,
    due: pd.Timestamp,
    invoices: list[tuple],
) -> None:
    issue = period.to_timestamp(how="end").normalize()
    due = max(due, issue)  # 30-day months: k*30 days before a month end can fall before month x-k ends
    invoices.append((invoice_id, f"uci-{number}", str(period), issue, due, cents))
    book.invoice(invoice_id, cents, issue, due)


def _frames(
    invoices: list[tuple], payments: list[tuple], allocations: list[tuple], credit_notes: list[tuple]
) -> dict:
    inv = pd.DataFrame(
        invoices, columns=["invoice_id", "customer_id", "invoice_number", "issue_date", "due_date", "c"]
    )
    pay = pd.DataFrame(payments, columns=["payment_id", "customer_id", "payment_date", "c"])
    alloc = pd.DataFrame(allocations, columns=["payment_id", "invoice_id", "c", "applied_at"])
    cn = pd.DataFrame(
        credit_notes, columns=["credit_note_id", "customer_id", "invoice_id", "issue_date", "c", "reason"]
    )
    out = {}
    for name, frame in (("invoices", inv), ("payments", pay), ("allocations", alloc), ("credit_notes", cn)):
        frame = frame.assign(amount=frame.pop("c").astype("int64") / 100.0)
        if name != "allocations":
            frame["currency"] = CURRENCY
        out[name] = typed_frame(name, frame)
    return out


def _status_truth(customer_id: pd.Series, status: dict[int, np.ndarray]) -> pd.DataFrame:
    parts = [
        pd.DataFrame({"customer_id": customer_id, "statement_month": month_end(2005, month_of(k)),
                      "repayment_status": status[k]})
        for k in LAGS
    ]  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def status_agreement(dpd: np.ndarray, status: dict[int, np.ndarray]) -> dict:
    """How well days past due at each month end (columns April..September) say the repayment status.

    ``late``: share where (days past due > 0) equals (status >= 1); ``months``: share where
    round(days / 30) equals max(status, 0), the status in months late.
    """
    out = {}
    for column, k in enumerate(LAGS):
        days, late = dpd[:, column], np.maximum(status[k], 0)
        out[f"2005-{month_of(k):02d}"] = {
            "late": round(float(np.mean((days > 0) == (late > 0))), 4),
            "months": round(float(np.mean(np.round(days / DAYS_PER_MONTH_LATE) == late)), 4),
        }
    return out


def _notes(dpd: np.ndarray, status: dict[int, np.ndarray]) -> dict:
    september, sept_status = dpd[:, -1], status[1]
    by_month = status_agreement(dpd, status)
    return {
        "source": f"{FOLDER}/{FILE}",
        "currency": CURRENCY,
        "as_of": str(AS_OF.date()),
        "statements": "invoice = new charges of the month (BILL_AMTk - BILL_AMTk+1 + PAY_AMTk) plus what "
        f"revolved into it, issued at month end, due +{TERMS_DAYS} days unless delinquent; negative new "
        "charges become credit notes",
        "payments": f"PAY_AMT1..5 on day {ON_TIME_DAY} of the month (status <= 0) or day {LATE_DAY} "
        "(status >= 1); PAY_AMT6 (pays the March statement, outside the data) left out",
        "allocation": "FIFO to the oldest open statement not held; unapplied cash waits for the next "
        f"statement; a held statement is paid only down to {HELD_FLOOR_CENTS / 100:.2f}",
        "delinquency": "status k >= 1 at month x: the statement of month x-k is held open through x and "
        f"due {DAYS_PER_MONTH_LATE}*k days before x's month end (statements before April carved out of "
        "the April balance); open statements older than it revolve",
        "revolving": f"in a month with status <= 0 every open statement past due and not held is closed "
        f"by a credit note ({ROLLOVER!r}) and carried into that month's statement",
        "truth": "repayment status PAY_0, PAY_2..6 per client and statement month",
        "dpd_vs_status_by_month": by_month,
        "dpd_vs_status_sept": {
            "agreement": by_month["2005-09"]["late"],
            "ledger_past_due_share": round(float((september > 0).mean()), 4),
            "status_late_share": round(float((sept_status >= 1).mean()), 4),
            "mean_days_past_due_by_status": {
                str(k): round(float(v), 1)
                for k, v in pd.Series(september).groupby(sept_status).mean().items()
            },
        },
    }
