"""Cases, their records, approvals, transitions and checklist."""

from __future__ import annotations

from flask import Blueprint, request

from core.cases import lifecycle, next_actions, recordings, records
from core.cases.commands import AddRecord, Decide, OpenCase, Transition
from core.cases.recordings import Resume
from core.evidence import receipt_tasks

from .auth import handle, idempotent, json_body

bp = Blueprint("cases", __name__, url_prefix="/api/v1/cases")


@bp.post("")
def open_case():
    """Open a case (A2.1, A3.1)."""
    def run(uow, actor):
        view = lifecycle.open_case(uow, actor, OpenCase.parse(json_body()))
        return lifecycle.case_json(view), 201

    return idempotent(run)


@bp.get("")
def list_cases():
    """The cases the caller may see."""
    def run(uow, actor):
        found = lifecycle.list_cases(uow, actor, stage=request.args.get("stage"),
                                     limit=request.args.get("limit", 50),
                                     offset=request.args.get("offset", 0))
        return {"cases": [lifecycle.case_json(v) for v in found]}, 200

    return handle(run)


@bp.get("/<case_id>")
def get_case(case_id: str):
    """One case."""
    def run(uow, actor):
        return next_actions.case_detail(uow, actor, case_id), 200

    return handle(run)


@bp.post("/<case_id>/transitions")
def transition(case_id: str):
    """Move a case to another stage, or 409 with what is missing."""
    def run(uow, actor):
        view = lifecycle.transition(uow, actor, case_id, Transition.parse(json_body()))
        return lifecycle.case_json(view), 200

    return idempotent(run)


@bp.get("/<case_id>/checklist")
def get_checklist(case_id: str):
    """Every stage's requirements and their status."""
    def run(uow, actor):
        return next_actions.checklist_detail(uow, actor, case_id), 200

    return handle(run)


@bp.post("/<case_id>/records")
def add_record(case_id: str):
    """Add a record of a catalogue type."""
    def run(uow, actor):
        added = records.add_record(uow, actor, case_id, AddRecord.parse(json_body()))
        body = records.record_json(added.record, list(added.approvals))
        receipt = receipt_tasks.queued_notice(uow.session, added.record.id)
        if receipt:  # a service record's draft 送达回证, drawn after the commit (issue 12)
            body["receipt"] = receipt
        if added.complaint_ticket:
            # A11.1: the complainant's tracking number and code, shown to the officer once.
            body["complaint_ticket"] = added.complaint_ticket
        return body, 201

    return idempotent(run)


@bp.get("/<case_id>/records")
def list_records(case_id: str):
    """A case's records in time order."""
    def run(uow, actor):
        return {"records": next_actions.records_detail(uow, actor, case_id)}, 200

    return handle(run)


@bp.post("/<case_id>/records/<record_id>/approvals")
def approve(case_id: str, record_id: str):
    """Take the next step of a record's approval chain (A10.1)."""
    def run(uow, actor):
        taken = records.approve(uow, actor, case_id, record_id, Decide.parse(json_body()))
        return records.approval_json(taken), 201

    return idempotent(run)


@bp.post("/<case_id>/interruptions/<record_id>/resume")
def resume_recording(case_id: str, record_id: str):
    """The AV recording restarted after an interruption (A17.2)."""
    def run(uow, actor):
        added = recordings.resume_recording(uow, actor, case_id,
                                            Resume.parse(json_body(), record_id))
        return records.record_json(added.record, list(added.approvals)), 201

    return idempotent(run)
