"""Monitoring through the API: 404 before any drift run, then the newest summary and Evidently report
written by the real drift code, and the stored realised-performance series."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from tests.test_serving_routes_base import Served, serve_book


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_book(tmp_path_factory.mktemp("monitoring") / "home")


URLS = ["/v1/monitoring/drift", "/v1/monitoring/drift/report", "/v1/monitoring/performance"]


@pytest.mark.parametrize("url", URLS)
def test_before_any_drift_run_every_endpoint_is_404_with_the_command_to_run(served: Served, url: str) -> None:
    response = served.get(url, role="data_scientist", params={"model": "default_risk"})
    assert response.status_code == 404, response.text
    message = response.json()["error"]["message"]
    assert "default_risk" in message and "arrisk monitor" in message


@pytest.mark.parametrize(
    ("url", "role", "params", "status"),
    [
        (URLS[0], "collector", {}, 403),
        (URLS[1], "collector", {}, 403),
        (URLS[2], "collector", {}, 403),
        (URLS[0], None, {}, 401),
        (URLS[0], "admin", {"model": "../../etc"}, 422),
        (URLS[1], "admin", {"model": "*"}, 422),
        (URLS[2], "admin", {"model": "x" * 65}, 422),
    ],
)
def test_monitoring_errors(
    served: Served, url: str, role: str | None, params: dict[str, str], status: int
) -> None:
    response = served.get(url, role=role, params=params)
    assert response.status_code == status, response.text
    if status == 422:
        assert response.json()["fields"][0]["field"] == "model"


@pytest.fixture(scope="module")
def drift_summary(served: Served) -> dict[str, object]:
    """One drift check through the real code path: PSI and the Evidently HTML report under reports/."""
    from training.monitoring.runs import drift_between

    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"days_past_due": rng.normal(10, 3, 400), "open_amount": rng.gamma(2, 500, 400)})
    current = pd.DataFrame({"days_past_due": rng.normal(25, 3, 400), "open_amount": rng.gamma(2, 500, 400)})
    return drift_between(
        reference,
        current,
        settings=served.settings,
        meta={"model": "late_payment", "version": 3, "as_of": "2025-06-30", "entity": "invoice"},
        log_to_mlflow=False,
    )


def test_drift_summary_is_the_newest_run_with_psi_per_feature(served: Served, drift_summary: dict) -> None:
    response = served.get("/v1/monitoring/drift", role="credit_analyst", params={"model": "late_payment"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model"] == "late_payment" and body["version"] == 3 and body["as_of"] == "2025-06-30"
    assert body["has_report"] is True and body["n_drifted"] == drift_summary["n_drifted"]
    psi = {f["feature"]: f for f in body["features"]}
    assert psi["days_past_due"]["drifted"] and psi["days_past_due"]["psi"] > psi["open_amount"]["psi"]
    assert psi["days_past_due"]["psi"] == pytest.approx(drift_summary["features"][0]["psi"])
    assert "report_html" not in body  # the server's paths stay on the server
    assert served.get("/v1/monitoring/drift", params={"model": "default_risk"}).status_code == 404
    assert served.get("/v1/monitoring/drift", role="data_scientist").json()["model"] == "late_payment"


def test_drift_report_is_the_evidently_html(served: Served, drift_summary: dict) -> None:
    response = served.get(
        "/v1/monitoring/drift/report", role="data_scientist", params={"model": "late_payment"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "<html" in response.text[:2000].lower() and len(response.content) > 1000
    info = served.get(
        "/v1/monitoring/drift/report",
        params={"model": "late_payment"},
        headers={"Accept": "application/json"},
    )
    assert info.json() == {
        "model": "late_payment",
        "as_of": "2025-06-30",
        "created_at": info.json()["created_at"],
        "media_type": "text/html",
        "size_bytes": len(response.content),
    }


def test_performance_series_returns_the_stored_months(served: Served) -> None:
    from training.monitoring.performance import period_metrics
    from training.monitoring.policy import PerformancePolicy
    from training.monitoring.results import save_result

    rng = np.random.default_rng(1)
    policy = PerformancePolicy(min_labelled=50, min_bad=5)
    expected = {}
    for period in ("2025-04", "2025-05"):
        p = rng.uniform(0, 1, 300)
        rows = pd.DataFrame(
            {
                "probability": p,
                "outcome": (rng.uniform(0, 1, 300) < p).astype(float),
                "as_of": pd.Timestamp(period),
            }
        )
        payload = {
            "model": "default_risk",
            "version": 2,
            "period": period,
            **period_metrics(rows, policy=policy),
        }
        save_result(
            served.engine, kind="performance", model="default_risk", version=2, period=period, payload=payload
        )
        expected[period] = payload
    response = served.get(
        "/v1/monitoring/performance", role="data_scientist", params={"model": "default_risk"}
    )
    assert response.status_code == 200, response.text
    points = response.json()["points"]
    assert [p["period"] for p in points] == ["2025-04", "2025-05"]
    for point in points:
        assert point["roc_auc"] == pytest.approx(expected[point["period"]]["roc_auc"])
        assert point["n_scored"] == 300 and point["judged"] is True and point["version"] == 2
    assert served.get("/v1/monitoring/performance", params={"model": "late_payment"}).status_code == 404
