"""The legal end of an enforcement act (行政执法行为终结, A32.1): the record that ends it, not an
officer's move to archiving, raises ``act.ended``.

Contract (issue 10 item 4): ``Event("act.ended", case_id, at=<legal end time>,
data={"record_id": <the ending record>, "reason": <code>, "subject_id": case_id})``. The
A32.1 deadline rule (core.rules.deadline_rules) opens its 20 days from it; the case file
subscribes to it too. ``subject_id`` is the case, so a second ending record of the same case
does not open a second archiving clock while the first is open.

Reasons: ``execution_completed`` (the party complied), ``court_result`` (the court's
enforcement concluded), ``no_penalty`` / ``case_dropped`` (the head approved not penalising or
dropping the case), ``licence_served`` / ``licence_refused`` (a licensing decision served),
``decision_served`` (a decision that sets the party nothing to do, served), ``not_accepted``
(an application not accepted, a complaint not taken up), ``measure_released`` (a coercive
measure lifted: ``coercive_measure.released``), ``inspection_concluded`` (an inspection found
nothing).
"""

from __future__ import annotations

from datetime import datetime

from core.cases.models import Case, Record
from core.kernel.clock import parse_aware
from core.platform.uow import Event, UnitOfWork

ACT_ENDED = "act.ended"
REASONS = ("execution_completed", "court_result", "no_penalty", "case_dropped",
           "licence_served", "licence_refused", "decision_served", "not_accepted",
           "measure_released", "inspection_concluded")


def _record(uow: UnitOfWork, event: Event) -> Record | None:
    rid = event.data.get("record_id")
    return uow.session.get(Record, rid) if isinstance(rid, str) else None


def _moment(value: object, fallback: datetime) -> datetime:
    """An aware ISO time from a record field, else the fallback."""
    if isinstance(value, str):
        try:
            return parse_aware(value)
        except ValueError:
            pass
    return fallback


def _served_decision(uow: UnitOfWork, case: Case, doc: Record) -> str | None:
    """A served decision ends the act when it is a licence or asks the party nothing."""
    if case.kind == "licensing":
        return "licence_refused" if doc.fields.get("licence_granted") is False \
            else "licence_served"
    if not doc.fields.get("obligation") and not doc.fields.get("correction_ordered") \
            and not doc.fields.get("fine_amount_yuan"):
        return "decision_served"
    return None


def ending(uow: UnitOfWork, case: Case, event: Event) -> tuple[str, datetime] | None:
    """The reason and legal end time when this event is the end of the act, else None."""
    name, record = event.name, _record(uow, event)
    fields = record.fields if record is not None else {}
    if name == "decision.served" and record is not None and record.type == "decision":
        reason = _served_decision(uow, case, record)
        return (reason, event.at) if reason else None
    if name == "obligation.performed":
        return "execution_completed", event.at
    if name == "record.court_result.created" and record is not None:
        return "court_result", record.occurred_at
    if name == "record.case_termination.approved" and record is not None:
        return fields["outcome"], event.at
    if name == "record.inspection_result.created" and fields.get("result") == "no_violation":
        return "inspection_concluded", _moment(fields.get("concluded_at"), record.occurred_at)
    if name == "record.application_acceptance.created" \
            and fields.get("decision") == "not_accepted":
        return "not_accepted", record.occurred_at
    if name == "record.complaint_decision.created" and fields.get("decision") == "not_start":
        return "not_accepted", _moment(fields.get("decided_at"), record.occurred_at)
    if name == "coercive_measure.released":
        return "measure_released", event.at
    if name == "record.enforcement_execution.created" and record is not None:
        # legal-b: agency enforcement or substitute performance done (行政强制法 Art. 43, 51).
        return "execution_completed", _moment(fields.get("ended_at"), record.occurred_at)
    return None


def handle_event(uow: UnitOfWork, event: Event) -> None:
    """Emit act.ended when the event is the record that legally ends the act (A32.1)."""
    if event.name == ACT_ENDED or not event.case_id:
        return
    case = uow.session.get(Case, event.case_id)
    if case is None:
        return
    found = ending(uow, case, event)
    if found is None:
        return
    reason, at = found
    record_id = event.data.get("record_id")
    uow.emit(Event("act.ended", case.id, at, {
        "record_id": record_id, "reason": reason, "subject_id": case.id,
        "occurred_at": at.isoformat(), "source_event": event.name}))

