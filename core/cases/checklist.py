"""Requirements per stage and the gates built from them: a case leaves a stage only when
every requirement of that stage that applies to it is done (A3.1, A5.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from core.cases import coercion, hearing, licensing_hearing, limitation, procedures
from core.cases.facts import CaseFacts, load_facts
from core.cases.models import Record
from core.cases.periods import correction_due, response_due
from core.cases.visibility import visible_case
from core.kernel.vocab import STAGES
from core.people.access import log_access
from core.rules.catalogue import BY_NAME, CATALOGUE

__all__ = ["CaseFacts", "Requirement", "checklist", "decision_missing", "load_facts",
           "missing_for"]

# Kinds whose decisions are adverse by nature and so need the rights notice (行政处罚法
# Art. 44–45, 行政强制法 Art. 18, 35). Any other case that issued one must honour it too.
RIGHTS_NOTICE_KINDS = ("penalty", "coercion")


@dataclass(frozen=True)
class Requirement:
    """One thing the regulation asks before a case may leave a stage."""

    id: str  # RULES.md ID
    stage: str
    text_en: str
    text_zh: str
    applies: Callable[[CaseFacts], bool]
    done: Callable[[CaseFacts], bool]
    # What exactly is missing, for the officer ("询问笔录 …: interviewee has not signed").
    detail: Callable[[CaseFacts], list[str]] | None = None


def _route(*routes: str) -> Callable[[CaseFacts], bool]:
    return lambda f: f.case.initiation in routes


def _has(type_name: str, **equals) -> Callable[[CaseFacts], bool]:
    def check(f: CaseFacts) -> bool:
        return any(all(r.fields.get(k) == v for k, v in equals.items())
                   for r in f.of_type(type_name))
    return check


def _any(type_name: str) -> Callable[[CaseFacts], bool]:
    return lambda f: bool(f.of_type(type_name))


def _filing_approved(f: CaseFacts) -> bool:
    return any(f.approved(r, "head") for r in f.of_type("filing_form"))


def _incomplete_application(f: CaseFacts) -> bool:
    return f.case.initiation == "application" and any(
        r.fields.get("materials_complete") is False for r in f.of_type("application_acceptance"))


# --- investigation -------------------------------------------------------------------------

def _inspection_case(f: CaseFacts) -> bool:
    return f.case.kind == "inspection" or f.case.initiation == "inspection"


def _inspected_on_site(f: CaseFacts) -> bool:
    return any(f.complete(r) for r in f.of_type("onsite_inspection_record"))


def _samples_listed(f: CaseFacts) -> bool:
    listed = {r.fields.get("sampling_notice_id") for r in f.of_type("sampling_item_list")}
    return all(n.id in listed for n in f.of_type("sampling_notice"))


def _registration_preservations(f: CaseFacts) -> list[Record]:
    return [r for r in f.of_type("evidence_preservation")
            if r.fields.get("form") == "registration_preservation"]


def _preservations_handled(f: CaseFacts) -> bool:
    listed = {r.fields.get("preservation_id") for r in f.of_type("evidence_preservation_list")}
    decided = {r.fields.get("preservation_id") for r in f.of_type("preservation_decision")}
    return all(f.approved(p, "head") and p.id in listed and p.id in decided
               for p in _registration_preservations(f))


# --- decision ------------------------------------------------------------------------------

def _opinion(f: CaseFacts) -> Record | None:
    return f.latest("handling_opinion")


def _opinion_says(name: str) -> Callable[[CaseFacts], bool]:
    return lambda f: bool((o := _opinion(f)) and o.fields.get(name) is True)


def _head_approved_opinion(f: CaseFacts) -> bool:
    o = _opinion(f)
    return bool(o and f.approved(o, "head"))


def _expert_opinion(f: CaseFacts) -> bool:
    return any(f.complete(r) for r in f.of_type("expert_opinion"))


def _legal_review_agrees(f: CaseFacts) -> bool:
    r = f.latest("legal_review")
    return bool(r and r.fields.get("conclusion") == "agree")


def _needs_rights_notice(f: CaseFacts) -> bool:
    return f.case.kind in RIGHTS_NOTICE_KINDS or bool(f.of_type("rights_notice"))


def _rights_notice_served(f: CaseFacts) -> bool:
    notice = f.latest("rights_notice")
    return bool(notice and f.served_at(notice))


def response_period_over(f: CaseFacts) -> bool:
    """The notice's period has ended, or the party waived statement and defence (A22.1/A22.3)."""
    notice = f.latest("rights_notice")
    if notice is None:
        return False
    if any(f.complete(w) and w.occurred_at >= notice.occurred_at
           for w in f.of_type("statement_waiver")):
        return True
    served = f.served_at(notice)
    if served is None:
        return False
    due = response_due(f.calendar, served, notice.fields.get("response_period_working_days"))
    return f.now > due.due


# --- service and execution ----------------------------------------------------------------

def _decision(f: CaseFacts) -> Record | None:
    return f.latest("decision")


def _decision_says(name: str) -> Callable[[CaseFacts], bool]:
    return lambda f: bool((d := _decision(f)) and d.fields.get(name) is True)


def _decision_served(f: CaseFacts) -> bool:
    d = _decision(f)
    return bool(d and f.served_at(d))


def _correction_checked(f: CaseFacts) -> bool:
    d = _decision(f)
    served = f.served_at(d) if d else None
    if served is None:
        return False
    due = correction_due(f.calendar, served, d.fields["correction_period_days"]).due
    # On schedule: a check after the period, or earlier once the correction is done.
    return any(c.fields.get("result") == "corrected" or c.occurred_at > due
               for c in f.of_type("correction_check") if f.complete(c))


def _not_complied(f: CaseFacts) -> bool:
    c = f.latest("compliance_record")
    return bool(_decision_says("obligation")(f) and c and c.fields.get("status") != "complied")


def _court_enforced(f: CaseFacts) -> bool:
    demand = f.latest("demand_notice")
    app = f.latest("court_application")
    acceptance = f.latest("court_acceptance")
    return bool(demand and f.served_at(demand) and f.of_type("demand_response")
                and app and f.approved(app, "head") and acceptance
                and (acceptance.fields.get("accepted") is False or f.of_type("court_result")))


# --- completeness, per stage and per rule --------------------------------------------------

SIGN_TEXT = {
    "A13.2": ("records signed by every signer (signature, fingerprint or seal), or the refusal "
              "recorded", "文书已由执法人员、当事人及有关人员签名、捺印或盖章，或已记录拒签"),
    "A24.1": ("direct-service receipts signed by the server and the recipient",
              "直接送达回证已由送达人、受送达人签名或盖章"),
    "A26.1": ("lodged-service receipts signed by the server and a witness",
              "留置送达回证已由送达人、见证人签名或盖章"),
    "A27.1": ("entrusted or forwarded service receipts signed by the server and the recipient",
              "委托、转交送达回证已由送达人、受送达人签名或盖章"),
}
AV_TEXT = {
    "A15.1": ("on-site inspection, sampling and hearing records have AV, or the reason AV was "
              "unsuitable", "现场检查(勘验)、抽样取证、听证已同步音像记录或说明不适宜的理由"),
    "A25.1": ("postal service has the postage voucher and the return receipt",
              "邮寄送达已留存付邮凭证和回执"),
    "A26.1": ("lodged service has AV of the process", "留置送达已以音像记录送达过程"),
    "A28.1": ("announcement has a photo of the posting or publication",
              "公告送达已留存公告并以适当方式音像记录"),
}


def _records_in(stage: str | None) -> Callable[[CaseFacts], list[Record]]:
    return lambda f: [r for r in f.records if stage is None or r.stage == stage]


def _with_rule(stage: str | None, rule: str, kind: str) -> Callable[[CaseFacts], list[Record]]:
    def pick(f: CaseFacts) -> list[Record]:
        out = []
        for r in _records_in(stage)(f):
            t = BY_NAME.get(r.type)
            if t is None:
                continue
            if kind == "sign" and t.signers and (rule is None or t.sign_rule == rule):
                out.append(r)
            if kind == "av" and t.av_required and (rule is None or t.av_rule == rule):
                out.append(r)
        return out
    return pick


def _gap_lines(pick: Callable[[CaseFacts], list[Record]], kind: str
               ) -> Callable[[CaseFacts], list[str]]:
    def lines(f: CaseFacts) -> list[str]:
        out = []
        for r in pick(f):
            t = BY_NAME[r.type]
            gaps = f.signature_gaps(r, t) if kind == "sign" else f.av_gaps(r, t)
            out += [f"{t.title_zh} {r.id}: {g.text} ({g.rule})" for g in gaps]
        return out
    return lines


def _completeness(stage: str, scope: str | None, rule: str | None, kind: str, text: tuple
                  ) -> Requirement:
    pick = _with_rule(scope, rule, kind)
    lines = _gap_lines(pick, kind)
    rid = rule or ("A13.2" if kind == "sign" else "A5.1")
    return Requirement(rid, stage, text[0], text[1], lambda f: bool(pick(f)),
                       lambda f: not lines(f), lines)


def _stage_completeness(stage: str) -> tuple[Requirement, ...]:
    return tuple(
        [_completeness(stage, stage, rule, "sign", SIGN_TEXT[rule]) for rule in SIGN_RULES]
        + [_completeness(stage, stage, rule, "av", AV_TEXT[rule]) for rule in AV_RULES])


SIGN_RULES = sorted({t.sign_rule for t in CATALOGUE if t.signers})
AV_RULES = sorted({t.av_rule for t in CATALOGUE if t.av_required})


def _unserved(f: CaseFacts) -> list[str]:
    return [f"{BY_NAME[r.type].title_zh} {r.id} is not served" for r in f.records
            if BY_NAME.get(r.type) and BY_NAME[r.type].served and not f.served_at(r)]


def _unexplained(f: CaseFacts) -> list[str]:
    """A17.2: a recording that could not continue is explained in writing; one that could
    has its restart recorded with the voice explanation."""
    explained = {r.fields.get("interruption_id") for r in f.of_type("interruption_explanation")}
    out = []
    for r in f.of_type("av_interruption"):
        if r.fields.get("can_continue") is False and r.id not in explained:
            out.append(f"音像记录中断说明 {r.id}: written explanation missing")
        elif r.fields.get("can_continue") and not r.fields.get("resumed_at"):
            out.append(f"音像记录中断说明 {r.id}: the restart and its voice explanation are "
                       "not recorded")
    return out


R = Requirement
DECISION_PREREQUISITES: tuple[Requirement, ...] = (
    R("A19.1", "decision", "handling opinion recorded (party, evidence, facts, basis, "
      "proposed decision, discretion)", "已制作案件处理意见", lambda f: True,
      _any("handling_opinion")),
    R("A20.1", "decision", "expert opinion recorded where the handling opinion needs one",
      "需要专家论证的已记录专家意见", _opinion_says("expert_review_required"), _expert_opinion),
    R("A21.1", "decision", "legal review by a legal reviewer agrees where one is required",
      "需要法制审核的已经法制审核同意", _opinion_says("legal_review_required"),
      _legal_review_agrees),
    R("A22.1", "decision", "rights notice (陈述申辩权利告知书) served",
      "已送达陈述申辩权利告知书", _needs_rights_notice, _rights_notice_served),
    R("A22.1", "decision", "statement and defence period over, or waived (A22.3)",
      "陈述申辩期限已届满或当事人已放弃", _needs_rights_notice, response_period_over),
    R("A13.1", "decision", "hearing noticed, held with its full record and reported, where "
      "requested", "当事人要求听证的，已通知、举行并制作听证笔录和报告",
      _any("hearing_request"), hearing.hearing_held),
    # Issue 10 (legal-a): the hearing-request period (N4), N28 reviews, the limitation (N11).
    R("N4", "decision", "hearing-request period over (5 working days after the rights notice "
      "was served) or the hearing waived; a statement waiver is not a hearing waiver",
      "听证申请期限已届满或当事人已放弃听证（放弃陈述申辩不等于放弃听证）",
      hearing.hearing_right_told, hearing.hearing_period_over, hearing.hearing_wait_detail),
    # legal10: a licence's hearing right (行政许可法 Art. 47, N30): the decision waits for the
    # 5 working days after the right notice was served, or a recorded hearing waiver.
    R("N30", "decision", "licensing hearing-request period over (5 working days after the "
      "right notice was served) or the hearing waived",
      "许可听证申请期限已届满或申请人、利害关系人已放弃听证",
      licensing_hearing.right_told, licensing_hearing.request_period_over,
      licensing_hearing.wait_detail),
    R("N28", "decision", "legal review agrees: mandatory after a hearing and in major, "
      "complex or new cases", "听证后及重大、复杂、新类型案件须经法制审核同意",
      hearing.legal_review_forced, hearing.reviewed_before_head, hearing.review_detail),
    R("N28", "decision", "the heads' collective discussion recorded for a complex or major "
      "case", "情节复杂或重大违法行为已经负责人集体讨论", hearing.collective_needed,
      hearing.collective_done),
    R("N11", "decision", "the violation was discovered within the limitation (2 years, 5 with "
      "harm to life, health or financial security)", "违法行为在追责时效内被发现",
      limitation.limitation_known, limitation.within_limitation, limitation.limitation_detail),
    R("A18.1", "decision", "handling opinion approved by the head (负责人审批)",
      "案件处理意见已经行政机关负责人批准", lambda f: True, _head_approved_opinion),
    *_stage_completeness("decision"),
)

REQUIREMENTS: tuple[Requirement, ...] = (
    R("A9.1", "initiation", "application registered and accepted (or deemed accepted on "
      "receipt by a late missing-materials notice, N30)",
      "申请已登记受理", _route("application"),
      lambda f: _has("application_acceptance", decision="accepted")(f) or any(
          n.fields.get("deemed_accepted_on") for n in f.of_type("missing_materials_notice"))),
    R("A9.1", "initiation", "one-time notice of missing materials issued",
      "已一次性告知需补正材料", _incomplete_application,
      _has("missing_materials_notice")),
    # A10.1: the filing form is for ex-officio general procedure (a complaint taken up is
    # one); an inspection files a case only when it finds a violation (investigation stage).
    R("A10.1", "initiation", "filing form (立案审批表) approved by the head",
      "立案审批表经负责人批准",
      lambda f: f.case.initiation in ("ex_officio", "complaint")
      and not f.case.emergency,
      _filing_approved),
    R("A10.2", "initiation", "emergency initiation recorded",
      "紧急情况先行启动已记录", lambda f: f.case.emergency,
      _has("emergency_initiation")),
    R("A11.1", "initiation", "complaint registered with the complainant's details",
      "投诉举报人信息已登记", _route("complaint"), _has("complaint_intake")),
    R("A11.1", "initiation", "decision to start a case on the complaint",
      "已作出立案决定", _route("complaint"),
      _has("complaint_decision", decision="start")),
    R("A12.1", "initiation", "random inspection draw recorded",
      "随机抽查已记录", _route("inspection"), _any("inspection_draw")),
    # A10.2: an emergency case starts first; its filing form follows as the supplementary
    # record, so it becomes a requirement of the investigation stage instead.
    R("A10.2", "investigation", "supplementary filing form approved by the head",
      "补办立案审批手续", lambda f: f.case.emergency, _filing_approved),
    R("A13.1", "investigation", "at least one investigation record (询问笔录, 现场检查笔录, "
      "调取证据, 抽样取证, 鉴定意见, 材料审查 …)", "已制作调查取证文书", lambda f: True,
      lambda f: any(BY_NAME[r.type].investigation for r in f.records if r.type in BY_NAME)),
    R("A12.1", "investigation", "the inspection recorded on site (现场检查笔录) with AV",
      "行政检查已制作现场检查笔录并同步音像记录", _inspection_case, _inspected_on_site),
    R("A10.1", "investigation", "an inspection that found a violation is filed (立案审批表 "
      "approved by the head)", "检查发现违法行为的已立案",
      lambda f: _inspection_case(f) and not f.case.emergency
      and _has("inspection_result", result="violation_found")(f), _filing_approved),
    R("A13.1", "investigation", "every sampling notice has its item list (物品清单)",
      "抽样取证通知书均附物品清单", _any("sampling_notice"), _samples_listed),
    R("A16.1", "investigation", "registered preservation approved by the head, listed "
      "(证据登记保存清单) and decided (N6)", "先行登记保存已批准、登记并作出处理决定",
      lambda f: bool(_registration_preservations(f)), _preservations_handled),
    *_stage_completeness("investigation"),
    *DECISION_PREREQUISITES,
    R("A18.1", "decision", "decision (行政执法决定书) made", "已作出行政执法决定",
      lambda f: True, _any("decision")),
    R("A23.1", "service", "decision served, with its 送达回证", "决定书已送达并留存送达回证",
      _any("decision"), _decision_served),
    R("A29.1", "service", "the party's compliance recorded", "已记录当事人履行情况",
      _decision_says("obligation"), _any("compliance_record")),
    R("A29.1", "service", "ordered correction checked on schedule", "已按期核查改正情况",
      _decision_says("correction_ordered"), _correction_checked),
    R("A30.1", "service", "non-compliance: demand notice served, response recorded, court "
      "application approved, acceptance and result recorded",
      "逾期不履行的，已送达催告书、记录陈述申辩、申请法院强制执行并记录受理及执行结果",
      _not_complied, _court_enforced),
    *_stage_completeness("service"),
    _completeness("archiving", None, None, "sign", SIGN_TEXT["A13.2"]),
    _completeness("archiving", None, None, "av", (
        "every record that needs AV has it, or the reason it was unsuitable",
        "需要音像记录的均已记录或说明理由")),
    R("A23.1", "archiving", "every document to be served has been served",
      "需送达的文书均已送达", lambda f: any(BY_NAME[r.type].served for r in f.records
                                     if r.type in BY_NAME),
      lambda f: not _unserved(f), _unserved),
    R("A17.2", "archiving", "every AV recording that could not continue is explained in "
      "writing, and every restart recorded",
      "无法继续音像记录的已书面说明，恢复记录的已记录恢复时间",
      _any("av_interruption"),
      lambda f: not _unexplained(f), _unexplained),
    R("A32.1", "archiving", "the case file is compiled and accepted by a custodian",
      "案卷已立卷并经档案管理人员接收归档", lambda f: True, lambda f: f.archived),
)


# ---- legal-b (issue 10 items 2, 8, 14): a coercion case and the summary procedure do not go
# through the general penalty flow (handling opinion, rights notice, decision); their own
# requirements come instead (N12, N13, N25), and publication is checked (N31).
def _coercion_case(f: CaseFacts) -> bool:
    return f.case.kind == "coercion"


_OTHER_PROCEDURE: dict[tuple[str, str], Callable[[CaseFacts], bool]] = {
    ("initiation", "A10.1"): procedures.summary_case,
    ("investigation", "A13.1"): procedures.summary_case,
    **{("decision", rid): lambda f: procedures.summary_case(f) or _coercion_case(f)
       for rid in ("A19.1", "A22.1", "A18.1")},
}


def _unless_other_procedure(req: Requirement) -> Requirement:
    skip = _OTHER_PROCEDURE.get((req.stage, req.id))
    if skip is None:
        return req
    return replace(req, applies=lambda f, a=req.applies, s=skip: a(f) and not s(f))


def _has_measures(f: CaseFacts) -> bool:
    return bool(coercion.measures(f))


def _social_decisions(f: CaseFacts) -> list[Record]:
    return [d for d in f.of_type("decision") if d.fields.get("social_impact") is True]


def _unpublished(f: CaseFacts) -> list[str]:
    done = {p.fields.get("decision_id") for p in f.of_type("decision_publication")}
    withdrawn = {w.fields.get("publication_id") for w in f.of_type("publication_withdrawal")}
    changed = {c.fields.get("decision_id") for c in f.of_type("decision_changed")}
    out = [f"行政处罚决定书 {d.id}: 未公开 (N31)" for d in _social_decisions(f)
           if d.id not in done and d.id not in changed]
    out += [f"公开记录 {p.id}: 决定已变更或撤销，未撤回 (N31)"
            for p in f.of_type("decision_publication")
            if p.fields.get("decision_id") in changed and p.id not in withdrawn]
    return out


REQUIREMENTS = tuple(_unless_other_procedure(r) for r in REQUIREMENTS) + (
    R("N12", "investigation", "each emergency coercive measure approved by the head within "
      "24 hours, or released at once", "当场实施的行政强制措施已在24小时内经负责人批准，否则已解除",
      lambda f: any(m.fields.get("emergency") for m in coercion.measures(f)),
      lambda f: not coercion.emergency_gaps(f), coercion.emergency_gaps),
    R("N13", "investigation", "each seal-up or impoundment decision served and its list signed "
      "on the spot", "查封、扣押决定书和清单已当场交付", _has_measures,
      lambda f: not coercion.seizure_gaps(f), coercion.seizure_gaps),
    R("N13", "decision", "each coercive measure handled or released within its period",
      "查封、扣押已在期限内作出处理决定或解除", _has_measures,
      lambda f: not coercion.open_measures(f) and not coercion.overdue_measures(f),
      lambda f: coercion.open_measures(f) + coercion.overdue_measures(f)),
    R("N25", "decision", "each on-the-spot penalty decision reported to the agency",
      "当场处罚决定已报所属行政机关备案", procedures.summary_case,
      lambda f: not procedures.summary_unreported(f), procedures.summary_unreported),
    R("N31", "service", "decisions with social impact published, and withdrawn when changed",
      "具有一定社会影响的处罚决定已公开，变更或撤销后已撤回",
      lambda f: bool(_social_decisions(f) or f.of_type("decision_publication")),
      lambda f: not _unpublished(f), _unpublished),
)
del R


def checklist(facts: CaseFacts) -> dict[str, list[dict]]:
    """Every stage's requirements with status done, missing or not_applicable."""
    out: dict[str, list[dict]] = {s: [] for s in STAGES if s != "closed"}
    for req in REQUIREMENTS:
        if not req.applies(facts):
            status = "not_applicable"
        else:
            status = "done" if req.done(facts) else "missing"
        item = {"id": req.id, "text": req.text_en, "text_zh": req.text_zh, "status": status}
        if status == "missing" and req.detail:
            item["detail"] = req.detail(facts)
        out[req.stage].append(item)
    return out


def missing_for(facts: CaseFacts, stage: str) -> list[Requirement]:
    """The requirements of a stage that apply and are not yet done."""
    return [r for r in REQUIREMENTS
            if r.stage == stage and r.applies(facts) and not r.done(facts)]


def decision_missing(facts: CaseFacts) -> list[Requirement]:
    """What A18.1–A22 still ask before the decision record may be made, as of facts.now."""
    return [r for r in DECISION_PREREQUISITES if r.applies(facts) and not r.done(facts)]


def case_checklist(uow, actor, case_id: str, *, channel: str = "api") -> dict:
    """Every stage's requirements of a case the officer may see, with their status."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "read", "checklist", case.id, channel=channel)
    return {"case_id": case.id, "stage": case.stage,
            "stages": checklist(load_facts(uow.session, case))}
