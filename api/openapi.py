"""The OpenAPI 3.1 document; record-type schemas are generated from the catalogue."""

from __future__ import annotations

import functools
import re

from flask import Blueprint, jsonify

from core.kernel.vocab import STAGES
from core.notices.deliveries import STATUSES as OUTBOX_STATUSES

from . import archive_routes, complaint_intake, evidence, officer_admin, people, workflow
from .pages import complainant as complainant_page
from .pages import desk as desk_page
from .pages import miniapp as miniapp_page
from .pages import upload as upload_page
from .pages import web_auth
from .schemas import COMPONENTS, DAY, ID, ref

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

ERRORS = {400: "bad request", 401: "no valid token", 403: "the caller's role does not allow it",
          404: "not found, or not visible to the caller", 405: "method not allowed (see Allow)",
          409: "a rule of the regulation refuses the step; missing lists the RULES.md IDs",
          413: "too large", 415: "type not accepted",
          422: "invalid input; fields names each bad field", 503: "not available"}


def _error(desc: str) -> dict:
    return {"description": desc, "content": {"application/json": {"schema": ref("Error")}}}


def error_responses(codes) -> dict:
    """The error responses of an operation, each with the one error body."""
    return {str(code): _error(ERRORS[code]) for code in codes}


def _op(summary: str, ok: tuple[str, str, str | dict], *, body: str | None = None,
        errors: tuple[int, ...] = (401, 404), params: list | None = None,
        idem: bool = False, public: bool = False, tag: str = "cases") -> dict:
    schema = ref(ok[2]) if isinstance(ok[2], str) else ok[2]
    op: dict = {"summary": summary, "tags": [tag], "responses": {
        ok[0]: {"description": ok[1], "content": {"application/json": {"schema": schema}}}}}
    codes = set(errors) | ({422} if body or params else set()) | ({401} if not public else set())
    if body and not public:
        codes |= {400, 413}
    op["responses"].update(error_responses(sorted(codes)))
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": ref(body)}}}
    op["parameters"] = list(params or [])
    if idem:
        op["parameters"].append(IDEMPOTENCY_KEY)
    if public:
        op["security"] = []
    return op


IDEMPOTENCY_KEY = {"name": "Idempotency-Key", "in": "header", "required": False,
                   "schema": {"type": "string", "maxLength": 200, "pattern": "^[ -~]+$"},
                   "description": "a retry with the same key returns the first answer "
                                  "instead of recording twice"}
_CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": ID}
_RECORD_ID = {"name": "record_id", "in": "path", "required": True, "schema": ID}


def _query(name: str, schema: dict, description: str, required: bool = False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def document() -> dict:
    """Build the whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Quancheng 全程 API", "version": "1",
                 "description": "Full-process recording of administrative law enforcement. "
                                "Errors share one body (Error): 422 names each bad field, 409 "
                                "lists the missing RULES.md IDs, 403 a role, 404 what the "
                                "caller may not see. Messages are in Chinese unless "
                                "Accept-Language asks for English. Unknown body fields are "
                                "refused. GET /api/v1/cases/{case_id} says what the caller may "
                                "do next (next_actions)."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"},
                                # The desk's pages: a session opened by a one-time link.
                                "deskSession": {"type": "apiKey", "in": "cookie",
                                                "name": "qc_session"}},
            "schemas": {**COMPONENTS, **people.OPENAPI_SCHEMAS},
        },
        "security": [{"bearer": []}],
        "paths": {
            **workflow.openapi_paths(),
            **officer_admin.OPENAPI_PATHS,
            **evidence.EVIDENCE_PATHS,
            **upload_page.OPENAPI_PATHS,
            **miniapp_page.OPENAPI_PATHS,
            **web_auth.OPENAPI_PATHS,
            **complainant_page.OPENAPI_PATHS,
            **desk_page.OPENAPI_PATHS,
            **people.openapi_paths(),
            **archive_routes.OPENAPI_PATHS,
            **complaint_intake.OPENAPI_PATHS,
            "/healthz": {"get": {**_op("State of database, queue and storage",
                                       ("200", "healthy", "Health"), errors=(), public=True,
                                       tag="operations"),
                                 }},
            "/api/v1/openapi.json": {"get": _op("This document", ("200", "OpenAPI 3.1", {
                "type": "object", "required": ["openapi", "paths", "components"]}),
                errors=(), public=True, tag="operations")},
            "/api/v1/cases": {
                "post": _op("Open a case (A2.1, A3.1)", ("201", "opened", "Case"),
                            body="OpenCase", errors=(403,), idem=True),
                "get": _op("Cases the caller may see, newest first", ("200", "list",
                                                                      "CaseList"),
                           errors=(), params=[
                               _query("stage", {"enum": list(STAGES)}, "only cases in this "
                                      "stage"),
                               _query("limit", {"type": "integer", "minimum": 1,
                                                "maximum": 200, "default": 50},
                                      "page size"),
                               _query("offset", {"type": "integer", "minimum": 0,
                                                 "maximum": 10**9, "default": 0},
                                      "cases to skip")]),
            },
            "/api/v1/cases/{case_id}": {"get": _op(
                "One case, what its stage still lacks and what the caller may do next",
                ("200", "case", "CaseDetail"), params=[_CASE_ID])},
            "/api/v1/cases/{case_id}/transitions": {"post": _op(
                "Move to another stage (A3.1)", ("200", "moved", "Case"), body="Transition",
                errors=(403, 404, 409), params=[_CASE_ID], idem=True)},
            "/api/v1/cases/{case_id}/checklist": {"get": _op(
                "Requirements per stage with status and the record types that satisfy them",
                ("200", "checklist", "Checklist"), params=[_CASE_ID])},
            "/api/v1/cases/{case_id}/records": {
                "post": _op("Add a record of a catalogue type (one schema per type)",
                            ("201", "recorded", "Record"), body="NewRecord",
                            errors=(403, 404, 409), params=[_CASE_ID], idem=True),
                "get": _op("Records in time order, each with its status",
                           ("200", "records", "RecordList"), params=[_CASE_ID]),
            },
            "/api/v1/cases/{case_id}/records/{record_id}/approvals": {"post": _op(
                "Take the next approval step (A10.1)", ("201", "approved or returned",
                                                        "ApprovalTaken"),
                body="Approval", errors=(403, 404, 409), idem=True,
                params=[_CASE_ID, _RECORD_ID])},
            "/api/v1/record-types": {"get": _op(
                "The record-type catalogue", ("200", "catalogue", "Catalogue"), errors=(),
                public=True, tag="catalogue")},
            "/api/v1/rules": {"get": _op(
                "Every A- and N-rule: ID, text (zh, en), figure, unit, legal source, "
                "effective_from, effective_until, ⚠ (warning) and the overriding setting",
                ("200", "rules", "RuleList"), errors=(), public=True, tag="catalogue")},
            "/api/v1/calendar/working-days": {"get": _op(
                "The Nth working day after a date", ("200", "date", "WorkingDay"),
                errors=(422,), public=True, tag="calendar", params=[
                    _query("from", DAY, "the start date", True),
                    _query("add", {"type": "integer", "minimum": 0, "maximum": 3660},
                           "working days to add", True)])},
            "/api/v1/calendar/overrides": {
                "get": _op("The administrator's calendar entries and declared years",
                           ("200", "overrides", "CalendarOverrides"), errors=(),
                           tag="calendar", params=[_query(
                               "year", {"type": "integer", "minimum": 2000, "maximum": 2100},
                               "only this year's entries")]),
                "post": _op("Enter a holiday or a 调休 working day (admin)",
                            ("201", "entered", "CalendarOverrideRow"), body="CalendarOverride",
                            errors=(403, 409), idem=True, tag="calendar")},
            "/api/v1/calendar/years": {"post": _op(
                "Declare a year's State Council holiday notice fully entered (admin)",
                ("201", "declared", "DeclaredYear"), body="CalendarYear",
                errors=(403, 409), idem=True, tag="calendar")},
            "/api/v1/cases/{case_id}/deadlines": {"get": _op(
                "Open and closed deadlines with rule ID, legal source, due time and status",
                ("200", "deadlines", "DeadlineList"), params=[_CASE_ID])},
            "/api/v1/cases/{case_id}/complaint-ticket/code": {"post": _op(
                "A new status code for the complainant (shown once; the old one stops working)",
                ("201", "tracking number and code", "ComplaintCode"), errors=(403, 404),
                params=[_CASE_ID])},
            "/api/v1/cases/{case_id}/interruptions/{record_id}/resume": {"post": _op(
                "The AV recording restarted after an interruption (A17.2)",
                ("201", "the corrected interruption record", "Record"), body="Resume",
                errors=(403, 404, 409), idem=True, params=[_CASE_ID, _RECORD_ID])},
            "/api/v1/complaints/{tracking_no}": {"get": _op(
                "A complaint's status for whoever holds its tracking number and code",
                ("200", "status", "ComplaintStatus"), errors=(404,), public=True,
                tag="complaints", params=[
                    {"name": "tracking_no", "in": "path", "required": True,
                     "schema": {"type": "string", "maxLength": 32}},
                    _query("code", {"type": "string", "maxLength": 64}, "the status code "
                           "given with the tracking number", True)])},
            "/telegram/webhook": {"post": {**_op(
                "Telegram Bot API updates (X-Telegram-Bot-Api-Secret-Token)",
                ("200", "accepted", {"type": "object"}), errors=(400, 403, 503),
                public=True, tag="operations"),
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": {"type": "object", "description": "a Telegram Update"}}}}}},
            "/api/v1/deliveries": {"get": _op(
                "Outbox messages in one state (admin, supervisor)",
                ("200", "deliveries", "DeliveryList"), errors=(403,), tag="operations",
                params=[_query("status", {"type": "string", "enum": list(OUTBOX_STATUSES),
                                          "default": "dead"}, "the messages' state"),
                        _query("limit", {"type": "integer", "minimum": 1, "maximum": 500},
                               "page size"),
                        _query("offset", {"type": "integer", "minimum": 0,
                                          "maximum": 10**9}, "messages to skip")])},
            "/api/v1/deliveries/{outbox_id}/retry": {"post": _op(
                "Revive a dead message (admin)", ("200", "the message", "Delivery"),
                errors=(403, 404, 409), tag="operations",
                params=[{"name": "outbox_id", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1,
                                    "maximum": 2**63 - 1}}])},
            "/api/v1/ledger/checkpoint": {"get": _op(
                "Latest signed checkpoint (A37.1)", ("200", "checkpoint", "Checkpoint"),
                errors=(), tag="ledger")},
            "/api/v1/ledger/consistency": {"get": _op(
                "Consistency proof between two tree sizes", ("200", "proof", "Proof"),
                errors=(), tag="ledger",
                params=[_query(n, {"type": "integer", "minimum": 1, "maximum": 2**62},
                               f"the {n} tree size", True) for n in ("from", "to")])},
            "/api/v1/ledger/proof/{entry}": {"get": _op(
                "Inclusion proof of one entry", ("200", "proof", "Proof"), tag="ledger",
                params=[{"name": "entry", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 0, "maximum": 2**62}},
                        _query("tree_size", {"type": "integer", "minimum": 1,
                                             "maximum": 2**62},
                               "prove against this tree size (default: the latest)")])},
        },
    }


@functools.cache
def _accepted() -> dict[tuple[str, str], frozenset[str] | None]:
    doc = document()
    schemas = doc["components"]["schemas"]

    def props(schema: dict) -> frozenset[str] | None:
        if "$ref" in schema:
            return props(schemas[schema["$ref"].rsplit("/", 1)[-1]])
        if "oneOf" in schema:  # NewRecord: the envelope every variant shares
            parts = [props(s) for s in schema["oneOf"]]
            return None if any(p is None for p in parts) else frozenset().union(*parts)
        if schema.get("additionalProperties") is False:
            return frozenset(schema.get("properties", {}))
        return None

    out = {}
    for path, ops in doc["paths"].items():
        flask_path = re.sub(r"{([a-z_]+)}", r"<\1>", path)
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                out[(flask_path, method.upper())] = props(content["application/json"]["schema"])
    return out


@functools.cache
def _query_params() -> dict[tuple[str, str], frozenset[str]]:
    out = {}
    for path, ops in document()["paths"].items():
        flask_path = re.sub(r"{([a-z_]+)}", r"<\1>", path)
        for method, op in ops.items():
            if isinstance(op, dict) and op.get("security") != []:
                out[(flask_path, method.upper())] = frozenset(
                    p["name"] for p in op.get("parameters", []) if p.get("in") == "query")
    return out


def accepted_query(rule: str, method: str) -> frozenset[str] | None:
    """The query parameters the document lists for a bearer-token route (None: not
    documented, or a public route or one with its own credential)."""
    return _query_params().get((rule, method.upper()))


def accepted_fields(rule: str, method: str) -> frozenset[str] | None:
    """The JSON body fields the document lists for a route, or None when it lists an open
    object (or the route is not documented with a JSON body)."""
    return _accepted().get((rule, method.upper()))


@bp.get("/openapi.json")
def openapi_json():
    """Serve the OpenAPI document."""
    return jsonify(document())
