"""Deliveries: the outbox as admins and supervisors see it, failed messages first."""

from __future__ import annotations

from flask import Blueprint, request

from core.kernel.errors import Conflict, Invalid, NotFound
from core.notices.models import OutboxMessage
from core.people.access import require_role
from notifications.outbox import (
    STATUSES,
    department_deliveries,
    in_department,
    outbox_json,
    revive,
)

from .auth import handle

bp = Blueprint("deliveries", __name__, url_prefix="/api/v1/deliveries")


@bp.get("")
def list_deliveries():
    """The caller's department's messages in one state (default ``dead``), newest first."""
    status = request.args.get("status", "dead")
    if status not in STATUSES:
        raise Invalid(f"status must be one of {', '.join(STATUSES)}")
    try:
        limit = min(int(request.args.get("limit", 100)), 500)
        offset = max(int(request.args.get("offset", 0)), 0)
    except ValueError:
        raise Invalid("limit and offset must be whole numbers") from None

    def run(uow, actor):
        require_role(actor, "admin", "supervisor", action="listing deliveries")
        rows = department_deliveries(uow.session, actor.department_id, status,
                                     limit=max(limit, 1), offset=offset)
        return {"status": status, "deliveries": [outbox_json(r) for r in rows]}, 200

    return handle(run)


@bp.post("/<int:outbox_id>/retry")
def retry_delivery(outbox_id: int):
    """Give a dead message a fresh set of attempts (admin); the next sweep sends it."""
    def run(uow, actor):
        require_role(actor, "admin", action="retrying a delivery")
        row = uow.session.get(OutboxMessage, outbox_id)
        if row is None or not in_department(uow.session, row, actor.department_id):
            raise NotFound(f"delivery {outbox_id} not found")
        if revive(uow.session, outbox_id) is None:
            raise Conflict(f"delivery {outbox_id} is {row.status}, not dead")
        return outbox_json(row), 200

    return handle(run)
