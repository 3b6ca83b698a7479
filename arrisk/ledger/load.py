"""Read the store back into interchange frames (for features, scoring, aging and dunning)."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, Engine, Select, select

from arrisk.ledger.frames import LedgerFrames, coerce_types, fill_allocation_dates
from arrisk.store import tables as t

QUERIES = {
    "customers": select(
        t.Customer.customer_id,
        t.Customer.name,
        t.Customer.country,
        t.Customer.currency,
        t.Customer.payment_terms_days,
        t.Customer.credit_limit,
        t.Customer.segment,
        t.Customer.collector_id,
        t.Customer.created_at,
        t.Customer.language,
        t.Customer.email,
    ),
    "invoices": select(
        t.Invoice.invoice_id,
        t.Invoice.customer_id,
        t.Invoice.invoice_number,
        t.Invoice.issue_date,
        t.Invoice.due_date,
        t.Invoice.amount,
        t.Invoice.currency,
    ),
    "payments": select(
        t.Payment.payment_id,
        t.Payment.payment_date,
        t.Payment.amount,
        t.Payment.currency,
        t.Payment.customer_id,
        t.Payment.method,
        t.Payment.reference,
        t.Payment.payer_name,
        t.Payment.payer_account,
    ),
    "allocations": select(
        t.Allocation.payment_id,
        t.Allocation.invoice_id,
        t.Allocation.amount,
        t.Allocation.applied_at,
        t.Allocation.reversed_at,
        t.Allocation.source,
    ),
    "credit_notes": select(
        t.CreditNote.credit_note_id,
        t.CreditNote.customer_id,
        t.CreditNote.invoice_id,
        t.CreditNote.issue_date,
        t.CreditNote.amount,
        t.CreditNote.currency,
        t.CreditNote.reason,
    ),
    "disputes": select(
        t.Dispute.dispute_id,
        t.Dispute.invoice_id,
        t.Dispute.customer_id,
        t.Dispute.opened_at,
        t.Dispute.reason,
        t.Dispute.resolved_at,
        t.Dispute.outcome,
        t.Dispute.amount,
    ),
    "promises": select(
        t.Promise.promise_id,
        t.Promise.customer_id,
        t.Promise.promised_date,
        t.Promise.amount,
        t.Promise.created_at,
    ),
    "write_offs": select(
        t.WriteOff.write_off_id,
        t.WriteOff.invoice_id,
        t.WriteOff.date,
        t.WriteOff.amount,
    ).where(t.WriteOff.status == "approved"),
    "fx_rates": select(t.FxRate.currency, t.FxRate.rate_date, t.FxRate.rate_to_base),
}


def load_frames(engine: Engine) -> LedgerFrames:
    """The whole book from the store, typed as the interchange format (amounts float64)."""
    tables: dict[str, pd.DataFrame] = {}
    with engine.connect() as conn:
        for name, query in QUERIES.items():
            tables[name] = coerce_types(_read(conn, query), name, copy=False)
        tables["dunning_events"] = _typed_dates(
            pd.read_sql(
                select(
                    t.DunningEvent.invoice_id,
                    t.DunningEvent.customer_id,
                    t.DunningEvent.level,
                    t.DunningEvent.event_date,
                ).where(t.DunningEvent.status == "sent"),
                conn,
            ),
            ["event_date"],
        )
        tables["payment_plans"] = _typed_dates(
            pd.read_sql(
                select(
                    t.PaymentPlan.plan_id,
                    t.PaymentPlan.customer_id,
                    t.PaymentPlan.created_at,
                    t.PaymentPlan.status,
                    t.PaymentPlan.broken_at,
                ),
                conn,
            ),
            ["created_at", "broken_at"],
        )
        tables["credit_limits"] = credit_limit_history(conn)
    return fill_allocation_dates(LedgerFrames(**tables))


def _read(conn: Connection, query: Select) -> pd.DataFrame:  # type: ignore[type-arg]
    """A query's rows as a frame. On SQLite straight from the driver's cursor: the store keeps money
    there as REAL and dates as ISO text, so SQLAlchemy's per-value Decimal and date processing (half
    the time of a big load) only round-trips values that ``coerce_types`` types anyway."""
    if conn.dialect.name != "sqlite":
        return pd.read_sql(query, conn, coerce_float=True)
    sql = str(query.compile(conn.engine, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        columns = [d[0] for d in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns, coerce_float=True)
    finally:
        cursor.close()


def credit_limit_history(conn: Connection) -> pd.DataFrame:
    """Every credit-limit change in the order it was made; a customer's first imported limit counts
    from the customer's start (``effective_date`` NaT), later changes from their own date."""
    frame = _read(
        conn,
        select(
            t.CreditLimitChange.customer_id,
            t.CreditLimitChange.effective_date,
            t.CreditLimitChange.credit_limit,
            t.CreditLimitChange.currency,
            t.CreditLimitChange.source,
        ).order_by(t.CreditLimitChange.effective_date, t.CreditLimitChange.change_id),
    )
    frame = _typed_dates(frame, ["effective_date"])
    frame["credit_limit"] = pd.to_numeric(frame["credit_limit"]).astype("float64")
    first = ~frame["customer_id"].duplicated()
    frame.loc[first & (frame["source"] == "import"), "effective_date"] = pd.NaT
    return frame.drop(columns="source")


def _typed_dates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for col in columns:
        frame[col] = pd.to_datetime(frame[col]).astype("datetime64[ns]")
    return frame
