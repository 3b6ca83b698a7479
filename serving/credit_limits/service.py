"""Recommend a credit limit for a customer and record an analyst's decision (no FastAPI here).

Amounts: features are in the base currency; the policy works in the customer's currency (purchases are
converted at the run's FX rate), so the limit reads as the customer's contract says.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from arrisk.errors import ConflictError, NotFoundError, UnavailableError
from arrisk.store import tables as t
from arrisk.store.audit import record_row, row_dict
from arrisk.store.db import session_scope
from models.credit_limit import (
    CreditInputs,
    CreditLimitPolicy,
    assess_requested_limit,
    describe,
    recommend_credit_limit,
    review_date,
)
from serving.auth import Principal
from serving.credit_limits.scenarios import scenario_rows
from serving.credit_limits.schemas import (
    Decision,
    DecisionKind,
    DecisionRequest,
    Recommendation,
    RecommendationRequest,
    RequestedAssessment,
    WhatIf,
)
from serving.customers.access import visible_customer
from serving.customers.service import fx_rate
from serving.model_store import ModelStore
from serving.scoring.explain import customer_row
from serving.tables import CreditLimitDecision, CreditLimitRecommendation, WorklistInvoice
from serving.worklist.service import current_run

CENTS = Decimal("0.01")


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(CENTS)


def _inputs(row: pd.DataFrame, p_default: float, rate: float, current: Decimal | None) -> CreditInputs:
    purchases = float(row["invoiced_amount_365d"].iloc[0]) if "invoiced_amount_365d" in row else 0.0
    return CreditInputs(
        annual_purchases=(purchases if purchases == purchases else 0.0) / rate,
        payment_terms_days=float(row["payment_terms_days"].iloc[0]),
        p_default=p_default,
        current_limit=float(current) if current is not None else None,
    )


def _what_if(
    model: Any,
    row: pd.DataFrame,
    invoices: pd.DataFrame,
    base: CreditInputs,
    policy: CreditLimitPolicy,
    recommended: float,
) -> list[WhatIf]:
    out = []
    for name, description, changed in scenario_rows(row, invoices):
        p = float(model.predict_proba(changed)[0])
        limit = recommend_credit_limit(
            CreditInputs(base.annual_purchases, base.payment_terms_days, p, base.current_limit), policy
        ).recommended_limit
        verb = "raise" if limit > recommended else "lower" if limit < recommended else "not change"
        text = f"{description} would {verb} the recommendation" + (
            f" to {limit:,.0f}" if verb != "not change" else ""
        )
        out.append(WhatIf(scenario=name, description=text, p_default=p, recommended_limit=_money(limit)))
    return out


def _customer_invoices(engine: Engine, run_id: int, customer_id: str) -> pd.DataFrame:
    with engine.connect() as conn:
        rows = conn.execute(
            select(WorklistInvoice.open_amount, WorklistInvoice.days_past_due).where(
                WorklistInvoice.run_id == run_id, WorklistInvoice.customer_id == customer_id
            )
        ).all()
    frame = pd.DataFrame(rows, columns=["open_amount", "days_past_due"])
    return frame.astype({"open_amount": "float64", "days_past_due": "int64"})


def recommend(
    engine: Engine,
    models: ModelStore,
    policy: CreditLimitPolicy,
    *,
    user: Principal,
    request: RecommendationRequest,
    base_currency: str,
) -> Recommendation:
    customer = visible_customer(engine, user, request.customer_id)
    loaded = models.get("default_risk")
    run = current_run(engine)
    if not run.features_path:
        raise UnavailableError(f"worklist run {run.run_id} kept no features: run `arrisk score` again")
    row = customer_row(run.features_path, customer.customer_id)
    p_default = float(loaded.model.predict_proba(row)[0])
    with engine.connect() as conn:
        rate = fx_rate(conn, customer.currency, base_currency, run.as_of)
    if not rate:
        raise UnavailableError(f"no FX rate {customer.currency}->{base_currency} dated by {run.as_of}")
    inputs = _inputs(row, p_default, float(rate), customer.credit_limit)
    result = recommend_credit_limit(inputs, policy)
    invoices = _customer_invoices(engine, run.run_id, customer.customer_id)
    invoices["open_amount"] = invoices["open_amount"] / float(rate)
    what_if = _what_if(loaded.model, row, invoices, inputs, policy, result.recommended_limit)
    requested = None
    if request.requested_limit is not None:
        ok, why = assess_requested_limit(float(request.requested_limit), inputs, policy)
        requested = RequestedAssessment(
            requested_limit=request.requested_limit,
            approvable=ok,
            reason=why,
            expected_loss=_money(p_default * policy.loss_given_default * float(request.requested_limit)),
        )
    detail = {
        "binding_rule": result.binding,
        "expected_profit": result.expected_profit,
        "expected_loss": result.expected_loss,
        "reasons": describe(result, inputs, policy),
        "what_if": [w.model_dump(mode="json") for w in what_if],
        "requested": requested.model_dump(mode="json") if requested else None,
    }
    with session_scope(engine) as session:
        rec = CreditLimitRecommendation(
            customer_id=customer.customer_id,
            created_at=dt.datetime.now(dt.UTC),
            created_by=user.user_id,
            run_id=run.run_id,
            as_of=run.as_of,
            currency=customer.currency,
            current_limit=customer.credit_limit,
            requested_limit=request.requested_limit,
            recommended_limit=_money(result.recommended_limit),
            p_default=p_default,
            risk_class=result.risk_class,
            review_date=review_date(run.as_of, result),
            policy_version=policy.version,
            model_version=loaded.version,
            detail=detail,
            status="pending",
        )
        session.add(rec)
        session.flush()
        record_row(session, rec, actor=user.user_id, action="recommend")
    return to_schema(rec)


def to_schema(rec: Any) -> Recommendation:
    d = rec.detail
    return Recommendation(
        recommendation_id=rec.recommendation_id,
        customer_id=rec.customer_id,
        currency=rec.currency,
        as_of=rec.as_of,
        current_limit=rec.current_limit,
        requested_limit=rec.requested_limit,
        recommended_limit=rec.recommended_limit,
        p_default=rec.p_default,
        risk_class=rec.risk_class,
        review_date=rec.review_date,
        binding_rule=d["binding_rule"],
        expected_profit=_money(d["expected_profit"]),
        expected_loss=_money(d["expected_loss"]),
        reasons=d["reasons"],
        what_if=d["what_if"],
        requested=d["requested"],
        policy_version=rec.policy_version,
        model_version=rec.model_version,
        status=rec.status,
    )


def get_recommendation(engine: Engine, recommendation_id: int) -> Recommendation:
    with session_scope(engine) as session:
        rec = session.get(CreditLimitRecommendation, recommendation_id)
        if rec is None:
            raise NotFoundError(f"credit-limit recommendation {recommendation_id} not found")
        return to_schema(rec)


def decide(engine: Engine, recommendation_id: int, decision: DecisionRequest, *, user: Principal) -> Decision:
    """Approve or override: writes the decision, credit_limit_history, the customer's limit, the audit log."""
    now = dt.datetime.now(dt.UTC)
    with session_scope(engine) as session:
        rec = session.get(CreditLimitRecommendation, recommendation_id)
        if rec is None:
            raise NotFoundError(f"credit-limit recommendation {recommendation_id} not found")
        if rec.status != "pending":
            raise ConflictError(f"credit-limit recommendation {recommendation_id} was already {rec.status}")
        customer = session.get(t.Customer, rec.customer_id)
        if customer is None:
            raise NotFoundError(f"customer {rec.customer_id!r} not found")
        approve = decision.decision == DecisionKind.approve
        final = rec.recommended_limit if approve else decision.limit
        assert final is not None  # the schema requires a limit to override
        before_customer, previous = row_dict(customer), customer.credit_limit
        customer.credit_limit = final
        rec.status = "approved" if approve else "overridden"
        row = CreditLimitDecision(
            recommendation_id=recommendation_id,
            decision=decision.decision.value,
            final_limit=final,
            reason=decision.reason,
            decided_by=user.user_id,
            decided_at=now,
        )
        session.add(row)
        session.add(
            t.CreditLimitChange(
                customer_id=customer.customer_id,
                effective_date=now.date(),
                credit_limit=final,
                currency=customer.currency,
                source="recommendation" if approve else "override",
                decided_by=user.user_id,
                reason=decision.reason or f"recommendation {recommendation_id} approved",
            )
        )
        session.flush()
        action = "credit_limit_" + decision.decision.value
        record_row(session, customer, actor=user.user_id, action=action, before=before_customer)
        record_row(session, row, actor=user.user_id, action="decide")
        return Decision(
            recommendation_id=recommendation_id,
            customer_id=customer.customer_id,
            decision=decision.decision,
            previous_limit=previous,
            final_limit=final,
            currency=customer.currency,
            decided_by=user.user_id,
            decided_at=now,
        )
