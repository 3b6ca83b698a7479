"""Credit-limit policy as pure functions: the limit that maximises expected profit under a cap on
expected loss, moved in bounded steps from the current limit, with a review date by risk class.

Economics (base currency, one year): a limit ``L`` lets the customer buy up to its need
``N = monthly purchases * (terms / 30 + peak buffer months)``; sales kept are ``P * min(1, L / N)``
and earn the gross margin; if the customer defaults (probability ``p``) the loss is
``LGD * L`` (it is assumed to draw the whole limit). Expected profit is
``margin * P * min(1, L / N) - p * LGD * L``; expected loss ``p * LGD * L`` is capped. Parameters
live in ``policies/credit_limit.yaml``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, field_validator

from arrisk.errors import ValidationError

DEFAULT_POLICY = Path(__file__).resolve().parents[1] / "policies" / "credit_limit.yaml"


class RiskClass(BaseModel):
    name: str
    max_p_default: float = Field(gt=0, le=1)
    review_days: int = Field(gt=0)


class CreditLimitPolicy(BaseModel):
    """The tunable parameters; see the YAML for what each one means."""

    version: str
    gross_margin: float = Field(gt=0, le=1)
    loss_given_default: float = Field(gt=0, le=1)
    peak_buffer_months: float = Field(ge=0)
    max_expected_loss_share_of_margin: float = Field(gt=0)
    max_expected_loss: float = Field(gt=0)
    max_limit: float = Field(gt=0)
    rounding: float = Field(gt=0)
    max_step_up: float = Field(ge=0)
    max_step_down: float = Field(ge=0, le=1)
    initial_limit_cap: float = Field(ge=0)
    risk_classes: list[RiskClass]

    @field_validator("risk_classes")
    @classmethod
    def _classes_cover_all(cls, value: list[RiskClass]) -> list[RiskClass]:
        bounds = [c.max_p_default for c in value]
        if not value or bounds != sorted(bounds) or bounds[-1] < 1.0:
            raise ValueError(f"risk_classes must be sorted by max_p_default and end at 1.0, got {bounds}")
        return value


def load_policy(path: Path | str | None = None) -> CreditLimitPolicy:
    """Parse the versioned YAML; a bad value raises ValidationError naming the file and field."""
    source = Path(path) if path else DEFAULT_POLICY
    try:
        return CreditLimitPolicy.model_validate(yaml.safe_load(source.read_text()))
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise ValidationError(f"credit-limit policy {source}: {err}") from err


@dataclass(frozen=True)
class CreditInputs:
    """What the policy needs about one customer, amounts in base currency."""

    annual_purchases: float
    payment_terms_days: float
    p_default: float
    current_limit: float | None = None


@dataclass(frozen=True)
class CreditLimitResult:
    recommended_limit: float
    profit_optimal_limit: float
    loss_cap_limit: float
    step_low: float
    step_high: float
    binding: str  # profit | loss_cap | max_limit | step_up | step_down | initial_cap
    expected_profit: float
    expected_loss: float
    need: float
    risk_class: str
    review_days: int


def purchase_need(inputs: CreditInputs, policy: CreditLimitPolicy) -> float:
    """The balance the customer carries when buying at its usual pace on its terms, plus a peak buffer."""
    monthly = max(inputs.annual_purchases, 0.0) / 12.0
    return monthly * (max(inputs.payment_terms_days, 0.0) / 30.0 + policy.peak_buffer_months)


def expected_profit(limit: float, inputs: CreditInputs, policy: CreditLimitPolicy) -> float:
    need = purchase_need(inputs, policy)
    served = 1.0 if need <= 0 else min(1.0, limit / need)
    margin = policy.gross_margin * max(inputs.annual_purchases, 0.0) * served
    return margin - expected_loss(limit, inputs, policy)


def expected_loss(limit: float, inputs: CreditInputs, policy: CreditLimitPolicy) -> float:
    return inputs.p_default * policy.loss_given_default * limit


def loss_cap_limit(inputs: CreditInputs, policy: CreditLimitPolicy) -> float:
    """The largest limit whose expected loss stays under both caps."""
    annual_margin = policy.gross_margin * max(inputs.annual_purchases, 0.0)
    cap = min(policy.max_expected_loss_share_of_margin * annual_margin, policy.max_expected_loss)
    per_unit = inputs.p_default * policy.loss_given_default
    return math.inf if per_unit <= 0 else cap / per_unit


def profit_optimal_limit(inputs: CreditInputs, policy: CreditLimitPolicy) -> float:
    """Profit is piecewise linear in the limit with a kink at the need: the optimum is 0 or the need."""
    need = purchase_need(inputs, policy)
    candidates = sorted({0.0, need})
    best = max(expected_profit(c, inputs, policy) for c in candidates)
    return next(c for c in candidates if expected_profit(c, inputs, policy) >= best - 1e-9)


def risk_class(p_default: float, policy: CreditLimitPolicy) -> RiskClass:
    return next(c for c in policy.risk_classes if p_default <= c.max_p_default)


def step_bounds(current_limit: float | None, policy: CreditLimitPolicy) -> tuple[float, float]:
    """How far one review may move the limit: a share of the current one, or the initial cap."""
    if not current_limit or current_limit <= 0:
        return 0.0, policy.initial_limit_cap
    return current_limit * (1 - policy.max_step_down), current_limit * (1 + policy.max_step_up)


def _round_within(value: float, low: float, high: float, unit: float) -> float:
    down = math.floor(value / unit + 1e-9) * unit
    floor_of_range = math.ceil(low / unit - 1e-9) * unit
    if down < floor_of_range <= high:
        return floor_of_range
    return down


def recommend_credit_limit(inputs: CreditInputs, policy: CreditLimitPolicy) -> CreditLimitResult:
    """The recommended limit and which rule set it; never higher for a riskier customer, all else equal."""
    if not 0.0 <= inputs.p_default <= 1.0:
        raise ValidationError(f"p_default must be within [0, 1], got {inputs.p_default}")
    optimal = profit_optimal_limit(inputs, policy)
    cap = loss_cap_limit(inputs, policy)
    target, binding = min((optimal, "profit"), (cap, "loss_cap"), (policy.max_limit, "max_limit"))
    low, high = step_bounds(inputs.current_limit, policy)
    if target > high:
        target, binding = high, "initial_cap" if not inputs.current_limit else "step_up"
    elif target < low:
        target, binding = low, "step_down"
    limit = _round_within(target, low, high, policy.rounding)
    klass = risk_class(inputs.p_default, policy)
    return CreditLimitResult(
        recommended_limit=limit,
        profit_optimal_limit=optimal,
        loss_cap_limit=cap,
        step_low=low,
        step_high=high,
        binding=binding,
        expected_profit=expected_profit(limit, inputs, policy),
        expected_loss=expected_loss(limit, inputs, policy),
        need=purchase_need(inputs, policy),
        risk_class=klass.name,
        review_days=klass.review_days,
    )


def review_date(as_of: dt.date, result: CreditLimitResult) -> dt.date:
    return as_of + dt.timedelta(days=result.review_days)


def assess_requested_limit(
    requested: float, inputs: CreditInputs, policy: CreditLimitPolicy
) -> tuple[bool, str]:
    """Whether a requested limit stays within the loss cap and the step bounds, and why not."""
    cap = loss_cap_limit(inputs, policy)
    low, high = step_bounds(inputs.current_limit, policy)
    if requested > cap:
        return False, f"expected loss at {requested:,.0f} exceeds the cap (limit at most {cap:,.0f})"
    if requested > min(high, policy.max_limit):
        return (
            False,
            f"{requested:,.0f} is above what one review may grant ({min(high, policy.max_limit):,.0f})",
        )
    if requested < low:
        return False, f"{requested:,.0f} is a larger cut than one review allows (at least {low:,.0f})"
    return True, f"{requested:,.0f} is within the expected-loss cap and the step bounds"


def describe(result: CreditLimitResult, inputs: CreditInputs, policy: CreditLimitPolicy) -> list[str]:
    """The reasons behind a recommendation, in words a credit analyst reads."""
    monthly = inputs.annual_purchases / 12.0
    out = [
        f"buys about {monthly:,.0f} a month on {inputs.payment_terms_days:.0f}-day terms: "
        f"needs a limit of about {result.need:,.0f}",
        f"probability of default {inputs.p_default:.1%} (risk class {result.risk_class}, "
        f"review every {result.review_days} days)",
    ]
    rules = {
        "profit": "the customer's need maximises expected profit",
        "loss_cap": f"capped so that expected loss stays under the policy cap ({result.loss_cap_limit:,.0f})",
        "max_limit": f"capped at the policy maximum {policy.max_limit:,.0f}",
        "step_up": f"raised at most {policy.max_step_up:.0%} per review (to {result.step_high:,.0f})",
        "step_down": f"lowered at most {policy.max_step_down:.0%} per review (to {result.step_low:,.0f})",
        "initial_cap": f"a first limit is at most {policy.initial_limit_cap:,.0f}",
    }
    out.append(rules[result.binding])
    out.append(
        f"expected profit {result.expected_profit:,.0f}, expected loss {result.expected_loss:,.0f} a year"
    )
    return out
