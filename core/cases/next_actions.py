"""What can be done next on a case, and by whom: derived from the checklist of the case's stage
and the catalogue, never listed by hand, so a new record type or requirement is covered by its
declaration. Each action names the requirement (RULES.md ID) it serves, the record type or role
that satisfies it and the request that takes it (A3.1, A5.1, A10.1, A13.2)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.cases.checklist import (
    REQUIREMENTS,
    Requirement,
    case_checklist,
    decision_missing,
    load_facts,
    missing_for,
)
from core.cases.facts import CaseFacts
from core.cases.lifecycle import (
    EARLY_CLOSE,
    EARLY_CLOSE_ROUTES,
    case_json,
    case_view,
    next_stages,
)
from core.cases.models import Record
from core.cases.records import approvals_of, list_records, record_json
from core.cases.visibility import visible_case
from core.kernel import texts
from core.kernel.vocab import stage_index
from core.people.access import CASE_WORKERS, CUSTODIAN, DOSSIER_BUILDERS, has_role
from core.people.models import Officer
from core.platform.uow import UnitOfWork
from core.rules.catalogue import BY_NAME, CATALOGUE, RecordType

ACTION_KINDS = ("add_record", "correct_record", "approve", "sign", "add_evidence",
                "draw", "build_dossier", "archive_dossier", "transition")
# A record field that points at an earlier record, and the type it points at.
REFERENCES = {"document_id": None, "decision_id": "decision",
              "preservation_id": "evidence_preservation", "interruption_id": "av_interruption",
              "demand_id": "demand_notice", "application_id": "court_application",
              "service_id": "service_postal", "sampling_notice_id": "sampling_notice",
              "consent_id": "service_address_confirmation"}
# Requirements no record meets: the case file compiled and accepted by a custodian (A32.1,
# core.archive: POST /cases/{id}/dossier, then /dossiers/{id}/archive).
NOT_BY_RECORD = {("archiving", "A32.1")}
_RULE_ID = re.compile(r"\b[AN]\d+(?:\.\d+)?\b")


@dataclass(frozen=True)
class NextAction:
    """One request that moves the case on, who may send it and whether the caller may."""

    kind: str
    method: str
    path: str
    requirements: tuple[str, ...]
    allowed: bool  # the caller may send it now
    role: str | None = None  # the role that takes it (approvals, signatures)
    record_type: str | None = None
    record_id: str | None = None
    body: dict = field(default_factory=dict)  # a start for the request body
    text: str = ""
    text_zh: str = ""

    def to_json(self) -> dict:
        """As GET /api/v1/cases/{id} shows it."""
        out = {"kind": self.kind, "method": self.method, "path": self.path,
               "requirements": list(self.requirements), "allowed": self.allowed,
               "role": self.role, "record_type": self.record_type, "record_id": self.record_id,
               "body": self.body, "text": self.text, "text_zh": self.text_zh}
        if self.record_type:
            out["schema"] = f"#/components/schemas/NewRecord_{self.record_type}"
        return out


def requirement_ids(req: Requirement) -> tuple[str, ...]:
    """The requirement's own ID and the IDs its text cites (A22.1 "… or waived (A22.3)")."""
    return tuple(dict.fromkeys([req.id, *_RULE_ID.findall(req.text_en)]))


def applies_to(rtype: RecordType, facts: CaseFacts) -> bool:
    """True when the record type fits the case: route, kind, emergency, and not past its stage
    unless it may be made in any stage (core.cases.records.check_applicable)."""
    case = facts.case
    if case.stage == "closed" or rtype.system_only and rtype.name != "inspection_draw":
        return False
    if rtype.routes and case.initiation not in rtype.routes:
        return False
    if rtype.kinds and case.kind not in rtype.kinds:
        return False
    if rtype.emergency_only and not case.emergency:
        return False
    return rtype.any_stage or stage_index(rtype.stage) <= stage_index(case.stage)


# Where a requirement's rule ID is not among the satisfying type's own rules.
EXTRA_TYPES = {("investigation", "A10.2"): ("filing_form",)}


def satisfying_types(req: Requirement, facts: CaseFacts | None = None) -> list[RecordType]:
    """The record types the catalogue declares for a requirement's rule IDs, those for the
    IDs its text cites first ("… or waived (A22.3)" names the alternative to take); with
    facts, only those that fit the case."""
    ids = requirement_ids(req)
    cited = set(ids[1:])
    found = [t for t in CATALOGUE if (set(ids) & set(t.rules)
                                      or t.name in EXTRA_TYPES.get((req.stage, req.id), ()))
             and not t.service_method
             and (t.stage == req.stage or t.any_stage or req.stage == "archiving"
                  or t.name in EXTRA_TYPES.get((req.stage, req.id), ()))]
    found.sort(key=lambda t: not cited & set(t.rules))
    if facts is not None:
        found = [t for t in found if applies_to(t, facts)]
    return found


def satisfied_by(req: Requirement, facts: CaseFacts | None = None) -> list[dict]:
    """For the checklist: each record type that satisfies a requirement and, where the type
    has an approval chain, the role whose approval completes it (A10.1)."""
    return [{"record_type": t.name, "title_zh": t.title_zh, "title_en": t.title_en,
             "approved_by": t.approval_chain[-1].role if t.approval_chain else None}
            for t in satisfying_types(req, facts)]


def _base(facts: CaseFacts) -> str:
    return f"/api/v1/cases/{facts.case.id}"


def _may_work(actor: Officer, facts: CaseFacts) -> bool:
    return actor.department_id == facts.case.department_id and has_role(actor, *CASE_WORKERS)


def _prefill(rtype: RecordType, facts: CaseFacts, document: Record | None = None) -> dict:
    """Reference fields filled with the record they most likely point at."""
    out = {}
    for f in rtype.fields:
        if f.name not in REFERENCES or f.auto:
            continue
        if f.name == "document_id":
            if document is not None:
                out[f.name] = document.id
            continue
        target = facts.latest(REFERENCES[f.name])
        if target is not None:
            out[f.name] = target.id
    return out


def _chain_step(facts: CaseFacts, record: Record, rtype: RecordType):
    """(next step, returned) of a record's approval chain as the facts hold it."""
    done = facts.approvals.get(record.id, [])
    if any(a.decision == "return" for a in done):
        return None, True
    taken = {a.step for a in done if a.decision == "approve"}
    return next((s for s in rtype.approval_chain if s.step not in taken), None), False


def _record_actions(facts: CaseFacts, actor: Officer, worker: bool) -> list[NextAction]:
    """Approvals, corrections, signatures and AV the case's effective records still need."""
    out: list[NextAction] = []
    base = _base(facts)
    for record in facts.records:
        rtype = BY_NAME.get(record.type)
        if rtype is None:
            continue
        title = (rtype.title_en, rtype.title_zh)
        if rtype.approval_chain:
            step, returned = _chain_step(facts, record, rtype)
            if returned:
                out.append(NextAction(
                    "correct_record", "POST", f"{base}/records", rtype.rules,
                    worker and record.created_by == actor.id, None, rtype.name, record.id,
                    {"type": rtype.name, "corrects": record.id,
                     "fields": dict(record.fields)},
                    f"correct the returned {title[0]}", f"修改被退回的{title[1]}后重新提交"))
            elif step is not None:
                out.append(NextAction(
                    "approve", "POST", f"{base}/records/{record.id}/approvals", rtype.rules,
                    worker and step.role in (actor.roles or ()), step.role, rtype.name,
                    record.id, {"decision": "approve", "opinion": ""},
                    f"{step.step} approval of the {title[0]}",
                    f"{title[1]}：{step.label_zh}"))
        unsigned = iter(_unsigned_officers(facts, record))
        for gap in facts.signature_gaps(record, rtype):
            role = _gap_role(gap.text)
            body = {"role": role, "method": "signature"}
            allowed = worker
            if role == "officer":
                body["signer_officer_id"] = next(unsigned, None)
                # An officer signs for themself (the one named in the body).
                allowed = worker and body["signer_officer_id"] == actor.id
            elif role == "server" and record.officers:
                # The server is an officer on the record: the caller when named on it.
                body["signer_officer_id"] = actor.id if actor.id in record.officers \
                    else record.officers[0]
                allowed = worker and body["signer_officer_id"] == actor.id
            out.append(NextAction(
                "sign", "POST", f"{base}/records/{record.id}/signatures", (gap.rule,), allowed,
                role, rtype.name, record.id, body,
                f"{title[0]}: {gap.text}", f"{title[1]}：{gap.text_zh}"))
        for gap in facts.av_gaps(record, rtype):
            out.append(NextAction(
                "add_evidence", "POST", f"{base}/evidence", (gap.rule,), worker, None,
                rtype.name, record.id, {"record_id": record.id},
                f"{title[0]}: {gap.text}", f"{title[1]}：{gap.text_zh}"))
    return out


def _unsigned_officers(facts: CaseFacts, record: Record) -> list[str]:
    """The officers on a record who have not signed it, in the record's order (A13.2)."""
    signed = {s.signer_officer_id for s in facts.signatures.get(record.id, [])
              if s.role == "officer"}
    return [o for o in record.officers if o not in signed]


def _gap_role(text: str) -> str:
    """The signer role a signature gap names ("officer 张伟 has not signed", "party: …")."""
    return "officer" if text.startswith("officer ") else text.split(":", 1)[0]


def _unserved_actions(facts: CaseFacts, worker: bool) -> list[NextAction]:
    """A document to be served that is not yet: one action per way of serving it (A23.1)."""
    out = []
    for doc in facts.records:
        dtype = BY_NAME.get(doc.type)
        if dtype is None or not dtype.served or facts.served_at(doc):
            continue
        pending = [r for r in facts.records if r.fields.get("document_id") == doc.id
                   and BY_NAME.get(r.type) and BY_NAME[r.type].service_method]
        if pending:
            continue  # a service is under way: its signatures or AV are the next actions
        for stype in CATALOGUE:
            if not stype.service_method or stype.name == "service_postal_return" or \
                    not applies_to(stype, facts):
                continue
            out.append(NextAction(
                "add_record", "POST", f"{_base(facts)}/records", ("A23.1",), worker, None,
                stype.name, doc.id, {"type": stype.name, "fields": _prefill(stype, facts, doc)},
                f"serve the {dtype.title_en}: {stype.title_en}",
                f"送达{dtype.title_zh}：{stype.title_zh}"))
    return out


def _add_actions(facts: CaseFacts, missing: list[Requirement], worker: bool, actor: Officer,
                 busy: set[str]) -> list[NextAction]:
    """For each missing requirement, the record types that would satisfy it."""
    out, seen = [], set()
    for req in missing:
        if (req.stage, req.id) in NOT_BY_RECORD:
            continue
        types = satisfying_types(req, facts)
        if busy & {t.name for t in types}:
            continue  # a record for it waits for approval or correction: that comes first
        for rtype in types:
            if rtype.name in seen or facts.of_type(rtype.name):
                continue  # one offer per type; a type already recorded is not offered again
            if rtype.name == "decision" and decision_missing(facts):
                continue  # A18.1–A22: the decision waits for its prerequisites
            seen.add(rtype.name)
            allowed = worker and (not rtype.author_roles or has_role(actor, *rtype.author_roles))
            if rtype.system_only:
                out.append(NextAction(
                    "draw", "POST", f"{_base(facts)}/draws/commitments", requirement_ids(req),
                    worker, None, None, None, {}, "publish the draw commitment, then draw",
                    "先公布抽取承诺，再进行随机抽取"))
                continue
            out.append(NextAction(
                "add_record", "POST", f"{_base(facts)}/records", requirement_ids(req), allowed,
                rtype.author_roles[0] if rtype.author_roles else None, rtype.name, None,
                {"type": rtype.name, "fields": _prefill(rtype, facts)},
                f"{req.text_en}: make a {rtype.title_en}",
                f"{req.text_zh}：制作{rtype.title_zh}"))
    return out


# Stages whose case file may be compiled without a logged act end (core.archive.builds).
DOSSIER_STAGES = ("archiving",)


def dossier_actions(facts: CaseFacts, actor: Officer | None) -> list[NextAction]:
    """A32.1: once the act has ended, compile the case file (a case worker or the custodian);
    once a volume is built, the custodian accepts it; a record made after the acceptance
    calls for a supplementary volume, accepted the same way. Without an actor (the bot's
    summary) nothing is marked allowed."""
    case = facts.case
    if case.stage == "closed" or not (facts.act_ended or case.stage in DOSSIER_STAGES):
        return []
    ours = actor is not None and actor.department_id == case.department_id
    if facts.dossier_to_accept:
        return [NextAction(
            "archive_dossier", "POST", f"/api/v1/dossiers/{facts.dossier_to_accept}/archive",
            ("A32.1", "A33.1"), ours and has_role(actor, CUSTODIAN), CUSTODIAN, None, None,
            {"location": ""}, "the custodian accepts the built case file into the archive",
            "档案管理员接收已立卷的案卷归档")]
    if facts.archived and not facts.recorded_since_archived:
        return []
    supplement = facts.archived
    return [NextAction(
        "build_dossier", "POST", f"{_base(facts)}/dossier", ("A32.1",),
        ours and has_role(actor, *DOSSIER_BUILDERS), "officer", None, None, {},
        "compile the supplementary volume of what was recorded after archiving" if supplement
        else "compile the case file (dossier) within 20 days of the act's end",
        "将归档后新增的记录立为补充卷" if supplement
        else "执法行为终结之日起 20 日内立卷（生成案卷）")]


def next_actions(facts: CaseFacts, actor: Officer) -> list[NextAction]:
    """What the case needs next, the caller's own actions first: the records, approvals,
    signatures and AV its stage still lacks, or the move to the next stage when none."""
    case = facts.case
    if case.stage == "closed":
        return []
    worker = _may_work(actor, facts)
    missing = missing_for(facts, case.stage)
    actions = _record_actions(facts, actor, worker)
    # Types with a record waiting for approval or correction are not offered again.
    busy = {a.record_type for a in actions if a.kind in ("approve", "correct_record")}
    actions += _unserved_actions(facts, worker)
    actions += _add_actions(facts, missing, worker, actor, busy)
    actions += dossier_actions(facts, actor)
    if not missing:
        for to in next_stages(case):
            if to == "closed" and case.stage in EARLY_CLOSE and \
                    case.initiation in EARLY_CLOSE_ROUTES:
                continue  # closing early needs a decision not to proceed: not the usual way
            actions.append(NextAction(
                "transition", "POST", f"{_base(facts)}/transitions", ("A3.1",), worker, None,
                None, None, {"to": to}, f"move the case to {to}",
                f"进入“{texts.label('stage', to)}”阶段"))
    actions.sort(key=lambda a: (not a.allowed, a.kind == "transition"))
    return actions


def record_state(facts: CaseFacts, record: Record) -> dict:
    """A record's status: its fields are complete once it is recorded (the catalogue refuses
    an incomplete one); signatures (A13.2), AV (A15.1) and approval (A10.1) are told apart."""
    rtype = BY_NAME.get(record.type)
    if rtype is None:
        return {"fields": "complete", "signatures": "not_required", "av": "not_required",
                "approval": "not_required", "complete": True}
    approval = "not_required"
    if rtype.approval_chain:
        step, returned = _chain_step(facts, record, rtype)
        approval = "returned" if returned else "pending" if step else "approved"
    sign_gaps = facts.signature_gaps(record, rtype)
    av_gaps = facts.av_gaps(record, rtype)
    signatures = "not_required" if not rtype.signers else "missing" if sign_gaps else "complete"
    av = "not_required" if not rtype.av_required else "missing" if av_gaps else "complete"
    return {"fields": "complete", "signatures": signatures, "av": av, "approval": approval,
            "complete": not sign_gaps and not av_gaps and approval in ("not_required",
                                                                       "approved"),
            "gaps": [{"rule": g.rule, "text": g.text, "text_zh": g.text_zh}
                     for g in sign_gaps + av_gaps]}


def case_detail(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api"
                ) -> dict:
    """A case with what its stage still lacks and what the caller may do now; one read of the
    case's facts, logged once (A33.1)."""
    view = case_view(uow, actor, case_id, channel=channel)
    facts = load_facts(uow.session, view.case)
    missing = missing_for(facts, view.case.stage)
    return {**case_json(view),
            "missing": [{"id": r.id, "text": r.text_en, "text_zh": r.text_zh,
                         "satisfied_by": satisfied_by(r, facts)} for r in missing],
            "next_actions": [a.to_json() for a in next_actions(facts, actor)]}


def checklist_detail(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api"
                     ) -> dict:
    """The checklist with, on each requirement, the record types (and approving role) that
    satisfy it."""
    out = case_checklist(uow, actor, case_id, channel=channel)
    case = visible_case(uow.session, actor, case_id)
    facts = load_facts(uow.session, case)
    for stage, items in out["stages"].items():
        reqs = [r for r in REQUIREMENTS if r.stage == stage]
        for item, req in zip(items, reqs, strict=False):
            item["satisfied_by"] = satisfied_by(req, facts)
    return out


def records_detail(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api"
                   ) -> list[dict]:
    """A case's records in time order, each with its status; the read is logged (A33.1)."""
    found = list_records(uow, actor, case_id)
    approvals = approvals_of(uow, [r.id for r in found])
    corrected = {r.corrects_id for r in found if r.corrects_id}
    facts = load_facts(uow.session, visible_case(uow.session, actor, case_id))
    return [{**record_json(r, approvals.get(r.id), r.id in corrected),
             "status": record_state(facts, r)} for r in found]
