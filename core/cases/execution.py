"""Execution (A29.1, A30.1): compliance, correction checks, and for non-compliance the demand
notice, the 10-working-day wait (N14) and the court window (N15) before applying to court."""

from __future__ import annotations

from datetime import date, datetime

from core.cases.facts import CaseFacts, load_facts
from core.cases.models import Case, Record
from core.cases.periods import demand_wait_due
from core.cases.remedies import court_window
from core.kernel.errors import GateRefused, Invalid
from core.platform.uow import Event, UnitOfWork
from core.rules.calendar import legal_date
from core.rules.catalogue import RecordType


def before(uow: UnitOfWork, case: Case, rtype: RecordType, fields: dict,
           occurred_at: datetime) -> dict:
    """Refuse an execution step that comes too early or out of order."""
    check = _CHECKS.get(rtype.name)
    if check is not None:
        check(load_facts(uow.session, case, now=occurred_at).as_of(occurred_at), fields)
    return {}


def _served_decision(f: CaseFacts, fields: dict, rule: str) -> tuple[Record, datetime]:
    decision = f.get(fields["decision_id"])
    served = f.served_at(decision) if decision else None
    if decision is None or served is None:
        raise GateRefused("the decision must be served first", missing=["A23.1", rule])
    return decision, served


def _compliance(f: CaseFacts, fields: dict) -> None:
    decision, _ = _served_decision(f, fields, "A29.1")
    if decision.fields.get("obligation") is not True:
        raise Invalid("this decision sets no obligation whose performance could be recorded")


def _correction(f: CaseFacts, fields: dict) -> None:
    decision, _ = _served_decision(f, fields, "A29.1")
    if decision.fields.get("correction_ordered") is not True:
        raise Invalid("this decision ordered no correction to check")


def _demand(f: CaseFacts, fields: dict) -> None:
    """A30.1: demand only once the performance deadline has passed unperformed."""
    decision, _ = _served_decision(f, fields, "A30.1")
    if decision.fields.get("obligation") is not True:
        raise Invalid("this decision sets no obligation to demand")
    deadline = date.fromisoformat(decision.fields["performance_deadline"])
    if legal_date(f.now) <= deadline:
        raise GateRefused(f"the performance deadline {deadline} has not passed",
                          missing=["A30.1"])
    if (c := f.latest("compliance_record")) and c.fields.get("status") == "complied":
        raise GateRefused("the party complied; there is nothing to demand", missing=["A29.1"])


def _court_application(f: CaseFacts, fields: dict) -> None:
    """A30.1, N14, N15: demand served, its 10 working days over, inside the court window."""
    decision, served = _served_decision(f, fields, "A30.1")
    demands = [d for d in f.of_type("demand_notice")
               if d.fields.get("decision_id") == decision.id and f.served_at(d)]
    if not demands:
        raise GateRefused("a demand notice (催告书) must be served before applying to the court",
                          missing=["A30.1"])
    demand_served = min(f.served_at(d) for d in demands)
    wait = demand_wait_due(f.calendar, demand_served)
    if f.now <= wait.due:
        raise GateRefused(f"the party has until {wait.last_day} to perform after the demand "
                          "notice (10 working days)", missing=["N14"],
                          details={"until": wait.last_day.isoformat()})
    first, last = court_window(f, decision, served)  # N32: the party's remedies first
    today = legal_date(f.now, f.calendar.tz)
    if last is None and today >= first:
        return
    if not first <= today <= (last or first):
        raise GateRefused(f"the court may be asked from {first} to {last} (3 months after the "
                          "period for review or suit)", missing=["N15"],
                          details={"window": [first.isoformat(),
                                              last.isoformat() if last else None]})


def _court_acceptance(f: CaseFacts, fields: dict) -> None:
    application = f.get(fields["application_id"])
    if application is None or not f.approved(application, "head"):
        raise GateRefused("the application must be signed off by the head and filed first",
                          missing=["A30.1"])


def _court_result(f: CaseFacts, fields: dict) -> None:
    accepted = [a for a in f.of_type("court_acceptance")
                if a.fields.get("application_id") == fields["application_id"]
                and a.fields.get("accepted") is True]
    if not accepted:
        raise GateRefused("record the court's acceptance before its result", missing=["A30.1"])


_CHECKS = {
    "compliance_record": _compliance,
    "correction_check": _correction,
    "demand_notice": _demand,
    "court_application": _court_application,
    "court_acceptance": _court_acceptance,
    "court_result": _court_result,
}


def after(uow: UnitOfWork, case: Case, record: Record, rtype: RecordType) -> None:
    """Events that close the party's periods (N9, N14)."""
    if rtype.name == "compliance_record":
        data = {"record_id": record.id, "subject_id": record.fields["decision_id"]}
        if record.fields.get("status") == "complied":
            uow.emit(Event("obligation.performed", case.id, record.occurred_at, data))
        if record.fields.get("fine_paid"):
            uow.emit(Event("fine.paid", case.id, record.occurred_at, data))


def after_approval(uow: UnitOfWork, case: Case, record: Record, step: str, at: datetime
                   ) -> None:
    """The head's signature sends the application to the court (N15 closes)."""
    if record.type == "court_application" and step == "head":
        uow.emit(Event("court_application.filed", case.id, at,
                       {"record_id": record.id, "subject_id": record.fields["decision_id"]}))
