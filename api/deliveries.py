"""Deliveries: the outbox as admins and supervisors see it, failed messages first."""

from __future__ import annotations

from flask import Blueprint, request

from core.notices import deliveries

from .auth import handle

bp = Blueprint("deliveries", __name__, url_prefix="/api/v1/deliveries")


@bp.get("")
def list_deliveries():
    """The caller's department's messages in one state (default ``dead``), newest first."""
    def run(uow, actor):
        status = request.args.get("status", "dead")
        rows = deliveries.list_deliveries(uow, actor, status, limit=request.args.get("limit"),
                                          offset=request.args.get("offset"))
        return {"status": status, "deliveries": [deliveries.outbox_json(r) for r in rows]}, 200

    return handle(run)


@bp.post("/<outbox_id>/retry")
def retry_delivery(outbox_id: str):
    """Give a dead message a fresh set of attempts (admin); the next sweep sends it."""
    def run(uow, actor):
        return deliveries.outbox_json(deliveries.retry_delivery(uow, actor, outbox_id)), 200

    return handle(run)
