"""Deadlines of a case, the calendar overrides an administrator edits, and the public
complaint status lookup."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from core.complaints import tickets as complaints
from core.deadlines.tracking import list_deadlines
from core.rules import calendar_store

from .auth import container, handle, idempotent, json_body, remote

bp = Blueprint("deadlines", __name__, url_prefix="/api/v1")


@bp.get("/cases/<case_id>/deadlines")
def case_deadlines(case_id: str):
    """Open and closed deadlines of a case with rule ID, legal source, due time and status."""
    def run(uow, actor):
        return {"case_id": case_id, "deadlines": list_deadlines(uow, actor, case_id)}, 200

    return handle(run)


@bp.get("/calendar/overrides")
def list_overrides():
    """The administrator's calendar entries and declared years (any signed-in officer)."""
    return handle(lambda uow, actor: (calendar_store.overrides_view(
        uow.session, actor, request.args.get("year")), 200))


@bp.post("/calendar/overrides")
def add_override():
    """Enter a holiday or a 调休 working day (admin only): {"date", "working", "note"}."""
    def run(uow, actor):
        data = json_body()
        row = calendar_store.add_override(uow.session, actor, data.get("date"),
                                          data.get("working"), data.get("note"),
                                          channel="api")
        return calendar_store.override_json(row), 201

    return idempotent(run)


@bp.post("/calendar/years")
def declare_year():
    """Declare a year's State Council notice fully entered (admin only): {"year", "source"}."""
    def run(uow, actor):
        data = json_body()
        row = calendar_store.declare_year(uow.session, actor, data.get("year"),
                                          data.get("source"), channel="api")
        return {"year": row.year, "source": row.source}, 201

    return idempotent(run)


@bp.post("/cases/<case_id>/complaint-ticket/code")
def reissue_complaint_code(case_id: str):
    """Issue a new status code for a complaint (shown once; the old code stops working)."""
    def run(uow, actor):
        ticket, code = complaints.reissue_code(uow, actor, case_id)
        return {"tracking_no": ticket.tracking_no, "code": code}, 201

    return handle(run)


@bp.get("/complaints/<tracking_no>")
def complaint_status(tracking_no: str):
    """A complaint's status for whoever holds its tracking number and code (no account)."""
    # The code in a header keeps it out of URLs and logs (finding 8); ?code= still works.
    code = request.headers.get("X-Complaint-Code") or request.args.get("code", "")
    body = complaints.checked_status(container(), tracking_no, code, remote=remote())
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, 200
