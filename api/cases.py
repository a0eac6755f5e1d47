"""Cases, their records, approvals, transitions and checklist."""

from __future__ import annotations

from flask import Blueprint, request

from core.cases import lifecycle as case_service
from core.cases import records as record_service
from core.cases.checklist import checklist, load_facts
from core.cases.models import Party
from core.complaints import tickets as complaints
from core.kernel.errors import Invalid
from core.people.access import log_access

from .auth import handle, idempotent, json_body

bp = Blueprint("cases", __name__, url_prefix="/api/v1/cases")


def _case_body(uow, case) -> dict:
    party = uow.session.get(Party, case.party_id) if case.party_id else None
    return case_service.case_json(case, party)


@bp.post("")
def open_case():
    """Open a case (A2.1, A3.1)."""
    data = json_body()

    def run(uow, actor):
        case = case_service.open_case(uow, actor, data)
        return _case_body(uow, case), 201

    return idempotent(run)


@bp.get("")
def list_cases():
    """The cases the caller may see."""
    try:
        limit = int(request.args.get("limit", 50))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise Invalid("limit and offset must be whole numbers") from None

    def run(uow, actor):
        found = case_service.list_cases(uow, actor, stage=request.args.get("stage"),
                                        limit=limit, offset=offset)
        return {"cases": [_case_body(uow, c) for c in found]}, 200

    return handle(run)


@bp.get("/<case_id>")
def get_case(case_id: str):
    """One case."""
    def run(uow, actor):
        return _case_body(uow, case_service.get_case(uow, actor, case_id)), 200

    return handle(run)


@bp.post("/<case_id>/transitions")
def transition(case_id: str):
    """Move a case to another stage, or 409 with what is missing."""
    data = json_body()

    def run(uow, actor):
        case = case_service.transition(uow, actor, case_id, data.get("to"))
        return _case_body(uow, case), 200

    return idempotent(run)


@bp.get("/<case_id>/checklist")
def get_checklist(case_id: str):
    """Every stage's requirements and their status."""
    def run(uow, actor):
        case = case_service.get_case(uow, actor, case_id)
        facts = load_facts(uow.session, case)
        return {"case_id": case.id, "stage": case.stage, "stages": checklist(facts)}, 200

    return handle(run)


@bp.post("/<case_id>/records")
def add_record(case_id: str):
    """Add a record of a catalogue type."""
    data = json_body()

    def run(uow, actor):
        record = record_service.add_record(uow, actor, case_id, data)
        approvals = record_service.approvals_of(uow, [record.id])
        body = record_service.record_json(record, approvals.get(record.id))
        ticket = complaints.issued_ticket(uow)
        if ticket:
            # A11.1: the complainant's tracking number and code, shown to the officer once.
            body["complaint_ticket"] = ticket
        return body, 201

    return idempotent(run)


@bp.get("/<case_id>/records")
def list_records(case_id: str):
    """A case's records in time order."""
    def run(uow, actor):
        records = record_service.list_records(uow, actor, case_id)
        approvals = record_service.approvals_of(uow, [r.id for r in records])
        corrected = {r.corrects_id for r in records if r.corrects_id}
        return {"records": [record_service.record_json(r, approvals.get(r.id), r.id in corrected)
                            for r in records]}, 200

    return handle(run)


@bp.post("/<case_id>/records/<record_id>/approvals")
def approve(case_id: str, record_id: str):
    """Take the next step of a record's approval chain (A10.1)."""
    data = json_body()

    def run(uow, actor):
        approval = record_service.approve(uow, actor, case_id, record_id, data)
        log_access(uow.session, actor, "approve", "record", record_id)
        return {"id": approval.id, "record_id": record_id, "step": approval.step,
                "decision": approval.decision, "opinion": approval.opinion,
                "at": approval.at.isoformat()}, 201

    return idempotent(run)
