"""The hearing right in a penalty case (行政处罚法 (2021) Art. 63–65; N4, N5, N28).

Whether the right applies is decided from what the rights notice proposes (Art. 63): the
heavier penalty types, or a fine or confiscation at or above the amounts the settings give
(⚠ the province's figures; defaults 10,000 yuan for a person and 100,000 for an
organisation). Where it applies, the decision waits until the hearing-request period after
service is over (N4: 5 working days; 3 days before 2021-07-15, N33) unless a hearing waiver is
recorded: a statement waiver (A22.3) is not a hearing waiver. The host of a hearing is not
one of the case's investigators (Art. 64(4)); the notice is served at least 7 working days
before (N5); a party absent without reason ends the hearing (Art. 64(8)); after a hearing,
and in the other N28 cases, legal review must agree before the head approves.
"""

from __future__ import annotations

from datetime import datetime

from core.cases.facts import CaseFacts
from core.cases.models import Case, Party, Record
from core.cases.periods import _rules
from core.kernel.errors import GateRefused, Invalid
from core.kernel.settings import Settings
from core.rules.catalogue import BY_NAME, PENALTY_TYPES

# Art. 63(1): the penalty types that carry the hearing right whatever the amount.
HEARING_TYPES = frozenset({"lower_qualification", "revoke_licence", "order_suspension",
                           "order_closure", "restrict_practice", "restrict_business",
                           "other_heavy"})


def thresholds(settings: Settings | None, party_kind: str | None) -> tuple[int, int]:
    """The (fine, confiscation) amounts from which the hearing right applies (Art. 63 ⚠)."""
    organisation = party_kind == "organisation"
    if settings is None:
        settings = Settings()
    if organisation:
        return settings.hearing_fine_org_yuan, settings.hearing_confiscation_org_yuan
    return settings.hearing_fine_person_yuan, settings.hearing_confiscation_person_yuan


def hearing_basis(fields: dict, settings: Settings | None, party_kind: str | None
                  ) -> str | None:
    """Why the hearing right applies to what the notice proposes (Art. 63), or None."""
    heavy = sorted(set(fields.get("penalty_types") or ()) & HEARING_TYPES)
    fine_from, confiscation_from = thresholds(settings, party_kind)
    reasons = []
    if heavy:
        reasons.append("行政处罚法第六十三条第一款: " + "、".join(heavy))
    if (fines := fields.get("fine_amount_yuan")) and fines >= fine_from:
        reasons.append(f"较大数额罚款 {fines} 元 ≥ {fine_from} 元")
    if (value := fields.get("confiscation_value_yuan")) and value >= confiscation_from:
        reasons.append(f"没收较大数额 {value} 元 ≥ {confiscation_from} 元")
    return "；".join(reasons) or None


def check_rights_notice(session, settings: Settings | None, case: Case, fields: dict
                        ) -> dict:
    """N4: the notice names known penalty types and tells the hearing right where it applies."""
    unknown = sorted(set(fields.get("penalty_types") or ()) - set(PENALTY_TYPES))
    if unknown:
        raise Invalid(f"unknown penalty types {unknown}: use {', '.join(PENALTY_TYPES)}",
                      details={"fields": {"penalty_types": "unknown"}})
    if case.kind != "penalty":
        return {}
    party = session.get(Party, case.party_id) if case.party_id else None
    basis = hearing_basis(fields, settings, party.kind if party else None)
    if basis is None:
        return {}
    if fields.get("hearing_right") is not True:
        raise GateRefused(f"the party has the hearing right ({basis}): the notice must tell "
                          "them (行政处罚法 Art. 63-64)", missing=["N4"],
                          zh=f"拟作出的处罚适用听证（{basis}），告知书须告知听证权利（N4）")
    return {"hearing_right_basis": basis}


def check_decision(f: CaseFacts, settings: Settings | None, fields: dict) -> None:
    """N4: a decision heavier than the notice said (a fine at or above the hearing amount)
    needs a notice that told the hearing right."""
    if f.case.kind != "penalty" or not fields.get("fine_amount_yuan"):
        return
    basis = hearing_basis({"fine_amount_yuan": fields["fine_amount_yuan"]}, settings,
                          f.party_kind)
    n = _notice(f)
    if basis and not (n and n.fields.get("hearing_right") is True):
        raise GateRefused(f"this decision carries the hearing right ({basis}) but no rights "
                          "notice told it", missing=["N4"],
                          zh=f"该决定适用听证（{basis}），但未告知当事人听证权利（N4）")


def _notice(f: CaseFacts) -> Record | None:
    return f.latest("rights_notice")


def hearing_right_told(f: CaseFacts) -> bool:
    """A penalty case whose rights notice told the hearing right, not (yet) requested."""
    n = _notice(f)
    return bool(f.case.kind == "penalty" and n and n.fields.get("hearing_right") is True
                and not f.of_type("hearing_request"))


def hearing_request_due(f: CaseFacts, served: datetime):
    """The end of the hearing-request period, in the version in force on the service day."""
    return _rules(f.calendar).due_for("N4", served, f.calendar)


def request_period_over(f: CaseFacts, notice, request_due) -> bool:
    """The hearing-request period after the notice's service has ended, or a hearing waiver
    was recorded after the notice (N4 for penalties; N30 / 行政许可法 Art. 47 for licences)."""
    if notice is None:
        return False
    if any(f.complete(w) and w.occurred_at >= notice.occurred_at
           for w in f.of_type("hearing_waiver")):
        return True
    served = f.served_at(notice)
    return bool(served and f.now > request_due(f, served).due)


def request_wait_detail(f: CaseFacts, notice, request_due, *, unserved: str, who: str,
                        who_en: str) -> list[str]:
    """Until when a decision waits for a hearing request, or that the notice is unserved."""
    served = f.served_at(notice) if notice else None
    if served is None:
        return [unserved]
    due = request_due(f, served)
    return [f"{who}可在 {due.last_day} 前要求听证；记录放弃听证可提前 "
            f"({who_en} may request a hearing until {due.last_day}; {due.legal_source})"]


def hearing_period_over(f: CaseFacts) -> bool:
    """N4: the request period after service has ended, or the party waived the hearing."""
    return request_period_over(f, _notice(f), hearing_request_due)


def hearing_wait_detail(f: CaseFacts) -> list[str]:
    """Until when the decision waits for a hearing request (N4)."""
    return request_wait_detail(f, _notice(f), hearing_request_due,
                               unserved="听证告知尚未送达 (rights notice not served)",
                               who="当事人", who_en="the party")


def _investigator_names(f: CaseFacts) -> set[str]:
    """Names of the officers on the case's investigation records (Art. 64(4))."""
    ids = {o for r in f.records if (t := BY_NAME.get(r.type)) and
           (t.investigation or t.stage == "investigation" or r.type == "filing_form")
           for o in r.officers}
    return {f.officer_names.get(i, i) for i in ids} | ids


def check_host(f: CaseFacts, fields: dict) -> None:
    """Art. 64(4): the hearing host is not one of the case's investigators."""
    if f.case.kind == "licensing":
        return  # 行政许可法 Art. 48(1)(3) instead: core.cases.licensing_hearing
    host = (fields.get("host") or "").strip()
    if host and host in _investigator_names(f):
        raise GateRefused(f"{host} investigated this case and cannot host its hearing "
                          "(行政处罚法 Art. 64(4))", missing=["A13.1"],
                          zh=f"{host} 是本案调查人员，不得担任听证主持人"
                             "（行政处罚法第六十四条第四项）")


def notice_rule(f: CaseFacts) -> tuple[str, str]:
    """The (rule key, RULES.md ID) of the hearing-notice period: N5 (行政处罚法 Art. 64(2)), or
    for a licence N30's hearing_notice part (行政许可法 Art. 48(1)(1))."""
    if f.case.kind == "licensing":
        return "N30:hearing_notice", "N30"
    return "N5", "N5"


def _notice_due(f: CaseFacts, hearing_at: datetime):
    return _rules(f.calendar).due_for(notice_rule(f)[0], hearing_at, f.calendar)


def check_notice_in_time(f: CaseFacts) -> None:
    """N5 (N30 for a licence): the notice was served at least 7 working days before."""
    rid = notice_rule(f)[1]
    notice = f.latest("hearing_notice")
    served = f.served_at(notice) if notice else None
    if notice is None or served is None:
        raise GateRefused("the hearing notice must be served before the hearing",
                          missing=[rid], zh=f"听证通知书尚未送达（{rid}）")
    hearing_at = datetime.fromisoformat(notice.fields["hearing_at"])
    due = _notice_due(f, hearing_at)
    if served > due.due:
        raise GateRefused(f"the hearing notice was served {served.date()}, later than "
                          f"{due.last_day} (7 working days before the hearing)", missing=[rid],
                          zh=f"听证通知书须在听证七个工作日前送达，最迟 {due.last_day}（{rid}）")


def check_notice_possible(f: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """N5 (N30): a notice made too late to be served 7 working days before is refused."""
    rid = notice_rule(f)[1]
    hearing_at = datetime.fromisoformat(fields["hearing_at"])
    due = _notice_due(f, hearing_at)
    if occurred_at > due.due:
        raise GateRefused(f"a hearing on {hearing_at.date()} must be noticed by {due.last_day} "
                          "(7 working days before): choose a later date", missing=[rid],
                          zh=f"听证须在七个工作日前通知，{hearing_at.date()} 举行的听证最迟 "
                             f"{due.last_day} 送达通知，请另定日期（{rid}）")


# Art. 64(8): the reasons that are the party's absence; they end the hearing only once the
# hearing time of the notice the party got has come.
ABSENCE = ("absent_without_reason", "left_without_permission")


def ends_hearing(notice: Record, termination: Record) -> bool:
    """A termination names this notice and, for an absence, comes after its hearing time."""
    if termination.fields.get("hearing_notice_id") != notice.id:
        return False
    if termination.fields.get("reason") in ABSENCE:
        return termination.occurred_at >= datetime.fromisoformat(notice.fields["hearing_at"])
    return True


def check_termination(f: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 64(8): a termination names the latest hearing notice, which the party got, and an
    absence is recorded only after that notice's hearing time."""
    rid = notice_rule(f)[1]
    notice = f.latest("hearing_notice")
    if notice is None or fields.get("hearing_notice_id") != notice.id:
        raise GateRefused("the termination must name the latest hearing notice "
                          f"({notice.id if notice else 'none yet'}): an earlier notice was "
                          "replaced", missing=[rid],
                          zh="听证终止记录须对应最近一次的听证通知书"
                             f"（{notice.id if notice else '尚无听证通知书'}）（{rid}）",
                          details={"fields": {"hearing_notice_id": "not the latest notice"}})
    if f.served_at(notice) is None:
        raise GateRefused("the hearing notice was not served: the party cannot be absent from "
                          "a hearing they were not told of", missing=[rid],
                          zh=f"听证通知书尚未送达，不能认定当事人缺席（{rid}）")
    hearing_at = datetime.fromisoformat(notice.fields["hearing_at"])
    if fields.get("reason") in ABSENCE and occurred_at < hearing_at:
        raise GateRefused(f"the party cannot be absent before the hearing time {hearing_at} "
                          "of the notice they got (行政处罚法 Art. 64(8))", missing=["A13.1"],
                          zh=f"听证时间 {hearing_at} 尚未到，不能认定当事人无正当理由缺席或中途退出"
                             "（行政处罚法第六十四条第八项）",
                          details={"fields": {"occurred_at": "before the hearing time"}})


def hearing_held(f: CaseFacts) -> bool:
    """A13.1: the served hearing was held and reported, or ended by the party's absence."""
    notice = f.latest("hearing_notice")
    served = f.served_at(notice) if notice else None
    if served is None:
        return False
    hearing_at = datetime.fromisoformat(notice.fields["hearing_at"])
    if served > _notice_due(f, hearing_at).due:
        return False  # N5: a notice served late cannot bind the party to that hearing
    if any(f.complete(t) and ends_hearing(notice, t) for t in f.of_type("hearing_termination")):
        return True
    return bool(any(f.complete(r) for r in f.of_type("hearing_record"))
                and f.of_type("hearing_report"))


def _opinion_flag(f: CaseFacts, name: str) -> bool:
    o = f.latest("handling_opinion")
    return bool(o and o.fields.get(name) is True)


def legal_review_forced(f: CaseFacts) -> bool:
    """N28: a hearing was held, or the matter is of major public interest, complex or new."""
    return bool(f.of_type("hearing_record")) or _opinion_flag(f, "major_public_interest") \
        or _opinion_flag(f, "complex_or_new") or _opinion_flag(f, "major_case")


def collective_needed(f: CaseFacts) -> bool:
    """N28: complex or major cases are discussed by the heads."""
    return _opinion_flag(f, "major_case")


def collective_done(f: CaseFacts) -> bool:
    """A complete collective-discussion record."""
    return any(f.complete(r) for r in f.of_type("collective_discussion"))


def legal_review_agrees(f: CaseFacts) -> bool:
    """The latest legal review agrees."""
    r = f.latest("legal_review")
    return bool(r and r.fields.get("conclusion") == "agree")


def _head_approved_at(f: CaseFacts, record: Record) -> datetime | None:
    at = None
    for a in f.approvals.get(record.id, []):
        if a.step == "head":
            at = a.at if a.decision == "approve" else None
    return at


def reviewed_before_head(f: CaseFacts) -> bool:
    """N28: an agreeing legal review, made before the head approved the handling opinion."""
    review = f.latest("legal_review")
    if not (review and review.fields.get("conclusion") == "agree"):
        return False
    opinion = f.latest("handling_opinion")
    approved = _head_approved_at(f, opinion) if opinion else None
    return approved is None or approved >= review.occurred_at


def review_detail(f: CaseFacts) -> list[str]:
    """What N28 still needs."""
    if not legal_review_agrees(f):
        return ["法制审核意见（同意）尚未作出 (no agreeing legal review yet)"]
    return ["负责人在法制审核之前已批准处理意见：请更正处理意见并重新报批 (the head approved "
            "before the legal review: correct the handling opinion and approve it again)"]


def check_head_approval(f: CaseFacts, record: Record, step: str) -> None:
    """N28: where legal review is forced it comes before the head approves the opinion."""
    if record.type != "handling_opinion" or step != "head":
        return
    missing = []
    if legal_review_forced(f) and not legal_review_agrees(f):
        missing.append("legal review (法制审核) that agrees")
    if collective_needed(f) and not collective_done(f):
        missing.append("the heads' collective discussion (集体讨论)")
    if missing:
        raise GateRefused("the head cannot approve yet: " + "; ".join(missing) + " (N28)",
                          missing=["N28"],
                          zh="负责人批准前须先经法制审核同意" +
                             ("并经集体讨论" if collective_needed(f) else "") + "（N28）")
