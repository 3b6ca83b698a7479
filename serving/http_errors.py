"""One mapping from domain errors to JSON, a request id on every response, and a catch-all 500.

``arrisk.errors.ArriskError`` subclasses carry ``http_status``; their message goes to the client.
Anything else is logged with its traceback and answered ``500`` with only the request id.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from arrisk.errors import ArriskError

log = logging.getLogger("serving")


class ErrorDetail(BaseModel):
    type: str
    message: str
    request_id: str | None = None


class ErrorBody(BaseModel):
    """Every error the API returns (validation errors add ``fields``)."""

    error: ErrorDetail
    fields: list[dict[str, Any]] | None = None


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error codes a route can answer."""
    text = {
        401: "missing or bad token",
        403: "role not allowed",
        404: "not found",
        409: "conflict",
        422: "invalid input",
        503: "a model or snapshot is not available",
    }
    return {code: {"model": ErrorBody, "description": text.get(code, "error")} for code in codes}


def _request_id(request: Request) -> str:
    return getattr(request.state, "request_id", None) or uuid.uuid4().hex[:16]


def _error(status: int, kind: str, message: str, request: Request, **extra: Any) -> JSONResponse:
    rid = _request_id(request)
    body = {"error": {"type": kind, "message": message, "request_id": rid}, **extra}
    return JSONResponse(status_code=status, content=body, headers={"X-Request-ID": rid})


async def _arrisk_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ArriskError)
    headers = {"WWW-Authenticate": "Bearer"} if err.http_status == 401 else {}
    response = _error(err.http_status, type(err).__name__, str(err), request)
    response.headers.update(headers)
    return response


def _field_name(loc: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in loc if p not in ("body", "query", "path"))


async def _validation_error(request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    fields = [
        {
            "field": _field_name(tuple(e.get("loc", ()))),
            "in": str((e.get("loc") or ["?"])[0]),
            "message": e.get("msg", ""),
        }
        for e in err.errors()
    ]
    message = "; ".join(f"{f['field'] or f['in']}: {f['message']}" for f in fields) or "invalid request"
    return _error(422, "ValidationError", message, request, fields=fields)


class RequestContext:
    """Pure ASGI middleware: a request id on every response and the catch-all 500 (no traceback out)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id", "")[:64]
        rid = given or uuid.uuid4().hex[:16]
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers.append("X-Request-ID", rid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("unhandled error, request %s %s %s", rid, scope.get("method"), scope.get("path"))
            if started:
                raise
            body = {
                "error": {
                    "type": "InternalError",
                    "message": "internal error; quote the request id",
                    "request_id": rid,
                }
            }
            await JSONResponse(status_code=500, content=body, headers={"X-Request-ID": rid})(
                scope, receive, send
            )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ArriskError, _arrisk_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_middleware(RequestContext)
