"""Worklist reads: the newest run's items, filtered, keyset-paginated by rank (no FastAPI here)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, Select, select

from arrisk.errors import ConflictError, PermissionDenied, UnavailableError, ValidationError
from serving.auth import Principal, Role
from serving.tables import WorklistItem as ItemRow
from serving.tables import WorklistRun
from serving.worklist.policy import Tier
from serving.worklist.schemas import CSV_COLUMNS, WorklistItem, WorklistPage

ITEM_COLUMNS = [c for c in ItemRow.__table__.columns if c.key != "run_id"]


@dataclass(frozen=True)
class WorklistFilters:
    collector: str | None = None
    tier: Tier | None = None
    segment: str | None = None
    currency: str | None = None
    min_amount: Decimal | None = None


def current_run(engine: Engine) -> WorklistRun:
    """The newest worklist run; 503 until ``arrisk score`` has written one."""
    with engine.connect() as conn:
        row = conn.execute(select(WorklistRun).order_by(WorklistRun.run_id.desc()).limit(1)).first()
    if row is None:
        raise UnavailableError("no worklist snapshot yet: run `arrisk score --as-of DATE` first")
    return row  # type: ignore[return-value]


def _parse_cursor(cursor: str | None, run_id: int) -> int:
    if not cursor:
        return 0
    run_part, sep, rank_part = cursor.partition(":")
    if not sep or not run_part.isdigit() or not rank_part.isdigit():
        raise ValidationError(f"cursor {cursor!r} is not a cursor this API returned (expected RUN:RANK)")
    if int(run_part) != run_id:
        raise ConflictError(
            f"cursor {cursor!r} belongs to worklist run {run_part}; the newest is {run_id}: "
            "start again from the first page"
        )
    return int(rank_part)


def _scope(user: Principal, filters: WorklistFilters) -> str | None:
    """A collector sees only their own portfolio; asking for another one is refused."""
    if user.role != Role.collector:
        return filters.collector
    if filters.collector and filters.collector != user.collector_id:
        raise PermissionDenied(
            f"collector {user.collector_id!r} may not read the worklist of {filters.collector!r}"
        )
    return user.collector_id


def _query(
    run_id: int, after_rank: int, collector: str | None, filters: WorklistFilters, limit: int
) -> Select:
    stmt = select(*ITEM_COLUMNS).where(ItemRow.run_id == run_id, ItemRow.rank > after_rank)
    if collector is not None:
        stmt = stmt.where(ItemRow.collector_id == collector)
    if filters.tier is not None:
        stmt = stmt.where(ItemRow.tier == filters.tier.value)
    if filters.segment is not None:
        stmt = stmt.where(ItemRow.segment == filters.segment)
    if filters.currency is not None:
        stmt = stmt.where(ItemRow.currency == filters.currency)
    if filters.min_amount is not None:
        stmt = stmt.where(ItemRow.open_amount >= filters.min_amount)
    return stmt.order_by(ItemRow.rank).limit(limit + 1)


def worklist_page(
    engine: Engine,
    *,
    user: Principal,
    filters: WorklistFilters,
    limit: int,
    cursor: str | None,
    base_currency: str,
) -> WorklistPage:
    run = current_run(engine)
    after = _parse_cursor(cursor, run.run_id)
    stmt = _query(run.run_id, after, _scope(user, filters), filters, limit)
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    items = [WorklistItem.model_validate(r._mapping) for r in rows[:limit]]
    more = len(rows) > limit
    return WorklistPage(
        run_id=run.run_id,
        as_of=run.as_of,
        base_currency=base_currency,
        items=items,
        next_cursor=f"{run.run_id}:{items[-1].rank}" if more and items else None,
    )


def worklist_csv(page: WorklistPage) -> str:
    """The page as CSV (one row per customer, the three reasons as text)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for item in page.items:
        data = item.model_dump(mode="json")
        texts = [r["text"] for r in data["reasons"]] + ["", "", ""]
        data.update(reason_1=texts[0], reason_2=texts[1], reason_3=texts[2])
        writer.writerow(["" if data.get(c) is None else data[c] for c in CSV_COLUMNS])
    return out.getvalue()
