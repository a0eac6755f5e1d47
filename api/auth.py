"""Bearer-token authentication and the per-request unit of work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import current_app, g, jsonify, request
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import Unauthorized

from core.bootstrap import Container
from core.kernel.errors import Invalid
from core.people.access import officer_for_token
from core.people.models import Officer
from core.platform.idempotency import IdempotentRequest
from core.platform.uow import UnitOfWork


def container() -> Container:
    """The process's container."""
    return current_app.extensions["quancheng"]


def current_actor(uow: UnitOfWork) -> Officer:
    """The officer behind the bearer token of this request, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token>")
    actor = officer_for_token(uow.session, token.strip())
    if actor is None:
        raise Unauthorized("the token is unknown or revoked")
    g.actor_id = actor.id
    return actor


def json_body() -> dict:
    """The request body as a JSON object, or a 422 saying it is not one."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise Invalid("the body must be a JSON object (Content-Type: application/json)")
    return body


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
    """Run a POST handler so a retried Idempotency-Key returns the first answer, not a twin."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return handle(fn)
    if len(key) > 200:
        raise Invalid("Idempotency-Key is longer than 200 characters")
    fingerprint = hashlib.sha256(
        json.dumps([request.method, request.path, request.get_data(cache=True).hex()]).encode()
    ).hexdigest()
    try:
        with container().uow() as uow:
            actor = current_actor(uow)
            stored = _stored(uow, actor, key)
            if stored is None:
                body, status = fn(uow, actor)
                uow.session.add(IdempotentRequest(officer_id=actor.id, key=key,
                                                  fingerprint=fingerprint, status=status,
                                                  body=body))
                uow.session.flush()
                return jsonify(body), status
    except IntegrityError:
        # A concurrent retry with the same key won the race: answer with its result.
        with container().uow() as uow:
            actor = current_actor(uow)
            stored = _stored(uow, actor, key)
        if stored is None:
            raise
    if stored.fingerprint != fingerprint:
        raise Invalid("this Idempotency-Key was used for a different request")
    response = jsonify(stored.body)
    response.headers["Idempotent-Replayed"] = "true"
    return response, stored.status


def _stored(uow: UnitOfWork, actor: Officer, key: str) -> IdempotentRequest | None:
    return uow.session.execute(
        select(IdempotentRequest).where(IdempotentRequest.officer_id == actor.id,
                                        IdempotentRequest.key == key)
    ).scalar_one_or_none()
