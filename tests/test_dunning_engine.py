"""The engine's rules on small hand-built books: levels, holds, grouping, idempotence, explanations."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from arrisk.collections.actor import Actor
from arrisk.collections.disputes import open_dispute, resolve_dispute
from arrisk.collections.schemas import DisputeIn, DisputeOutcome, DisputeResolution
from arrisk.dunning.engine import run_dunning
from arrisk.dunning.runs import dunning_summary, explain, get_run, set_override
from arrisk.errors import PermissionDenied
from arrisk.store.db import session_scope
from arrisk.store.tables import DunningEvent
from tests.test_dunning_book import add_customer, add_invoice, pay

D = dt.date
BOT = Actor("dunning-bot", "admin")


def reasons(result) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return dict(zip(result.decisions["invoice_id"], result.decisions["reason"], strict=True))


def levels(result) -> dict[str, int]:  # type: ignore[no-untyped-def]
    contacts = result.decisions.loc[result.decisions["action"] == "contact"]
    return dict(zip(contacts["invoice_id"], contacts["level"].astype(int), strict=True))


def event_levels(engine: Engine, invoice_id: str) -> list[int]:
    with session_scope(engine) as s:
        rows = s.scalars(
            select(DunningEvent.level)
            .where(DunningEvent.invoice_id == invoice_id)
            .order_by(DunningEvent.event_date)
        )
        return list(rows)


@pytest.fixture
def one_invoice(engine: Engine) -> Engine:
    add_customer(engine, "C1")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500.00")
    return engine


def test_levels_follow_the_schedule_one_at_a_time_and_never_repeat(one_invoice: Engine) -> None:
    engine = one_invoice
    assert (
        reasons(run_dunning(engine, D(2025, 1, 27), dry_run=False, send=False, actor=BOT)) == {}
    )  # not in reach yet
    assert levels(run_dunning(engine, D(2025, 1, 28), dry_run=False, send=False, actor=BOT)) == {"I1": 0}
    again = run_dunning(engine, D(2025, 1, 28), dry_run=False, send=False, actor=BOT)
    assert levels(again) == {} and again.counts["messages"] == 0
    # 60 days past due but level 1 never went out: level 1 comes first, then level 2 after the wait.
    late = run_dunning(engine, D(2025, 4, 1), dry_run=False, send=False, actor=BOT)
    assert levels(late) == {"I1": 1}
    assert reasons(run_dunning(engine, D(2025, 4, 10), dry_run=False, send=False, actor=BOT)) == {
        "I1": "waiting"
    }
    assert levels(run_dunning(engine, D(2025, 4, 15), dry_run=False, send=False, actor=BOT)) == {"I1": 2}
    assert event_levels(engine, "I1") == [0, 1, 2]


def test_dry_run_decides_but_records_no_events_and_summary_counts_per_level(engine: Engine) -> None:
    add_customer(engine, "C1")
    add_customer(engine, "C2")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500")
    add_invoice(engine, "I2", "C1", issue=D(2025, 1, 5), due=D(2025, 2, 12), amount="250")
    add_invoice(engine, "I3", "C2", issue=D(2025, 1, 1), due=D(2025, 1, 20), amount="80")
    result = run_dunning(engine, D(2025, 2, 10), dry_run=True, send=False, actor=BOT)
    assert levels(result) == {"I1": 1, "I2": 0, "I3": 1}
    assert len(result.messages) == 2  # C1's two invoices go in one message at its highest level
    c1 = result.messages.set_index("customer_id").loc["C1"]
    assert c1["level"] == 1 and [i["invoice_id"] for i in c1["invoices"]] == ["I1", "I2"]
    summary = dunning_summary(result).set_index("level")
    assert summary.loc[1, "customers"] == 2 and summary.loc[1, "invoices"] == 2
    assert summary.loc[1, "open_amount"] == pytest.approx(580.0)
    assert summary.loc[0, "invoices"] == 1
    with session_scope(engine) as s:
        assert s.scalar(select(func.count()).select_from(DunningEvent)) == 0
    stored = get_run(engine, result.run_id)
    assert stored["dry_run"] is True and len(stored["decisions"]) == 3


def test_open_dispute_holds_only_its_invoice_until_resolved(engine: Engine) -> None:
    add_customer(engine, "C1")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500")
    add_invoice(engine, "I2", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500")
    (dispute,) = open_dispute(
        engine,
        "C1",
        DisputeIn(invoice_ids=["I1"], reason="price", opened_at=D(2025, 2, 1)),
        actor=Actor("ann", "collector"),
    )
    result = run_dunning(engine, D(2025, 2, 10), dry_run=False, send=False, actor=BOT)
    assert reasons(result) == {"I1": "disputed", "I2": "contact"}
    resolve_dispute(
        engine,
        dispute.dispute_id,
        DisputeResolution(outcome=DisputeOutcome.rejected, resolved_at=D(2025, 2, 12)),
        actor=Actor("ann", "collector"),
    )
    after = run_dunning(engine, D(2025, 2, 20), dry_run=False, send=False, actor=BOT)
    assert reasons(after)["I1"] == "contact" and levels(after) == {"I1": 1}


def test_paid_invoice_drops_out_and_block_override_holds_until_its_date(engine: Engine) -> None:
    add_customer(engine, "C1")
    add_customer(engine, "C2")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500")
    add_invoice(engine, "I2", "C2", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="500")
    pay(engine, "P1", "I1", day=D(2025, 2, 9), amount="500")
    set_override(engine, "C2", blocked_until=D(2025, 2, 15), reason="CFO on leave", actor=BOT)
    result = run_dunning(engine, D(2025, 2, 10), dry_run=False, send=False, actor=BOT)
    assert reasons(result) == {"I2": "blocked"}
    assert levels(run_dunning(engine, D(2025, 2, 16), dry_run=False, send=False, actor=BOT)) == {"I2": 1}
    why = explain(engine, "C2")
    assert list(why["decisions"]["reason"]) == ["contact"]


def test_minimum_amount_and_role_rules(engine: Engine) -> None:
    add_customer(engine, "C1")
    add_invoice(engine, "I1", "C1", issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="5.00")
    result = run_dunning(engine, D(2025, 2, 10), dry_run=True, send=False, actor=BOT)
    assert reasons(result) == {"I1": "below_minimum"}
    with pytest.raises(PermissionDenied, match="viewer"):
        run_dunning(engine, D(2025, 2, 10), dry_run=True, send=False, actor=Actor("v", "viewer"))
    assert isinstance(result.decisions, pd.DataFrame)
