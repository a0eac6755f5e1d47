"""Adding written records and taking approval steps; records are append-only (A4.1, A5.1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from core import ledger
from core.cases import record_hooks
from core.cases.commands import AddRecord, Decide
from core.cases.models import Approval, Case, Record
from core.cases.visibility import visible_case, writable_case
from core.kernel import fields, texts
from core.kernel.clock import utcnow
from core.kernel.errors import AlreadyDone, Conflict, GateRefused, Invalid, NotFound
from core.kernel.ids import new_id
from core.kernel.vocab import stage_index
from core.people.access import has_role, log_access, require_role
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.catalogue import ApprovalStep, RecordType, record_type, validate_fields

CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class ChainState:
    """Where a record's approval chain stands (A10.1): who took which step, the next step and
    who may take it, and who submitted the record."""

    record: Record
    rtype: RecordType
    case: Case
    done: tuple[tuple[Approval, str], ...]  # each step taken, with the officer's name
    next_step: ApprovalStep | None  # None: complete, or returned
    returned: bool
    candidates: tuple[Officer, ...]  # active officers of the department holding its role
    submitter: Officer | None

    @property
    def complete(self) -> bool:
        """True when every step of the chain approved."""
        return self.next_step is None and not self.returned


@dataclass(frozen=True)
class RecordAdded:
    """What adding a record did: the record, its chain (if it has one) and, for a complaint
    intake, the tracking number and code to show once (A11.1)."""

    record: Record
    approvals: tuple[Approval, ...]
    chain: ChainState | None
    complaint_ticket: dict | None


@dataclass(frozen=True)
class ApprovalTaken:
    """What an approval step did and what comes next."""

    approval: Approval
    chain: ChainState


def add_record(uow: UnitOfWork, actor: Officer, case_id: str, cmd: AddRecord) -> RecordAdded:
    """Check a record against the catalogue and the case, then log it (A5.1, A6.1)."""
    session = uow.session
    case = writable_case(session, actor, case_id)
    rtype = record_type(cmd.type)
    if rtype.system_only:
        raise Invalid(f"{rtype.name} is made by its own service (the inspection draw), "
                      "not by adding a record",
                      zh=f"{rtype.title_zh}由其专门功能（随机抽取）生成，不能直接填写")
    check_applicable(rtype, case)
    fields = validate_fields(rtype, cmd.fields)
    occurred_at = _occurred_at(cmd.occurred_at)
    officers = _officers(session, actor, rtype, cmd.officers)
    if cmd.corrects is not None:
        old = session.get(Record, cmd.corrects)
        if old is None or old.case_id != case.id or old.type != rtype.name:
            raise Invalid("corrects must name an earlier record of the same type on this case",
                          zh="corrects 须为本案同类文书的编号",
                          details={"fields": {"corrects": "unknown"}})
        if is_corrected(session, old.id):
            raise Conflict("that record was already corrected; correct the newest version",
                           zh="该文书已被更正，请更正最新的版本")
    fields.update(record_hooks.before_record(uow, actor, case, rtype, fields, occurred_at,
                                             officers))
    record = insert_record(uow, actor, case, rtype, fields, occurred_at, officers, cmd.corrects)
    record_hooks.after_record(uow, actor, case, record, rtype)
    approvals = tuple(approvals_of(uow, [record.id]).get(record.id, []))
    chain = chain_state(uow, record) if rtype.approval_chain else None
    return RecordAdded(record, approvals, chain, issued_ticket(uow))


def issued_ticket(uow: UnitOfWork) -> dict | None:
    """The complaint tracking number and code issued in this unit of work, shown once."""
    for event in reversed(uow.events):
        if event.name == "complaint.ticket_issued":
            return {"tracking_no": event.data["tracking_no"], "code": event.data["code"]}
    return None


def is_corrected(session, record_id: str) -> bool:
    """True when a later record corrects this one (records are append-only)."""
    return session.execute(select(Record.id).where(Record.corrects_id == record_id)
                           ).first() is not None


def get_record(uow: UnitOfWork, actor: Officer, case_id: str, record_id: str, *,
               channel: str = "api", for_writing: bool = False) -> Record:
    """A record of a case the officer may see (add to, for_writing); the read is logged."""
    case = (writable_case if for_writing else visible_case)(uow.session, actor, case_id)
    record = uow.session.get(Record, record_id) if isinstance(record_id, str) else None
    if record is None or record.case_id != case.id:
        raise NotFound(f"record {record_id} not found", zh="未找到该文书")
    log_access(uow.session, actor, "read", "record", record.id, channel=channel)
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
    t = rtype.title_zh
    if case.stage == "closed":
        raise GateRefused("the case is closed; nothing more can be added", missing=["A3.1"],
                          zh="案件已结案，不能再添加内容（A3.1）")
    if rtype.routes and case.initiation not in rtype.routes:
        raise GateRefused(f"{rtype.name} belongs to the routes {', '.join(rtype.routes)}, "
                          f"this case started by {case.initiation}", missing=list(rtype.rules),
                          zh=f"{t}仅适用于{texts.labels('route', rtype.routes)}的案件，本案为"
                             f"{texts.label('route', case.initiation)}")
    if rtype.kinds and case.kind not in rtype.kinds:
        raise GateRefused(f"{rtype.name} does not apply to {case.kind} cases",
                          missing=["A2.1"],
                          zh=f"{t}不适用于{texts.label('kind', case.kind)}案件（A2.1）")
    if rtype.emergency_only and not case.emergency:
        raise GateRefused(f"{rtype.name} is only for emergency cases", missing=list(rtype.rules),
                          zh=f"{t}仅用于紧急情况先行启动的案件")
    if not rtype.any_stage and stage_index(rtype.stage) > stage_index(case.stage):
        raise GateRefused(f"{rtype.name} belongs to the {rtype.stage} stage; the case is still "
                          f"in {case.stage}", missing=["A3.1"],
                          zh=f"{t}属于“{texts.label('stage', rtype.stage)}”阶段，案件仍处于"
                             f"“{texts.label('stage', case.stage)}”阶段（A3.1）")


def _occurred_at(value: datetime | None) -> datetime:
    if value is None:
        return utcnow()
    if value > utcnow() + CLOCK_SKEW:
        raise fields.bad("occurred_at", "in_future")
    return value


def check_officers(uow: UnitOfWork, actor: Officer, record_type_name: str,
                   officer_ids: tuple[str, ...]) -> list[str]:
    """The officers named on a record, checked as add_record will check them (A14.1: a field
    record needs two certified officers), so a front can refuse before the form is filled."""
    from core.rules.catalogue import record_type

    return _officers(uow.session, actor, record_type(record_type_name), tuple(officer_ids))


def _officers(session, actor: Officer, rtype: RecordType, value: tuple[str, ...] | None
              ) -> list[str]:
    ids = list(dict.fromkeys([actor.id] if value is None else value))
    found = session.execute(select(Officer).where(Officer.id.in_(ids))).scalars().all()
    known = {o.id: o for o in found if o.department_id == actor.department_id and o.active}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise Invalid(f"unknown officers: {', '.join(unknown)}", zh="执法人员不在本部门或已停用",
                      details={"fields": {"officers": "unknown"}})
    if rtype.field_record:
        certified = [o for o in known.values() if o.certificate_no]
        if len(certified) < 2:
            raise GateRefused(f"{rtype.name} is a field record: at least two certified officers "
                              "must be named", missing=["A14.1"],
                              zh=f"{rtype.title_zh}须由两名以上持有执法证的执法人员制作（A14.1）")
    return ids


def approve(uow: UnitOfWork, actor: Officer, case_id: str, record_id: str, cmd: Decide
            ) -> ApprovalTaken:
    """Take the next step of a record's approval chain (A10.1: officer → unit → head)."""
    session = uow.session
    case = writable_case(session, actor, case_id)
    record = session.get(Record, record_id) if isinstance(record_id, str) else None
    if record is None or record.case_id != case.id:
        raise NotFound(f"record {record_id} not found", zh="未找到该文书")
    rtype = record_type(record.type)
    if not rtype.approval_chain:
        raise Invalid(f"{rtype.name} has no approval chain", zh=f"{rtype.title_zh}无需审批")
    if is_corrected(session, record.id):
        raise Conflict("this record was corrected; approve the newest version",
                       zh="该文书已被更正，请审批最新的版本")
    done = approvals_of(uow, [record.id]).get(record.id, [])
    mine = [a for a in done if a.officer_id == actor.id]
    if any(a.decision == "return" for a in done):
        if mine and mine[-1].decision == cmd.decision == "return":
            raise AlreadyDone("you already returned this record", zh="您已退回该文书，无需重复操作")
        raise Conflict("this record was returned; submit a correction to start the chain again",
                       zh="该文书已被退回，须提交更正后重新审批")
    taken = {a.step for a in done if a.decision == "approve"}
    pending = [s for s in rtype.approval_chain if s.step not in taken]
    if not pending:
        if mine and mine[-1].decision == cmd.decision:
            raise AlreadyDone("you already approved this step", zh="您已审批过，无需重复操作")
        raise Conflict("the approval chain of this record is complete",
                       zh="该文书的审批已全部完成")
    step = pending[0]
    if not has_role(actor, step.role) and mine and mine[-1].decision == cmd.decision:
        # A double tap: the caller's step is recorded and the next one belongs to someone else.
        raise AlreadyDone("you already took your step; it waits for the next approver",
                          zh="您已审批过，已转下一审批人，无需重复操作")
    require_role(actor, step.role, action=f"the {step.step} step ({step.label_zh})")
    _four_eyes(actor, record, done)
    if cmd.decision == "return" and not cmd.opinion.strip():
        raise fields.bad("opinion", "required")
    if cmd.decision == "approve":
        record_hooks.before_approval(uow, case, record, step.step)
    approval = _add_approval(uow, record, step.step, cmd.decision, cmd.opinion.strip(), actor)
    if cmd.decision == "approve":
        record_hooks.after_approval(uow, case, record, step.step, approval.at)
    else:
        record_hooks.after_return(uow, case, record, step.step, approval.at)
    if cmd.decision == "approve" and step is rtype.approval_chain[-1]:
        uow.emit(Event(f"record.{rtype.name}.approved", case.id, approval.at,
                       {"record_id": record.id}))
    uow.emit(Event("approval.taken", case.id, approval.at,
                   {"record_id": record.id, "approval_id": approval.id, "step": step.step,
                    "decision": cmd.decision}))
    return ApprovalTaken(approval, chain_state(uow, record))


def _four_eyes(actor: Officer, record: Record, done: list[Approval]) -> None:
    """A10.1: nobody approves what they submitted, nor takes two steps of one chain."""
    if actor.id == record.created_by:
        raise GateRefused("you submitted this record; another person must approve it",
                          missing=["A10.1"], zh="不能审批本人提交的文书，须由他人审批（A10.1）")
    if any(a.officer_id == actor.id and a.decision == "approve" for a in done):
        raise GateRefused("you already took a step of this approval chain; the next step "
                          "belongs to another person", missing=["A10.1"],
                          zh="同一审批流程中，同一人不能审批两个环节（A10.1）")


def chain_state(uow: UnitOfWork, record: Record) -> ChainState:
    """Where a record's approval chain stands, with the people around it."""
    session = uow.session
    rtype = record_type(record.type)
    case = session.get(Case, record.case_id)
    done = approvals_of(uow, [record.id]).get(record.id, [])
    returned = any(a.decision == "return" for a in done)
    taken = {a.step for a in done if a.decision == "approve"}
    pending = [s for s in rtype.approval_chain if s.step not in taken]
    step = pending[0] if pending and not returned else None
    staff = session.execute(select(Officer).where(Officer.department_id == case.department_id)
                            ).scalars().all()
    names = {o.id: o for o in staff}
    candidates = tuple(sorted((o for o in staff if o.active and step is not None
                               and step.role in (o.roles or [])), key=lambda o: o.name))
    return ChainState(record, rtype, case,
                      tuple((a, names[a.officer_id].name if a.officer_id in names else "?")
                            for a in done),
                      step, returned, candidates, names.get(record.created_by))


def approval_state(uow: UnitOfWork, actor: Officer, record_id: str, *, channel: str = "api"
                   ) -> ChainState:
    """The chain of a record the officer may see (an approver opening a request)."""
    record = uow.session.get(Record, record_id) if isinstance(record_id, str) else None
    if record is None:
        raise NotFound(f"record {record_id} not found", zh="未找到该文书")
    get_record(uow, actor, record.case_id, record.id, channel=channel)
    return chain_state(uow, record)


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


def approval_json(taken: ApprovalTaken) -> dict:
    """An approval step as the API shows it, with what comes next."""
    a, chain = taken.approval, taken.chain
    nxt = chain.next_step
    return {"id": a.id, "record_id": a.record_id, "step": a.step, "decision": a.decision,
            "opinion": a.opinion, "at": a.at.isoformat(), "chain_complete": chain.complete,
            "returned": chain.returned,
            "next_step": None if nxt is None else {
                "step": nxt.step, "role": nxt.role, "label_zh": nxt.label_zh,
                "officers": [{"id": o.id, "name": o.name} for o in chain.candidates]}}
