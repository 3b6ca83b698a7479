"""Economics of the credit-limit policy (pure functions, no store)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arrisk.errors import ValidationError
from models.credit_limit import (
    CreditInputs,
    CreditLimitPolicy,
    assess_requested_limit,
    expected_profit,
    load_policy,
    purchase_need,
    recommend_credit_limit,
)


@pytest.fixture(scope="module")
def policy() -> CreditLimitPolicy:
    return load_policy()


purchases = st.floats(min_value=0, max_value=5e7, allow_nan=False)
terms = st.sampled_from([0, 14, 30, 45, 60, 90])
probability = st.floats(min_value=0, max_value=1, allow_nan=False)
current = st.one_of(st.none(), st.floats(min_value=0, max_value=2e6, allow_nan=False))


@settings(max_examples=300, deadline=None)
@given(purchases, terms, probability, probability, current)
def test_riskier_customer_never_gets_a_higher_limit(annual, days, p1, p2, limit) -> None:
    policy = load_policy()
    low, high = sorted((p1, p2))
    safer = recommend_credit_limit(CreditInputs(annual, days, low, limit), policy)
    riskier = recommend_credit_limit(CreditInputs(annual, days, high, limit), policy)
    assert riskier.recommended_limit <= safer.recommended_limit


@settings(max_examples=300, deadline=None)
@given(purchases, terms, probability, current)
def test_steps_caps_and_rounding_hold(annual, days, p, limit) -> None:
    policy = load_policy()
    result = recommend_credit_limit(CreditInputs(annual, days, p, limit), policy)
    value = result.recommended_limit
    assert value >= 0
    assert math.isclose(value / policy.rounding, round(value / policy.rounding), abs_tol=1e-9)
    if limit:
        assert (
            limit * (1 - policy.max_step_down) - policy.rounding
            < value
            <= limit * (1 + policy.max_step_up) + 1e-6
        )
    else:
        assert value <= policy.initial_limit_cap
    # The expected-loss cap and the maximum hold unless the step-down bound forces a slower cut.
    if result.binding != "step_down":
        assert value <= min(policy.max_limit, result.loss_cap_limit) + 1e-6
        assert p * policy.loss_given_default * value <= policy.max_expected_loss + 1e-6


def test_low_risk_customer_gets_its_need(policy: CreditLimitPolicy) -> None:
    inputs = CreditInputs(
        annual_purchases=120_000, payment_terms_days=30, p_default=0.01, current_limit=15_000
    )
    result = recommend_credit_limit(inputs, policy)
    assert purchase_need(inputs, policy) == pytest.approx(10_000 * (1 + policy.peak_buffer_months))
    assert result.recommended_limit == 15_000
    assert result.binding == "profit"
    assert result.risk_class == "A" and result.review_days == 365


def test_high_risk_customer_is_capped_by_expected_loss(policy: CreditLimitPolicy) -> None:
    inputs = CreditInputs(
        annual_purchases=120_000, payment_terms_days=30, p_default=0.4, current_limit=10_000
    )
    result = recommend_credit_limit(inputs, policy)
    cap = (
        policy.max_expected_loss_share_of_margin
        * policy.gross_margin
        * 120_000
        / (0.4 * policy.loss_given_default)
    )
    assert result.binding == "loss_cap"
    assert result.recommended_limit == pytest.approx(math.floor(cap / policy.rounding) * policy.rounding)
    assert result.risk_class == "D" and result.review_days == 30


def test_step_up_is_bounded(policy: CreditLimitPolicy) -> None:
    inputs = CreditInputs(
        annual_purchases=1_200_000, payment_terms_days=60, p_default=0.01, current_limit=20_000
    )
    result = recommend_credit_limit(inputs, policy)
    assert result.binding == "step_up"
    assert result.recommended_limit == 20_000 * (1 + policy.max_step_up)


def test_the_need_maximises_profit_when_margin_covers_the_risk(policy: CreditLimitPolicy) -> None:
    inputs = CreditInputs(annual_purchases=240_000, payment_terms_days=30, p_default=0.05)
    need = purchase_need(inputs, policy)
    assert expected_profit(need, inputs, policy) > expected_profit(need * 0.5, inputs, policy)
    assert expected_profit(need, inputs, policy) > expected_profit(need * 1.5, inputs, policy)


def test_requested_limit_above_the_cap_is_not_approvable(policy: CreditLimitPolicy) -> None:
    inputs = CreditInputs(
        annual_purchases=120_000, payment_terms_days=30, p_default=0.4, current_limit=10_000
    )
    ok, why = assess_requested_limit(14_000, inputs, policy)
    assert not ok and "cap" in why
    ok, _ = assess_requested_limit(6_000, inputs, policy)
    assert ok


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_probability_outside_unit_interval_is_refused(policy: CreditLimitPolicy, p: float) -> None:
    with pytest.raises(ValidationError, match="p_default"):
        recommend_credit_limit(CreditInputs(1000, 30, p), policy)


def test_bad_policy_file_names_the_file(tmp_path) -> None:
    bad = tmp_path / "credit.yaml"
    bad.write_text("version: '1'\ngross_margin: 2\n")
    with pytest.raises(ValidationError, match="credit.yaml"):
        load_policy(bad)
