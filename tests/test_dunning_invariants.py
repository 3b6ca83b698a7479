"""A seeded random book driven day by day through six months; the dunning rules checked every day
against an oracle written here from the raw rows (independent of the engine's frame code)."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, select

from arrisk.collections.actor import Actor
from arrisk.dunning.engine import run_dunning
from arrisk.dunning.policy import load_policies
from arrisk.dunning.runs import set_override
from arrisk.dunning.tables import DunningMessage
from arrisk.store.db import session_scope
from arrisk.store.tables import (
    Allocation,
    CreditNote,
    Customer,
    Dispute,
    DunningEvent,
    Invoice,
    Payment,
    PaymentPlan,
    PlanInstallment,
    Promise,
    WriteOff,
)

START = dt.date(2025, 1, 1)
DAYS = 181
BOT = Actor("dunning-bot", "admin")


def day(n: int) -> dt.date:
    return START + dt.timedelta(days=n)


@dataclass
class Book:
    """Raw rows as inserted, kept for the oracle."""

    customers: list[dict[str, Any]] = field(default_factory=list)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    allocations: list[dict[str, Any]] = field(default_factory=list)
    credits: list[dict[str, Any]] = field(default_factory=list)
    write_offs: list[dict[str, Any]] = field(default_factory=list)
    disputes: list[dict[str, Any]] = field(default_factory=list)
    promises: list[dict[str, Any]] = field(default_factory=list)
    plans: list[dict[str, Any]] = field(default_factory=list)
    blocks: dict[str, dt.date] = field(default_factory=dict)
    policy_override: dict[str, str] = field(default_factory=dict)


def _pay(book: Book, rng: random.Random, inv: dict[str, Any], when: dt.date, amount: float) -> None:
    n = len(book.allocations)
    reversed_at = when + dt.timedelta(days=rng.randint(2, 10)) if rng.random() < 0.05 else None
    book.allocations.append(
        {
            "payment_id": f"P{n}",
            "invoice_id": inv["invoice_id"],
            "customer_id": inv["customer_id"],
            "amount": round(amount, 2),
            "applied_at": when,
            "reversed_at": reversed_at,
        }
    )


def _invoices(book: Book, rng: random.Random) -> None:
    for c in book.customers:
        for k in range(rng.randint(2, 8)):
            issue = day(rng.randint(-40, 160))
            inv = {
                "invoice_id": f"{c['customer_id']}-I{k}",
                "customer_id": c["customer_id"],
                "issue_date": issue,
                "due_date": issue + dt.timedelta(days=rng.choice([14, 30, 45])),
                "amount": round(rng.choice([rng.uniform(2, 15), rng.uniform(20, 3000)]), 2),
            }
            book.invoices[inv["invoice_id"]] = inv
            _behaviour(book, rng, inv)


def _behaviour(book: Book, rng: random.Random, inv: dict[str, Any]) -> None:
    due, amount, r = inv["due_date"], inv["amount"], rng.random()
    if r < 0.3:
        _pay(book, rng, inv, due - dt.timedelta(days=rng.randint(0, 10)), amount)
    elif r < 0.55:
        _pay(book, rng, inv, due + dt.timedelta(days=rng.randint(5, 90)), amount)
    elif r < 0.7:
        _pay(book, rng, inv, due + dt.timedelta(days=10), amount * 0.4)
    if rng.random() < 0.05:
        book.credits.append(
            {
                "invoice_id": inv["invoice_id"],
                "amount": amount,
                "issue_date": due + dt.timedelta(days=rng.randint(-5, 40)),
            }
        )
    if rng.random() < 0.12:
        opened = due + dt.timedelta(days=rng.randint(-5, 30))
        resolved = opened + dt.timedelta(days=rng.randint(3, 40)) if rng.random() < 0.6 else None
        book.disputes.append(
            {
                "invoice_id": inv["invoice_id"],
                "customer_id": inv["customer_id"],
                "opened_at": opened,
                "resolved_at": resolved,
            }
        )
    if rng.random() < 0.04:
        book.write_offs.append(
            {
                "invoice_id": inv["invoice_id"],
                "amount": round(amount / 2, 2),
                "date": due + dt.timedelta(days=90),
                "status": rng.choice(["approved", "requested"]),
            }
        )


def _agreements(book: Book, rng: random.Random) -> None:
    by_customer = defaultdict(list)
    for inv in book.invoices.values():
        by_customer[inv["customer_id"]].append(inv)
    for n in range(18):
        cid = rng.choice(book.customers)["customer_id"]
        created = day(rng.randint(0, 170))
        issued = [i["invoice_id"] for i in by_customer[cid] if i["issue_date"] <= created]
        listed = rng.sample(issued, k=min(len(issued), rng.randint(0, 2)))
        book.promises.append(
            {
                "promise_id": f"PR{n}",
                "customer_id": cid,
                "created_at": created,
                "promised_date": created + dt.timedelta(days=rng.randint(2, 20)),
                "amount": 100.0,
                "invoice_ids": listed,
            }
        )
    for n in range(8):
        cid = rng.choice(book.customers)["customer_id"]
        created = day(rng.randint(0, 150))
        issued = [i for i in by_customer[cid] if i["issue_date"] <= created]
        if not issued:
            continue
        linked = issued[: rng.randint(1, len(issued))]
        installments = [(created + dt.timedelta(days=7 + 30 * k), 50.0) for k in range(3)]
        book.plans.append(
            {
                "plan_id": f"PL{n}",
                "customer_id": cid,
                "created_at": created,
                "invoice_ids": [i["invoice_id"] for i in linked],
                "installments": installments,
            }
        )
        for due, amount in installments[: rng.randint(0, 3)]:
            _pay(book, rng, linked[0], due + dt.timedelta(days=rng.randint(0, 8)), amount)


def generate(seed: int, n_customers: int) -> Book:
    rng = random.Random(seed)
    book = Book()
    for n in range(n_customers):
        book.customers.append(
            {
                "customer_id": f"C{n:02d}",
                "segment": rng.choice(["sme", "retail", None, "enterprise"]),
                "language": rng.choice(["en", "de", "fr", None, "de-AT"]),
                "email": None if rng.random() < 0.15 else f"ap{n}@example.com",
            }
        )
    _invoices(book, rng)
    _agreements(book, rng)
    for c in rng.sample(book.customers, 4):
        book.blocks[c["customer_id"]] = day(rng.randint(20, 150))
    book.policy_override[book.customers[0]["customer_id"]] = "enterprise"
    return book


def store(engine: Engine, book: Book) -> None:
    with session_scope(engine) as s:
        s.add_all(
            Customer(name=c["customer_id"], country="DE", currency="EUR", payment_terms_days=30, **c)
            for c in book.customers
        )
        s.flush()
        s.add_all(
            Invoice(
                invoice_number=i["invoice_id"], currency="EUR", **{**i, "amount": Decimal(str(i["amount"]))}
            )
            for i in book.invoices.values()
        )
        s.flush()
        for a in book.allocations:
            s.add(
                Payment(
                    payment_id=a["payment_id"],
                    customer_id=a["customer_id"],
                    payment_date=a["applied_at"],
                    amount=Decimal(str(a["amount"])),
                    currency="EUR",
                )
            )
        s.flush()
        s.add_all(
            Allocation(
                allocation_id=f"A{n}",
                payment_id=a["payment_id"],
                invoice_id=a["invoice_id"],
                amount=Decimal(str(a["amount"])),
                currency="EUR",
                applied_at=a["applied_at"],
                reversed_at=a["reversed_at"],
            )
            for n, a in enumerate(book.allocations)
        )
        s.add_all(
            CreditNote(
                credit_note_id=f"CN{n}",
                customer_id=book.invoices[c["invoice_id"]]["customer_id"],
                invoice_id=c["invoice_id"],
                issue_date=c["issue_date"],
                amount=Decimal(str(c["amount"])),
                currency="EUR",
            )
            for n, c in enumerate(book.credits)
        )
        s.add_all(
            WriteOff(
                write_off_id=f"W{n}",
                invoice_id=w["invoice_id"],
                date=w["date"],
                amount=Decimal(str(w["amount"])),
                status=w["status"],
            )
            for n, w in enumerate(book.write_offs)
        )
        s.add_all(
            Dispute(dispute_id=f"D{n}", status="resolved" if d["resolved_at"] else "open", **d)
            for n, d in enumerate(book.disputes)
        )
        s.add_all(
            Promise(
                promise_id=p["promise_id"],
                customer_id=p["customer_id"],
                created_at=p["created_at"],
                promised_date=p["promised_date"],
                amount=Decimal("100"),
                invoice_ids=p["invoice_ids"] or None,
            )
            for p in book.promises
        )
        for p in book.plans:
            s.add(
                PaymentPlan(
                    plan_id=p["plan_id"],
                    customer_id=p["customer_id"],
                    created_at=p["created_at"],
                    invoice_ids=p["invoice_ids"],
                )
            )
            s.flush()
            s.add_all(
                PlanInstallment(plan_id=p["plan_id"], seq=k, due_date=due, amount=Decimal(str(amount)))
                for k, (due, amount) in enumerate(p["installments"], start=1)
            )
    for cid, until in book.blocks.items():
        set_override(engine, cid, blocked_until=until, actor=BOT)
    for cid, policy in book.policy_override.items():
        set_override(engine, cid, policy=policy, blocked_until=book.blocks.get(cid), actor=BOT)


class Oracle:
    """The rules restated plainly over the raw rows."""

    def __init__(self, book: Book) -> None:
        self.book = book
        self.policies = load_policies()
        self.customers = {c["customer_id"]: c for c in book.customers}

    def policy(self, cid: str):  # type: ignore[no-untyped-def]
        name = self.book.policy_override.get(cid)
        return self.policies.get(name) if name else self.policies.for_segment(self.customers[cid]["segment"])

    def paid(
        self, invoice_id: str, d: dt.date, *, since: dt.date | None = None, until: dt.date | None = None
    ) -> float:
        return sum(
            a["amount"]
            for a in self.book.allocations
            if a["invoice_id"] == invoice_id
            and a["applied_at"] <= min(d, until or d)
            and (since is None or a["applied_at"] >= since)
            and (a["reversed_at"] is None or a["reversed_at"] > d)
        )

    def open_amount(self, invoice_id: str, d: dt.date) -> float:
        inv = self.book.invoices[invoice_id]
        credit = sum(
            c["amount"] for c in self.book.credits if c["invoice_id"] == invoice_id and c["issue_date"] <= d
        )
        written = sum(
            w["amount"]
            for w in self.book.write_offs
            if w["invoice_id"] == invoice_id and w["status"] == "approved" and w["date"] <= d
        )
        return max(inv["amount"] - self.paid(invoice_id, d) - credit - written, 0.0)

    def disputed(self, invoice_id: str, d: dt.date) -> bool:
        return any(
            x["invoice_id"] == invoice_id
            and x["opened_at"] <= d
            and (x["resolved_at"] is None or x["resolved_at"] > d)
            for x in self.book.disputes
        )

    def _covers(self, record: dict[str, Any], invoice_id: str) -> bool:
        inv = self.book.invoices[invoice_id]
        if record["invoice_ids"]:
            return invoice_id in record["invoice_ids"]
        return inv["customer_id"] == record["customer_id"] and inv["issue_date"] <= record["created_at"]

    def promised(self, invoice_id: str, d: dt.date) -> bool:
        return any(
            p["created_at"] <= d <= p["promised_date"] and self._covers(p, invoice_id)
            for p in self.book.promises
        )

    def plan_current(self, invoice_id: str, d: dt.date) -> bool:
        for p in self.book.plans:
            if p["created_at"] > d or not self._covers(p, invoice_id):
                continue
            grace = dt.timedelta(days=self.policy(p["customer_id"]).plan_grace_days)

            def paid(until: dt.date, plan: dict[str, Any] = p) -> float:
                return sum(
                    self.paid(i, d, since=plan["created_at"], until=until) for i in plan["invoice_ids"]
                )

            due_sum, broken = 0.0, False
            for due, amount in p["installments"]:
                due_sum += amount
                if due + grace < d and paid(due + grace) < due_sum - 0.005:
                    broken = True
            if not broken and paid(d) < due_sum - 0.005:
                return True
        return False

    def blocked(self, cid: str, d: dt.date) -> bool:
        return cid in self.book.blocks and d <= self.book.blocks[cid]


def check_day(
    engine: Engine,
    oracle: Oracle,
    result,
    d: dt.date,
    history: dict[str, list[tuple[int, dt.date]]],
    seen: dict[str, int],
) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as s:
        events = s.execute(
            select(
                DunningEvent.invoice_id, DunningEvent.customer_id, DunningEvent.level, DunningEvent.event_date
            ).where(DunningEvent.run_id == result.run_id)
        ).all()
        messages = s.execute(
            select(DunningMessage.customer_id, DunningMessage.invoices).where(
                DunningMessage.run_id == result.run_id
            )
        ).all()
    customers = [m.customer_id for m in messages]
    assert len(customers) == len(set(customers)), f"{d}: two messages to one customer"
    in_message = {(m.customer_id, line["invoice_id"], line["level"]) for m in messages for line in m.invoices}
    assert in_message == {(e.customer_id, e.invoice_id, e.level) for e in events}, f"{d}: events != messages"
    contacts = result.decisions.loc[result.decisions["action"] == "contact"]
    assert set(contacts["invoice_id"]) == {e.invoice_id for e in events}
    for e in events:
        inv, policy = oracle.book.invoices[e.invoice_id], oracle.policy(e.customer_id)
        where = f"{d} invoice {e.invoice_id} level {e.level}"
        assert e.event_date == d
        assert oracle.open_amount(e.invoice_id, d) > 0.005, f"{where}: already paid"
        assert not oracle.disputed(e.invoice_id, d), f"{where}: disputed"
        assert not oracle.promised(e.invoice_id, d), f"{where}: promise not yet due"
        assert not oracle.plan_current(e.invoice_id, d), f"{where}: current payment plan"
        assert not oracle.blocked(e.customer_id, d), f"{where}: customer blocked"
        dpd = (d - inv["due_date"]).days
        assert dpd >= policy.level(e.level).days, f"{where}: too early ({dpd} days past due)"
        before = history[e.invoice_id]
        if before:
            last_level, last_date = before[-1]
            assert e.level == last_level + 1, f"{where}: skipped or repeated after level {last_level}"
            assert d >= last_date + dt.timedelta(days=policy.level(last_level).wait_days), (
                f"{where}: wait not over"
            )
        else:
            expected_first = 0 if policy.levels[0].level == 0 and dpd < 0 else 1
            assert e.level == expected_first, f"{where}: first level should be {expected_first}"
        history[e.invoice_id].append((e.level, d))
    for reason in result.decisions["reason"]:
        seen[reason] += 1


@pytest.mark.slow
def test_six_months_day_by_day_keep_every_dunning_rule(sqlite_engine: Engine) -> None:
    book = generate(seed=20250101, n_customers=40)
    store(sqlite_engine, book)
    oracle = Oracle(book)
    history: dict[str, list[tuple[int, dt.date]]] = defaultdict(list)
    seen: dict[str, int] = defaultdict(int)
    for n in range(DAYS):
        d = day(n)
        result = run_dunning(sqlite_engine, d, dry_run=False, send=False, actor=BOT, policies=oracle.policies)
        check_day(sqlite_engine, oracle, result, d, history, seen)
        if n % 15 == 0:
            again = run_dunning(
                sqlite_engine, d, dry_run=False, send=False, actor=BOT, policies=oracle.policies
            )
            assert again.counts["messages"] == 0 and (again.decisions["action"] == "contact").sum() == 0, d
    # The run is not vacuous: contacts at several levels, and every kind of hold did occur.
    levels_sent = {level for steps in history.values() for level, _ in steps}
    assert levels_sent >= {0, 1, 2, 3}, levels_sent
    for reason in ("contact", "disputed", "promise", "payment_plan", "blocked", "waiting", "below_minimum"):
        assert seen[reason] > 0, f"no decision with reason {reason} in six months"
