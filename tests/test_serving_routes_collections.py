"""Promises, disputes, payment plans, activities and write-offs through the API (real SQLite store)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from arrisk.store.tables import AuditLog, CreditNote, Promise, WriteOff
from tests.test_serving_routes_base import Served, serve_book


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_book(tmp_path_factory.mktemp("collections") / "home")


PROMISE = {
    "amount": "500.00",
    "promised_date": "2025-03-20",
    "created_at": "2025-03-01",
    "invoice_ids": ["I101"],
}
DISPUTE = {"invoice_ids": ["I102"], "reason": "price", "opened_at": "2025-03-02", "amount": "95.00"}
PLAN = {
    "invoice_ids": ["I201", "I202"],
    "created_at": "2025-03-01",
    "installments": [
        {"due_date": "2025-03-15", "amount": "1000"},
        {"due_date": "2025-04-15", "amount": "1500"},
    ],
}
ACTIVITY = {
    "kind": "call",
    "outcome": "promised",
    "occurred_at": "2025-03-01T10:00:00Z",
    "next_follow_up": "2025-03-05",
}


def _audit(served: Served, action: str, entity_id: str) -> list[AuditLog]:
    with served.engine.connect() as conn:
        return list(
            conn.execute(select(AuditLog).where(AuditLog.action == action, AuditLog.entity_id == entity_id))
        )


# ------------------------------------------------------------------ promises
def test_collector_records_and_lists_a_promise_for_their_customer(served: Served) -> None:
    created = served.post("/v1/customers/C001/promises", role="collector", json=PROMISE)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["customer_id"] == "C001" and body["status"] == "open" and body["currency"] == "EUR"
    assert Decimal(body["amount"]) == Decimal("500.00") and body["invoice_ids"] == ["I101"]
    [entry] = _audit(served, "promise.create", body["promise_id"])
    assert entry.actor == served.user_ids["collector"]
    for role in ("collector", "data_scientist", "credit_analyst"):
        listed = served.get("/v1/customers/C001/promises", role=role)
        assert listed.status_code == 200
        assert body["promise_id"] in [p["promise_id"] for p in listed.json()]


def test_a_collector_cannot_see_or_write_another_collectors_customer(served: Served) -> None:
    with served.engine.connect() as conn:
        before = conn.execute(select(func.count()).select_from(Promise)).scalar()
    for url in ("promises", "disputes", "payment-plans", "activities", "dunning"):
        response = served.get(f"/v1/customers/C003/{url}", role="collector")
        assert response.status_code == 404, (url, response.text)
        assert "C003" in response.json()["error"]["message"]
    bodies = {"promises": PROMISE, "disputes": DISPUTE, "payment-plans": PLAN, "activities": ACTIVITY}
    for url, body in bodies.items():
        assert served.post(f"/v1/customers/C003/{url}", role="collector", json=body).status_code == 404, url
    with served.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Promise)).scalar() == before
    # the other collector does see it
    assert served.get("/v1/customers/C003/promises", role="collector2").status_code == 200


@pytest.mark.parametrize(
    ("role", "customer", "body", "status", "field"),
    [
        (None, "C001", PROMISE, 401, None),
        ("data_scientist", "C001", PROMISE, 403, None),
        ("credit_analyst", "C999", PROMISE, 404, None),
        ("credit_analyst", "C001", {k: v for k, v in PROMISE.items() if k != "amount"}, 422, "amount"),
        ("credit_analyst", "C001", PROMISE | {"amount": "-5"}, 422, "amount"),
        ("credit_analyst", "C001", PROMISE | {"amount": "1.234"}, 422, "amount"),
        ("credit_analyst", "C001", PROMISE | {"promised_date": "1200-01-01"}, 422, "promised_date"),
        ("credit_analyst", "C001", PROMISE | {"currency": "euro"}, 422, "currency"),
        ("credit_analyst", "C001", PROMISE | {"promised_date": "2025-02-01"}, 422, None),  # before created_at
        ("credit_analyst", "C001", PROMISE | {"invoice_ids": ["I301"]}, 422, None),  # C003's invoice
        ("credit_analyst", "C001", PROMISE | {"invoice_ids": ["NOPE"]}, 404, None),
    ],
)
def test_promise_errors(
    served: Served, role: str | None, customer: str, body: dict[str, Any], status: int, field: str | None
) -> None:
    response = served.post(f"/v1/customers/{customer}/promises", role=role, json=body)
    assert response.status_code == status, response.text
    error = response.json()
    assert error["error"]["message"] and "Traceback" not in response.text
    if field:
        assert field in [f["field"] for f in error["fields"]]


# ------------------------------------------------------------------ disputes
def test_dispute_is_opened_listed_and_resolved_with_a_credit_note(served: Served) -> None:
    opened = served.post("/v1/customers/C001/disputes", role="collector", json=DISPUTE)
    assert opened.status_code == 201, opened.text
    [dispute] = opened.json()
    assert dispute["invoice_id"] == "I102" and dispute["status"] == "open"
    assert dispute["owner"] == served.user_ids["collector"]
    listed = served.get(
        "/v1/customers/C001/disputes", role="data_scientist", params={"status": "open"}
    ).json()
    assert dispute["dispute_id"] in [d["dispute_id"] for d in listed]

    url = f"/v1/disputes/{dispute['dispute_id']}/resolve"
    resolution = {"outcome": "credit_note", "credit_amount": "95.00", "resolved_at": "2025-03-10"}
    assert served.post(url, role="collector2", json=resolution).status_code == 404  # not their customer
    assert served.post(url, role="data_scientist", json=resolution).status_code == 403
    resolved = served.post(url, role="credit_analyst", json=resolution)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "resolved" and resolved.json()["outcome"] == "credit_note"
    with served.engine.connect() as conn:
        note = conn.execute(select(CreditNote).where(CreditNote.invoice_id == "I102")).one()
    assert note.amount == Decimal("95.00")
    again = served.post(url, role="credit_analyst", json=resolution)
    assert again.status_code == 409 and "already resolved" in again.json()["error"]["message"]
    still = served.get("/v1/customers/C001/disputes", role="collector", params={"status": "resolved"}).json()
    assert [d["dispute_id"] for d in still] == [dispute["dispute_id"]]


@pytest.mark.parametrize(
    ("url", "role", "body", "status", "field"),
    [
        ("/v1/customers/C001/disputes", "collector", DISPUTE | {"invoice_ids": []}, 422, "invoice_ids"),
        ("/v1/customers/C001/disputes", "collector", DISPUTE | {"reason": ""}, 422, "reason"),
        ("/v1/customers/C001/disputes", "collector", DISPUTE | {"deadline": "2025-01-01"}, 422, None),
        ("/v1/customers/C001/disputes", "data_scientist", DISPUTE, 403, None),
        ("/v1/customers/C001/disputes", None, DISPUTE, 401, None),
        ("/v1/disputes/D-NOPE/resolve", "admin", {"outcome": "rejected"}, 404, None),
        ("/v1/disputes/D-NOPE/resolve", "admin", {"outcome": "lost"}, 422, "outcome"),
        ("/v1/disputes/D-NOPE/resolve", "admin", {"outcome": "rejected", "credit_amount": "5"}, 422, None),
    ],
)
def test_dispute_errors(
    served: Served, url: str, role: str | None, body: dict[str, Any], status: int, field: str | None
) -> None:
    response = served.post(url, role=role, json=body)
    assert response.status_code == status, response.text
    if field:
        assert field in [f["field"] for f in response.json()["fields"]]


def test_disputes_list_rejects_an_unknown_status(served: Served) -> None:
    response = served.get("/v1/customers/C001/disputes", params={"status": "pending"})
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "status"


# ------------------------------------------------------------------ payment plans
def test_payment_plan_is_created_and_listed_with_its_installments(served: Served) -> None:
    created = served.post("/v1/customers/C002/payment-plans", role="collector", json=PLAN)
    assert created.status_code == 201, created.text
    plan = created.json()
    assert plan["status"] == "current" and [i["seq"] for i in plan["installments"]] == [1, 2]
    listed = served.get("/v1/customers/C002/payment-plans", role="data_scientist").json()
    [same] = [p for p in listed if p["plan_id"] == plan["plan_id"]]
    assert [Decimal(i["amount"]) for i in same["installments"]] == [Decimal("1000"), Decimal("1500")]
    assert _audit(served, "payment_plan.create", plan["plan_id"])


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        (PLAN | {"installments": list(reversed(PLAN["installments"]))}, 422, None),  # dates not increasing
        (PLAN | {"installments": []}, 422, "installments"),
        (PLAN | {"installments": [{"due_date": "2025-03-15", "amount": "0"}]}, 422, "installments.0.amount"),
        (PLAN | {"invoice_ids": ["I101"]}, 422, None),  # C001's invoice
        (PLAN | {"created_at": "2025-04-01"}, 422, None),  # first installment before the plan
    ],
)
def test_payment_plan_errors(served: Served, body: dict[str, Any], status: int, field: str | None) -> None:
    response = served.post("/v1/customers/C002/payment-plans", role="credit_analyst", json=body)
    assert response.status_code == status, response.text
    if field:
        assert field in [f["field"] for f in response.json()["fields"]]


# ------------------------------------------------------------------ activities
def test_activities_are_logged_and_listed_newest_first(served: Served) -> None:
    first = served.post("/v1/customers/C002/activities", role="collector", json=ACTIVITY)
    later = served.post(
        "/v1/customers/C002/activities",
        role="collector",
        json={"kind": "note", "note": "left a voicemail", "occurred_at": "2025-03-03T09:00:00"},
    )
    assert first.status_code == later.status_code == 201, (first.text, later.text)
    assert first.json()["user_id"] == served.user_ids["collector"]
    listed = served.get("/v1/customers/C002/activities", role="collector", params={"limit": 2}).json()
    assert [a["activity_id"] for a in listed] == [later.json()["activity_id"], first.json()["activity_id"]]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (ACTIVITY | {"kind": "fax"}, "kind"),
        (ACTIVITY | {"next_follow_up": "2025-02-01"}, None),  # before the activity
        (ACTIVITY | {"occurred_at": "1800-01-01T00:00:00Z"}, "occurred_at"),
        (ACTIVITY | {"outcome": "x" * 65}, "outcome"),
    ],
)
def test_activity_errors(served: Served, body: dict[str, Any], field: str | None) -> None:
    response = served.post("/v1/customers/C002/activities", role="collector", json=body)
    assert response.status_code == 422, response.text
    if field:
        assert field in [f["field"] for f in response.json()["fields"]]


def test_activity_list_limit_is_bounded(served: Served) -> None:
    response = served.get("/v1/customers/C002/activities", params={"limit": 0})
    assert response.status_code == 422 and response.json()["fields"][0]["field"] == "limit"


# ------------------------------------------------------------------ write-offs
def test_write_off_needs_a_second_person_to_approve(served: Served) -> None:
    requested = served.post(
        "/v1/write-offs", role="credit_analyst", json={"invoice_id": "I401", "amount": "400.00"}
    )
    assert requested.status_code == 201, requested.text
    wo = requested.json()
    assert wo["status"] == "requested" and wo["requested_by"] == served.user_ids["credit_analyst"]
    url = f"/v1/write-offs/{wo['write_off_id']}"
    own = served.post(f"{url}/approve", role="credit_analyst")
    assert own.status_code == 403 and "cannot approve" in own.json()["error"]["message"]
    assert served.post(f"{url}/approve", role="collector2").status_code == 403
    assert served.post(f"{url}/approve", role="data_scientist").status_code == 403
    approved = served.post(f"{url}/approve", role="credit_analyst2")
    assert approved.status_code == 200, approved.text
    assert (
        approved.json()["status"] == "approved"
        and approved.json()["approved_by"] == served.user_ids["credit_analyst2"]
    )
    assert served.post(f"{url}/reject", role="admin").status_code == 409
    assert _audit(served, "write_off.approve", wo["write_off_id"])


def test_write_off_can_be_rejected_and_then_frees_the_open_amount(served: Served) -> None:
    body = {"invoice_id": "I402", "amount": "1.00"}
    assert served.post("/v1/write-offs", role="admin", json=body).status_code == 404  # no such invoice
    first = served.post(
        "/v1/write-offs", role="admin", json={"invoice_id": "I103", "amount": "595.00"}
    ).json()
    too_much = served.post("/v1/write-offs", role="admin", json={"invoice_id": "I103", "amount": "1.00"})
    assert too_much.status_code == 422 and "open amount" in too_much.json()["error"]["message"]
    rejected = served.post(f"/v1/write-offs/{first['write_off_id']}/reject", role="credit_analyst")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert (
        served.post("/v1/write-offs", role="admin", json={"invoice_id": "I103", "amount": "1.00"}).status_code
        == 201
    )


def test_collectors_request_and_list_write_offs_only_in_their_portfolio(served: Served) -> None:
    body = {"invoice_id": "I302", "amount": "30.00", "recovery_status": "pursuing"}
    assert served.post("/v1/write-offs", role="collector", json=body).status_code == 404  # C003 is col-2's
    mine = served.post("/v1/write-offs", role="collector2", json=body)
    assert mine.status_code == 201, mine.text
    seen_by_2 = {w["write_off_id"] for w in served.get("/v1/write-offs", role="collector2").json()}
    seen_by_1 = {w["write_off_id"] for w in served.get("/v1/write-offs", role="collector").json()}
    everyone = {w["write_off_id"] for w in served.get("/v1/write-offs", role="data_scientist").json()}
    assert mine.json()["write_off_id"] in seen_by_2 and mine.json()["write_off_id"] not in seen_by_1
    with served.engine.connect() as conn:
        assert everyone == set(conn.execute(select(WriteOff.write_off_id)).scalars())
    requested = served.get(
        "/v1/write-offs", role="admin", params={"status": "requested", "customer_id": "C003"}
    )
    assert [w["write_off_id"] for w in requested.json()] == [mine.json()["write_off_id"]]
    assert served.get("/v1/write-offs", role="collector", params={"customer_id": "C003"}).status_code == 404


@pytest.mark.parametrize(
    ("method", "url", "role", "body", "status"),
    [
        ("post", "/v1/write-offs", None, {"invoice_id": "I101", "amount": "1"}, 401),
        ("post", "/v1/write-offs", "data_scientist", {"invoice_id": "I101", "amount": "1"}, 403),
        ("post", "/v1/write-offs", "admin", {"invoice_id": "I101"}, 422),
        (
            "post",
            "/v1/write-offs",
            "admin",
            {"invoice_id": "I101", "amount": "1", "recovery_status": "x"},
            422,
        ),
        ("post", "/v1/write-offs/WO-NOPE/approve", "admin", None, 404),
        ("post", "/v1/write-offs/WO-NOPE/reject", "credit_analyst", None, 404),
        ("get", "/v1/write-offs?status=maybe", "admin", None, 422),
        ("get", "/v1/write-offs?offset=-1", "admin", None, 422),
    ],
)
def test_write_off_errors(
    served: Served, method: str, url: str, role: str | None, body: Any, status: int
) -> None:
    kwargs = {"json": body} if body is not None else {}
    response = getattr(served, method)(url, role=role, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
