"""Service of documents (A23–A28): each method's conditions, the date the document counts as
served (N18–N20) and the events that start the periods which follow service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from core.cases import receipts
from core.cases.facts import load_facts, served_time
from core.cases.models import Case, Record
from core.cases.periods import announcement_served, appeal_period_end, load_calendar
from core.cases.visibility import visible_case
from core.kernel.errors import Conflict, GateRefused, Invalid
from core.people.access import log_access
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.calendar import end_of_legal_day, legal_date, start_of_legal_day
from core.rules.catalogue import BY_NAME, RecordType

# A28.1 asks that "every other method failed"; at least this many failed attempts must be on
# record for the document before it may be announced.
ANNOUNCEMENT_MIN_FAILED_ATTEMPTS = 1

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
    if method in ("direct", "entrusted", "forwarded", "lodged"):
        auto["served_at"] = occurred_at.isoformat()
    elif method == "electronic":
        _check_consent(facts, fields)
        auto["served_at"] = fields["delivered_at"]
    elif method == "announcement":
        failed = [r.id for r in facts.of_type("service_attempt_failed")
                  if r.fields.get("document_id") == doc.id and r.occurred_at <= occurred_at]
        if len(failed) < ANNOUNCEMENT_MIN_FAILED_ATTEMPTS:
            raise GateRefused("service by announcement only after the other methods failed: "
                              "record each failed attempt (送达未果记录) first",
                              missing=["A28.1"])
        auto["failed_attempts"] = failed
        auto["served_at"] = announcement_served(facts.calendar, occurred_at).due.isoformat()
    return auto


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
    """Issue the 送达回证 and tell the deadlines the document is (or will count as) served."""
    if rtype.service_method and rtype.name != "service_postal_return":
        receipts.issue(uow, actor, case, record, final=False)
    if rtype.service_method == "announcement":
        uow.emit(Event("service.announcement.published", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": record.fields["document_id"]}))
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
