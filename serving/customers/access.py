"""Who may see which customer: collectors only their own portfolio; others look like unknown ids (404)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from arrisk.errors import NotFoundError
from arrisk.store.tables import Customer
from serving.auth import Principal


def visible_customer(engine: Engine, user: Principal, customer_id: str) -> Any:
    """The customer row, or NotFoundError when it does not exist or is not the caller's to see."""
    with engine.connect() as conn:
        row = conn.execute(select(Customer).where(Customer.customer_id == customer_id)).first()
    if row is None or not user.sees_customer_of(row.collector_id):
        raise NotFoundError(f"customer {customer_id!r} not found")
    return row
