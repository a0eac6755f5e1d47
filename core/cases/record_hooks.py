"""The per-type steps around adding a record: references, officers on field records (A14.1),
the decision gate (A18.1–A22), service of documents and execution (A23–A30)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from core.cases import (
    coercion,
    execution,
    hearing,
    licensing,
    licensing_hearing,
    limitation,
    procedures,
    remedies,
    service_of_documents,
)
from core.cases.checklist import decision_missing
from core.cases.facts import load_facts
from core.cases.late_entries import is_late_entry
from core.cases.models import Case, Evidence, Party, Record
from core.cases.periods import load_calendar
from core.kernel.errors import Conflict, GateRefused, Invalid
from core.people.access import require_role
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.catalogue import BY_NAME, RecordType

# Fields that point at another record of the same case, and the types they may point at.
REFERENCES: dict[str, tuple[str, ...]] = {
    "document_id": tuple(t.name for t in BY_NAME.values() if t.served),
    "sampling_notice_id": ("sampling_notice",),
    "preservation_id": ("evidence_preservation",),
    "decision_id": ("decision", "summary_decision"),
    "demand_id": ("demand_notice",),
    "application_id": ("court_application",),
    "interruption_id": ("av_interruption",),
    "service_id": ("service_postal",),
    "consent_id": ("service_address_confirmation",),
    # legal-b: coercive measures and enforcement (行政强制法), publication (N31)
    "measure_id": (coercion.MEASURE,),
    "approval_id": ("coercive_measure_approval",),
    "enforcement_decision_id": ("enforcement_decision",),
    "substitute_decision_id": ("substitute_performance_decision",),
    "publication_id": ("decision_publication",),
    # Issue 10 (legal-a): inspection results, hearings and remedies.
    "onsite_record_id": ("onsite_inspection_record",),
    "hearing_notice_id": ("hearing_notice",),
    "remedy_application_id": ("remedy_application",),
    # legal10: licensing's excluded time (行政许可法 Art. 45, N30).
    "excluded_id": (licensing.EXCLUDED,),
}


def before_record(uow: UnitOfWork, actor: Officer, case: Case, rtype: RecordType,
                  fields: dict, occurred_at: datetime, officers: list[str]) -> dict:
    """Check what the type's rules ask before it is recorded; return computed fields."""
    if rtype.author_roles:
        require_role(actor, *rtype.author_roles, action=f"making a {rtype.title_zh} (A21.1)")
    _check_references(uow, case, fields, occurred_at)
    auto: dict[str, Any] = {}
    if rtype.field_record:
        auto.update(_field_record(uow, rtype, fields, officers))
    if rtype.name == "decision":
        _decision_gate(uow, case, occurred_at)
    auto.update(_legal_checks(uow, case, rtype, fields, occurred_at))
    auto.update(service_of_documents.before(uow, case, rtype, fields, occurred_at))
    auto.update(execution.before(uow, case, rtype, fields, occurred_at))
    auto.update(coercion.before(uow, case, rtype, fields, occurred_at))
    auto.update(procedures.before(uow, case, rtype, fields, occurred_at))
    auto.update(licensing.before(uow, case, rtype.name, fields, occurred_at))
    auto.update(licensing_hearing.before(uow, case, rtype.name, fields, occurred_at))
    return auto


def after_record(uow: UnitOfWork, actor: Officer, case: Case, record: Record,
                 rtype: RecordType) -> None:
    """Receipts and the events later deadlines start from."""
    if rtype.name == "decision":
        uow.emit(Event("decision.made", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": record.id}))
    if rtype.name == "hearing_notice":
        uow.emit(Event("hearing.scheduled", case.id,
                       datetime.fromisoformat(record.fields["hearing_at"]),
                       {"record_id": record.id, "subject_id": record.id}))
    if rtype.name == "av_interruption" and record.fields.get("can_continue") is False:
        # A17.2: the head is told at once (notifications) and a written explanation is due.
        uow.emit(Event("evidence.recording.cannot_continue", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": record.id,
                        "evidence_id": record.fields.get("evidence_id"), "notify": "head"}))
    service_of_documents.after(uow, actor, case, record, rtype)
    execution.after(uow, case, record, rtype)
    coercion.after(uow, case, record, rtype)
    procedures.after(uow, case, record, rtype)
    _late_entry(uow, case, record)
    licensing.after_record(uow, case, record)
    if rtype.name == "emergency_initiation":
        _emergency_started(uow, case, record)


def _emergency_started(uow: UnitOfWork, case: Case, record: Record) -> None:
    """A10.2: the 24 hours run from the on-site start in the record; when that is earlier
    than the case's opening, the clock counted from the facts is opened too (the earlier
    due time is the one that binds)."""
    started = datetime.fromisoformat(record.fields["started_at"])
    if started < case.opened_at:
        uow.emit(Event("case.emergency_opened", case.id, started, {
            "record_id": record.id, "subject_id": record.id,
            "trigger_at": started.isoformat()}))


def _legal_checks(uow: UnitOfWork, case: Case, rtype: RecordType, fields: dict,
                  occurred_at: datetime) -> dict:
    """Issue 10: hearing right (N4, N5, Art. 64), limitation (N11), early demand (N15, N32)."""
    name = rtype.name
    if name == "rights_notice":
        return hearing.check_rights_notice(uow.session, uow.settings, case, fields)
    if name == "missing_materials_notice":
        return licensing.before_notice(uow, case, occurred_at)
    if name == "violation_period":
        return limitation.filing_fields(case, fields, uow.settings.legal_tz)
    if name in ("hearing_notice", "hearing_record", "hearing_termination", "demand_notice",
                "decision"):
        facts = load_facts(uow.session, case, now=occurred_at).as_of(occurred_at)
        if name == "decision":
            party = uow.session.get(Party, case.party_id) if case.party_id else None
            facts.party_kind = party.kind if party else None
            hearing.check_decision(facts, uow.settings, fields)
            return {}
        if name == "demand_notice":
            return remedies.demand_warning(facts, facts.get(fields.get("decision_id")))
        if name == "hearing_termination":
            hearing.check_termination(facts, fields, occurred_at)
            return {}
        hearing.check_host(facts, fields)
        if name == "hearing_notice":
            hearing.check_notice_possible(facts, fields, occurred_at)
        if name == "hearing_record":
            hearing.check_notice_in_time(facts)
    return {}


def before_approval(uow: UnitOfWork, case: Case, record: Record, step: str) -> None:
    """N28: legal review (and collective discussion) before the head approves."""
    if record.type == "handling_opinion":
        hearing.check_head_approval(load_facts(uow.session, case), record, step)


def _late_entry(uow: UnitOfWork, case: Case, record: Record) -> None:
    """Issue 10 item 10: a record entered later than the A31.1 period after it happened is a
    late entry: the supervisor is told (core.notices.alerts) and metrics count it."""
    if is_late_entry(record, load_calendar(uow.session)):
        uow.emit(Event("record.late_entry", case.id, record.created_at, {
            "record_id": record.id, "subject_id": record.id, "type": record.type,
            "occurred_at": record.occurred_at.isoformat(), "rule_id": "A31.1",
            "notify": "supervisor"}))


def after_approval(uow: UnitOfWork, case: Case, record: Record, step: str, at: datetime
                   ) -> None:
    """Events of an approval step that deadlines wait for (N6, N15)."""
    if record.type == "evidence_preservation" and step == "head" \
            and record.fields.get("form") == "registration_preservation":
        uow.emit(Event("evidence_preservation.approved", case.id, at,
                       {"record_id": record.id, "subject_id": record.id}))
    execution.after_approval(uow, case, record, step, at)
    coercion.after_approval(uow, case, record, step, at)
    procedures.after_approval(uow, case, record, step, at)


def after_return(uow: UnitOfWork, case: Case, record: Record, step: str, at: datetime
                 ) -> None:
    """Events of a returned step: the head refusing an emergency measure (N12, Art. 19)."""
    coercion.after_return(uow, case, record, step, at)


def _check_references(uow: UnitOfWork, case: Case, fields: dict, occurred_at: datetime) -> None:
    session = uow.session
    for name, types in REFERENCES.items():
        target_id = fields.get(name)
        if target_id is None:
            continue
        target = session.get(Record, target_id)
        if target is None or target.case_id != case.id or target.type not in types:
            raise Invalid(f"{name} must name a record of this case of type "
                          f"{' or '.join(types)}", details={"fields": {name: "unknown"}})
        if session.execute(select(Record.id).where(Record.corrects_id == target.id)).first():
            raise Conflict(f"{name}: that record was corrected; refer to the newest version")
        if target.occurred_at > occurred_at:
            raise Invalid(f"{name}: this record cannot happen before the record it refers to "
                          f"({target.occurred_at.isoformat()})",
                          details={"fields": {"occurred_at": "before the referred record"}})
    evidence_id = fields.get("evidence_id")
    if evidence_id is not None:
        ev = session.get(Evidence, evidence_id)
        if ev is None or ev.case_id != case.id:
            raise Invalid("evidence_id must name evidence of this case",
                          details={"fields": {"evidence_id": "unknown"}})


def _field_record(uow: UnitOfWork, rtype: RecordType, fields: dict, officers: list[str]
                  ) -> dict:
    """A14.1: certificates shown, recused officers absent, names and numbers as they stood."""
    if rtype.field("certificates_shown") and fields.get("certificates_shown") is not True:
        raise GateRefused("officers must show their certificates before a field record",
                          missing=["A14.1"], zh="制作现场笔录前，执法人员须出示执法证件（A14.1）")
    recused = set(fields.get("recused_officers") or ())
    if recused & set(officers):
        raise GateRefused("an officer whose recusal was granted cannot take part",
                          missing=["A14.1"], zh="已决定回避的执法人员不能参与（A14.1）")
    rows = uow.session.execute(select(Officer).where(Officer.id.in_(officers))).scalars()
    by_id = {o.id: o for o in rows}
    return {"officer_certificates": [f"{by_id[o].name} {by_id[o].certificate_no or '无证号'}"
                                     for o in officers]}


def _decision_gate(uow: UnitOfWork, case: Case, occurred_at: datetime) -> None:
    """A18.1–A22: every prerequisite in place before the moment the decision is made."""
    facts = load_facts(uow.session, case, now=occurred_at).as_of(occurred_at)
    missing = decision_missing(facts)
    if missing:
        raise GateRefused(
            "the decision cannot be made yet: " + "; ".join(f"{r.id} {r.text_en}"
                                                           for r in missing),
            missing=sorted({r.id for r in missing}),
            details={"requirements": [
                {"id": r.id, "text": r.text_en, "text_zh": r.text_zh,
                 **({"detail": r.detail(facts)} if r.detail else {})} for r in missing]})
