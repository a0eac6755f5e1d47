"""Service of documents (A23–A28): each method's conditions, the date the document counts as
served (N18–N20) and the events that start the periods which follow service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from core.cases.facts import load_facts, served_time
from core.cases.models import Case, Record
from core.cases.periods import announcement_served, appeal_period_end, load_calendar
from core.cases.visibility import visible_case
from core.kernel import texts
from core.kernel.errors import Conflict, GateRefused, Invalid
from core.people.access import log_access
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.calendar import end_of_legal_day, legal_date, start_of_legal_day
from core.rules.catalogue import BY_NAME, RecordType

# A28.1, 民诉 Art. 95: announcement only when the recipient's whereabouts are unknown or every
# other method failed: at least a failed direct and a failed postal attempt (a refusal is not
# a failure: the document is lodged, Art. 89).
ANNOUNCEMENT_NEEDS_FAILED = ("direct", "postal")
# N26 (行政强制法 Art. 38): these are served directly; other methods only after direct service
# failed or was refused.
DIRECT_FIRST = ("demand_notice", "enforcement_decision")

# Event names the deadline rules wait for, beyond document.served and record.<type>.served.
SERVED_ALIASES = {"decision": "decision.served", "demand_notice": "demand_notice.served"}

SERVED_RULE = {
    "direct": "A24.1: the date the recipient signed the receipt",
    "entrusted": "A27.1: the date the recipient signed the receipt",
    "forwarded": "A27.1: the date the recipient signed the receipt",
    "lodged": "N20: deemed served when the document was left (民事诉讼法 Art. 89)",
    "electronic": "the moment it reached the recipient's system (民事诉讼法 Art. 90)",
    "postal": "N19: the date on the return receipt (民事诉讼法 Art. 91)",
    "announcement": "N18: deemed served when the announcement period ends "
                    "(民事诉讼法 Art. 95: 30 days; 60 before 2022-01-01)",
}


def before(uow: UnitOfWork, case: Case, rtype: RecordType, fields: dict,
           occurred_at: datetime) -> dict[str, Any]:
    """Check a service record's conditions and compute its served date (A23.1–A28.1)."""
    if rtype.name == "service_postal_return":
        return _postal_return(uow, fields, occurred_at)
    if not rtype.service_method and rtype.name != "service_attempt_failed":
        return {}
    doc = uow.session.get(Record, fields["document_id"])  # checked by workflow references
    if rtype.name == "service_attempt_failed":
        return {}
    facts = load_facts(uow.session, case)
    served = facts.served_at(doc)
    if served is not None:
        raise Conflict(f"this {BY_NAME[doc.type].title_zh} was already served on "
                       f"{served.isoformat()}")
    method = rtype.service_method
    auto: dict[str, Any] = {"document_type": doc.type, "served_rule": SERVED_RULE[method]}
    if doc.type in DIRECT_FIRST and method not in ("direct", "lodged"):
        _direct_first(facts, doc, occurred_at)
    if method == "lodged":
        auto["served_at"] = occurred_at.isoformat()
    elif method == "electronic":
        _check_consent(facts, fields)
        auto["served_at"] = fields["delivered_at"]
    elif method == "announcement":
        auto["failed_attempts"] = _announcement_grounds(facts, doc, occurred_at)
        auto["served_at"] = announcement_served(facts.calendar, occurred_at).due.isoformat()
    return auto


def _attempts(facts, doc: Record, occurred_at: datetime) -> list[Record]:
    return [r for r in facts.of_type("service_attempt_failed")
            if r.fields.get("document_id") == doc.id and r.occurred_at <= occurred_at]


def _announcement_grounds(facts, doc: Record, occurred_at: datetime) -> list[str]:
    """A28.1 (民诉 Art. 95): a whereabouts-unknown finding, or failed direct and postal service
    that was not a refusal; returns what the announcement rests on."""
    unknown = [r.id for r in facts.of_type("whereabouts_unknown")
               if r.occurred_at <= occurred_at]
    if unknown:
        return unknown
    tried = _attempts(facts, doc, occurred_at)
    if any(r.fields.get("outcome") == "refused" for r in tried):
        raise GateRefused("the recipient refused the document: serve it by lodging (留置送达), "
                          "not by announcement (民事诉讼法 Art. 89)", missing=["A28.1", "N20"],
                          zh="受送达人拒绝签收的应当留置送达，不能公告送达（民事诉讼法第八十九条）")
    failed = {r.fields.get("method") for r in tried}
    lacking = [m for m in ANNOUNCEMENT_NEEDS_FAILED if m not in failed]
    if lacking:
        raise GateRefused(
            "service by announcement only when the whereabouts are unknown (a recorded finding "
            "of what was done to find them) or every other method failed: record the failed "
            f"{' and '.join(lacking)} service first", missing=["A28.1"],
            zh="公告送达只适用于受送达人下落不明（须记录查找经过）或者用其他方式无法送达："
               f"须先记录{'和'.join(texts.label('service_method', m) for m in lacking)}未果",
            details={"lacking": lacking})
    return [r.id for r in tried]


def _direct_first(facts, doc: Record, occurred_at: datetime) -> None:
    """N26: a demand notice or enforcement decision goes by other methods only after direct
    service failed or was refused (行政强制法 Art. 38)."""
    if not any(r.fields.get("method") == "direct" for r in _attempts(facts, doc, occurred_at)):
        raise GateRefused("a demand notice or enforcement decision is served directly first; "
                          "record the failed or refused direct service before another method "
                          "(行政强制法 Art. 38)", missing=["N26"],
                          zh="催告书、行政强制执行决定书应当直接送达；直接送达未果或被拒收后，"
                             "才能依照民事诉讼法的规定送达（行政强制法第三十八条）")


def _check_consent(facts, fields: dict) -> None:
    """Electronic service only with the party's signed consent (not a refusal) to that address."""
    consent = facts.get(fields["consent_id"])
    signed = consent is not None and any(
        s.role == "party" for s in facts.signatures.get(consent.id, []))
    if not signed or consent.fields.get("consents_electronic") is not True:
        raise GateRefused("electronic service needs the party's signed consent "
                          "(送达地址确认书 with consents_electronic)", missing=["A23.1"])
    if consent.fields.get("electronic_address") != fields["address"] \
            or consent.fields.get("electronic_channel") != fields["channel"]:
        raise Invalid("the channel and address must be the ones the party consented to",
                      details={"fields": {"address": "not the consented address"}})


def _postal_return(uow: UnitOfWork, fields: dict, occurred_at: datetime) -> dict[str, Any]:
    """N19: a posted document is served on the date its return receipt shows."""
    service = uow.session.get(Record, fields["service_id"])
    day = date.fromisoformat(fields["receipt_date"])
    tz = uow.settings.legal_tz
    if day < legal_date(service.occurred_at, tz) or day > legal_date(occurred_at, tz):
        raise Invalid("receipt_date must lie between the posting and this record",
                      details={"fields": {"receipt_date": "out of range"}})
    return {"document_type": service.fields["document_type"],
            "served_at": start_of_legal_day(day, tz).isoformat(),
            "served_rule": SERVED_RULE["postal"]}


def after(uow: UnitOfWork, actor: Officer, case: Case, record: Record, rtype: RecordType
          ) -> None:
    """Tell the deadlines the document is (or will count as) served. The draft 送达回证 is
    queued by core.evidence.receipt_tasks on record.<type>.created and drawn after the commit."""
    if rtype.service_method == "announcement":
        uow.emit(Event("service.announcement.published", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": record.fields["document_id"]}))
    if rtype.service_method in ("postal", "entrusted", "announcement") \
            and rtype.name != "service_postal_return":
        # N8, N29 (民诉 Art. 85): service started by post, entrustment or announcement within
        # the period is in time; the days in transit are not counted.
        doc = uow.session.get(Record, record.fields["document_id"])
        if doc is not None and doc.type == "decision":
            uow.emit(Event("decision.service_started", case.id, record.occurred_at,
                           {"record_id": doc.id, "service_record_id": record.id,
                            "subject_id": doc.id, "method": rtype.service_method}))
    served = served_time(record)
    if served is None:
        return
    service = record
    if rtype.name == "service_postal_return":
        service = uow.session.get(Record, record.fields["service_id"])
    doc = uow.session.get(Record, service.fields["document_id"])
    emit_served(uow, case, doc, service, served)


def emit_served(uow: UnitOfWork, case: Case, doc: Record, service: Record,
                served: datetime) -> None:
    """Emit document.served and record.<type>.served with record_id = the served document."""
    # The deadline rules read the served document's fields (the notice's period, the
    # correction order), so record_id names it; the service record travels alongside.
    tz = uow.settings.legal_tz
    data = {"record_id": doc.id, "service_record_id": service.id, "subject_id": doc.id,
            "document_type": doc.type, "method": BY_NAME[service.type].service_method,
            "occurred_at": served.isoformat(), "served_at": served.isoformat(),
            "served_on": legal_date(served, tz).isoformat()}
    names = ["document.served", f"record.{doc.type}.served"]
    if doc.type in SERVED_ALIASES:
        names.append(SERVED_ALIASES[doc.type])
    if doc.type == "decision" and doc.fields.get("correction_ordered"):
        names.append("correction_order.served")
    for name in names:
        uow.emit(Event(name, case.id, served, data))
    if doc.type == "decision":
        ended = appeal_period_end(load_calendar(uow.session), served,
                                  doc.fields.get("review_period_days"),
                                  doc.fields.get("litigation_period_months"))
        # Known now, happening later: N15's window is counted from this moment.
        at = end_of_legal_day(ended, tz)
        uow.emit(Event("decision.appeal_period_ended", case.id, at,
                       {**data, "occurred_at": at.isoformat(), "deemed": True}))


def services_of(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api"
                ) -> list[dict]:
    """Every document of a case to be served, how and when it was served (A23.1–A28.1,
    N18–N20); the read is logged (A33.1)."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "list", "service", case.id, channel=channel)
    facts = load_facts(uow.session, case)
    out = []
    for doc in facts.records:
        if doc.type not in BY_NAME or not BY_NAME[doc.type].served:
            continue
        served = facts.served_at(doc)
        tries = [r for r in facts.records if r.fields.get("document_id") == doc.id]
        out.append({
            "document_id": doc.id, "type": doc.type, "title_zh": BY_NAME[doc.type].title_zh,
            "served_at": served.isoformat() if served else None,
            "services": [{"record_id": r.id, "type": r.type,
                          "method": BY_NAME[r.type].service_method or r.fields.get("method"),
                          "failed": r.type == "service_attempt_failed",
                          "served_at": r.fields.get("served_at"),
                          "served_rule": r.fields.get("served_rule"),
                          "complete": facts.complete(r),
                          "missing": [g.text for g in facts.gaps(r)]} for r in tries],
        })
    return out
