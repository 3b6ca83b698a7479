"""Worklist reads: the newest run's items, filtered, keyset-paginated by rank (no FastAPI here)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Engine, Float, Integer, Select, Text, bindparam, cast, func, select, type_coerce

from arrisk.errors import ConflictError, PermissionDenied, UnavailableError, ValidationError
from serving.auth import Principal, Role
from serving.tables import WorklistItem as ItemRow
from serving.tables import WorklistRun
from serving.worklist.policy import Tier
from serving.worklist.schemas import CSV_COLUMNS, WorklistItem, WorklistPage

ITEM_COLUMNS = [c for c in ItemRow.__table__.columns if c.key != "run_id"]
MONEY_FIELDS = frozenset(
    ("open_amount", "overdue_amount", "due_soon_amount", "expected_late_amount", "expected_loss")
)
JSON_FIELDS = frozenset(("components", "reasons"))


def _raw(column: Any) -> Any:
    """The column as the driver gives it: no Decimal or JSON decoding in SQLAlchemy."""
    if column.key in JSON_FIELDS:
        return cast(column, Text).label(column.key)
    if column.key in MONEY_FIELDS:
        return type_coerce(column, Float).label(column.key)
    return column


# The page read: run_id, an item's scalar fields in the schema's order, then its JSON fields.
_STORED = {c.key for c in ITEM_COLUMNS}
SCALAR_ORDER = [n for n in WorklistItem.model_fields if n in _STORED and n not in JSON_FIELDS]
JSON_ORDER = [n for n in WorklistItem.model_fields if n in JSON_FIELDS]
RAW_COLUMNS = [_raw(ItemRow.__table__.columns[name]) for name in SCALAR_ORDER + JSON_ORDER] + [ItemRow.run_id]
_RUN_AT = len(RAW_COLUMNS) - 1
_RANK_AT = SCALAR_ORDER.index("rank")
_MONEY_AT = [i for i, name in enumerate(SCALAR_ORDER) if name in MONEY_FIELDS]
_JSON_KEYS = [f',"{name}":'.encode() for name in JSON_ORDER]


@dataclass(frozen=True)
class WorklistFilters:
    collector: str | None = None
    tier: Tier | None = None
    segment: str | None = None
    currency: str | None = None
    min_amount: Decimal | None = None


def current_run_head(engine: Engine) -> tuple[int, dt.date]:
    """(run_id, as_of) of the newest worklist run, read without its other columns; 503 as ``current_run``."""
    with engine.connect() as conn:
        row = conn.execute(
            select(WorklistRun.run_id, WorklistRun.as_of).order_by(WorklistRun.run_id.desc()).limit(1)
        ).first()
    if row is None:
        raise UnavailableError("no worklist snapshot yet: run `arrisk score --as-of DATE` first")
    return int(row.run_id), row.as_of


def current_run(engine: Engine) -> WorklistRun:
    """The newest worklist run; 503 until ``arrisk score`` has written one."""
    with engine.connect() as conn:
        row = conn.execute(select(WorklistRun).order_by(WorklistRun.run_id.desc()).limit(1)).first()
    if row is None:
        raise UnavailableError("no worklist snapshot yet: run `arrisk score --as-of DATE` first")
    return row  # type: ignore[return-value]


def _split_cursor(cursor: str | None) -> tuple[int | None, int]:
    """(run, rank) of a cursor (None, 0 without one); 422 when it is not one this API returned."""
    if not cursor:
        return None, 0
    run_part, sep, rank_part = cursor.partition(":")
    if not sep or not run_part.isdigit() or not rank_part.isdigit():
        raise ValidationError(f"cursor {cursor!r} is not a cursor this API returned (expected RUN:RANK)")
    return int(run_part), int(rank_part)


def _stale_cursor(cursor: str | None, cursor_run: int, run_id: int) -> ConflictError:
    return ConflictError(
        f"cursor {cursor!r} belongs to worklist run {cursor_run}; the newest is {run_id}: "
        "start again from the first page"
    )


def _parse_cursor(cursor: str | None, run_id: int) -> int:
    cursor_run, after = _split_cursor(cursor)
    if cursor_run is not None and cursor_run != run_id:
        raise _stale_cursor(cursor, cursor_run, run_id)
    return after


def _scope(user: Principal, filters: WorklistFilters) -> str | None:
    """A collector sees only their own portfolio; asking for another one is refused."""
    if user.role != Role.collector:
        return filters.collector
    if filters.collector and filters.collector != user.collector_id:
        raise PermissionDenied(
            f"collector {user.collector_id!r} may not read the worklist of {filters.collector!r}"
        )
    return user.collector_id


def _filtered(stmt: Select, used: tuple[bool, ...]) -> Select:
    """A page read narrowed by the filters in use (collector, tier, segment, currency, minimum open
    amount; values bound per request by ``_page_params``), in rank order, ``n`` rows."""
    equal_to = (ItemRow.collector_id, ItemRow.tier, ItemRow.segment, ItemRow.currency)
    for flag, column in zip(used[:4], equal_to, strict=True):
        if flag:
            stmt = stmt.where(column == bindparam(column.key))
    if used[4]:
        stmt = stmt.where(ItemRow.open_amount >= bindparam("min_amount", type_=ItemRow.open_amount.type))
    return stmt.order_by(ItemRow.rank).limit(bindparam("n", type_=Integer))


def _page_params(
    user: Principal, filters: WorklistFilters, after: int, limit: int
) -> tuple[tuple[bool, ...], dict[str, Any]]:
    """Which filters are in use (the statement's cache key) and the values to bind, one row past the page."""
    collector = _scope(user, filters)
    values = {
        "collector_id": collector,
        "tier": filters.tier.value if filters.tier is not None else None,
        "segment": filters.segment,
        "currency": filters.currency,
        "min_amount": filters.min_amount,
    }
    params = {k: v for k, v in values.items() if v is not None}
    return tuple(v is not None for v in values.values()), {"after": after, "n": limit + 1, **params}


@lru_cache(maxsize=64)
def _items_statement(used: tuple[bool, ...]) -> Select:
    """The page read of ``worklist_page``: a given run's items after a rank, every column decoded."""
    stmt = select(*ITEM_COLUMNS).where(
        ItemRow.run_id == bindparam("run_id"), ItemRow.rank > bindparam("after")
    )
    return _filtered(stmt, used)


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
    used, params = _page_params(user, filters, _parse_cursor(cursor, run.run_id), limit)
    with engine.connect() as conn:
        rows = conn.execute(_items_statement(used), {**params, "run_id": run.run_id}).all()
    items = [WorklistItem.model_validate(r._mapping) for r in rows[:limit]]
    more = len(rows) > limit
    return WorklistPage(
        run_id=run.run_id,
        as_of=run.as_of,
        base_currency=base_currency,
        items=items,
        next_cursor=f"{run.run_id}:{items[-1].rank}" if more and items else None,
    )


def _page_items(rows: list[Any]) -> bytes:
    """The rows as a JSON array of items: scalar fields encoded by pydantic-core (the encoder behind
    ``model_dump_json``: same floats, dates, NaN as null), the JSON columns (components, reasons)
    spliced in as the text the refresh stored, amounts as 2-decimal strings as ``Decimal`` gives them."""
    n = len(SCALAR_ORDER)
    out = []
    for row in rows:
        values = list(row[:n])
        for i in _MONEY_AT:
            if values[i] is not None:
                values[i] = f"{values[i]:.2f}"
        scalars = to_json(dict(zip(SCALAR_ORDER, values, strict=True)), inf_nan_mode="null")
        parts = [scalars[:-1]]
        for key, text in zip(_JSON_KEYS, row[n:], strict=True):
            parts += (key, _json_text(text))
        parts.append(b"}")
        out.append(b"".join(parts))
    return b"[" + b",".join(out) + b"]"


def _json_text(value: Any) -> bytes:
    """A JSON column's value as JSON text (SQLite and PostgreSQL give text for the cast column)."""
    if value is None:
        return b"null"
    return value.encode() if isinstance(value, str) else to_json(value, inf_nan_mode="null")


@lru_cache(maxsize=64)
def _page_statement(used: tuple[bool, ...]) -> Select:
    """The page read of ``worklist_page_json``: the newest run's items after a rank, with the run's
    as-of date, money and JSON columns as the driver gives them."""
    newest = select(func.max(WorklistRun.run_id)).scalar_subquery()
    stmt = (
        select(WorklistRun.as_of, *RAW_COLUMNS)
        .join(WorklistRun, WorklistRun.run_id == ItemRow.run_id)
        .where(ItemRow.run_id == newest, ItemRow.rank > bindparam("after"))
    )
    return _filtered(stmt, used)


def worklist_page_json(
    engine: Engine,
    *,
    user: Principal,
    filters: WorklistFilters,
    limit: int,
    cursor: str | None,
    base_currency: str,
) -> bytes:
    """The same page as ``worklist_page(...).model_dump_json()``, built straight from the stored rows.

    The hot path of the service: the rows were validated when the batch refresh wrote them, so this
    reads the newest run's page in one statement (JSON columns as text, spliced in as stored) and
    encodes it without building and re-validating a pydantic object per item. A test holds the two
    paths equal.
    """
    cursor_run, after = _split_cursor(cursor)
    used, params = _page_params(user, filters, after, limit)
    stmt = _page_statement(used)
    with engine.connect() as conn:
        rows = conn.execute(stmt, params).all()
    if rows:
        as_of, run_id = rows[0][0], rows[0][1 + _RUN_AT]
    else:
        run_id, as_of = current_run_head(engine)
    if cursor_run is not None and cursor_run != run_id:
        raise _stale_cursor(cursor, cursor_run, run_id)
    more = len(rows) > limit
    rows = rows[:limit]
    head = to_json(
        {
            "run_id": run_id,
            "as_of": as_of,
            "base_currency": base_currency,
            "next_cursor": f"{run_id}:{rows[-1][1 + _RANK_AT]}" if more and rows else None,
        }
    )
    return head[:-1] + b',"items":' + _page_items([row[1:-1] for row in rows]) + b"}"


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
