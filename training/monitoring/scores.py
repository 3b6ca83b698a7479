"""The scores a model version served, kept so realised performance can be measured once labels mature."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, select

from arrisk.errors import ValidationError
from arrisk.store.bulk import CHUNK, insert_columns
from training.monitoring.tables import ServedScore

ENTITIES = ("customer", "invoice")


def _validated(frame: pd.DataFrame, *, model_name: str, entity: str) -> pd.DataFrame:
    if entity not in ENTITIES:
        raise ValidationError(
            f"served scores of {model_name}: entity {entity!r} is not one of {list(ENTITIES)}"
        )
    missing = [c for c in ("entity_id", "probability") if c not in frame.columns]
    if missing:
        raise ValidationError(f"served scores of {model_name}: frame lacks column(s) {missing}")
    out = frame[["entity_id", "probability"]].astype({"entity_id": "string", "probability": "float64"})
    bad = ~out["probability"].between(0.0, 1.0)
    if bad.any():
        row = out[bad].iloc[0]
        raise ValidationError(
            f"served scores of {model_name}: {entity} {row['entity_id']}: probability {row['probability']} "
            "is outside [0, 1]"
        )
    if out["entity_id"].duplicated().any():
        dup = out.loc[out["entity_id"].duplicated(), "entity_id"].iloc[0]
        raise ValidationError(f"served scores of {model_name}: {entity} {dup} appears twice in one batch")
    return out


def record_served_scores(
    engine: Engine,
    *,
    model_name: str,
    model_version: int,
    as_of: date | pd.Timestamp | str,
    entity: str,
    frame: pd.DataFrame,
) -> int:
    """Store one batch of served probabilities; re-recording the same entity on the same day replaces it.

    ``frame`` has ``entity_id`` (customer_id or invoice_id) and ``probability``. Returns rows written.
    """
    with engine.begin() as conn:
        return write_served_scores(
            conn, model_name=model_name, model_version=model_version, as_of=as_of, entity=entity, frame=frame
        )


def write_served_scores(
    conn: Connection,
    *,
    model_name: str,
    model_version: int,
    as_of: date | pd.Timestamp | str,
    entity: str,
    frame: pd.DataFrame,
) -> int:
    """``record_served_scores`` inside the caller's transaction (the worklist refresh writes its
    snapshot and what it served together, or neither)."""
    rows = _validated(frame, model_name=model_name, entity=entity)
    day = pd.Timestamp(as_of).date()
    ids = rows["entity_id"].tolist()
    key = (
        ServedScore.model_name == model_name,
        ServedScore.model_version == int(model_version),
        ServedScore.as_of == day,
        ServedScore.entity == entity,
    )
    if conn.execute(select(ServedScore.score_id).where(*key).limit(1)).first() is not None:
        for start in range(0, len(ids), CHUNK):
            conn.execute(
                delete(ServedScore).where(*key, ServedScore.entity_id.in_(ids[start : start + CHUNK]))
            )
    n = len(ids)
    insert_columns(
        conn,
        ServedScore,
        {
            "model_name": [model_name] * n,
            "model_version": [int(model_version)] * n,
            "as_of": np.full(n, np.datetime64(day, "D")),
            "entity": [entity] * n,
            "entity_id": ids,
            "probability": rows["probability"].to_numpy(dtype="float64").tolist(),
        },
    )
    return n


def served_scores(engine: Engine, *, model_name: str | None = None) -> pd.DataFrame:
    """Every served score (of ``model_name``), as_of as datetime64."""
    query = select(
        ServedScore.model_name,
        ServedScore.model_version,
        ServedScore.as_of,
        ServedScore.entity,
        ServedScore.entity_id,
        ServedScore.probability,
    )
    if model_name is not None:
        query = query.where(ServedScore.model_name == model_name)
    with engine.connect() as conn:
        frame = pd.read_sql(query, conn)
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    frame["probability"] = frame["probability"].astype(np.float64)
    return frame
