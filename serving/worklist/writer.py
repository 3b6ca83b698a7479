"""Write one worklist run (run row, ranked items, open invoices, customer features) in one transaction."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update

from arrisk.store.bulk import insert_columns, rows_of
from serving.tables import ExplanationCache, WorklistInvoice, WorklistItem, WorklistRun


def _dates(values: pd.Series) -> np.ndarray:
    """Days (``datetime64[D]``, NaT for none): ``date`` objects or ISO text are made from it per store."""
    return pd.to_datetime(values).to_numpy(dtype="datetime64[D]")


def _floats(values: pd.Series, places: int | None = None) -> list[float | None]:
    arr = values.to_numpy(dtype="float64")
    if places is not None:
        arr = np.round(arr, places)
    out = arr.astype(object)  # Python floats, converted in C
    out[np.isnan(arr)] = None
    return out.tolist()


def item_columns(run_id: int, items: pd.DataFrame) -> dict[str, Any]:
    comps = items[["c_late", "c_default", "c_aging", "state_multiplier"]].round(2)
    components = [
        {"expected_late": a, "expected_default_loss": b, "aging": c, "state_multiplier": d}
        for a, b, c, d in comps.itertuples(index=False)
    ]
    cols = {
        "run_id": [run_id] * len(items),
        "customer_id": items.index.tolist(),
        "rank": items["rank"].astype(int).tolist(),
        "name": items["name"].fillna("").astype(str).tolist(),
        "collector_id": items["collector_id"].where(items["collector_id"].notna(), None).tolist(),
        "segment": items["segment"].where(items["segment"].notna(), None).tolist(),
        "currency": items["currency"].fillna("").astype(str).tolist(),
        "tier": items["tier"].tolist(),
        "state": items["state"].tolist(),
        "priority_score": _floats(items["priority_score"], 4),
        "components": components,
        "open_amount": _floats(items["open_amount"], 2),
        "overdue_amount": _floats(items["overdue_amount"], 2),
        "due_soon_amount": _floats(items["due_soon_amount"], 2),
        "oldest_days_past_due": items["oldest_days_past_due"].astype(int).tolist(),
        "p_default": _floats(items["p_default"], 6),
        "p_late": _floats(items["p_late"], 6),
        "expected_late_amount": _floats(items["expected_late_amount"], 2),
        "expected_loss": _floats(items["expected_loss"], 2),
        "reasons": items["reasons"].tolist(),
        "predicted_payment_date": _dates(items["predicted_payment_date"]),
        "next_action": items["next_action"].tolist(),
    }
    return cols


def item_rows(run_id: int, items: pd.DataFrame) -> list[dict[str, Any]]:
    return rows_of(item_columns(run_id, items))


def invoice_columns(run_id: int, inv: pd.DataFrame) -> dict[str, Any]:
    cols = {
        "run_id": [run_id] * len(inv),
        "invoice_id": inv["invoice_id"].astype(str).tolist(),
        "customer_id": inv["customer_id"].astype(str).tolist(),
        "open_amount": _floats(inv["open_amount"], 2),
        "due_date": _dates(inv["due_date"]),
        "days_past_due": inv["days_past_due"].astype(int).tolist(),
        "p_late": _floats(inv["p_late"], 6),
        "days_late_p10": _floats(inv["days_late_p10"], 2),
        "days_late_p50": _floats(inv["days_late_p50"], 2),
        "days_late_p90": _floats(inv["days_late_p90"], 2),
        "predicted_payment_date": _dates(inv["predicted_payment_date"]),
    }
    return cols


def invoice_rows(run_id: int, inv: pd.DataFrame) -> list[dict[str, Any]]:
    return rows_of(invoice_columns(run_id, inv))


def write_run(
    engine: Engine,
    *,
    as_of: dt.date,
    items: pd.DataFrame,
    invoices: pd.DataFrame,
    snapshot: Any,
    models: dict[str, Any],
    policy_version: str,
    features_dir: Path,
    keep_runs: int,
    started: float,
    also: Callable[[Connection], object] | None = None,
) -> int:
    """Insert the run and its rows; drop the rows of runs older than the newest ``keep_runs``.

    ``also`` writes more in the same transaction (the refresh records the scores it served).
    """
    features_dir.mkdir(parents=True, exist_ok=True)
    features_path = features_dir / f"customers_{as_of.isoformat()}_{uuid.uuid4().hex[:8]}.parquet"
    snapshot.customers.to_parquet(features_path, index=False)
    with engine.begin() as conn:
        run_id = conn.execute(
            insert(WorklistRun).values(
                as_of=as_of,
                created_at=dt.datetime.now(dt.UTC),
                models=models,
                feature_version=snapshot.version,
                features_path=str(features_path),
                policy_version=policy_version,
                n_customers=len(items),
                n_invoices=len(invoices),
                seconds=0.0,
            )
        ).inserted_primary_key[0]  # type: ignore[index]
        insert_columns(conn, WorklistItem, item_columns(run_id, items))
        insert_columns(conn, WorklistInvoice, invoice_columns(run_id, invoices))
        if also is not None:
            also(conn)
        old = (
            conn.execute(
                select(WorklistRun.run_id).order_by(WorklistRun.run_id.desc()).offset(max(keep_runs, 1))
            )
            .scalars()
            .all()
        )
        for table in (WorklistItem, WorklistInvoice, ExplanationCache):
            if old:
                conn.execute(delete(table).where(table.run_id.in_(old)))
        conn.execute(
            update(WorklistRun)
            .where(WorklistRun.run_id == run_id)
            .values(seconds=time.perf_counter() - started)
        )
    return int(run_id)
