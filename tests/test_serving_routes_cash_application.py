"""Cash application through the API: statement upload (idempotent), the exceptions queue, manual
resolution and reversal of automatic allocations, against a real SQLite store."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from arrisk.store.tables import Allocation, AuditLog, Payment
from tests.test_serving_routes_base import STATEMENTS, Served, serve_book


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_book(tmp_path_factory.mktemp("cashapp") / "home")


def _upload(
    served: Served, name: str, role: str | None = "credit_analyst", content: bytes | None = None
) -> Any:
    data = (STATEMENTS / name).read_bytes() if content is None else content
    return served.post("/v1/cash-application/statements", role=role, files={"file": (name, data)})


def _count(served: Served, table: Any) -> int:
    with served.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar() or 0)


def _open_exceptions(served: Served) -> list[dict[str, Any]]:
    page = served.get("/v1/cash-application/exceptions", role="data_scientist", params={"limit": 1000})
    assert page.status_code == 200, page.text
    return page.json()["items"]


def test_uploading_a_statement_twice_posts_nothing_the_second_time(served: Served) -> None:
    first = _upload(served, "statement.csv")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["format"] == "csv" and body["credits"] == 5 and body["already_imported"] == 0
    assert body["payments"] == 5 and body["auto"] >= 1 and body["allocations"] >= body["auto"]
    assert set(body["statuses"].values()) <= {"auto", "suggested", "unapplied"}
    payments, allocations, audit = (
        _count(served, Payment),
        _count(served, Allocation),
        _count(served, AuditLog),
    )

    again = _upload(served, "statement.csv")
    assert again.status_code == 201, again.text
    assert again.json()["already_imported"] == 5
    assert {k: again.json()[k] for k in ("payments", "allocations", "exceptions", "write_offs")} == {
        "payments": 0,
        "allocations": 0,
        "exceptions": 0,
        "write_offs": 0,
    }
    assert (_count(served, Payment), _count(served, Allocation), _count(served, AuditLog)) == (
        payments,
        allocations,
        audit,
    )


def test_a_malformed_statement_is_refused_whole_and_posts_nothing(served: Served) -> None:
    before = _count(served, Payment)
    response = _upload(served, "statement_bad_amount.csv")
    assert response.status_code == 422, response.text
    assert "statement_bad_amount.csv" in response.json()["error"]["message"]
    empty = _upload(served, "empty.csv", content=b"")
    assert empty.status_code == 422 and "empty" in empty.json()["error"]["message"]
    assert _count(served, Payment) == before


def test_an_unapplied_payment_is_resolved_by_hand(served: Served) -> None:
    [item] = [e for e in _open_exceptions(served) if e["kind"] == "unapplied"]
    assert item["amount"] == "77.77" and item["status"] == "open"
    url = f"/v1/cash-application/exceptions/{item['exception_id']}/resolve"
    too_much = served.post(
        url, role="credit_analyst", json={"allocations": [{"invoice_id": "I401", "amount": "80"}]}
    )
    assert too_much.status_code == 422 and "exceed" in too_much.json()["error"]["message"]
    assert served.post(url, role="data_scientist", json={"allocations": []}).status_code == 403
    done = served.post(
        url, role="credit_analyst", json={"allocations": [{"invoice_id": "I401", "amount": "77.77"}]}
    )
    assert done.status_code == 200, done.text
    [allocation_id] = done.json()["allocation_ids"]
    with served.engine.connect() as conn:
        row = conn.execute(select(Allocation).where(Allocation.allocation_id == allocation_id)).one()
    assert row.source == "manual" and row.amount == Decimal("77.77") and row.invoice_id == "I401"
    assert item["exception_id"] not in [e["exception_id"] for e in _open_exceptions(served)]
    again = served.post(url, role="admin", json={"allocations": []})
    assert again.status_code == 409 and "already resolved" in again.json()["error"]["message"]
    resolved = served.get("/v1/cash-application/exceptions", params={"status": "resolved"}).json()
    assert [e["exception_id"] for e in resolved["items"]] == [item["exception_id"]]
    assert resolved["total"] == 1


def test_an_automatic_allocation_is_reversed_into_the_queue(served: Served) -> None:
    with served.engine.connect() as conn:
        auto = conn.execute(
            select(Allocation.allocation_id).where(
                Allocation.source == "auto", Allocation.invoice_id == "I101"
            )
        ).scalar_one()
    url = f"/v1/cash-application/allocations/{auto}/reverse"
    assert served.post(url, role="collector").status_code == 403
    reversed_ = served.post(url, role="admin")
    assert reversed_.status_code == 200, reversed_.text
    queued = {e["exception_id"]: e for e in _open_exceptions(served)}
    item = queued[reversed_.json()["exception_id"]]
    assert item["kind"] == "reversed" and item["suggestions"][0]["allocations"][0]["invoice_id"] == "I101"
    twice = served.post(url, role="admin")
    assert twice.status_code == 409 and "already reversed" in twice.json()["error"]["message"]
    imported = served.post("/v1/cash-application/allocations/P-MAN:I203/reverse", role="admin")
    assert imported.status_code == 409 and "only automatic" in imported.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "url", "role", "kwargs", "status", "field"),
    [
        ("post", "/v1/cash-application/statements", "admin", {}, 422, "file"),
        (
            "post",
            "/v1/cash-application/statements",
            "collector",
            {"files": {"file": ("s.csv", b"a;b")}},
            403,
            None,
        ),
        (
            "post",
            "/v1/cash-application/statements",
            "data_scientist",
            {"files": {"file": ("s.csv", b"a")}},
            403,
            None,
        ),
        ("post", "/v1/cash-application/statements", None, {"files": {"file": ("s.csv", b"a;b")}}, 401, None),
        ("get", "/v1/cash-application/exceptions", "collector", {}, 403, None),
        ("get", "/v1/cash-application/exceptions?status=closed", "admin", {}, 422, "status"),
        ("get", "/v1/cash-application/exceptions?limit=0", "admin", {}, 422, "limit"),
        (
            "post",
            "/v1/cash-application/exceptions/999999/resolve",
            "admin",
            {"json": {"allocations": []}},
            404,
            None,
        ),
        (
            "post",
            "/v1/cash-application/exceptions/0/resolve",
            "admin",
            {"json": {"allocations": []}},
            422,
            "exception_id",
        ),
        ("post", "/v1/cash-application/exceptions/1/resolve", "admin", {"json": {}}, 422, "allocations"),
        (
            "post",
            "/v1/cash-application/exceptions/1/resolve",
            "admin",
            {"json": {"allocations": [{"invoice_id": "I101", "amount": "-1"}]}},
            422,
            "allocations.0.amount",
        ),
        ("post", "/v1/cash-application/allocations/NOPE/reverse", "admin", {}, 404, None),
    ],
)
def test_cash_application_errors(
    served: Served,
    method: str,
    url: str,
    role: str | None,
    kwargs: dict[str, Any],
    status: int,
    field: str | None,
) -> None:
    response = getattr(served, method)(url, role=role, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"]["message"]
    if field:
        assert field in [f["field"] for f in response.json()["fields"]]
