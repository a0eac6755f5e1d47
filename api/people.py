"""The caller, their colleagues and their inbox: what a phone app shows first."""

from __future__ import annotations

from flask import Blueprint, request

from core.deadlines import inbox as inboxes
from core.kernel import fields
from core.people import directory

from .auth import handle

bp = Blueprint("people", __name__, url_prefix="/api/v1")


@bp.get("/me")
def me():
    """The caller: name, roles, certificate, department, language."""
    return handle(lambda uow, actor: (directory.me(uow, actor).to_json(), 200))


@bp.get("/officers")
def officers():
    """The active officers of the caller's department with their certificate status."""
    def run(uow, actor):
        query = directory.OfficerQuery.parse(request.args)
        found = directory.colleagues(uow, actor, role=query.role,
                                     certified_only=query.certified_only)
        return {"officers": [p.to_json() for p in found]}, 200

    return handle(run)


@bp.get("/inbox")
def inbox():
    """Approvals waiting for the caller's roles, records returned to them, their deadlines."""
    def run(uow, actor):
        limit = fields.whole(request.args.get("limit"), "limit", low=1,
                             high=inboxes.MAX_LIMIT, default=inboxes.DEFAULT_LIMIT)
        return inboxes.inbox(uow, actor, limit=limit).to_json(), 200

    return handle(run)


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$",
       "examples": ["3f2b9c0d4e5a6b7c8d9e0f1a2b3c4d5e"]}
_WHEN = {"type": "string", "format": "date-time"}
_PERSON_REF = {"type": "object", "required": ["id", "name"], "additionalProperties": False,
               "properties": {"id": _ID, "name": {"type": "string"}}}
_ACTION = {"type": "object", "required": ["method", "path"], "properties": {
    "method": {"enum": ["POST"]}, "path": {"type": "string"}, "corrects": _ID}}

_PERSON = {
    "id": _ID, "name": {"type": "string", "examples": ["张伟"]},
    "roles": {"type": "array", "items": _ref("Role")},
    "certificate_no": {"type": ["string", "null"], "examples": ["湘执430600001"]},
    "certificate_status": {"enum": list(directory.CERTIFICATE_STATUSES)},
    "may_sign_field_records": {"type": "boolean", "description": "counts towards the two "
                               "certified officers of a field record (A14.1)"},
    "active": {"type": "boolean"}}

# Schemas of this blueprint for the OpenAPI document (api/openapi.py merges them).
OPENAPI_SCHEMAS = {
    "Person": {"type": "object", "additionalProperties": False, "required": list(_PERSON),
               "properties": _PERSON},
    "Me": {"type": "object", "additionalProperties": False,
           "required": [*_PERSON, "lang", "telegram_bound", "department"],
           "properties": {**_PERSON, "lang": {"enum": ["zh", "en"]},
                          "telegram_bound": {"type": "boolean"},
                          "department": {"type": "object", "required": ["id", "code", "name"],
                                         "properties": {"id": _ID, "code": {"type": "string"},
                                                        "name": {"type": "string"}}}}},
    "OfficerList": {"type": "object", "required": ["officers"], "additionalProperties": False,
                    "properties": {"officers": {"type": "array", "items": _ref("Person")}}},
    "WaitingApproval": {"type": "object", "additionalProperties": False, "required": [
        "record_id", "record_type", "title_zh", "title_en", "case_id", "case_number",
        "case_title", "step", "step_label_zh", "role", "submitted_by", "submitted_at", "action"],
        "properties": {
            "record_id": _ID, "record_type": _ref("RecordTypeName"),
            "title_zh": {"type": "string"}, "title_en": {"type": "string"}, "case_id": _ID,
            "case_number": {"type": "string"}, "case_title": {"type": "string"},
            "step": {"type": "string"}, "step_label_zh": {"type": "string"},
            "role": _ref("Role"), "submitted_by": _PERSON_REF, "submitted_at": _WHEN,
            "action": _ACTION}},
    "ReturnedRecord": {"type": "object", "additionalProperties": False, "required": [
        "record_id", "record_type", "title_zh", "title_en", "case_id", "case_number",
        "case_title", "step", "reason", "returned_by", "returned_at", "action"],
        "properties": {
            "record_id": _ID, "record_type": _ref("RecordTypeName"),
            "title_zh": {"type": "string"}, "title_en": {"type": "string"}, "case_id": _ID,
            "case_number": {"type": "string"}, "case_title": {"type": "string"},
            "step": {"type": "string"}, "reason": {"type": "string"},
            "returned_by": _PERSON_REF, "returned_at": _WHEN, "action": _ACTION}},
    "Inbox": {"type": "object", "additionalProperties": False,
              "required": ["approvals", "returns", "deadlines", "counts"],
              "properties": {
                  "approvals": {"type": "array", "items": _ref("WaitingApproval")},
                  "returns": {"type": "array", "items": _ref("ReturnedRecord")},
                  "deadlines": {"type": "array", "items": _ref("Deadline")},
                  "counts": {"type": "object", "required": ["approvals", "returns",
                                                            "deadlines", "overdue"],
                             "properties": {k: {"type": "integer", "minimum": 0} for k in
                                            ("approvals", "returns", "deadlines", "overdue")}}}},
}


def _get(summary: str, schema: str, params: list | None = None, errors=(401,)) -> dict:
    from .openapi import error_responses

    return {"get": {"summary": summary, "tags": ["people"], "parameters": params or [],
                    "responses": {"200": {"description": summary, "content": {
                        "application/json": {"schema": _ref(schema)}}},
                        **error_responses(errors)}}}


def openapi_paths() -> dict:
    """This blueprint's paths for the OpenAPI document."""
    return {
        "/api/v1/me": _get("The caller: roles, certificate, department, language", "Me"),
        "/api/v1/officers": _get(
            "Active officers of the caller's department with certificate status (A14.1)",
            "OfficerList", [
                {"name": "role", "in": "query", "required": False, "schema": _ref("Role"),
                 "description": "only officers holding this role"},
                {"name": "certified", "in": "query", "required": False,
                 "schema": {"enum": ["true", "false"]},
                 "description": "true: only officers with a law-enforcement certificate"}],
            (401, 422)),
        "/api/v1/inbox": _get(
            "Approvals waiting for the caller's roles (A10.1), records returned to them, the "
            "open deadlines they own", "Inbox", [
                {"name": "limit", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": inboxes.MAX_LIMIT,
                            "default": inboxes.DEFAULT_LIMIT},
                 "description": "at most this many items per section"}], (401, 422)),
    }
