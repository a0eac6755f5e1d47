"""The intake queue of public complaints (issue 12, finding 5): supervisors of the intake
department list the pending items, accept one (its case opens) or reject it with a reason;
another department's item is 404. The complainant confirms their contact with the one-time
code sent to it (no account)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from core.complaints import intake

from .auth import container, handle, idempotent, json_body, remote

bp = Blueprint("complaint_intake", __name__, url_prefix="/api/v1")


@bp.get("/complaint-intake")
def list_pending():
    """The department's public complaints waiting to be checked (supervisor)."""
    def run(uow, actor):
        items = intake.pending(uow, actor, remote=remote())
        return {"items": [intake.view(i) for i in items]}, 200

    return handle(run)


@bp.post("/complaint-intake/<intake_id>/accept")
def accept(intake_id: str):
    """Accept a pending complaint: its case opens, counted from receipt (supervisor)."""
    def run(uow, actor):
        done = intake.accept(uow, actor, intake_id, remote=remote())
        return {**intake.view(done.item), "case_number": done.case_number}, 201

    return idempotent(run)


@bp.post("/complaint-intake/<intake_id>/reject")
def reject(intake_id: str):
    """Reject a pending complaint as spam, a duplicate or out of scope, with a reason."""
    def run(uow, actor):
        data = json_body()
        item = intake.reject(uow, actor, intake_id, data.get("kind"), data.get("reason"),
                             remote=remote())
        return intake.view(item), 200

    return idempotent(run)


@bp.post("/complaints/<tracking_no>/contact-confirmation")
def confirm_contact(tracking_no: str):
    """Confirm the complaint's e-mail or phone with the code sent to it (no account)."""
    # A public route: the body is a small JSON object (the app's global body limit).
    answer = intake.confirm_contact(container(), tracking_no, json_body().get("code"),
                                    remote=remote())
    response = jsonify(answer)
    response.headers["Cache-Control"] = "no-store"
    return response, 200


_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
_WHEN = {"type": "string", "format": "date-time"}
_ITEM = {"type": "object", "required": ["id", "tracking_no", "status", "received_at",
                                        "contact_kind", "contact_confirmed"],
         "properties": {
             "id": _ID, "tracking_no": {"type": "string"},
             "status": {"enum": ["pending", "accepted", "rejected"]}, "received_at": _WHEN,
             "channel": {"type": "string"}, "what": {"type": "string"},
             "where": {"type": "string"}, "photos": {"type": "integer", "minimum": 0},
             "contact_kind": {"enum": ["telegram", "email", "webhook"]},
             "contact_confirmed": {"type": "boolean"},
             "contact": {"type": ["string", "null"], "description": "only once confirmed"},
             "name": {"type": ["string", "null"], "description": "only once confirmed"},
             "decided_at": {"type": ["string", "null"], "format": "date-time"},
             "reject_kind": {"type": ["string", "null"]},
             "reject_reason": {"type": ["string", "null"]},
             "case_id": {"type": ["string", "null"]},
             "case_number": {"type": "string"}}}
_PATH_ID = {"name": "intake_id", "in": "path", "required": True,
            "schema": {"type": "string", "maxLength": 64}}
_IDEM = {"name": "Idempotency-Key", "in": "header", "required": False,
         "schema": {"type": "string", "maxLength": 200, "pattern": "^[ -~]+$"}}


def _errors(*codes: int) -> dict:
    text = {401: "no valid token", 403: "not a supervisor",
            404: "not found in the caller's department", 409: "already accepted or rejected",
            422: "invalid fields", 429: "too many attempts; Retry-After says when"}
    return {str(c): {"description": text[c], "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for c in codes}


def _ok(code: str, schema: dict) -> dict:
    return {code: {"description": "done", "content": {"application/json": {"schema": schema}}}}


OPENAPI_PATHS = {
    "/api/v1/complaint-intake": {"get": {
        "summary": "Public complaints waiting to be checked (supervisor, own department)",
        "tags": ["complaints"], "parameters": [],
        "responses": {**_ok("200", {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": _ITEM}}}), **_errors(401, 403)}}},
    "/api/v1/complaint-intake/{intake_id}/accept": {"post": {
        "summary": "Accept a public complaint: its case opens, N21/N23/N24 counted from "
                   "receipt (A11.1)", "tags": ["complaints"], "parameters": [_PATH_ID, _IDEM],
        "responses": {**_ok("201", _ITEM), **_errors(401, 403, 404, 409)}}},
    "/api/v1/complaint-intake/{intake_id}/reject": {"post": {
        "summary": "Reject a public complaint as not a complaint, with a reason",
        "tags": ["complaints"], "parameters": [_PATH_ID, _IDEM],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["kind", "reason"], "additionalProperties": False,
            "properties": {"kind": {"enum": list(intake.REJECT_KINDS)},
                           "reason": {"type": "string", "minLength": 1,
                                      "maxLength": 500}}}}}},
        "responses": {**_ok("200", _ITEM), **_errors(401, 403, 404, 409, 422)}}},
    "/api/v1/complaints/{tracking_no}/contact-confirmation": {"post": {
        "summary": "Confirm a complaint's e-mail or phone with the code sent to it "
                   "(no account)", "tags": ["complaints"], "security": [],
        "parameters": [{"name": "tracking_no", "in": "path", "required": True,
                        "schema": {"type": "string", "maxLength": 32}}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["code"], "additionalProperties": False,
            "properties": {"code": {"type": "string", "maxLength": 64}}}}}},
        "responses": {**_ok("200", {"type": "object", "required": [
            "tracking_no", "contact_confirmed"], "properties": {
            "tracking_no": {"type": "string"}, "contact_confirmed": {"type": "boolean"}}}),
            **_errors(404, 422, 429)}}},
}
