"""Opening cases, finding them and moving them through the stages (A2.1, A3.1)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core import ledger
from core.cases.checklist import Requirement, load_facts, missing_for
from core.cases.models import Case, Party, StageChange
from core.cases.visibility import can_see_case, visible_case, writable_case
from core.kernel.clock import utcnow
from core.kernel.errors import GateRefused, Invalid
from core.kernel.ids import new_id
from core.kernel.vocab import DATUMS, KINDS, PARTY_KINDS, ROUTES, STAGES, stage_index
from core.people.access import CASE_WORKERS, log_access, require_role
from core.people.models import Department, Officer
from core.platform.uow import Event, UnitOfWork

# From initiation a case may also close at once: a complaint not taken up (A11.1) or an
# application not accepted (A9.1). Otherwise the five stages go in order (A3.1).
EARLY_CLOSE = {"initiation"}
EARLY_CLOSE_ROUTES = {"complaint", "application"}


def _text(value: Any, name: str, limit: int, required: bool = True) -> str | None:
    if value is None or value == "":
        if required:
            raise Invalid(f"{name} is required", details={"fields": {name: "required"}})
        return None
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(f"{name} must be a string of at most {limit} characters",
                      details={"fields": {name: "invalid"}})
    return value.strip()


def _choice(value: Any, name: str, choices: tuple[str, ...], default: str | None = None) -> str:
    if value is None and default is not None:
        return default
    if value not in choices:
        raise Invalid(f"{name} must be one of {', '.join(choices)}",
                      details={"fields": {name: "invalid"}})
    return value


def _coord(value: Any, name: str, bound: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) \
            or not -bound <= value <= bound:
        raise Invalid(f"{name} must be a number between -{bound} and {bound}",
                      details={"fields": {name: "invalid"}})
    return float(value)


def open_case(uow: UnitOfWork, actor: Officer, data: Any) -> Case:
    """Open a case: validate, number it per department and year, log it (A2.1, A3.1)."""
    require_role(actor, *CASE_WORKERS, action="opening a case")
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    kind = _choice(data.get("kind"), "kind", KINDS)
    route = _choice(data.get("initiation"), "initiation", ROUTES)
    title = _text(data.get("title"), "title", 300)
    emergency = data.get("emergency", False)
    if not isinstance(emergency, bool):
        raise Invalid("emergency must be true or false", details={"fields": {"emergency": "bool"}})
    site = data.get("site") or {}
    party_in = data.get("party")
    if not isinstance(site, dict) or (party_in is not None and not isinstance(party_in, dict)):
        raise Invalid("site and party must be JSON objects")
    lat = _coord(site.get("lat"), "site.lat", 90)
    lon = _coord(site.get("lon"), "site.lon", 180)
    if (lat is None) != (lon is None):
        raise Invalid("site.lat and site.lon go together")
    datum = _choice(site.get("datum"), "site.datum", DATUMS, default="wgs84")
    address = _text(site.get("address"), "site.address", 300, required=False)

    session = uow.session
    now = utcnow()
    party = None
    if party_in:
        party = Party(
            id=new_id(), department_id=actor.department_id,
            kind=_choice(party_in.get("kind"), "party.kind", PARTY_KINDS, default="person"),
            name=_text(party_in.get("name"), "party.name", 200),
            id_number=_text(party_in.get("id_number"), "party.id_number", 64, required=False),
            phone=_text(party_in.get("phone"), "party.phone", 32, required=False),
            address=_text(party_in.get("address"), "party.address", 300, required=False),
            legal_representative=_text(party_in.get("legal_representative"),
                                       "party.legal_representative", 100, required=False),
            created_at=now, created_by=actor.id,
        )
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
    case = Case(
        id=new_id(), department_id=dept.id, number=f"{dept.code}-{year}-{serial:05d}",
        year=year, serial=serial, kind=kind, initiation=route, title=title,
        party_id=party.id if party else None, site_lat=lat, site_lon=lon, site_datum=datum,
        site_address=address, emergency=emergency, opened_by=actor.id, opened_at=now,
        retention_years=uow.settings.retention_years, stage="initiation",
    )
    session.add(case)
    ledger.append(session, "case", case, case_id=case.id)
    uow.emit(Event("case.opened", case.id, now, {"kind": kind, "initiation": route}))
    if emergency:
        uow.emit(Event("case.emergency_opened", case.id, now))
    return case


def list_cases(uow: UnitOfWork, actor: Officer, *, stage: str | None = None, limit: int = 50,
               offset: int = 0) -> list[Case]:
    """The cases the officer may see, newest first."""
    stmt = select(Case).order_by(Case.opened_at.desc())
    if "auditor" not in actor.roles:
        stmt = stmt.where(Case.department_id == actor.department_id)
    if stage:
        stmt = stmt.where(Case.stage == _choice(stage, "stage", STAGES))
    cases = uow.session.execute(stmt.limit(min(max(limit, 1), 200)).offset(max(offset, 0))
                                ).scalars().all()
    log_access(uow.session, actor, "list", "case", f"{len(cases)} cases")
    return [c for c in cases if can_see_case(actor, c)]


def get_case(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api") -> Case:
    """One case the officer may see; the read is logged (A33.1)."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "read", "case", case.id, channel=channel)
    return case


def next_stages(case: Case) -> list[str]:
    """Where a case may go from its current stage."""
    if case.stage == "closed":
        return []
    nxt = [STAGES[stage_index(case.stage) + 1]]
    if case.stage in EARLY_CLOSE and case.initiation in EARLY_CLOSE_ROUTES:
        nxt.append("closed")
    return nxt


def transition(uow: UnitOfWork, actor: Officer, case_id: str, to: Any) -> Case:
    """Move a case to the next stage if every requirement of its stage is done (A3.1)."""
    case = writable_case(uow.session, actor, case_id)
    to = _choice(to, "to", STAGES)
    if to not in next_stages(case):
        raise GateRefused(f"a case in {case.stage} cannot move to {to}; allowed: "
                          f"{', '.join(next_stages(case)) or 'none'}", missing=[])
    facts = load_facts(uow.session, case)
    missing = missing_for(facts, case.stage)
    if to == "closed" and case.stage in EARLY_CLOSE:
        missing = _early_close_missing(facts)
    if missing:
        raise GateRefused(
            f"{case.stage} is not finished: " + "; ".join(f"{r.id} {r.text_en}" for r in missing),
            missing=sorted({r.id for r in missing}),
            details={"requirements": [{"id": r.id, "text": r.text_en, "text_zh": r.text_zh}
                                      for r in missing]})
    change = StageChange(id=new_id(), case_id=case.id, from_stage=case.stage, to_stage=to,
                         officer_id=actor.id, at=utcnow())
    uow.session.add(change)
    ledger.append(uow.session, "stage_change", change, case_id=case.id)
    case.stage = to
    ledger.make_checkpoint(uow.session, uow.signer, reason="stage_change")
    uow.emit(Event(f"case.stage.{to}", case.id, change.at, {"from": change.from_stage}))
    return case


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


def case_json(case: Case, party: Party | None = None) -> dict:
    """A case as the API shows it."""
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
