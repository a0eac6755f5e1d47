"""An administrator's hold on credentials (issue 12, finding 4): the department's officers with
certificate and token status, deactivation, reactivation, roles, unbinding and token
revocation. Each change is a ledgered event (core.people.credentials); another department's
officer is 404."""

from __future__ import annotations

from flask import Blueprint

from core.kernel.clock import utcnow
from core.kernel.errors import Invalid
from core.notices import bindings
from core.people import credentials

from .auth import handle, idempotent, json_body, remote

bp = Blueprint("officer_admin", __name__, url_prefix="/api/v1/admin")


def _one(uow, officer_id: str) -> dict:
    return credentials.officer_json(credentials.officer_view(uow.session, None, officer_id),
                                    utcnow())


@bp.get("/officers")
def list_officers():
    """The department's officers with certificate, binding and token status (admin)."""
    def run(uow, actor):
        views = credentials.list_officers(uow.session, actor, remote=remote())
        return {"officers": [credentials.officer_json(v, utcnow()) for v in views]}, 200

    return handle(run)


@bp.post("/officers/<officer_id>/deactivate")
def deactivate(officer_id: str):
    """Deactivate: tokens revoked, Telegram binding ended, the bound chat told (admin)."""
    def run(uow, actor):
        bindings.deactivate_officer(uow, actor, officer_id)
        return _one(uow, officer_id), 200

    return idempotent(run)


@bp.post("/officers/<officer_id>/reactivate")
def reactivate(officer_id: str):
    """Let a deactivated officer work again; they need a new token (admin)."""
    def run(uow, actor):
        credentials.reactivate(uow.session, actor, officer_id)
        return _one(uow, officer_id), 200

    return idempotent(run)


@bp.put("/officers/<officer_id>/roles")
def set_roles(officer_id: str):
    """Replace an officer's roles: {"roles": [...]} (admin, A8.1)."""
    def run(uow, actor):
        roles = json_body().get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Invalid("roles must be a list of role names", zh="roles 须为角色名称列表",
                          details={"fields": {"roles": "invalid"}})
        credentials.set_roles(uow.session, actor, officer_id, roles)
        return _one(uow, officer_id), 200

    return handle(run)


@bp.post("/officers/<officer_id>/unbind")
def unbind(officer_id: str):
    """End the officer's Telegram binding; the chat is told (admin, or the officer)."""
    def run(uow, actor):
        bindings.unbind_officer(uow, actor, officer_id)
        return {"id": officer_id, "telegram_bound": False}, 200

    return idempotent(run)


@bp.post("/tokens/<token_id>/revoke")
def revoke_token(token_id: str):
    """Revoke one API token (admin)."""
    def run(uow, actor):
        token = credentials.revoke_token(uow.session, actor, token_id)
        return {"id": token.id, "revoked_at": token.revoked_at.isoformat()}, 200

    return idempotent(run)


def _op(summary: str, params: list[str], body: dict | None = None) -> dict:
    op: dict = {"summary": summary, "parameters": [
        {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
        for p in params],
        "responses": {"200": {"description": "done", "content": {"application/json": {
            "schema": {"type": "object"}}}}}}
    for code, desc in ((401, "no valid token"), (403, "not an administrator"),
                       (404, "not found in the caller's department"),
                       (409, "not on oneself"), (422, "invalid fields")):
        op["responses"][str(code)] = {"description": desc, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}
    if body:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


OPENAPI_PATHS = {
    "/api/v1/admin/officers": {"get": _op("The department's officers and credentials", [])},
    "/api/v1/admin/officers/{officer_id}/deactivate": {"post": _op(
        "Deactivate an officer (tokens revoked, binding ended)", ["officer_id"])},
    "/api/v1/admin/officers/{officer_id}/reactivate": {"post": _op(
        "Reactivate an officer", ["officer_id"])},
    "/api/v1/admin/officers/{officer_id}/roles": {"put": _op(
        "Replace an officer's roles (A8.1)", ["officer_id"],
        {"type": "object", "required": ["roles"], "properties": {
            "roles": {"type": "array", "items": {"type": "string"}, "minItems": 1}}})},
    "/api/v1/admin/officers/{officer_id}/unbind": {"post": _op(
        "End an officer's Telegram binding", ["officer_id"])},
    "/api/v1/admin/tokens/{token_id}/revoke": {"post": _op("Revoke an API token",
                                                          ["token_id"])},
}
