"""Model monitoring: drift, outcome performance, the retraining loop. Nothing heavy is imported here.

API for the service and the demo (import the submodule where used):
``reports.latest_drift_summary(settings, model=None) -> dict``, ``reports.latest_drift_report_path(settings,
model=None) -> Path`` (NotFoundError when none), ``reports.drift_summary_text(summary) -> str``;
``performance.performance_series(engine, model=None) -> list[dict]``, ``performance.performance_text``;
``scores.record_served_scores(engine, *, model_name, model_version, as_of, entity, frame[entity_id,
probability])`` (batch scoring calls it); ``runs.run_drift(frames, *, as_of, model_name, settings)``;
``check.run_check(settings, *, policy, engine)``; thresholds in ``policies/monitoring.yaml``
(``policy.load_policy``). Evidently is imported inside ``drift.evidently_drift`` only.
"""
