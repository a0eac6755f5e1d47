"""Requirements per stage and the gates built from them: a case leaves a stage only when
every requirement of that stage that applies to it is done (A3.1, A5.1)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Approval, Case, Record
from .vocab import STAGES


@dataclass
class CaseFacts:
    """What the gates look at: the case, its effective records and their approvals."""

    case: Case
    records: list[Record]
    approvals: dict[str, list[Approval]] = field(default_factory=dict)

    def of_type(self, name: str) -> list[Record]:
        """Effective (not corrected) records of a type, oldest first."""
        return [r for r in self.records if r.type == name]

    def approved(self, record: Record, step: str) -> bool:
        """True when the record's chain has an approval at that step after any return."""
        status = None
        for a in self.approvals.get(record.id, []):
            if a.step == step:
                status = a.decision
        return status == "approve"


def load_facts(session: Session, case: Case) -> CaseFacts:
    """Load a case's records (superseded corrections left out) and approvals."""
    records = session.execute(
        select(Record).where(Record.case_id == case.id).order_by(Record.created_at)
    ).scalars().all()
    corrected = {r.corrects_id for r in records if r.corrects_id}
    effective = [r for r in records if r.id not in corrected]
    approvals: dict[str, list[Approval]] = {}
    for a in session.execute(
        select(Approval).where(Approval.case_id == case.id).order_by(Approval.at)
    ).scalars():
        approvals.setdefault(a.record_id, []).append(a)
    return CaseFacts(case, effective, approvals)


@dataclass(frozen=True)
class Requirement:
    """One thing the regulation asks before a case may leave a stage."""

    id: str  # RULES.md ID
    stage: str
    text_en: str
    text_zh: str
    applies: Callable[[CaseFacts], bool]
    done: Callable[[CaseFacts], bool]


def _route(*routes: str) -> Callable[[CaseFacts], bool]:
    return lambda f: f.case.initiation in routes


def _has(type_name: str, **equals) -> Callable[[CaseFacts], bool]:
    def check(f: CaseFacts) -> bool:
        return any(all(r.fields.get(k) == v for k, v in equals.items())
                   for r in f.of_type(type_name))
    return check


def _filing_approved(f: CaseFacts) -> bool:
    return any(f.approved(r, "head") for r in f.of_type("filing_form"))


def _incomplete_application(f: CaseFacts) -> bool:
    return f.case.initiation == "application" and any(
        r.fields.get("materials_complete") is False for r in f.of_type("application_acceptance"))


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("A9.1", "initiation", "application registered and accepted",
                "申请已登记受理", _route("application"),
                _has("application_acceptance", decision="accepted")),
    Requirement("A9.1", "initiation", "one-time notice of missing materials issued",
                "已一次性告知需补正材料", _incomplete_application,
                _has("missing_materials_notice")),
    Requirement("A10.1", "initiation", "filing form (立案审批表) approved by the head",
                "立案审批表经负责人批准",
                lambda f: f.case.initiation in ("ex_officio", "complaint", "inspection")
                and not f.case.emergency,
                _filing_approved),
    Requirement("A10.2", "initiation", "emergency initiation recorded",
                "紧急情况先行启动已记录", lambda f: f.case.emergency,
                _has("emergency_initiation")),
    Requirement("A11.1", "initiation", "complaint registered with the complainant's details",
                "投诉举报人信息已登记", _route("complaint"), _has("complaint_intake")),
    Requirement("A11.1", "initiation", "decision to start a case on the complaint",
                "已作出立案决定", _route("complaint"),
                _has("complaint_decision", decision="start")),
    Requirement("A12.1", "initiation", "random inspection draw recorded",
                "随机抽查已记录", _route("inspection"), _has("inspection_draw")),
    # A10.2: an emergency case starts first; its filing form follows as the supplementary
    # record, so it becomes a requirement of the investigation stage instead.
    Requirement("A10.2", "investigation", "supplementary filing form approved by the head",
                "补办立案审批手续", lambda f: f.case.emergency, _filing_approved),
)


def checklist(facts: CaseFacts) -> dict[str, list[dict]]:
    """Every stage's requirements with status done, missing or not_applicable."""
    out: dict[str, list[dict]] = {s: [] for s in STAGES if s != "closed"}
    for req in REQUIREMENTS:
        if not req.applies(facts):
            status = "not_applicable"
        else:
            status = "done" if req.done(facts) else "missing"
        out[req.stage].append({"id": req.id, "text": req.text_en, "text_zh": req.text_zh,
                               "status": status})
    return out


def missing_for(facts: CaseFacts, stage: str) -> list[Requirement]:
    """The requirements of a stage that apply and are not yet done."""
    return [r for r in REQUIREMENTS
            if r.stage == stage and r.applies(facts) and not r.done(facts)]
