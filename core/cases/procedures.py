"""Procedures beside the general one: the summary procedure on the spot (N25, 行政处罚法
Art. 51–52), the pre-filing check of a lead (N23), the complaint acceptance rule where a
department opts in (N24) and publication of decisions (N31)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from core.cases.facts import CaseFacts
from core.cases.models import Case, Record
from core.kernel.errors import GateRefused
from core.people.models import Department
from core.platform.uow import Event, UnitOfWork
from core.rules.catalogue import RecordType

SUMMARY = "summary_decision"


def summary_limit(uow: UnitOfWork, party_kind: str) -> int:
    """N25 ⚠: the largest fine on the spot (行政处罚法 Art. 51: 200 yuan for a person, 3,000
    for an organisation; SUMMARY_FINE_MAX_PERSON / SUMMARY_FINE_MAX_ORGANISATION)."""
    s = uow.settings
    return s.summary_fine_max_person if party_kind == "person" \
        else s.summary_fine_max_organisation


def before(uow: UnitOfWork, case: Case, rtype: RecordType, fields: dict,
           occurred_at: datetime) -> dict[str, Any]:
    """N25: a summary decision only for a warning or a small fine, handed over on the spot;
    N23: the pre-filing check is extended once."""
    if rtype.name == "lead_decision" and fields.get("decision") == "extend_check":
        _one_extension(uow, case)
    if rtype.name != SUMMARY:
        return {}
    if fields.get("penalty") == "fine":
        limit = summary_limit(uow, fields["party_kind"])
        if fields["fine_amount_yuan"] > limit:
            raise GateRefused(
                f"the summary procedure allows a fine of at most {limit} yuan for this party "
                "(行政处罚法 Art. 51); use the general procedure", missing=["N25"],
                zh=f"简易程序只适用于警告或对该当事人{limit}元以下的罚款（行政处罚法第五十一条），"
                   "应当适用普通程序")
    if fields.get("handed_over") is not True:
        raise GateRefused("the on-the-spot decision is handed to the party at once "
                          "(行政处罚法 Art. 52)", missing=["N25"],
                          zh="当场作出的行政处罚决定书应当当场交付当事人（行政处罚法第五十二条）")
    return {}


def after(uow: UnitOfWork, case: Case, record: Record, rtype: RecordType) -> None:
    """Events of leads (N23, N24), summary decisions (N25) and publication (N31)."""
    name, f = rtype.name, record.fields
    if name in ("lead_intake", "complaint_intake"):
        # N23: a complaint or report is a lead of the 住建 pre-filing check.
        data = {"record_id": record.id, "subject_id": record.id,
                "trigger_at": f.get("received_at")}
        uow.emit(Event("case.lead.received", case.id, record.occurred_at, data))
        if name == "complaint_intake" and _acceptance_rule_applies(uow, case):
            uow.emit(Event("complaint.acceptance_rule.applies", case.id, record.occurred_at,
                           {"record_id": record.id, "subject_id": record.id}))
    elif name == "complaint_decision":
        uow.emit(Event("case.filing_decided", case.id, record.occurred_at,
                       {"record_id": record.id}))
    elif name == SUMMARY:
        uow.emit(Event("summary_decision.made", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": record.id}))
    elif name == "decision_changed" and _published(uow, case, f["decision_id"]):
        uow.emit(Event("decision.publication_to_withdraw", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": f["decision_id"]}))
    elif name == "decision_publication":
        uow.emit(Event("decision.published", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": f["decision_id"]}))
    elif name == "publication_withdrawal":
        pub = uow.session.get(Record, f["publication_id"])
        uow.emit(Event("decision.publication_withdrawn", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": pub.fields["decision_id"]}))


def after_approval(uow: UnitOfWork, case: Case, record: Record, step: str, at: datetime
                   ) -> None:
    """N23: the head's approval of the filing form or of a lead decision ends (or extends)
    the pre-filing check."""
    if step != "head":
        return
    if record.type == "filing_form" or (record.type == "lead_decision"
                                        and record.fields.get("decision") != "extend_check"):
        uow.emit(Event("case.filing_decided", case.id, at, {"record_id": record.id}))
    elif record.type == "lead_decision":
        from sqlalchemy import select
        leads = uow.session.execute(select(Record).where(
            Record.case_id == case.id,
            Record.type.in_(("lead_intake", "complaint_intake")))).scalars()
        for lead in leads:
            uow.emit(Event("case.lead.received", case.id, at, {
                "record_id": lead.id, "subject_id": lead.id,
                "trigger_at": lead.fields.get("received_at"), "recount": True,
                "extensions": 1}))


def _one_extension(uow: UnitOfWork, case: Case) -> None:
    from sqlalchemy import select
    rows = uow.session.execute(select(Record).where(
        Record.case_id == case.id, Record.type == "lead_decision")).scalars()
    if any(r.fields.get("decision") == "extend_check" for r in rows):
        raise GateRefused("the pre-filing check may be extended once, by 10 days "
                          "(住房和城乡建设部令第55号 Art. 15)", missing=["N23"],
                          zh="立案前核查期限只能经负责人批准延长一次（10日）")


def _published(uow: UnitOfWork, case: Case, decision_id: str) -> bool:
    from sqlalchemy import select
    rows = uow.session.execute(select(Record).where(
        Record.case_id == case.id, Record.type == "decision_publication")).scalars()
    return any(r.fields.get("decision_id") == decision_id for r in rows)


def _acceptance_rule_applies(uow: UnitOfWork, case: Case) -> bool:
    """N24 only where a department opts in (COMPLAINT_ACCEPTANCE_DEPARTMENTS: codes or *)."""
    raw = uow.settings.complaint_acceptance_departments.strip()
    if raw == "*":
        return True
    dept = uow.session.get(Department, case.department_id)
    return dept is not None and dept.code in {c.strip() for c in raw.split(",") if c.strip()}


# --- what the checklist asks --------------------------------------------------------------

def summary_case(facts: CaseFacts) -> bool:
    """True when the case was decided on the spot (N25): no filing form, no notice wait."""
    return bool(facts.of_type(SUMMARY))


def summary_unreported(facts: CaseFacts) -> list[str]:
    """N25: each on-the-spot decision reported to the agency afterwards."""
    reported = {r.fields.get("decision_id") for r in facts.of_type("summary_report")}
    return [f"当场处罚决定书 {r.id}: 未报所属行政机关备案 (N25)"
            for r in facts.of_type(SUMMARY) if r.id not in reported]
