"""Coercive measures and agency enforcement (行政强制法): approval before a measure or within
24 hours after an emergency one (N12, Art. 18–19), the seal-up or impoundment period of at most
30 days with one extension and testing time excluded (N13, Art. 24–25), handling and release
(Art. 27–28), no enforcement at night or on rest days outside emergencies (N27, Art. 43) and
substitute performance after its decision and a demand 3 days before (Art. 50–51)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from core.cases.facts import CaseFacts, load_facts
from core.cases.models import Case, Record
from core.kernel.clock import parse_aware
from core.kernel.errors import GateRefused, Invalid
from core.platform.uow import Event, UnitOfWork
from core.rules.calendar import legal_date
from core.rules.catalogue import RecordType

MEASURE = "coercive_measure_record"
ENDED = ("seizure_release_decision", "seizure_handling_decision")
# 行政强制法 Art. 51(2): the party is urged to perform 3 days (working days, Art. 69, N2)
# before the substitute performance.
SUBSTITUTE_DEMAND_WORKING_DAYS = 3


def _refuse(rule: str, en: str, zh: str) -> GateRefused:
    return GateRefused(en, missing=[rule], zh=zh)


def _at(value: Any) -> datetime:
    return parse_aware(value) if isinstance(value, str) else value


# --- the N13 period of one measure ----------------------------------------------------------

def measure_records(facts: CaseFacts, measure_id: str, rtype: str) -> list[Record]:
    """The effective records of a type that belong to one measure."""
    return [r for r in facts.of_type(rtype) if r.fields.get("measure_id") == measure_id]


def extension_approved(facts: CaseFacts, measure_id: str) -> Record | None:
    """The measure's extension approved by the head, if any (Art. 25(1))."""
    return next((r for r in measure_records(facts, measure_id, "seizure_extension")
                 if facts.approved(r, "head")), None)


def excluded_days(facts: CaseFacts, measure_id: str) -> int:
    """Days of testing, inspection, quarantine or appraisal, not counted (Art. 25(3))."""
    return sum((date.fromisoformat(r.fields["ended_on"])
                - date.fromisoformat(r.fields["started_on"])).days + 1
               for r in measure_records(facts, measure_id, "seizure_testing"))


def measure_due(facts: CaseFacts, measure: Record) -> datetime:
    """When the measure must end (N13): 30 days, +30 once approved, + excluded testing days;
    a maximum duration, so a last day on a rest day is not moved."""
    rules = getattr(facts.calendar, "rules", None)
    from core.cases.periods import RULES  # the statutory table when the settings have none
    table = rules or RULES
    extensions = 1 if extension_approved(facts, measure.id) else 0
    answer = table.due_for("N13", _at(measure.fields["applied_at"]), facts.calendar,
                           extensions=extensions)
    return answer.due + timedelta(days=excluded_days(facts, measure.id))


def ended(facts: CaseFacts, measure_id: str) -> bool:
    """True once the measure was released or its goods handled (Art. 27–28)."""
    return any(measure_records(facts, measure_id, t) for t in ENDED)


def _measure(facts: CaseFacts, fields: dict) -> Record:
    measure = facts.get(fields.get("measure_id"))
    if measure is None or measure.type != MEASURE:
        raise Invalid("measure_id must name a coercive measure record of this case",
                      zh="measure_id 须为本案的实施行政强制措施现场笔录",
                      details={"fields": {"measure_id": "unknown"}})
    return measure


def _active(facts: CaseFacts, measure: Record) -> None:
    if ended(facts, measure.id):
        raise _refuse("N13", "the measure was already released or its goods handled",
                      "该强制措施已解除或已作出处理决定")
    refusal = refused_by_head(facts, measure.id)
    if refusal is not None:
        raise _refuse("N12", f"the head refused to approve this emergency measure ({refusal}): "
                      "it must be released at once; only the release decision may follow "
                      "(行政强制法 Art. 19)",
                      f"负责人认为不应当采取该强制措施（{refusal}），应当立即解除；"
                      "此后只能作出解除决定（行政强制法第十九条）")


def refused_by_head(facts: CaseFacts, measure_id: str) -> str | None:
    """Art. 19: the head returned (refused) an emergency measure's after-the-fact approval;
    the opinion given, or None. A head's return of that form is a refusal: within 24 hours
    there is no room to send it back and forth, and the measure must end at once."""
    for r in measure_records(facts, measure_id, "coercive_measure_approval"):
        for a in facts.approvals.get(r.id, []):
            if a.step == "head" and a.decision == "return":
                return a.opinion or "不予批准"
    return None


# --- gates before a record ------------------------------------------------------------------

def before(uow: UnitOfWork, case: Case, rtype: RecordType, fields: dict,
           occurred_at: datetime) -> dict[str, Any]:
    """Check what 行政强制法 asks before a coercion or enforcement record (N12, N13, N27)."""
    name = rtype.name
    if name not in _GATES:
        return {}
    facts = load_facts(uow.session, case, now=max(occurred_at, _now()))
    _GATES[name](uow, facts, fields, occurred_at)
    return {}


def _now() -> datetime:
    from core.kernel.clock import utcnow
    return utcnow()


def _gate_measure(uow, facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 18: reasons, basis, rights and remedies told; approval first unless urgent."""
    if fields.get("reasons_told") is not True or fields.get("rights_told") is not True:
        raise _refuse("N13", "the party must be told on the spot the reasons, the basis, "
                      "their rights and remedies (行政强制法 Art. 18(5)–(6))",
                      "须当场告知当事人采取行政强制措施的理由、依据以及当事人依法享有的权利、"
                      "救济途径（行政强制法第十八条）")
    if fields.get("emergency"):
        return
    approval = facts.get(fields.get("approval_id"))
    if approval is None or approval.type != "coercive_measure_approval" \
            or approval.fields.get("measure_id"):
        raise Invalid("approval_id must name an approval form (审批表) of this case made "
                      "before the measure", zh="approval_id 须为本案事先报批的审批表",
                      details={"fields": {"approval_id": "unknown"}})
    applied = _at(fields["applied_at"])
    heads = [a for a in facts.approvals.get(approval.id, [])
             if a.step == "head" and a.decision == "approve" and a.at <= applied]
    if not heads or not facts.approved(approval, "head"):
        raise _refuse("N12", "a coercive measure needs the head's approval before it is "
                      "applied, unless it is an emergency (行政强制法 Art. 18(1), 19)",
                      "实施行政强制措施前须向行政机关负责人报告并经批准；情况紧急的须在"
                      "24小时内补办批准手续（行政强制法第十八条、第十九条）")
    if approval.fields.get("measure") != fields.get("measure"):
        raise Invalid("the measure differs from the one approved",
                      zh="实施的强制措施与批准的种类不一致",
                      details={"fields": {"measure": "not the approved measure"}})


def _gate_approval(uow, facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 19: an approval naming a measure is the after-the-fact one of an emergency."""
    if not fields.get("measure_id"):
        return
    measure = _measure(facts, fields)
    if not measure.fields.get("emergency"):
        raise Invalid("only an emergency measure is approved after the fact",
                      zh="只有情况紧急当场实施的强制措施才能事后补办批准",
                      details={"fields": {"measure_id": "not an emergency measure"}})
    _active(facts, measure)


def _gate_decision(uow, facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 24–25: the decision states a period of at most 30 days."""
    measure = _measure(facts, fields)
    _active(facts, measure)
    limit = _rule(facts).period
    if fields["period_days"] > limit:
        raise _refuse("N13", f"a seal-up or impoundment lasts at most {limit} days "
                      "(行政强制法 Art. 25)",
                      f"查封、扣押的期限不得超过{limit}日（行政强制法第二十五条）")


def _rule(facts: CaseFacts):
    from core.cases.periods import RULES
    return (getattr(facts.calendar, "rules", None) or RULES).rule_for("N13")


def _gate_extension(uow, facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 25: one extension of at most 30 days, decided before the period ends."""
    measure = _measure(facts, fields)
    _active(facts, measure)
    rule = _rule(facts)
    if measure_records(facts, measure.id, "seizure_extension"):
        raise _refuse("N13", "the period may be extended once only (行政强制法 Art. 25)",
                      "查封、扣押的期限只能延长一次（行政强制法第二十五条）")
    if fields["extension_days"] > rule.extension:
        raise _refuse("N13", f"an extension is at most {rule.extension} days",
                      f"延长期限不得超过{rule.extension}日（行政强制法第二十五条）")
    if occurred_at > measure_due(facts, measure):
        raise _refuse("N13", "the period has ended: the measure must be released, not "
                      "extended (行政强制法 Art. 28(4))",
                      "查封、扣押期限已经届满，应当解除，不能再延长（行政强制法第二十八条）")


def _gate_testing(uow, facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 25(3): testing time is stated and the party told in writing."""
    measure = _measure(facts, fields)
    _active(facts, measure)
    start, end = date.fromisoformat(fields["started_on"]), date.fromisoformat(fields["ended_on"])
    tz = facts.calendar.tz
    if end < start or start < legal_date(_at(measure.fields["applied_at"]), tz):
        raise Invalid("the testing period must start on or after the measure and end after "
                      "it starts", zh="检测期间须在实施强制措施之后，且结束日期不早于开始日期",
                      details={"fields": {"ended_on": "out of range"}})
    if fields.get("party_told") is not True:
        raise _refuse("N13", "the testing period is excluded only once the party is told in "
                      "writing (行政强制法 Art. 25(3))",
                      "检测、检验、检疫或者技术鉴定的期间应当明确并书面告知当事人")


def _gate_end(uow, facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    _active(facts, _measure(facts, fields))


def _gate_release(uow, facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """Art. 28: a measure is released once; after the head's refusal (Art. 19) it is the one
    record still allowed."""
    measure = _measure(facts, fields)
    if ended(facts, measure.id):
        _active(facts, measure)


def _served(facts: CaseFacts, record_id: Any, what_en: str, what_zh: str, rule: str
            ) -> datetime:
    doc = facts.get(record_id)
    served = facts.served_at(doc) if doc is not None else None
    if served is None:
        raise _refuse(rule, f"{what_en} must be served first", f"须先送达{what_zh}")
    return served


def _gate_enforcement_decision(uow, facts: CaseFacts, fields: dict, occurred_at: datetime
                               ) -> None:
    """Art. 35–37: enforcement decided only after the demand notice (催告书) was served."""
    demand = facts.get(fields.get("demand_id"))
    if demand is None or demand.type != "demand_notice":
        raise Invalid("demand_id must name a demand notice of this case",
                      details={"fields": {"demand_id": "unknown"}})
    _served(facts, demand.id, "the demand notice (催告书)", "催告书", "A30.1")


def _gate_execution(uow, facts: CaseFacts, fields: dict, occurred_at: datetime) -> None:
    """N27 (Art. 43) and, for substitute performance, Art. 51's decision and prior demand."""
    decision = facts.get(fields.get("enforcement_decision_id"))
    if decision is None or decision.type != "enforcement_decision":
        raise Invalid("enforcement_decision_id must name an enforcement decision of this case",
                      details={"fields": {"enforcement_decision_id": "unknown"}})
    _served(facts, decision.id, "the enforcement decision (强制执行决定书)", "行政强制执行决定书",
            "N26")
    started, finished = _at(fields["started_at"]), _at(fields["ended_at"])
    if finished < started:
        raise Invalid("ended_at is before started_at",
                      details={"fields": {"ended_at": "before started_at"}})
    if decision.fields.get("method") == "substitute_performance":
        sub = facts.get(fields.get("substitute_decision_id"))
        if sub is None or sub.type != "substitute_performance_decision":
            raise Invalid("substitute performance needs its decision (代履行决定书)",
                          details={"fields": {"substitute_decision_id": "required"}})
        sub_served = _served(facts, sub.id, "the substitute performance decision",
                             "代履行决定书", "N27")
        demand = facts.get(fields.get("demand_id"))
        served = facts.served_at(demand) if demand is not None \
            and demand.type == "demand_notice" else None
        cal = facts.calendar
        first_day = cal.add_working_days(legal_date(served, cal.tz),
                                         SUBSTITUTE_DEMAND_WORKING_DAYS).date if served else None
        if served is None or served < sub_served or legal_date(started, cal.tz) < first_day:
            raise _refuse("N27", "the party must be urged (催告) to perform at least 3 working "
                          "days before the substitute performance, after its decision was "
                          "served (行政强制法 Art. 51(2), 69)",
                          "代履行三日前须催告当事人履行（行政强制法第五十一条、第六十九条）")
    if not fields.get("emergency"):
        _no_night_or_rest_day(uow, facts, started, finished)


def night_window(uow: UnitOfWork) -> tuple[time, time]:
    """The night (夜间) of N27 from the settings (ENFORCEMENT_NIGHT, default 22:00–06:00)."""
    raw = uow.settings.enforcement_night
    start, end = (time.fromisoformat(p.strip()) for p in raw.split("-"))
    return start, end


def _is_night(moment: time, window: tuple[time, time]) -> bool:
    start, end = window
    return moment >= start or moment < end if start > end else start <= moment < end


def _no_night_or_rest_day(uow: UnitOfWork, facts: CaseFacts, started: datetime,
                          finished: datetime) -> None:
    """N27: no enforcement at night or on statutory holidays except in an emergency."""
    cal, window = facts.calendar, night_window(uow)
    for moment in (started, finished):
        local = moment.astimezone(cal.tz)
        if _is_night(local.time(), window):
            raise _refuse("N27", "no enforcement at night except in an emergency "
                          f"(行政强制法 Art. 43; night {window[0]:%H:%M}–{window[1]:%H:%M})",
                          "行政机关不得在夜间实施行政强制执行，情况紧急的除外"
                          f"（行政强制法第四十三条；夜间为{window[0]:%H:%M}至{window[1]:%H:%M}）")
        day = local.date()
        if not cal.is_working_day(day) and uow.settings.enforcement_rest_days:
            raise _refuse("N27", f"no enforcement on {day} (a statutory holiday or rest day) "
                          "except in an emergency (行政强制法 Art. 43)",
                          f"{day} 为法定节假日（休息日），不得实施行政强制执行，情况紧急的除外"
                          "（行政强制法第四十三条）")


_GATES = {
    MEASURE: _gate_measure,
    "coercive_measure_approval": _gate_approval,
    "seizure_decision": _gate_decision,
    "seizure_list": _gate_end,
    "seizure_extension": _gate_extension,
    "seizure_testing": _gate_testing,
    "seizure_handling_decision": _gate_end,
    "seizure_release_decision": _gate_release,
    "enforcement_decision": _gate_enforcement_decision,
    "enforcement_execution": _gate_execution,
}


# --- events: N12 and N13 open and close -----------------------------------------------------

def _recount(uow: UnitOfWork, case: Case, measure: Record, at: datetime) -> None:
    """Count the measure's N13 period again after an extension or excluded testing time."""
    facts = load_facts(uow.session, case)
    uow.emit(Event("coercive_measure.seizure_applied", case.id, at, {
        "record_id": measure.id, "subject_id": measure.id,
        "trigger_at": measure.fields["applied_at"], "recount": True,
        "extensions": 1 if extension_approved(facts, measure.id) else 0,
        "excluded_days": excluded_days(facts, measure.id)}))


def after(uow: UnitOfWork, case: Case, record: Record, rtype: RecordType) -> None:
    """Open N12 and N13 when a measure is applied; close them when it ends (Art. 19, 25–28)."""
    f = record.fields
    if rtype.name == MEASURE:
        data = {"record_id": record.id, "subject_id": record.id, "trigger_at": f["applied_at"]}
        at = _at(f["applied_at"])
        if f.get("emergency"):
            uow.emit(Event("coercive_measure.emergency_applied", case.id, at, dict(data)))
        uow.emit(Event("coercive_measure.seizure_applied", case.id, at, dict(data)))
    elif rtype.name == "seizure_testing":
        _recount(uow, case, uow.session.get(Record, f["measure_id"]), record.occurred_at)
    elif rtype.name == "seizure_handling_decision":
        uow.emit(Event("coercive_measure.handled", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": f["measure_id"]}))
    elif rtype.name == "seizure_release_decision":
        # core.cases.act_end turns this into act.ended (reason measure_released, A32.1).
        uow.emit(Event("coercive_measure.released", case.id, record.occurred_at,
                       {"record_id": record.id, "subject_id": f["measure_id"]}))


def after_return(uow: UnitOfWork, case: Case, record: Record, step: str, at: datetime
                 ) -> None:
    """N12 (Art. 19): the head refusing an emergency measure's approval raises the alert to
    the officers and the supervisor (core.notices.alerts) and opens the short deadline for
    the release decision (N12's part "release")."""
    measure_id = record.fields.get("measure_id")
    if step != "head" or record.type != "coercive_measure_approval" or not measure_id:
        return
    uow.emit(Event("coercive_measure.emergency_refused", case.id, at, {
        "record_id": record.id, "subject_id": measure_id, "measure_id": measure_id,
        "notify": ["officer", "supervisor"], "rule_id": "N12"}))


def after_approval(uow: UnitOfWork, case: Case, record: Record, step: str, at: datetime
                   ) -> None:
    """The head's approval of an emergency measure closes N12; of an extension, recounts N13."""
    if step != "head":
        return
    measure_id = record.fields.get("measure_id")
    if record.type == "coercive_measure_approval" and measure_id:
        uow.emit(Event("coercive_measure.emergency_approved", case.id, at,
                       {"record_id": record.id, "subject_id": measure_id}))
    if record.type == "seizure_extension":
        _recount(uow, case, uow.session.get(Record, measure_id), at)


# --- what the checklist asks of a coercion case ----------------------------------------------

def measures(facts: CaseFacts) -> list[Record]:
    """The case's coercive measures."""
    return facts.of_type(MEASURE)


def emergency_gaps(facts: CaseFacts) -> list[str]:
    """N12: each emergency measure approved by the head within 24 hours, or released."""
    out = []
    for m in measures(facts):
        if not m.fields.get("emergency") or ended(facts, m.id):
            continue
        due = _at(m.fields["applied_at"]) + timedelta(hours=24)
        ok = any(a.step == "head" and a.decision == "approve" and a.at <= due
                 for r in measure_records(facts, m.id, "coercive_measure_approval")
                 for a in facts.approvals.get(r.id, []))
        refusal = refused_by_head(facts, m.id)
        if refusal is not None:
            out.append(f"强制措施 {m.id}: 负责人不予批准（{refusal}），应当立即解除 (N12)")
        elif not ok:
            out.append(f"强制措施 {m.id}: 24小时内未经负责人批准，应当立即解除 (N12)")
    return out


def handover_until(facts: CaseFacts, measure: Record) -> datetime:
    """Art. 24 当场交付: the end of the site visit — the on-site record's end time, or, where it
    states none, SEIZURE_HANDOVER_HOURS (⚠ default 4, a local figure) after the measure."""
    if measure.fields.get("site_ended_at"):
        return _at(measure.fields["site_ended_at"])
    settings = getattr(facts.calendar, "settings", None)
    hours = settings.seizure_handover_hours if settings else 4
    return _at(measure.fields["applied_at"]) + timedelta(hours=hours)


def _on_spot(record: Record, at: datetime | None, start: datetime, until: datetime) -> bool:
    """Handed over during the visit, or a reason why not is recorded on the document."""
    return bool(record.fields.get("not_on_spot_reason")) or (
        at is not None and start <= at <= until)


def seizure_gaps(facts: CaseFacts) -> list[str]:
    """N13 (Art. 24): each measure's decision served and its list signed, on the spot: within
    the on-site record's time span (not merely the same day), unless a reason is recorded."""
    out = []
    for m in measures(facts):
        start, until = _at(m.fields["applied_at"]), handover_until(facts, m)
        span = f"{start.astimezone(facts.calendar.tz):%m-%d %H:%M}–" \
               f"{until.astimezone(facts.calendar.tz):%m-%d %H:%M}"
        decisions = measure_records(facts, m.id, "seizure_decision")
        served = [(d, s) for d in decisions if (s := facts.served_at(d)) is not None]
        if not served:
            out.append(f"强制措施 {m.id}: 查封、扣押决定书未送达 (N13)")
        elif not any(_on_spot(d, s, start, until) for d, s in served):
            out.append(f"强制措施 {m.id}: 查封、扣押决定书未在现场（{span}）当场交付，也未记录理由"
                       "（行政强制法第二十四条）(N13)")
        lists = [r for r in measure_records(facts, m.id, "seizure_list") if facts.complete(r)]
        if not lists:
            out.append(f"强制措施 {m.id}: 查封、扣押清单未经当事人签名 (N13)")
        elif not any(_on_spot(r, r.occurred_at, start, until) for r in lists):
            out.append(f"强制措施 {m.id}: 查封、扣押清单未在现场（{span}）当场交付，也未记录理由"
                       "（行政强制法第二十四条）(N13)")
    return out


def open_measures(facts: CaseFacts) -> list[str]:
    """N13 (Art. 27–28): every measure ends in a handling or release decision."""
    return [f"强制措施 {m.id}: 未作出处理决定或解除决定 (N13)" for m in measures(facts)
            if not ended(facts, m.id)]


def overdue_measures(facts: CaseFacts) -> list[str]:
    """N13: a measure still in place after its period."""
    return [f"强制措施 {m.id}: 期限已于 {measure_due(facts, m).isoformat()} 届满 (N13)"
            for m in measures(facts)
            if not ended(facts, m.id) and facts.now > measure_due(facts, m)]
