"""Bearer-token authentication, the per-request unit of work and idempotent POSTs."""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, jsonify, request
from werkzeug.exceptions import Unauthorized

from core.bootstrap import Container
from core.kernel.errors import Invalid
from core.people.access import holder_still_valid, token_holder, touch_token
from core.people.models import Officer
from core.platform import idempotency
from core.platform.uow import UnitOfWork


def container() -> Container:
    """The process's container."""
    return current_app.extensions["quancheng"]


def current_actor(uow: UnitOfWork, *, read_only: bool = False) -> Officer:
    """The officer behind the bearer token of this request, or 401.

    The token is looked up by its hash once per request: a later unit of work of the same
    request (an upload's check before its body, then its recording) takes the officer found
    then — merged without a query when it only reads, read again by primary key when it may
    write, so a token revoked or an officer deactivated while a long body was arriving records
    nothing. The token's use is written by the first unit of work that may write (``read_only``
    is a check that must not take SQLite's write lock)."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    token = token.strip()
    known = g.get("bearer_holder")
    if known is None or known["token"] != token:
        found = token_holder(uow.session, token)
        if found is None:
            raise Unauthorized("the token is unknown or revoked")
        known = g.bearer_holder = {"token": token, "officer": found[0], "row": found[1],
                                   "touched": False, "session": uow.session}
    if known["session"] is uow.session:
        actor, row = known["officer"], known["row"]
    elif read_only:
        actor, row = uow.session.merge(known["officer"], load=False), None
    else:
        again = holder_still_valid(uow.session, known["officer"].id, known["row"].id)
        if again is None:
            raise Unauthorized("the token is unknown or revoked")
        actor, row = again
    if not read_only and not known["touched"]:
        touch_token(row)
        known["touched"] = True
    g.actor_id = actor.id
    return actor


def json_body() -> dict:
    """The request body as a JSON object, or a 422 saying it is not one. Called inside a
    handler, after the caller is authenticated, so no body is read for an anonymous request."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object (Content-Type: application/json)",
                      zh="请求体须为 JSON 对象（Content-Type: application/json）")
    refuse_undocumented(body)
    return body


def refuse_unknown_query() -> None:
    """A query parameter the document does not list for an /api/v1 route is a 422 naming it,
    as an unknown body field is (one rule for every route)."""
    from .openapi import accepted_query

    rule = request.url_rule
    if rule is None or not request.path.startswith("/api/v1/") or not request.args \
            or "Authorization" not in request.headers:
        return  # an anonymous request is answered 401 first
    known = accepted_query(rule.rule, request.method)
    if known is None:
        return
    extra = sorted(set(request.args) - known)
    if extra:
        raise Invalid.fields({str(k)[:64]: ("unknown_parameter", {}) for k in extra})


def refuse_undocumented(body: dict) -> None:
    """Unknown fields are refused the same way on every route: a body field the OpenAPI
    document does not list for this route is a 422 naming it (a misspelt field must not
    vanish silently), whatever the service behind it checks."""
    from .openapi import accepted_fields

    rule = request.url_rule
    known = accepted_fields(rule.rule if rule else "", request.method)
    if known is None:
        return
    extra = sorted(set(body) - known)
    if extra:
        raise Invalid.fields({str(k)[:64]: ("unknown_field", {}) for k in extra})


Handler = Callable[[UnitOfWork, Officer], tuple[dict, int]]


def remote() -> str:
    """The caller's address for the access log."""
    return request.remote_addr or ""


def handle(fn: Handler):
    """Run a handler in one unit of work with an authenticated actor."""
    with container().uow() as uow:
        actor = current_actor(uow)
        body, status = fn(uow, actor)
    return jsonify(body), status


def idempotent(fn: Handler):
    """Run a POST handler so a retried Idempotency-Key returns the first answer, not a twin
    (core.platform.idempotency, the one mechanism every POST uses, uploads included)."""
    key = idempotency.check_key(request.headers.get("Idempotency-Key"))
    outcome = idempotency.run_once(
        container(), key=key, actor=current_actor, work=fn,
        fingerprint=lambda: idempotency.fingerprint(request.method, request.path,
                                                    request.get_data(cache=True).hex()))
    response = jsonify(outcome.body)
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response, outcome.status
