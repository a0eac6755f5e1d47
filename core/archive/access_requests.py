"""A request to see a case's records (A35.1), handled under the information-disclosure rules
(N22, 政府信息公开条例 2019 Art. 30, 33): recorded on receipt with the requester and whether
their identity was checked; a request that must be corrected pauses the clock, which starts
again from the corrected request; 20 working days, once extended by 20 with the head's
approval; the reply (granted, partly, refused with its legal reason) lists exactly what was
disclosed. The A35.1 deadline is the deadline table's, one per request (subject = request)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from core import ledger
from core.archive.models import AccessRequest, AccessRequestStep, DisclosureCopy
from core.cases.visibility import visible_case
from core.deadlines.models import Deadline
from core.deadlines.tracking import cancel_item
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, Invalid, NotFound
from core.kernel.ids import new_id
from core.ledger.models import LedgerEntry
from core.people.access import has_role, log_access, require_role
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.deadline_rules import rule_table

RULE = "A35.1"
RECEIVED = "access_request.received"
REPLIED = "access_request.replied"
HANDLERS = ("custodian", "head", "supervisor")
KINDS = ("party", "lawyer", "public")
OUTCOMES = ("granted", "partly", "refused")


def _request(uow: UnitOfWork, actor: Officer, request_id: str) -> AccessRequest:
    row = uow.session.get(AccessRequest, request_id)
    if row is None:
        raise NotFound(f"access request {request_id} not found")
    visible_case(uow.session, actor, row.case_id)
    return row


def _steps(session, request_id: str) -> list[AccessRequestStep]:
    # In the order they were recorded (the log's), not by their stated times: a corrected
    # request may be dated before the day its correction was asked for was entered.
    return list(session.execute(select(AccessRequestStep).join(
        LedgerEntry, (LedgerEntry.subject_table == AccessRequestStep.__tablename__)
        & (LedgerEntry.subject_id == AccessRequestStep.id))
        .where(AccessRequestStep.request_id == request_id).order_by(LedgerEntry.seq)).scalars())


def _add_step(uow: UnitOfWork, req: AccessRequest, actor: Officer, step: str, at: datetime,
              **kw) -> AccessRequestStep:
    row = AccessRequestStep(id=new_id(), request_id=req.id, case_id=req.case_id, step=step,
                            at=at, officer_id=actor.id, **kw)
    uow.session.add(row)
    ledger.append(uow.session, "access_request_step", row, case_id=req.case_id)
    return row


def _open_clock(uow: UnitOfWork, req: AccessRequest, trigger_at: datetime,
                period: int | None = None) -> None:
    data = {"subject_id": req.id, "trigger_at": trigger_at.isoformat()}
    if period is not None:
        data["period"] = period
    uow.emit(Event("access_request.received", req.case_id, trigger_at, data))


def receive(uow: UnitOfWork, actor: Officer, case_id: str, *, requester_name: str,
            requester_kind: str, asked: str, received_at: datetime,
            identity_document: str = "", identity_checked: bool = False) -> AccessRequest:
    """Record a request as received; the A35.1 clock starts from its receipt."""
    case = visible_case(uow.session, actor, case_id)
    require_role(actor, *HANDLERS, action="recording an access request")
    if requester_kind not in KINDS:
        raise Invalid(f"requester_kind must be one of {', '.join(KINDS)}",
                      zh="申请人类别须为 party、lawyer 或 public")
    if not requester_name.strip() or not asked.strip():
        raise Invalid("a request names the requester and what is asked",
                      zh="申请须写明申请人及所申请的内容")
    if received_at.tzinfo is None:
        raise Invalid("received_at must carry its time zone", zh="收到时间须带时区")
    req = AccessRequest(id=new_id(), case_id=case.id, requester_name=requester_name.strip()[:100],
                        requester_kind=requester_kind,
                        identity_document=identity_document.strip()[:100],
                        identity_checked=bool(identity_checked), asked=asked.strip(),
                        received_at=received_at, created_by=actor.id, created_at=utcnow())
    uow.session.add(req)
    ledger.append(uow.session, "access_request", req, case_id=case.id)
    _open_clock(uow, req, received_at)
    return req


def _state(session, req: AccessRequest) -> tuple[str, list[AccessRequestStep]]:
    steps = _steps(session, req.id)
    state = "open"
    for s in steps:
        state = {"correction_needed": "correction_needed", "corrected": "open",
                 "extended": "open", "replied": "replied"}[s.step]
    return state, steps


def ask_correction(uow: UnitOfWork, actor: Officer, request_id: str, *, note: str,
                   at: datetime | None = None) -> AccessRequestStep:
    """The request must be corrected: the clock pauses until the corrected request arrives."""
    req = _request(uow, actor, request_id)
    require_role(actor, *HANDLERS, action="asking for a correction")
    state, _ = _state(uow.session, req)
    if state != "open":
        raise Conflict(f"the request is {state}", zh="该申请当前不能要求补正")
    at = at or utcnow()
    cancel_item(uow, req.case_id, RULE, req.id, by="access_request.correction_needed", at=at)
    return _add_step(uow, req, actor, "correction_needed", at, note=note.strip())


def corrected(uow: UnitOfWork, actor: Officer, request_id: str, *, at: datetime,
              note: str = "") -> AccessRequestStep:
    """The corrected request arrived: the period counts again, in full, from it."""
    req = _request(uow, actor, request_id)
    require_role(actor, *HANDLERS, action="recording a corrected request")
    state, _ = _state(uow.session, req)
    if state != "correction_needed":
        raise Conflict("no correction was asked for", zh="该申请未要求补正")
    _open_clock(uow, req, at)
    return _add_step(uow, req, actor, "corrected", at, note=note.strip(),
                     due_at=_due(uow.session, req))


def extend(uow: UnitOfWork, actor: Officer, request_id: str, *, approved_by: str,
           reason: str) -> AccessRequestStep:
    """One extension of 20 working days, approved by the head (N22; Art. 33(2))."""
    req = _request(uow, actor, request_id)
    require_role(actor, *HANDLERS, action="extending an access request")
    state, steps = _state(uow.session, req)
    if state != "open":
        raise Conflict(f"the request is {state}", zh="该申请当前不能延长")
    if any(s.step == "extended" for s in steps):
        raise Conflict("the period was already extended once (N22)", zh="答复期限只能延长一次")
    head = uow.session.get(Officer, approved_by) if approved_by else None
    if head is None or not has_role(head, "head") or head.department_id != actor.department_id:
        raise Invalid("an extension is approved by the department's head (approved_by)",
                      zh="延长答复期限须经机关负责人同意")
    if not reason.strip():
        raise Invalid("an extension states its reason", zh="延长须说明理由")
    open_row = _open_deadline(uow.session, req)
    if open_row is None:
        raise Conflict("the request has no running clock", zh="该申请没有进行中的答复期限")
    rule = rule_table(uow.settings).rule_for(RULE)
    trigger = open_row.trigger_at
    now = utcnow()
    cancel_item(uow, req.case_id, RULE, req.id, by="access_request.extended", at=now)
    _open_clock(uow, req, trigger, period=rule.period + rule.extension)
    return _add_step(uow, req, actor, "extended", now, approved_by=head.id, note=reason.strip(),
                     due_at=_due(uow.session, req))


def reply(uow: UnitOfWork, actor: Officer, request_id: str, *, outcome: str,
          legal_reason: str = "", disclosed: list | None = None,
          disclosure_id: str | None = None) -> AccessRequestStep:
    """The reply: granted, partly or refused (with the legal reason), and what was disclosed."""
    req = _request(uow, actor, request_id)
    require_role(actor, *HANDLERS, action="replying to an access request")
    state, _ = _state(uow.session, req)
    if state == "replied":
        raise Conflict("the request was already answered", zh="该申请已答复")
    if outcome not in OUTCOMES:
        raise Invalid(f"outcome must be one of {', '.join(OUTCOMES)}",
                      zh="答复结果须为 granted、partly 或 refused")
    if outcome != "granted" and not legal_reason.strip():
        raise Invalid("a partial grant or a refusal states its legal reason",
                      zh="部分公开或不予公开须说明法律依据和理由")
    items = [str(x) for x in (disclosed or [])]
    if disclosure_id:
        copy = uow.session.get(DisclosureCopy, disclosure_id)
        if copy is None or copy.case_id != req.case_id:
            raise Invalid("disclosure_id names no disclosure copy of this case",
                          zh="公开副本不属于本案")
        items.append(f"disclosure:{copy.id}:{copy.sha256}")
    if outcome != "refused" and not items:
        raise Invalid("a grant lists exactly what was disclosed", zh="公开答复须列明公开的内容")
    at = utcnow()
    step = _add_step(uow, req, actor, "replied", at, outcome=outcome,
                     legal_reason=legal_reason.strip()[:300], disclosed=items)
    uow.emit(Event("access_request.replied", req.case_id, at, {"subject_id": req.id}))
    return step


def _open_deadline(session, req: AccessRequest) -> Deadline | None:
    return session.execute(select(Deadline).where(
        Deadline.case_id == req.case_id, Deadline.rule_id == RULE,
        Deadline.subject_id == req.id, Deadline.status == "open")).scalars().first()


def _due(session, req: AccessRequest) -> datetime | None:
    session.flush()
    row = _open_deadline(session, req)
    return row.due_at if row else None


def request_json(uow: UnitOfWork, actor: Officer, request_id: str) -> dict:
    """A request with its steps, state and current due time; the read is logged."""
    req = _request(uow, actor, request_id)
    log_access(uow.session, actor, "read", "access_request", req.id)
    state, steps = _state(uow.session, req)
    due = _due(uow.session, req)
    tz = uow.settings.legal_tz
    return {"id": req.id, "case_id": req.case_id, "requester_name": req.requester_name,
            "requester_kind": req.requester_kind, "identity_checked": req.identity_checked,
            "identity_document": req.identity_document, "asked": req.asked,
            "received_at": req.received_at.isoformat(), "state": state,
            "due_at": due.astimezone(tz).isoformat() if due else None,
            "last_day": due.astimezone(tz).date().isoformat() if due else None,
            "steps": [{"step": s.step, "at": s.at.isoformat(), "officer_id": s.officer_id,
                       "approved_by": s.approved_by, "note": s.note, "outcome": s.outcome,
                       "legal_reason": s.legal_reason, "disclosed": s.disclosed}
                      for s in steps]}
