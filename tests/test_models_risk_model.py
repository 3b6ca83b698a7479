"""Model tier: RiskModel contract, calibration, SHAP additivity and behaviour (monotone, id-blind)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from arrisk.errors import ValidationError
from models.payment_date import PaymentDateModel
from models.risk_model import RiskModel, default_monotone


def book(n: int = 2000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "days_past_due_max": rng.integers(0, 120, n).astype(float),
            "share_late": rng.random(n),
            "open_amount": rng.lognormal(8, 1, n),
            "tenure_days": rng.integers(30, 2000, n).astype(float),
        }
    )
    logit = -2.5 + 0.025 * X.days_past_due_max + 2.0 * X.share_late - 0.0005 * X.tenure_days
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted() -> tuple[RiskModel, pd.DataFrame, np.ndarray]:
    X, y = book()
    return RiskModel("default_risk").fit(X, y, feature_set_version="test-1"), X, y


def test_unfitted_model_raises_not_fitted() -> None:
    X, _ = book(50)
    with pytest.raises(NotFittedError):
        RiskModel().predict_proba(X)


def test_fitted_attributes_and_probabilities(fitted) -> None:
    model, X, y = fitted
    proba = model.predict_proba(X)
    assert proba.shape == (len(X),)
    assert ((proba > 0) & (proba < 1)).all()
    assert model.feature_names_ == list(X.columns)
    assert model.feature_set_version_ == "test-1" and model.name_ == "default_risk"
    # calibrated on out-of-fold margins: the mean probability matches the base rate closely
    assert proba.mean() == pytest.approx(y.mean(), abs=0.03)


def test_shap_contributions_sum_to_raw_margin(fitted) -> None:
    model, X, _ = fitted
    contrib, base = model.explain(X.head(50))
    assert list(contrib.columns) == model.feature_names_
    np.testing.assert_allclose(
        contrib.sum(axis=1).to_numpy() + base, model.predict_raw(X.head(50)), atol=1e-9
    )


@pytest.mark.parametrize("feature", ["days_past_due_max", "share_late"])
def test_more_lateness_never_lowers_risk(fitted, feature: str) -> None:
    model, X, _ = fitted
    rows = X.sample(200, random_state=1)
    base = model.predict_proba(rows)
    for bump in (1.0, 10.0, 60.0) if feature.startswith("days") else (0.05, 0.2, 0.5):
        worse = rows.assign(**{feature: rows[feature] + bump})
        assert (model.predict_proba(worse) >= base - 1e-12).all()
        assert (model.predict_raw(worse) >= model.predict_raw(rows) - 1e-12).all()


def test_shuffling_customer_ids_changes_nothing(fitted) -> None:
    model, X, _ = fitted
    ids = pd.Series([f"C{i:05d}" for i in range(len(X))])
    frame = X.assign(customer_id=ids)
    shuffled = frame.assign(customer_id=ids.sample(frac=1, random_state=3).to_numpy())
    np.testing.assert_array_equal(model.predict_proba(frame), model.predict_proba(shuffled))


def test_same_data_same_seed_same_model() -> None:
    X, y = book(800, seed=5)
    a = RiskModel(calibration="platt").fit(X, y).predict_proba(X)
    b = RiskModel(calibration="platt").fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)


def test_missing_feature_and_bad_labels_are_named() -> None:
    X, y = book(300)
    model = RiskModel().fit(X, y)
    with pytest.raises(ValidationError, match="share_late"):
        model.predict_proba(X.drop(columns="share_late"))
    with pytest.raises(ValidationError, match="one class"):
        RiskModel().fit(X, np.zeros(len(X)))


def test_default_monotone_picks_lateness_features() -> None:
    names = ["days_past_due_max", "share_late_12m", "open_amount", "days_past_due_30d"]
    assert default_monotone(names) == {"days_past_due_max": 1, "share_late_12m": 1, "days_past_due_30d": 1}


def test_payment_date_quantiles_are_ordered_and_cover() -> None:
    rng = np.random.default_rng(2)
    X = pd.DataFrame({"avg_days_late": rng.normal(5, 10, 3000), "amount": rng.lognormal(7, 1, 3000)})
    days = X.avg_days_late + rng.normal(0, 5, 3000)
    model = PaymentDateModel(num_boost_round=150).fit(X.iloc[:2000], days[:2000])
    q = model.predict_quantiles(X.iloc[2000:])
    assert list(q.columns) == ["p10", "p50", "p90"]
    assert (q.p10 <= q.p50).all() and (q.p50 <= q.p90).all()
    inside = ((days[2000:] >= q.p10) & (days[2000:] <= q.p90)).mean()
    assert 0.7 <= inside <= 0.9
