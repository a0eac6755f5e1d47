"""Opening cases, finding them and moving them through the stages (A2.1, A3.1)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from core import ledger
from core.cases.checklist import Requirement, load_facts, missing_for
from core.cases.commands import OpenCase, Transition
from core.cases.models import Case, Party, StageChange
from core.cases.visibility import can_see_case, visible_case, writable_case
from core.kernel import fields, texts
from core.kernel.clock import utcnow
from core.kernel.errors import GateRefused
from core.kernel.ids import new_id
from core.kernel.vocab import STAGES, stage_index
from core.people.access import CASE_WORKERS, CROSS_DEPARTMENT, has_role, log_access, require_role
from core.people.models import Department, Officer
from core.platform.uow import Event, UnitOfWork

# From initiation a case may also close at once: a complaint not taken up (A11.1) or an
# application not accepted (A9.1). Otherwise the five stages go in order (A3.1).
EARLY_CLOSE = {"initiation"}
EARLY_CLOSE_ROUTES = {"complaint", "application"}
# Issue 10 item 9: an act that ended without a decision (an inspection that found nothing,
# no penalty or a dropped case approved by the head) goes from these stages to archiving.
ENDED_SKIP = {"investigation", "decision"}


def ended_without_decision(facts) -> bool:
    """An inspection result finding nothing, or an approved termination (A12.1, A32.1)."""
    return any(r.fields.get("result") == "no_violation" and facts.complete(r)
               for r in facts.of_type("inspection_result")) or any(
        facts.approved(r, "head") for r in facts.of_type("case_termination"))


@dataclass(frozen=True)
class CaseView:
    """A case with its party, as every front shows it."""

    case: Case
    party: Party | None


def _view(session, case: Case) -> CaseView:
    return CaseView(case, session.get(Party, case.party_id) if case.party_id else None)


def open_case(uow: UnitOfWork, actor: Officer, cmd: OpenCase) -> CaseView:
    """Open a case: number it per department and year, log it (A2.1, A3.1)."""
    require_role(actor, *CASE_WORKERS, action="opening a case")
    session = uow.session
    now = utcnow()
    party = None
    if cmd.party is not None:
        p = cmd.party
        party = Party(id=new_id(), department_id=actor.department_id, kind=p.kind, name=p.name,
                      id_number=p.id_number, phone=p.phone, address=p.address,
                      legal_representative=p.legal_representative, created_at=now,
                      created_by=actor.id)
        session.add(party)
        ledger.append(session, "party", party)

    dept = session.get(Department, actor.department_id)
    year = now.astimezone(uow.settings.legal_tz).year
    # The ledger head lock serialises writers, so max+1 cannot race; the unique
    # constraint on (department, year, serial) is the backstop.
    ledger.lock_head(session)
    serial = (session.execute(
        select(func.max(Case.serial)).where(Case.department_id == dept.id, Case.year == year)
    ).scalar() or 0) + 1
    site = cmd.site
    case = Case(
        id=new_id(), department_id=dept.id, number=f"{dept.code}-{year}-{serial:05d}",
        year=year, serial=serial, kind=cmd.kind, initiation=cmd.initiation, title=cmd.title,
        party_id=party.id if party else None, site_lat=site.lat, site_lon=site.lon,
        site_datum=site.datum, site_address=site.address, emergency=cmd.emergency,
        opened_by=actor.id, opened_at=now, retention_years=_retention_years(uow, cmd.kind),
        stage="initiation",
    )
    session.add(case)
    ledger.append(session, "case", case, case_id=case.id)
    uow.emit(Event("case.opened", case.id, now, {"kind": cmd.kind, "initiation": cmd.initiation}))
    if cmd.emergency:
        uow.emit(Event("case.emergency_opened", case.id, now))
    return CaseView(case, party)


def list_cases(uow: UnitOfWork, actor: Officer, *, stage: str | None = None, limit: int = 50,
               offset: int = 0) -> list[CaseView]:
    """The cases the officer may see, newest first; the read is logged (A33.1)."""
    stmt = select(Case).order_by(Case.opened_at.desc())
    if not has_role(actor, *CROSS_DEPARTMENT):
        stmt = stmt.where(Case.department_id == actor.department_id)
    if stage is not None:
        stmt = stmt.where(Case.stage == fields.choice(stage, "stage", STAGES))
    limit = fields.whole(limit, "limit", low=1, high=200)
    offset = fields.whole(offset, "offset", low=0, high=10**9)
    cases = [c for c in uow.session.execute(stmt.limit(limit).offset(offset)).scalars()
             if can_see_case(actor, c)]
    log_access(uow.session, actor, "list", "case", f"{len(cases)} cases")
    ids = {c.party_id for c in cases if c.party_id}
    parties = {p.id: p for p in uow.session.execute(
        select(Party).where(Party.id.in_(ids))).scalars()} if ids else {}
    return [CaseView(c, parties.get(c.party_id)) for c in cases]


def get_case(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api") -> Case:
    """One case the officer may see; the read is logged (A33.1)."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "read", "case", case.id, channel=channel)
    return case


def case_view(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api"
              ) -> CaseView:
    """One case with its party; the read is logged (A33.1)."""
    return _view(uow.session, get_case(uow, actor, case_id, channel=channel))


def find_case(uow: UnitOfWork, actor: Officer, ref: str, *, channel: str = "api"
              ) -> CaseView | None:
    """A case the officer may see by its number (YYZJ-2026-00012) or, in the officer's
    department, by its serial this year or any year (12); the newest when several match."""
    ref = (ref or "").strip()[:64]
    if not ref:
        return None
    stmt = select(Case).order_by(Case.opened_at.desc()).limit(20)
    if ref.isdigit() and len(ref) < 10:
        stmt = stmt.where(Case.department_id == actor.department_id, Case.serial == int(ref))
    else:
        stmt = stmt.where(Case.number == ref.upper())
    for case in uow.session.execute(stmt).scalars():
        if can_see_case(actor, case):
            log_access(uow.session, actor, "read", "case", case.id, channel=channel)
            return _view(uow.session, case)
    return None


def next_stages(case: Case) -> list[str]:
    """Where a case may go from its current stage."""
    if case.stage == "closed":
        return []
    nxt = [STAGES[stage_index(case.stage) + 1]]
    if case.stage in EARLY_CLOSE and case.initiation in EARLY_CLOSE_ROUTES:
        nxt.append("closed")
    return nxt


def transition(uow: UnitOfWork, actor: Officer, case_id: str, cmd: Transition) -> CaseView:
    """Move a case to the next stage if every requirement of its stage is done (A3.1)."""
    case = writable_case(uow.session, actor, case_id)
    to = cmd.to
    facts = load_facts(uow.session, case)
    ended = to == "archiving" and case.stage in ENDED_SKIP and ended_without_decision(facts)
    if to not in next_stages(case) and not ended:
        raise GateRefused(f"a case in {case.stage} cannot move to {to}; allowed: "
                          f"{', '.join(next_stages(case)) or 'none'}", missing=["A3.1"],
                          zh=f"案件处于“{texts.label('stage', case.stage)}”阶段，不能进入"
                             f"“{texts.label('stage', to)}”；可进入："
                             f"{texts.labels('stage', next_stages(case)) or '无'}")
    missing = missing_for(facts, case.stage)
    if ended and case.stage == "decision":
        # The head approved no penalty or dropping the case: no decision to wait for.
        missing = [r for r in missing if r.id in ("A13.2", "A5.1", "A15.1")]
    if to == "closed" and case.stage in EARLY_CLOSE:
        missing = _early_close_missing(facts)
    if missing:
        raise GateRefused(
            f"{case.stage} is not finished: " + "; ".join(f"{r.id} {r.text_en}" for r in missing),
            missing=sorted({r.id for r in missing}),
            zh=f"“{texts.label('stage', case.stage)}”阶段尚未完成：" + "；".join(
                f"{r.text_zh}（{r.id}）" for r in missing),
            details={"requirements": [{"id": r.id, "text": r.text_en, "text_zh": r.text_zh}
                                      for r in missing]})
    change = StageChange(id=new_id(), case_id=case.id, from_stage=case.stage, to_stage=to,
                         officer_id=actor.id, at=utcnow())
    uow.session.add(change)
    ledger.append(uow.session, "stage_change", change, case_id=case.id)
    case.stage = to
    ledger.make_checkpoint(uow.session, uow.signer, reason="stage_change")
    uow.emit(Event(f"case.stage.{to}", case.id, change.at, {"from": change.from_stage}))
    return _view(uow.session, case)


def _early_close_missing(facts):
    """Closing from initiation needs a recorded decision not to proceed (A9.1, A11.1)."""
    route = facts.case.initiation
    ok = (route == "complaint" and any(r.fields.get("decision") == "not_start"
                                       for r in facts.of_type("complaint_decision"))) or \
         (route == "application" and any(r.fields.get("decision") == "not_accepted"
                                         for r in facts.of_type("application_acceptance")))
    if ok:
        return []
    rid = "A11.1" if route == "complaint" else "A9.1"
    return [Requirement(rid, "initiation", "a recorded decision not to proceed",
                        "不予立案/不予受理的决定", lambda f: True, lambda f: False)]


def _retention_years(uow: UnitOfWork, kind: str) -> int:
    """The years a new case is kept (A34.1): its kind's from RETENTION_BY_KIND, else
    RETENTION_YEARS; a permanent kind stores the default, as stores lock at least that long
    (core.archive.retention shows it as permanent)."""
    years, _basis = uow.settings.retention_for(kind)
    return years if years is not None else uow.settings.retention_years


def case_json(view: CaseView) -> dict:
    """A case as the API shows it."""
    case, party = view.case, view.party
    return {
        "id": case.id, "number": case.number, "kind": case.kind, "initiation": case.initiation,
        "title": case.title, "stage": case.stage, "emergency": case.emergency,
        "department_id": case.department_id,
        "party": None if party is None else {
            "id": party.id, "kind": party.kind, "name": party.name,
            "id_number": party.id_number, "phone": party.phone, "address": party.address},
        "site": {"lat": case.site_lat, "lon": case.site_lon, "datum": case.site_datum,
                 "address": case.site_address},
        "opened_by": case.opened_by, "opened_at": case.opened_at.isoformat(),
        "retention_years": case.retention_years, "next_stages": next_stages(case),
    }
