"""Adding written records and taking approval steps; records are append-only (A4.1, A5.1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core import ledger
from core.cases import record_hooks
from core.cases.models import Approval, Case, Record
from core.cases.visibility import visible_case, writable_case
from core.kernel.clock import parse_aware, utcnow
from core.kernel.errors import Conflict, GateRefused, Invalid, NotFound
from core.kernel.ids import new_id
from core.kernel.vocab import stage_index
from core.people.access import log_access, require_role
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.catalogue import RecordType, record_type, validate_fields

CLOCK_SKEW = timedelta(minutes=5)


def add_record(uow: UnitOfWork, actor: Officer, case_id: str, data: Any) -> Record:
    """Validate a record against the catalogue and the case, then log it (A5.1, A6.1)."""
    session = uow.session
    case = writable_case(session, actor, case_id)
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    rtype = record_type(data.get("type"))
    if rtype.system_only:
        raise Invalid(f"{rtype.name} is made by its own service (the inspection draw), "
                      "not by adding a record")
    check_applicable(rtype, case)
    fields = validate_fields(rtype, data.get("fields", {}))
    occurred_at = _occurred_at(data.get("occurred_at"))
    officers = _officers(session, actor, rtype, data.get("officers"))
    corrects = data.get("corrects")
    if corrects is not None:
        old = session.get(Record, corrects) if isinstance(corrects, str) else None
        if old is None or old.case_id != case.id or old.type != rtype.name:
            raise Invalid("corrects must name an earlier record of the same type on this case")
        if session.execute(select(Record.id).where(Record.corrects_id == old.id)).first():
            raise Conflict("that record was already corrected; correct the newest version")
    fields.update(record_hooks.before_record(uow, actor, case, rtype, fields, occurred_at,
                                             officers))
    record = insert_record(uow, actor, case, rtype, fields, occurred_at, officers, corrects)
    record_hooks.after_record(uow, actor, case, record, rtype)
    return record


def insert_record(uow: UnitOfWork, actor: Officer, case: Case, rtype: RecordType,
                  fields: dict, occurred_at: datetime, officers: list[str],
                  corrects: str | None = None) -> Record:
    """Write a checked record, log it and raise record.<type>.created."""
    session = uow.session
    # A3.1: a record made in any stage is tagged with the stage it was made in.
    stage = case.stage if rtype.any_stage and case.stage != "closed" else rtype.stage
    record = Record(id=new_id(), case_id=case.id, type=rtype.name, stage=stage,
                    fields=fields, officers=officers, occurred_at=occurred_at,
                    created_at=utcnow(), created_by=actor.id, corrects_id=corrects)
    session.add(record)
    ledger.append(session, "record", record, case_id=case.id)
    if rtype.approval_chain:
        # The first step of a chain is the submitting officer's own opinion (A10.1).
        first = rtype.approval_chain[0]
        _add_approval(uow, record, first.step, "approve",
                      str(fields.get("officer_opinion", "")), actor)
    uow.emit(Event(f"record.{rtype.name}.created", case.id, record.created_at,
                   {"record_id": record.id, "occurred_at": occurred_at.isoformat()}))
    return record


def check_applicable(rtype: RecordType, case) -> None:
    """Refuse a record type that does not fit the case: stage, route, kind, emergency (A3.1)."""
    if case.stage == "closed":
        raise GateRefused("the case is closed; nothing more can be added", missing=["A3.1"])
    if rtype.routes and case.initiation not in rtype.routes:
        raise GateRefused(f"{rtype.name} belongs to the routes {', '.join(rtype.routes)}, "
                          f"this case started by {case.initiation}", missing=list(rtype.rules))
    if rtype.kinds and case.kind not in rtype.kinds:
        raise GateRefused(f"{rtype.name} does not apply to {case.kind} cases",
                          missing=["A2.1"])
    if rtype.emergency_only and not case.emergency:
        raise GateRefused(f"{rtype.name} is only for emergency cases", missing=list(rtype.rules))
    if not rtype.any_stage and stage_index(rtype.stage) > stage_index(case.stage):
        raise GateRefused(f"{rtype.name} belongs to the {rtype.stage} stage; the case is still "
                          f"in {case.stage}", missing=["A3.1"])


def _occurred_at(value: Any):
    if value is None:
        return utcnow()
    try:
        when = parse_aware(value)
    except ValueError as exc:
        raise Invalid(f"occurred_at {exc}", details={"fields": {"occurred_at": str(exc)}}) from None
    if when > utcnow() + CLOCK_SKEW:
        raise Invalid("occurred_at is in the future", details={"fields": {"occurred_at": "future"}})
    return when


def _officers(session, actor: Officer, rtype: RecordType, value: Any) -> list[str]:
    ids = [actor.id] if value is None else value
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise Invalid("officers must be a list of officer ids")
    ids = list(dict.fromkeys(ids))
    found = session.execute(select(Officer).where(Officer.id.in_(ids))).scalars().all()
    known = {o.id: o for o in found if o.department_id == actor.department_id and o.active}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise Invalid(f"unknown officers: {', '.join(unknown)}")
    if rtype.field_record:
        certified = [o for o in known.values() if o.certificate_no]
        if len(certified) < 2:
            raise GateRefused(f"{rtype.name} is a field record: at least two certified officers "
                              "must be named", missing=["A14.1"])
    return ids


def approve(uow: UnitOfWork, actor: Officer, case_id: str, record_id: str, data: Any
            ) -> Approval:
    """Take the next step of a record's approval chain (A10.1: officer → unit → head)."""
    session = uow.session
    case = writable_case(session, actor, case_id)
    record = session.get(Record, record_id)
    if record is None or record.case_id != case.id:
        raise NotFound(f"record {record_id} not found")
    rtype = record_type(record.type)
    if not rtype.approval_chain:
        raise Invalid(f"{rtype.name} has no approval chain")
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    decision = data.get("decision")
    if decision not in ("approve", "return"):
        raise Invalid("decision must be approve or return")
    opinion = data.get("opinion", "")
    if not isinstance(opinion, str) or len(opinion) > 4000:
        raise Invalid("opinion must be a string of at most 4000 characters")
    if session.execute(select(Record.id).where(Record.corrects_id == record.id)).first():
        raise Conflict("this record was corrected; approve the newest version")
    done = session.execute(select(Approval).where(Approval.record_id == record.id)
                           .order_by(Approval.at)).scalars().all()
    if any(a.decision == "return" for a in done):
        raise Conflict("this record was returned; submit a correction to start the chain again")
    taken = {a.step for a in done if a.decision == "approve"}
    pending = [s for s in rtype.approval_chain if s.step not in taken]
    if not pending:
        raise Conflict("the approval chain of this record is complete")
    step = pending[0]
    require_role(actor, step.role, action=f"the {step.step} step ({step.label_zh})")
    if decision == "return" and not opinion.strip():
        raise Invalid("a return needs the reason in opinion")
    approval = _add_approval(uow, record, step.step, decision, opinion.strip(), actor)
    if decision == "approve":
        record_hooks.after_approval(uow, case, record, step.step, approval.at)
    if decision == "approve" and step is rtype.approval_chain[-1]:
        uow.emit(Event(f"record.{rtype.name}.approved", case.id, approval.at,
                       {"record_id": record.id}))
    return approval


def _add_approval(uow: UnitOfWork, record: Record, step: str, decision: str, opinion: str,
                  actor: Officer) -> Approval:
    approval = Approval(id=new_id(), record_id=record.id, case_id=record.case_id, step=step,
                        decision=decision, opinion=opinion, officer_id=actor.id, at=utcnow())
    uow.session.add(approval)
    ledger.append(uow.session, "approval", approval, case_id=record.case_id)
    return approval


def list_records(uow: UnitOfWork, actor: Officer, case_id: str) -> list[Record]:
    """A case's records in the order they happened; the read is logged (A33.1)."""
    case = visible_case(uow.session, actor, case_id)
    records = uow.session.execute(
        select(Record).where(Record.case_id == case.id)
        .order_by(Record.occurred_at, Record.created_at)
    ).scalars().all()
    log_access(uow.session, actor, "list", "record", case.id)
    return records


def approvals_of(uow: UnitOfWork, record_ids: list[str]) -> dict[str, list[Approval]]:
    """Approvals grouped by record."""
    out: dict[str, list[Approval]] = {}
    if record_ids:
        for a in uow.session.execute(select(Approval).where(Approval.record_id.in_(record_ids))
                                     .order_by(Approval.at)).scalars():
            out.setdefault(a.record_id, []).append(a)
    return out


def record_json(record: Record, approvals: list[Approval] | None = None,
                superseded: bool = False) -> dict:
    """A record as the API shows it."""
    return {
        "id": record.id, "case_id": record.case_id, "type": record.type, "stage": record.stage,
        "fields": record.fields, "officers": record.officers,
        "occurred_at": record.occurred_at.isoformat(), "created_at": record.created_at.isoformat(),
        "created_by": record.created_by, "corrects": record.corrects_id,
        "superseded": superseded,
        "approvals": [{"id": a.id, "step": a.step, "decision": a.decision, "opinion": a.opinion,
                       "officer_id": a.officer_id, "at": a.at.isoformat()}
                      for a in (approvals or [])],
    }
