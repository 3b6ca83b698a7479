"""Model and policy objects; stable API that serving loads (keep in step with the registry).

``models.risk_model.RiskModel(name, *, params, num_boost_round, early_stopping_rounds, calibration,
n_folds, monotone, random_state)`` — scikit-learn style. ``fit(X, y, *, eval_set=None, groups=None,
feature_set_version=..., dask_client=None)`` (early stopping on eval_set, else K-fold; log-loss metric).
Fitted attributes: ``booster_`` (lightgbm.Booster), ``calibrator_``
(isotonic | platt, fitted on out-of-fold raw margins), ``feature_names_``, ``feature_set_version_``,
``name_`` ('late_payment' | 'default_risk'), ``metrics_`` (dict set by the training job),
``monotone_constraints_``, ``best_iteration_``, ``base_rate_``. Methods: ``predict_proba(X) -> 1-D``
calibrated probability of the bad outcome (the served number); ``predict_raw(X)`` raw margin;
``explain(X) -> (DataFrame of SHAP contributions per feature, base_value)`` with
contributions.sum(axis=1) + base_value == predict_raw(X). Unfitted use raises NotFittedError; a missing
feature raises arrisk.errors.ValidationError naming it. Extra columns (customer_id ...) are ignored.

``models.payment_date.PaymentDateModel`` — ``fit(X, days_late)``, ``predict_quantiles(X) ->
DataFrame[p10, p50, p90]`` of days late (negative = early), never crossing.

``models.registry`` — ``load_champion(name, tracking_uri=None) -> LoadedModel(name, alias, version,
run_id, model, trained_at, feature_set_version, metrics)``; ``load_model(name, alias)``; registered names
``late_payment``, ``default_risk``, ``payment_date``; aliases ``champion`` / ``challenger``. Models are
logged as MLflow pyfunc (predict returns probabilities, or the quantile frame) with signature, input
example and pinned pip requirements; ``pyfunc.unwrap_python_model().model`` is the object above.
"""
