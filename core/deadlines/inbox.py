"""The caller's inbox: approvals waiting for a role they hold (A10.1), records returned to them,
and the open deadlines they own (RULES.md part 2). One query per section, whatever the number
of cases, and one access-log line (A33.1). The phone app's inbox and the supervisor's desk
both read this."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, exists, literal, or_, select
from sqlalchemy.orm import aliased

from core.cases.models import Approval, Case, Record
from core.deadlines.tracking import open_deadlines
from core.people.access import CASE_WORKERS, has_role, log_access
from core.people.models import Officer
from core.platform.uow import UnitOfWork
from core.rules.catalogue import BY_NAME, CATALOGUE

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


@dataclass(frozen=True)
class WaitingApproval:
    """A record whose next approval step belongs to a role the caller holds."""

    record_id: str
    record_type: str
    title_zh: str
    title_en: str
    case_id: str
    case_number: str
    case_title: str
    step: str
    step_label_zh: str
    role: str
    submitted_by: str
    submitted_by_name: str
    submitted_at: datetime

    def to_json(self) -> dict:
        """As GET /api/v1/inbox shows it, with the request that takes the step."""
        return {"record_id": self.record_id, "record_type": self.record_type,
                "title_zh": self.title_zh, "title_en": self.title_en,
                "case_id": self.case_id, "case_number": self.case_number,
                "case_title": self.case_title, "step": self.step,
                "step_label_zh": self.step_label_zh, "role": self.role,
                "submitted_by": {"id": self.submitted_by, "name": self.submitted_by_name},
                "submitted_at": self.submitted_at.isoformat(),
                "action": {"method": "POST", "path": f"/api/v1/cases/{self.case_id}/records/"
                                                     f"{self.record_id}/approvals"}}


@dataclass(frozen=True)
class ReturnedRecord:
    """A record the caller submitted that an approver returned, not yet corrected."""

    record_id: str
    record_type: str
    title_zh: str
    title_en: str
    case_id: str
    case_number: str
    case_title: str
    step: str
    reason: str
    returned_by: str
    returned_by_name: str
    returned_at: datetime

    def to_json(self) -> dict:
        """As GET /api/v1/inbox shows it: a correction (``corrects``) restarts the chain."""
        return {"record_id": self.record_id, "record_type": self.record_type,
                "title_zh": self.title_zh, "title_en": self.title_en,
                "case_id": self.case_id, "case_number": self.case_number,
                "case_title": self.case_title, "step": self.step, "reason": self.reason,
                "returned_by": {"id": self.returned_by, "name": self.returned_by_name},
                "returned_at": self.returned_at.isoformat(),
                "action": {"method": "POST", "path": f"/api/v1/cases/{self.case_id}/records",
                           "corrects": self.record_id}}


@dataclass(frozen=True)
class Inbox:
    """Everything waiting for the caller."""

    approvals: tuple[WaitingApproval, ...]
    returns: tuple[ReturnedRecord, ...]
    deadlines: tuple[dict, ...]  # core.deadlines.tracking.deadline_json, with case_number

    def to_json(self) -> dict:
        """As GET /api/v1/inbox shows it."""
        return {"approvals": [a.to_json() for a in self.approvals],
                "returns": [r.to_json() for r in self.returns],
                "deadlines": list(self.deadlines),
                "counts": {"approvals": len(self.approvals), "returns": len(self.returns),
                           "deadlines": len(self.deadlines),
                           "overdue": sum(1 for d in self.deadlines if d.get("overdue"))}}


def _not_corrected():
    newer = aliased(Record)
    return ~exists().where(newer.corrects_id == Record.id)


def _waiting_for(roles: set[str]) -> list:
    """(condition, step name) for each chain step one of the roles takes: the step before it
    approved and that step not taken. Chains are taken in order (A10.1), so a record matches
    at most one of them: the step it waits for."""
    conds = []
    for rtype in CATALOGUE:
        chain = rtype.approval_chain
        for prev, step in zip(chain, chain[1:], strict=False):
            if step.role not in roles:
                continue
            before = exists().where(Approval.record_id == Record.id, Approval.step == prev.step,
                                    Approval.decision == "approve")
            taken = exists().where(Approval.record_id == Record.id, Approval.step == step.step)
            conds.append((and_(Record.type == rtype.name, before, ~taken), literal(step.step)))
    return conds


def waiting_approvals(uow: UnitOfWork, actor: Officer, *, limit: int = DEFAULT_LIMIT
                      ) -> list[WaitingApproval]:
    """Approvals of the caller's department waiting for a role the caller holds (one query)."""
    steps = _waiting_for(set(actor.roles or ()))
    if not steps or not has_role(actor, *CASE_WORKERS):
        return []
    returned = exists().where(Approval.record_id == Record.id, Approval.decision == "return")
    rows = uow.session.execute(
        select(Record.id, Record.type, Record.case_id, Record.created_by, Record.created_at,
               Case.number, Case.title, Officer.name, case(*steps).label("step"))
        .join(Case, Case.id == Record.case_id)
        .join(Officer, Officer.id == Record.created_by)
        .where(Case.department_id == actor.department_id, Case.stage != "closed",
               or_(*(cond for cond, _ in steps)), ~returned, _not_corrected())
        .order_by(Record.created_at, Record.id).limit(limit)).all()
    out = []
    for rid, rtype_name, case_id, by, at, number, case_title, by_name, step_name in rows:
        rtype = BY_NAME[rtype_name]
        step = next(s for s in rtype.approval_chain if s.step == step_name)
        out.append(WaitingApproval(rid, rtype.name, rtype.title_zh, rtype.title_en, case_id,
                                   number, case_title, step.step, step.label_zh, step.role,
                                   by, by_name, at))
    return out


def returned_records(uow: UnitOfWork, actor: Officer, *, limit: int = DEFAULT_LIMIT
                     ) -> list[ReturnedRecord]:
    """Records the caller submitted that were returned and not yet corrected (one query)."""
    returner = aliased(Officer)
    rows = uow.session.execute(
        select(Record.id, Record.type, Record.case_id, Case.number, Case.title, Approval.step,
               Approval.opinion, Approval.officer_id, returner.name, Approval.at)
        .join(Approval, Approval.record_id == Record.id)
        .join(Case, Case.id == Record.case_id)
        .join(returner, returner.id == Approval.officer_id)
        .where(Record.created_by == actor.id, Approval.decision == "return",
               Case.department_id == actor.department_id, Case.stage != "closed",
               _not_corrected())
        .order_by(Approval.at.desc(), Approval.id).limit(limit)).all()
    out = []
    for rid, rtype_name, case_id, number, case_title, step, reason, by, by_name, at in rows:
        rtype = BY_NAME.get(rtype_name)
        out.append(ReturnedRecord(rid, rtype_name, rtype.title_zh if rtype else rtype_name,
                                  rtype.title_en if rtype else rtype_name, case_id, number,
                                  case_title, step, reason, by, by_name, at))
    return out


def inbox(uow: UnitOfWork, actor: Officer, *, limit: int = DEFAULT_LIMIT,
          channel: str = "api") -> Inbox:
    """What waits for the caller: approvals for their roles, returns, deadlines they own."""
    limit = max(1, min(int(limit), MAX_LIMIT))
    approvals = waiting_approvals(uow, actor, limit=limit)
    returns = returned_records(uow, actor, limit=limit)
    deadlines = open_deadlines(uow, actor, mine=True, limit=limit, channel=channel)
    log_access(uow.session, actor, "list", "inbox", actor.id, channel=channel)
    return Inbox(tuple(approvals), tuple(returns), tuple(deadlines))
