"""The licensing hearing (行政许可法 Art. 46–48; issue 10 item 9, kept under N30 as RULES.md has
no row of its own). Where a licence directly concerns major interests between the applicant and
others, the applicant and the interested parties are told of their hearing right before the
decision (Art. 47); a request within 5 working days of being told (periods in working days,
Art. 82, N3) obliges a hearing within 20 working days of the request; the hearing is noticed 7
working days before (Art. 48(1)(1), checked by core.cases.hearing with N30's part); its host is
not one of the staff who reviewed the application (Art. 48(1)(3)); the decision follows the
hearing record (Art. 48(2)), or waits until the request period is over or the hearing is
waived. The hearing's own time is excluded from the decision period through
core.cases.licensing (Art. 45)."""

from __future__ import annotations

from datetime import datetime

from core.cases import hearing
from core.cases.facts import CaseFacts, load_facts
from core.cases.models import Case, Record
from core.cases.periods import _rules
from core.kernel.clock import parse_aware
from core.kernel.errors import GateRefused
from core.platform.uow import UnitOfWork

RIGHT = "licensing_hearing_right_notice"
REQUEST_PERIOD = "N30:hearing_request"
HELD_WITHIN = "N30:hearing_held"
# The records whose officers reviewed the application (审查该行政许可申请的工作人员).
REVIEW_TYPES = ("application_acceptance", "material_review", "missing_materials_notice")


def _refuse(en: str, zh: str, **details) -> GateRefused:
    return GateRefused(en, missing=["N30"], zh=zh, details=details or None)


def right_notice(f: CaseFacts) -> Record | None:
    """The latest hearing-right notice of a licensing case."""
    return f.latest(RIGHT) if f.case.kind == "licensing" else None


def request_due(f: CaseFacts, served: datetime):
    """The end of the applicant's and interested parties' 5 working days (Art. 47)."""
    return _rules(f.calendar).due_for(REQUEST_PERIOD, served, f.calendar)


def right_told(f: CaseFacts) -> bool:
    """A licensing case whose hearing right was told and not (yet) requested."""
    n = right_notice(f)
    return bool(n and not [r for r in f.of_type("hearing_request")
                           if r.occurred_at >= n.occurred_at])


def request_period_over(f: CaseFacts) -> bool:
    """Art. 47: the 5 working days after service are over, or the hearing was waived."""
    return hearing.request_period_over(f, right_notice(f), request_due)


def wait_detail(f: CaseFacts) -> list[str]:
    """Until when the licensing decision waits for a hearing request (Art. 47)."""
    return hearing.request_wait_detail(
        f, right_notice(f), request_due,
        unserved="听证告知书尚未送达 (hearing right notice not served)",
        who="申请人、利害关系人", who_en="the applicant or an interested party")


def reviewer_names(f: CaseFacts) -> set[str]:
    """Names and ids of the staff who reviewed the application (Art. 48(1)(3))."""
    ids = {o for r in f.records if r.type in REVIEW_TYPES for o in (*r.officers, r.created_by)}
    return {f.officer_names.get(i, i) for i in ids} | ids


def _gate_request(f: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 47: a request answers a served right notice, within its 5 working days."""
    n = right_notice(f)
    served = f.served_at(n) if n else None
    if served is None:
        raise _refuse("the applicant and the interested parties must first be told of the "
                      "hearing right in writing (行政许可法 Art. 47)",
                      "须先书面告知申请人、利害关系人享有要求听证的权利（行政许可法第四十七条）")
    due = request_due(f, served)
    if parse_aware(fields["requested_at"]) > due.due:
        raise _refuse(f"the hearing request period ended on {due.last_day} (5 working days "
                      "after the right was told, 行政许可法 Art. 47)",
                      f"要求听证的期限已于 {due.last_day} 届满（被告知听证权利之日起五日内，"
                      "行政许可法第四十七条）", fields={"requested_at": "after the period"})


def _gate_host(f: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 48(1)(3): the host is not one of the staff who reviewed the application."""
    host = (fields.get("host") or "").strip()
    if host and host in reviewer_names(f):
        raise _refuse(f"{host} reviewed this application and cannot host its hearing "
                      "(行政许可法 Art. 48(1)(3))",
                      f"{host} 是审查该行政许可申请的工作人员，不得担任听证主持人"
                      "（行政许可法第四十八条第一款第三项）", fields={"host": "reviewer"})


def _gate_notice(f: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 48(1)(3): the host; Art. 47: the hearing is held within 20 working days of the
    request."""
    _gate_host(f, fields, occurred_at)
    request = f.latest("hearing_request")
    if request is None:
        return
    due = _rules(f.calendar).due_for(HELD_WITHIN, parse_aware(request.fields["requested_at"]),
                                     f.calendar)
    hearing_at = datetime.fromisoformat(fields["hearing_at"])
    if hearing_at > due.due:
        raise _refuse(f"the hearing must be held by {due.last_day} (20 working days after the "
                      "request, 行政许可法 Art. 47)",
                      f"应当在收到听证申请之日起二十日内组织听证，最迟 {due.last_day}"
                      "（行政许可法第四十七条）", fields={"hearing_at": "too late"})


_GATES = {"hearing_request": _gate_request, "hearing_notice": _gate_notice,
          "hearing_record": _gate_host}


def before(uow: UnitOfWork, case: Case, rtype_name: str, fields: dict,
           occurred_at: datetime) -> dict:
    """Check a hearing record of a licensing case (Art. 47–48)."""
    gate = _GATES.get(rtype_name)
    if case.kind == "licensing" and gate is not None:
        gate(load_facts(uow.session, case, now=occurred_at).as_of(occurred_at), fields,
             occurred_at)
    return {}
