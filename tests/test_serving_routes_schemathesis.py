"""Schemathesis over the collections, dunning, cash-application and monitoring routes: generated
requests (a few per operation, as admin and as a collector) never get a 5xx or break the schema."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.test_serving_routes_base import MY_PREFIXES, Served, serve_book


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve_book(tmp_path_factory.mktemp("fuzz") / "home")


@pytest.mark.parametrize("role", ["admin", "collector"])
def test_generated_requests_get_no_server_error_and_match_the_schema(served: Served, role: str) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    schema = schemathesis.openapi.from_asgi("/openapi.json", served.app)
    operations = [op.ok() for op in schema.get_all_operations()]
    mine = [op for op in operations if op.path.startswith(MY_PREFIXES)]
    assert len(mine) == 23
    statuses: list[int] = []
    for operation in mine:

        @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            response = case.call(headers=served.headers(role))
            statuses.append(response.status_code)
            case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

        check()
    assert len(statuses) >= 60 and 422 in statuses and max(statuses) < 500
    assert (200 in statuses or 201 in statuses) if role == "admin" else 403 in statuses
