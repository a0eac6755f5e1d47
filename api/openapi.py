"""The OpenAPI 3.1 document; record-type schemas are generated from the catalogue."""

from __future__ import annotations

from flask import Blueprint, jsonify

from core.kernel.vocab import DATUMS, KINDS, ROLES, ROUTES, STAGES
from core.notices.deliveries import STATUSES as OUTBOX_STATUSES
from core.rules.catalogue import CATALOGUE

from . import archive_routes, evidence, people, workflow
from .pages import upload as upload_page

bp = Blueprint("openapi", __name__, url_prefix="/api/v1")

_FIELD_SCHEMA = {
    "string": {"type": "string", "maxLength": 200},
    "text": {"type": "string", "maxLength": 4000},
    "bool": {"type": "boolean"},
    "int": {"type": "integer"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
    "list": {"type": "array", "items": {"type": "string"}, "maxItems": 200},
}


def _record_schema(rt) -> dict:
    props = {}
    for f in rt.fields:
        schema = {"type": "string", "enum": list(f.choices)} if f.type == "enum" \
            else dict(_FIELD_SCHEMA[f.type])
        schema["description"] = f"{f.label_zh} ({', '.join(f.rules)})"
        props[f.name] = schema
    return {"type": "object", "title": f"{rt.title_zh} {rt.title_en}", "properties": props,
            "required": [f.name for f in rt.fields if f.required],
            "additionalProperties": False}


def _error(desc: str) -> dict:
    return {"description": desc,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def error_responses(codes) -> dict:
    """The error responses of an operation, each with the one error body."""
    return {str(code): _error(ERRORS[code]) for code in codes}


_DEADLINE = {"type": "object", "required": [
    "id", "case_id", "rule_id", "rule_ids", "legal_source", "trigger_event", "trigger_at",
    "due_at", "period", "unit", "status", "overdue", "late"], "properties": {
    "id": {"type": "string"}, "case_id": {"type": ["string", "null"]},
    "case_number": {"type": "string"},
    "rule_id": {"type": "string", "examples": ["A10.2"]},
    "rule_ids": {"type": "array", "items": {"type": "string"}},
    "title": {"type": ["string", "null"]}, "title_zh": {"type": ["string", "null"]},
    "legal_source": {"type": "string"}, "trigger_event": {"type": "string"},
    "trigger_at": {"type": "string", "format": "date-time"},
    "due_at": {"type": "string", "format": "date-time"},
    "last_day": {"type": ["string", "null"], "format": "date"},
    "period": {"type": "integer"}, "unit": {"type": "string"},
    "subject_id": {"type": ["string", "null"]}, "obligor": {"type": ["string", "null"]},
    "status": {"enum": ["open", "closed", "cancelled"]}, "overdue": {"type": "boolean"},
    "late": {"type": "boolean"}, "closed_at": {"type": ["string", "null"],
                                               "format": "date-time"},
    "closed_by": {"type": ["string", "null"]},
    "warnings": {"type": "array", "items": {"type": "string"}},
    "reminders": {"type": "array", "items": {"type": "object", "properties": {
        "role": {"type": "string"}, "step": {"type": "string"},
        "send_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string"}}}}}}


def _json(desc: str, ref: str | None = None) -> dict:
    schema = {"$ref": f"#/components/schemas/{ref}"} if ref else {"type": "object"}
    return {"description": desc, "content": {"application/json": {"schema": schema}}}


ERRORS = {400: "bad request", 401: "no valid token", 403: "role not allowed (or wrong secret)",
          404: "not found or not visible", 409: "a gate refused; see missing",
          413: "too large", 415: "type not accepted", 422: "invalid fields",
          503: "the bot is off"}


def _op(summary: str, ok: tuple[str, str, str | None], *, body: str | None = None,
        errors: tuple[int, ...] = (401, 404), params: list | None = None,
        idem: bool = False) -> dict:
    op: dict = {"summary": summary, "responses": {ok[0]: _json(ok[1], ok[2])}}
    for code in errors:
        op["responses"][str(code)] = _error(ERRORS[code])
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{body}"}}}}
    op["parameters"] = list(params or [])
    if idem:
        op["parameters"].append({"name": "Idempotency-Key", "in": "header", "required": False,
                                 "schema": {"type": "string", "maxLength": 200},
                                 "description": "a retry with the same key returns the first "
                                                "answer instead of recording twice"})
    return op


_CASE_ID = {"name": "case_id", "in": "path", "required": True, "schema": {"type": "string"}}


def document() -> dict:
    """Build the whole OpenAPI document."""
    records = {f"Fields_{rt.name}": _record_schema(rt) for rt in CATALOGUE}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Quancheng 全程 API", "version": "1",
                 "description": "Full-process recording of administrative law enforcement."},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"], "properties": {
                        "code": {"type": "string"}, "message": {"type": "string"},
                        "missing": {"type": "array", "items": {"type": "string"}}}}}},
                "OpenCase": {"type": "object", "required": ["kind", "initiation", "title"],
                             "properties": {
                                 "kind": {"enum": list(KINDS)},
                                 "initiation": {"enum": list(ROUTES)},
                                 "title": {"type": "string", "maxLength": 300},
                                 "emergency": {"type": "boolean"},
                                 "party": {"type": "object", "required": ["name"], "properties": {
                                     "name": {"type": "string"},
                                     "kind": {"enum": ["person", "organisation"]},
                                     "id_number": {"type": "string"},
                                     "phone": {"type": "string"},
                                     "address": {"type": "string"}}},
                                 "site": {"type": "object", "properties": {
                                     "lat": {"type": "number", "minimum": -90, "maximum": 90},
                                     "lon": {"type": "number", "minimum": -180, "maximum": 180},
                                     "datum": {"enum": list(DATUMS)},
                                     "address": {"type": "string"}}}}},
                "Case": {"type": "object", "properties": {
                    "id": {"type": "string"}, "number": {"type": "string"},
                    "stage": {"enum": list(STAGES)}, "kind": {"enum": list(KINDS)},
                    "initiation": {"enum": list(ROUTES)}}},
                "Transition": {"type": "object", "required": ["to"],
                               "properties": {"to": {"enum": list(STAGES)}}},
                "NewRecord": {"type": "object", "required": ["type", "fields"], "properties": {
                    "type": {"enum": [rt.name for rt in CATALOGUE]},
                    "fields": {"oneOf": [{"$ref": f"#/components/schemas/Fields_{rt.name}"}
                                         for rt in CATALOGUE]},
                    "occurred_at": {"type": "string", "format": "date-time"},
                    "officers": {"type": "array", "items": {"type": "string"}},
                    "corrects": {"type": "string"}}},
                "Approval": {"type": "object", "required": ["decision"], "properties": {
                    "decision": {"enum": ["approve", "return"]}, "opinion": {"type": "string"}}},
                "Resume": {"type": "object", "required": ["voice_explained"], "properties": {
                    "voice_explained": {"type": "boolean"},
                    "resumed_at": {"type": "string", "format": "date-time"}}},
                "CalendarOverride": {"type": "object", "required": ["date", "working", "note"],
                                     "properties": {
                                         "date": {"type": "string", "format": "date"},
                                         "working": {"type": "boolean"},
                                         "note": {"type": "string", "maxLength": 300}}},
                "CalendarYear": {"type": "object", "required": ["year", "source"], "properties": {
                    "year": {"type": "integer", "minimum": 2000, "maximum": 2100},
                    "source": {"type": "string", "maxLength": 300}}},
                "Role": {"enum": list(ROLES)},
                "RecordTypeName": {"enum": [rt.name for rt in CATALOGUE]},
                "Deadline": _DEADLINE,
                **people.OPENAPI_SCHEMAS,
                **records,
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            **workflow.OPENAPI_PATHS,
            **evidence.EVIDENCE_PATHS,
            **upload_page.OPENAPI_PATHS,
            **people.openapi_paths(),
            **archive_routes.OPENAPI_PATHS,
            "/healthz": {"get": {**_op("State of database, queue and storage",
                                       ("200", "healthy", None), errors=()), "security": []}},
            "/api/v1/openapi.json": {"get": {**_op("This document", ("200", "OpenAPI", None),
                                                   errors=()), "security": []}},
            "/api/v1/cases": {
                "post": _op("Open a case", ("201", "opened", "Case"), body="OpenCase",
                            errors=(401, 422), idem=True),
                "get": _op("Cases the caller may see", ("200", "list", None), errors=(401,)),
            },
            "/api/v1/cases/{case_id}": {"get": _op("One case", ("200", "case", "Case"),
                                                   params=[_CASE_ID])},
            "/api/v1/cases/{case_id}/transitions": {"post": _op(
                "Move to another stage", ("200", "moved", "Case"), body="Transition",
                errors=(401, 404, 409, 422), params=[_CASE_ID], idem=True)},
            "/api/v1/cases/{case_id}/checklist": {"get": _op(
                "Requirements per stage with status", ("200", "checklist", None),
                params=[_CASE_ID])},
            "/api/v1/cases/{case_id}/records": {
                "post": _op("Add a record", ("201", "recorded", None), body="NewRecord",
                            errors=(401, 404, 409, 422), params=[_CASE_ID], idem=True),
                "get": _op("Records in time order", ("200", "records", None),
                           params=[_CASE_ID]),
            },
            "/api/v1/cases/{case_id}/records/{record_id}/approvals": {"post": _op(
                "Take the next approval step", ("201", "approved or returned", None),
                body="Approval", errors=(401, 403, 404, 409, 422), idem=True,
                params=[_CASE_ID, {"name": "record_id", "in": "path", "required": True,
                                   "schema": {"type": "string"}}])},
            "/api/v1/record-types": {"get": {**_op("The record-type catalogue",
                                                   ("200", "catalogue", None), errors=()),
                                             "security": []}},
            "/api/v1/rules": {"get": {**_op(
                "Every A- and N-rule: ID, text (zh, en), figure, unit, legal source, "
                "effective_from, effective_until, ⚠ (warning) and the overriding setting",
                ("200", "rules", None), errors=()), "security": []}},
            "/api/v1/calendar/working-days": {"get": {**_op(
                "The Nth working day after a date", ("200", "date", None), errors=(422,),
                params=[{"name": "from", "in": "query", "required": True,
                         "schema": {"type": "string", "format": "date"}},
                        {"name": "add", "in": "query", "required": True,
                         "schema": {"type": "integer", "minimum": 0, "maximum": 3660}}]),
                "security": []}},
            "/api/v1/calendar/overrides": {
                "get": _op("The administrator's calendar entries and declared years",
                           ("200", "overrides", None), errors=(401, 422),
                           params=[{"name": "year", "in": "query",
                                    "schema": {"type": "integer", "minimum": 2000,
                                               "maximum": 2100}}]),
                "post": _op("Enter a holiday or a 调休 working day (admin)",
                            ("201", "entered", None), body="CalendarOverride",
                            errors=(401, 403, 422), idem=True)},
            "/api/v1/calendar/years": {"post": _op(
                "Declare a year's State Council holiday notice fully entered (admin)",
                ("201", "declared", None), body="CalendarYear", errors=(401, 403, 422),
                idem=True)},
            "/api/v1/cases/{case_id}/deadlines": {"get": _op(
                "Open and closed deadlines with rule ID, legal source, due time and status",
                ("200", "deadlines", None), params=[_CASE_ID])},
            "/api/v1/cases/{case_id}/complaint-ticket/code": {"post": _op(
                "A new status code for the complainant (shown once; the old one stops working)",
                ("201", "tracking number and code", None), errors=(401, 403, 404),
                params=[_CASE_ID])},
            "/api/v1/cases/{case_id}/interruptions/{record_id}/resume": {"post": _op(
                "The AV recording restarted after an interruption (A17.2)",
                ("201", "the corrected interruption record", None), body="Resume",
                errors=(401, 403, 404, 409, 422), idem=True,
                params=[_CASE_ID, {"name": "record_id", "in": "path", "required": True,
                                   "schema": {"type": "string"}}])},
            "/api/v1/complaints/{tracking_no}": {"get": {**_op(
                "A complaint's status for whoever holds its tracking number and code",
                ("200", "status", None), errors=(404,),
                params=[{"name": "tracking_no", "in": "path", "required": True,
                         "schema": {"type": "string", "maxLength": 32}},
                        {"name": "code", "in": "query", "required": True,
                         "schema": {"type": "string", "maxLength": 64}}]),
                "security": []}},
            "/telegram/webhook": {"post": {**_op(
                "Telegram Bot API updates (X-Telegram-Bot-Api-Secret-Token)",
                ("200", "accepted", None), errors=(400, 403, 503)), "security": []}},
            "/api/v1/deliveries": {"get": _op(
                "Outbox messages in one state (admin, supervisor)", ("200", "deliveries", None),
                errors=(401, 403, 422),
                params=[{"name": "status", "in": "query",
                         "schema": {"type": "string", "enum": list(OUTBOX_STATUSES),
                                    "default": "dead"}},
                        {"name": "limit", "in": "query",
                         "schema": {"type": "integer", "maximum": 500}},
                        {"name": "offset", "in": "query",
                         "schema": {"type": "integer", "minimum": 0}}])},
            "/api/v1/deliveries/{outbox_id}/retry": {"post": _op(
                "Revive a dead message (admin)", ("200", "the message", None),
                errors=(401, 403, 404, 409, 422),
                params=[{"name": "outbox_id", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 1}}])},
            "/api/v1/ledger/checkpoint": {"get": _op("Latest signed checkpoint",
                                                     ("200", "checkpoint", None),
                                                     errors=(401,))},
            "/api/v1/ledger/consistency": {"get": _op(
                "Consistency proof between two tree sizes", ("200", "proof", None),
                errors=(401, 422),
                params=[{"name": n, "in": "query", "required": True,
                         "schema": {"type": "integer", "minimum": 1}} for n in ("from", "to")])},
            "/api/v1/ledger/proof/{entry}": {"get": _op(
                "Inclusion proof of one entry", ("200", "proof", None),
                params=[{"name": "entry", "in": "path", "required": True,
                         "schema": {"type": "integer", "minimum": 0}}])},
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    """Serve the OpenAPI document."""
    return jsonify(document())
