"""Promises to pay and payment plans: judged against payments, and their effect on dunning."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from arrisk.collections.actor import Actor
from arrisk.collections.book import read_book
from arrisk.collections.plans import create_payment_plan, evaluate_plans, plan_states
from arrisk.collections.promises import (
    customer_promise_state,
    evaluate_promises,
    promise_states,
    record_promise,
)
from arrisk.collections.schemas import InstallmentIn, PaymentPlanIn, PromiseIn
from arrisk.dunning.engine import run_dunning
from arrisk.errors import ValidationError
from arrisk.store.db import session_scope
from arrisk.store.tables import AuditLog, PaymentPlan, Promise
from tests.test_dunning_book import add_customer, add_invoice, pay

D = dt.date
ANN = Actor("ann", "collector")


@pytest.fixture
def book(engine: Engine) -> Engine:
    for cid in ("K", "P", "B", "Q"):
        add_customer(engine, cid)
        add_invoice(engine, f"{cid}1", cid, issue=D(2025, 1, 1), due=D(2025, 1, 31), amount="1000")
    return engine


def _promise(engine: Engine, cid: str, amount: str = "600") -> str:
    return record_promise(
        engine,
        cid,
        PromiseIn(
            amount=Decimal(amount),
            promised_date=D(2025, 2, 20),
            invoice_ids=[f"{cid}1"],
            created_at=D(2025, 2, 10),
        ),
        actor=ANN,
    ).promise_id


def test_promise_states_kept_partly_kept_broken_after_grace(book: Engine) -> None:
    ids = {cid: _promise(book, cid) for cid in ("K", "P", "B")}
    pay(book, "PK", "K1", day=D(2025, 2, 19), amount="600")
    pay(book, "PP", "P1", day=D(2025, 2, 22), amount="200")  # inside the 3-day grace
    pay(book, "PB", "B1", day=D(2025, 3, 1), amount="600")  # too late for the promise
    states = lambda d: promise_states(read_book(book), d).set_index("promise_id")["state"]  # noqa: E731
    on_date = states(D(2025, 2, 20))
    assert [on_date[ids[c]] for c in "KPB"] == ["kept", "open", "open"]
    in_grace = states(D(2025, 2, 23))
    assert [in_grace[ids[c]] for c in "KPB"] == ["kept", "open", "open"]
    after = states(D(2025, 2, 24))
    assert [after[ids[c]] for c in "KPB"] == ["kept", "partly_kept", "broken"]
    per_customer = customer_promise_state(book, D(2025, 3, 5)).set_index("customer_id")
    assert per_customer.loc["B", "broken_recently"] and not per_customer.loc["K", "broken_recently"]
    assert per_customer.loc["P", "latest_state"] == "partly_kept"
    assert per_customer.loc["B", "last_broken_on"] == pd_ts(D(2025, 2, 23))
    assert evaluate_promises(book, D(2025, 2, 24), actor=ANN) == 3
    assert evaluate_promises(book, D(2025, 2, 24), actor=ANN) == 0
    with session_scope(book) as s:
        assert s.get(Promise, ids["B"]).status == "broken"  # type: ignore[union-attr]
        assert (
            s.scalars(select(AuditLog.action).where(AuditLog.entity == "promises"))
            .all()
            .count("promise.evaluate")
            == 3
        )


def pd_ts(d: dt.date):  # type: ignore[no-untyped-def]
    import pandas as pd

    return pd.Timestamp(d)


def test_promise_holds_dunning_until_date_plus_grace_then_it_resumes(book: Engine) -> None:
    _promise(book, "B")
    bot = Actor("bot", "admin")
    held = run_dunning(book, D(2025, 2, 12), dry_run=False, send=False, actor=bot)
    assert held.decisions.set_index("invoice_id").loc["B1", "reason"] == "promise"
    assert held.decisions.set_index("invoice_id").loc["K1", "reason"] == "contact"
    still = run_dunning(book, D(2025, 2, 23), dry_run=True, send=False, actor=bot)
    assert still.decisions.set_index("invoice_id").loc["B1", "reason"] == "promise"
    resumed = run_dunning(book, D(2025, 2, 24), dry_run=True, send=False, actor=bot)
    assert resumed.decisions.set_index("invoice_id").loc["B1", "reason"] == "contact"


def test_promise_date_before_creation_is_refused(book: Engine) -> None:
    with pytest.raises(ValidationError, match="promised_date 2025-02-01 is before created_at 2025-02-10"):
        record_promise(
            book,
            "K",
            PromiseIn(amount=Decimal("1"), promised_date=D(2025, 2, 1), created_at=D(2025, 2, 10)),
            actor=ANN,
        )


def _plan(engine: Engine, cid: str) -> str:
    plan = PaymentPlanIn(
        invoice_ids=[f"{cid}1"],
        created_at=D(2025, 2, 5),
        installments=[
            InstallmentIn(due_date=D(2025, 2, 15), amount=Decimal("300")),
            InstallmentIn(due_date=D(2025, 3, 15), amount=Decimal("300")),
            InstallmentIn(due_date=D(2025, 4, 15), amount=Decimal("400")),
        ],
    )
    return create_payment_plan(engine, cid, plan, actor=ANN).plan_id


def test_plan_is_current_while_paid_and_breaks_after_missed_installment_plus_grace(book: Engine) -> None:
    ok, bad = _plan(book, "K"), _plan(book, "Q")
    for n, when in enumerate([D(2025, 2, 15), D(2025, 3, 18), D(2025, 4, 14)]):
        pay(book, f"K{n}", "K1", day=when, amount=["300", "300", "400"][n])
    pay(book, "Q0", "Q1", day=D(2025, 2, 14), amount="300")
    states = lambda d: plan_states(read_book(book), d).set_index("plan_id")  # noqa: E731
    assert states(D(2025, 3, 20)).loc[bad, "state"] == "current"  # 2025-03-15 + 5 days grace
    broken = states(D(2025, 3, 21)).loc[bad]
    assert broken["state"] == "broken" and broken["broken_on"] == pd_ts(D(2025, 3, 21))
    assert states(D(2025, 3, 21)).loc[ok, "state"] == "current"
    assert states(D(2025, 4, 20)).loc[ok, "state"] == "completed"
    bot = Actor("bot", "admin")
    during = run_dunning(book, D(2025, 3, 10), dry_run=True, send=False, actor=bot).decisions.set_index(
        "invoice_id"
    )
    assert during.loc["Q1", "reason"] == "payment_plan" and during.loc["K1", "reason"] == "payment_plan"
    after = run_dunning(book, D(2025, 3, 21), dry_run=True, send=False, actor=bot).decisions.set_index(
        "invoice_id"
    )
    assert after.loc["Q1", "reason"] == "contact" and after.loc["K1", "reason"] == "payment_plan"
    assert evaluate_plans(book, D(2025, 3, 21), actor=ANN) == 1
    with session_scope(book) as s:
        row = s.get(PaymentPlan, bad)
        assert row is not None and (row.status, row.broken_at) == ("broken", D(2025, 3, 21))


def test_plan_installments_must_be_in_order() -> None:
    with pytest.raises(ValueError, match="strictly increasing"):
        PaymentPlanIn(
            invoice_ids=["I"],
            installments=[
                InstallmentIn(due_date=D(2025, 3, 1), amount=Decimal(1)),
                InstallmentIn(due_date=D(2025, 2, 1), amount=Decimal(1)),
            ],
        )
