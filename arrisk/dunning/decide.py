"""The dunning rules as set-based frame operations: for every open invoice in a policy's window,
contact (at which level) or hold (and why). Pure: a ``Book``, the date, policies and overrides in;
decisions and one message per contacted customer out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from arrisk.collections.book import CENT, Book, disputed_invoices, open_amounts
from arrisk.collections.plans import planned_invoices
from arrisk.collections.promises import promised_invoices
from arrisk.dunning.policy import Channel, DunningPolicy, PolicySet


class Reason(StrEnum):
    contact = "contact"
    blocked = "blocked"
    disputed = "disputed"
    payment_plan = "payment_plan"
    promise = "promise"
    max_level = "max_level"
    not_due = "not_due"
    waiting = "waiting"
    below_minimum = "below_minimum"
    recently_contacted = "recently_contacted"


HOLDS = (Reason.blocked, Reason.disputed, Reason.payment_plan, Reason.promise)


@dataclass(frozen=True)
class Decisions:
    invoices: pd.DataFrame  # one row per invoice in scope: level, action, reason, fee
    messages: pd.DataFrame  # one row per contacted customer: level, template, channels, language


def customer_policies(customers: pd.DataFrame, policies: PolicySet, overrides: pd.DataFrame) -> pd.Series:
    """Policy name per customer: the override's, else the segment's, else the default."""
    names = customers.set_index("customer_id")["segment"].map(lambda s: policies.for_segment(s).name)
    chosen = overrides.dropna(subset=["policy"]).set_index("customer_id")["policy"]
    chosen = chosen.loc[chosen.index.isin(names.index)]
    names.loc[chosen.index] = chosen
    return names.rename("policy")


def _invoices_in_scope(book: Book, as_of: dt.date, policy_of: pd.Series, policies: PolicySet) -> pd.DataFrame:
    day = pd.Timestamp(as_of)
    opened = open_amounts(book, as_of)
    inv = book.invoices.loc[book.invoices["issue_date"] <= day].copy()
    inv["open_amount"] = inv["invoice_id"].map(opened).fillna(0.0)
    inv["policy"] = inv["customer_id"].map(policy_of)
    inv["days_past_due"] = (day - inv["due_date"]).dt.days.astype("int64")
    first_days = inv["policy"].map({n: p.levels[0].days for n, p in policies.by_name.items()})
    inv = inv.loc[(inv["open_amount"] > CENT) & (inv["days_past_due"] >= first_days)]
    last = book.dunning_events.groupby("invoice_id").agg(
        last_level=("level", "max"), last_date=("event_date", "max")
    )
    return inv.merge(last, left_on="invoice_id", right_index=True, how="left")


def _candidate_levels(inv: pd.DataFrame, policy: DunningPolicy) -> pd.DataFrame:
    """Next level per invoice (never skipping one), its threshold days, minimum, and the wait."""
    nums = np.array([lv.level for lv in policy.levels])
    days = np.array([lv.days for lv in policy.levels])
    waits = np.array([lv.wait_days for lv in policy.levels])
    minimum = np.array([float(lv.min_overdue_amount) for lv in policy.levels])
    first, top = int(nums[0]), int(nums[-1])
    last = inv["last_level"].to_numpy(dtype="float64")
    fresh = np.isnan(last)
    start = np.where((first == 0) & (inv["days_past_due"].to_numpy() < 0), 0, max(first, 1))
    cand = np.where(fresh, start, np.nan_to_num(last, nan=0) + 1).astype("int64")
    pos = np.clip(cand, first, top) - first
    last_pos = np.clip(np.nan_to_num(last, nan=first), first, top).astype("int64") - first
    out = inv.assign(
        level=cand,
        beyond_last=cand > top,
        level_days=days[pos],
        level_minimum=minimum[pos],
        wait_until=inv["last_date"] + pd.to_timedelta(np.where(fresh, 0, waits[last_pos]), unit="D"),
    )
    return out


def _holds(
    inv: pd.DataFrame,
    book: Book,
    as_of: dt.date,
    *,
    policies: PolicySet,
    policy_of: pd.Series,
    overrides: pd.DataFrame,
) -> pd.DataFrame:
    day = pd.Timestamp(as_of)
    promise_grace = policy_of.map({n: p.promise_grace_days for n, p in policies.by_name.items()})
    plan_grace = policy_of.map({n: p.plan_grace_days for n, p in policies.by_name.items()})
    blocks = overrides.dropna(subset=["blocked_until"]).set_index("customer_id")["blocked_until"]
    until = pd.to_datetime(inv["customer_id"].map(blocks))
    return inv.assign(
        blocked=until.notna() & (day <= until),
        disputed=inv["invoice_id"].isin(disputed_invoices(book, as_of)),
        payment_plan=inv["invoice_id"].isin(planned_invoices(book, as_of, grace_days=plan_grace)),
        promise=inv["invoice_id"].isin(promised_invoices(book, as_of, grace_days=promise_grace)),
    )


def _reasons(inv: pd.DataFrame, as_of: dt.date, *, policies: PolicySet, last_message: pd.Series) -> pd.Series:
    day = pd.Timestamp(as_of)
    held = inv[[r.value for r in HOLDS]].any(axis=1)
    basis = inv.loc[~held].groupby("customer_id")["open_amount"].sum()
    gap = inv["policy"].map({n: p.min_days_between_messages for n, p in policies.by_name.items()})
    last_msg = pd.to_datetime(inv["customer_id"].map(last_message))
    recent = last_msg.notna() & (last_msg > day - pd.to_timedelta(gap, unit="D"))
    conditions = [inv[r.value] for r in HOLDS] + [
        inv["beyond_last"],
        inv["days_past_due"] < inv["level_days"],
        inv["wait_until"].notna() & (inv["wait_until"] > day),
        inv["customer_id"].map(basis).fillna(0.0) < inv["level_minimum"] - CENT,
        recent,
    ]
    choices = [r.value for r in HOLDS] + [
        Reason.max_level,
        Reason.not_due,
        Reason.waiting,
        Reason.below_minimum,
        Reason.recently_contacted,
    ]
    return pd.Series(
        np.select(conditions, choices, default=Reason.contact.value), index=inv.index, dtype=object
    )


def _fees(inv: pd.DataFrame, policies: PolicySet) -> pd.Series:
    fee = pd.Series(np.nan, index=inv.index)
    for name, policy in policies.by_name.items():
        lf = policy.late_fee
        if lf is None:
            continue
        rows = (
            (inv["policy"] == name)
            & (inv["reason"] == Reason.contact.value)
            & (inv["level"] >= lf.from_level)
        )
        interest = (
            inv["open_amount"] * float(lf.annual_interest_rate) * inv["days_past_due"].clip(lower=0) / 365
        )
        fee.loc[rows] = (float(lf.fixed) + interest.loc[rows]).round(2)
    return fee


def decide(
    book: Book, as_of: dt.date, *, policies: PolicySet, overrides: pd.DataFrame, last_message: pd.Series
) -> Decisions:
    """Every in-scope invoice's decision and one grouped message per customer to contact.

    ``overrides``: customer_id, policy, blocked_until. ``last_message``: customer_id -> date of the
    newest message already sent (any run), for the gap between messages.
    """
    policy_of = customer_policies(book.customers, policies, overrides)
    inv = _invoices_in_scope(book, as_of, policy_of, policies)
    parts = [_candidate_levels(inv.loc[inv["policy"] == n], policies.get(n)) for n in inv["policy"].unique()]
    inv = pd.concat(parts) if parts else _candidate_levels(inv, next(iter(policies.by_name.values())))
    inv = _holds(inv, book, as_of, policies=policies, policy_of=policy_of, overrides=overrides)
    inv["reason"] = _reasons(inv, as_of, policies=policies, last_message=last_message)
    inv["action"] = np.where(inv["reason"] == Reason.contact.value, "contact", "hold")
    inv["fee"] = _fees(inv, policies)
    inv["level"] = inv["level"].where(~inv["beyond_last"])
    inv = inv.sort_values(["customer_id", "due_date", "invoice_id"]).reset_index(drop=True)
    return Decisions(invoices=inv, messages=build_messages(inv, book.customers, policies))


def _language(value: object) -> str:
    text = str(value or "en").strip().lower().replace("_", "-")
    return text.split("-")[0] or "en"


def build_messages(inv: pd.DataFrame, customers: pd.DataFrame, policies: PolicySet) -> pd.DataFrame:
    """One message per contacted customer at the highest level among its invoices (set-based:
    one pass builds the invoice lines, one groupby the message headers)."""
    contacts = inv.loc[inv["action"] == "contact"]
    cols = ["customer_id", "policy", "level", "template", "channels", "language", "invoices"]
    if contacts.empty:
        return pd.DataFrame(columns=cols)
    lines: dict[str, list[dict[str, object]]] = {}
    for customer_id, line in zip(contacts["customer_id"], _invoice_lines(contacts), strict=True):
        lines.setdefault(customer_id, []).append(line)
    head = contacts.groupby("customer_id", sort=True).agg(policy=("policy", "first"), level=("level", "max"))
    cust = customers.set_index("customer_id").reindex(head.index)
    has_email = cust["email"].fillna("").astype(str).str.strip() != ""
    rows = []
    for customer_id, name, number, email_ok, language in zip(
        head.index, head["policy"], head["level"], has_email, cust["language"], strict=True
    ):
        policy = policies.get(name)
        level = policy.level(int(number))
        channels = [Channel.letter if c == Channel.email and not email_ok else c for c in level.channels]
        rows.append(
            (
                customer_id,
                policy.label,
                level.level,
                level.template,
                [c.value for c in dict.fromkeys(channels)],
                _language(language),
                lines[customer_id],
            )
        )
    return pd.DataFrame(rows, columns=cols)


def _invoice_lines(contacts: pd.DataFrame) -> list[dict[str, object]]:
    fee = contacts["fee"].round(2).astype(object)
    frame = pd.DataFrame(
        {
            "invoice_id": contacts["invoice_id"],
            "invoice_number": contacts["invoice_number"],
            "due_date": contacts["due_date"].dt.strftime("%Y-%m-%d"),
            "open_amount": contacts["open_amount"].round(2),
            "currency": contacts["currency"],
            "days_past_due": contacts["days_past_due"].astype(int),
            "level": contacts["level"].astype(int),
            "fee": fee.where(contacts["fee"].notna(), None),
        }
    )
    return frame.to_dict("records")
