"""Retention (A34.1): each case is kept for a period with its legal basis — 25 years by
default, per kind where a rule says otherwise, permanent where one says so — counted from the
archiving; a legal hold stops disposal; when the period has run out the case appears on the
disposal-review list until an appraisal decision is recorded. Nothing is ever deleted here
(and the database refuses it, core.archive.guard): a "destroy" appraisal is a decision on
record, carried out outside the system under the archives law."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from core import ledger
from core.archive.custody import archived
from core.archive.models import DossierArchival, RetentionDecision
from core.cases.models import Case
from core.cases.visibility import visible_case
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, Invalid
from core.kernel.ids import new_id
from core.kernel.settings import Settings
from core.people.access import log_access, require_role
from core.people.models import Officer
from core.platform.uow import UnitOfWork
from core.rules.calendar import LEGAL_TZ

DEFAULT_BASIS = "岳阳市住房和城乡建设局行政执法全过程记录实施细则 第三十四条（保存25年）"
# Kinds a rule keeps longer than the case's default (or for good) are a setting with their
# basis, RETENTION_BY_KIND (core.kernel.settings: parsed strictly, A34.1); none by default,
# as the municipal rule sets 25 years for every kind.
DECIDERS = ("custodian", "head")
DECISIONS = ("keep", "extend", "destroy")


def _years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def status(session, case: Case, settings: Settings) -> dict:
    """The case's retention: period, basis, hold, and when it runs out (None: permanent or
    not yet archived). A kind's period from RETENTION_BY_KIND prevails over the case's years,
    a recorded decision over both."""
    years, basis = settings.retention_for(case.kind)
    if basis is None:
        years, basis = case.retention_years, DEFAULT_BASIS
    hold, appraisal = False, None
    for d in session.execute(select(RetentionDecision).where(
            RetentionDecision.case_id == case.id).order_by(RetentionDecision.at,
                                                          RetentionDecision.id)).scalars():
        if d.action == "period":
            years, basis = d.years, d.basis
        elif d.action in ("hold", "release"):
            hold = d.action == "hold"
        elif d.action == "appraisal":
            appraisal = {"decision": d.decision, "basis": d.basis, "at": d.at.isoformat()}
            if d.decision == "extend":
                years = d.years
    accepted = archived(session, case.id)
    start = accepted.accepted_at.astimezone(LEGAL_TZ).date() if accepted else None
    expires = _years(start, years) if start and years is not None else None
    return {"case_id": case.id, "years": years, "permanent": years is None, "basis": basis,
            "legal_hold": hold, "archived_on": start.isoformat() if start else None,
            "expires_on": expires.isoformat() if expires else None, "appraisal": appraisal}


def read_status(uow: UnitOfWork, actor: Officer, case_id: str) -> dict:
    """A case's retention as a reader sees it: the case must be visible, the read is logged
    (A34.1, A33.1)."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "read", "retention", case.id)
    return status(uow.session, case, uow.settings)


def _decide(uow: UnitOfWork, actor: Officer, case_id: str, **kw) -> RetentionDecision:
    case = visible_case(uow.session, actor, case_id)
    require_role(actor, *DECIDERS, action="a retention decision")
    row = RetentionDecision(id=new_id(), case_id=case.id, officer_id=actor.id, at=utcnow(), **kw)
    uow.session.add(row)
    ledger.append(uow.session, "retention_decision", row, case_id=case.id)
    return row


def set_period(uow: UnitOfWork, actor: Officer, case_id: str, *, years: int | None,
               basis: str) -> dict:
    """Set the case's period (None: permanent) with the rule that asks for it."""
    if years is not None and (isinstance(years, bool) or not isinstance(years, int)
                              or years < 25):
        raise Invalid("a period is whole years, at least the 25 of A34.1 (or null: permanent)",
                      zh="保管期限不得少于25年（A34.1），永久保存填 null")
    if not basis.strip():
        raise Invalid("a period names its legal basis", zh="须写明保管期限的依据")
    _decide(uow, actor, case_id, action="period", years=years, basis=basis.strip()[:300])
    return status(uow.session, uow.session.get(Case, case_id), uow.settings)


def legal_hold(uow: UnitOfWork, actor: Officer, case_id: str, *, on: bool, basis: str) -> dict:
    """Put the case under a legal hold (litigation, review) or release it."""
    if not basis.strip():
        raise Invalid("a hold or its release names its reason", zh="须写明冻结或解除的理由")
    _decide(uow, actor, case_id, action="hold" if on else "release", basis=basis.strip()[:300])
    return status(uow.session, uow.session.get(Case, case_id), uow.settings)


def disposal_review(uow: UnitOfWork, actor: Officer, *, on: date | None = None) -> list[dict]:
    """Archived cases of the department whose period ran out by ``on``, not on hold and not
    yet appraised (A34.1)."""
    require_role(actor, *DECIDERS, action="the disposal review")
    on = on or utcnow().astimezone(LEGAL_TZ).date()
    ids = uow.session.execute(select(DossierArchival.case_id).distinct()).scalars().all()
    out = []
    for case in uow.session.execute(select(Case).where(
            Case.id.in_(ids), Case.department_id == actor.department_id)).scalars():
        st = status(uow.session, case, uow.settings)
        if st["expires_on"] and date.fromisoformat(st["expires_on"]) <= on \
                and not st["legal_hold"] and st["appraisal"] is None:
            out.append({**st, "number": case.number})
    log_access(uow.session, actor, "list", "disposal_review", actor.department_id)
    return sorted(out, key=lambda x: x["expires_on"])


def appraise(uow: UnitOfWork, actor: Officer, case_id: str, *, decision: str, basis: str,
             years: int | None = None) -> dict:
    """Record the appraisal of a case whose period ran out: keep, extend (by years), destroy."""
    case = visible_case(uow.session, actor, case_id)
    st = status(uow.session, case, uow.settings)
    if st["legal_hold"]:
        raise Conflict("the case is under a legal hold", zh="该案处于冻结状态，不得鉴定处置")
    if not st["expires_on"] or date.fromisoformat(st["expires_on"]) > utcnow().astimezone(
            LEGAL_TZ).date():
        raise Conflict("the retention period has not run out (A34.1)",
                       zh="保管期限未满（A34.1）")
    if decision not in DECISIONS or not basis.strip():
        raise Invalid("decision keep|extend|destroy with its basis", zh="须写明鉴定结论及依据")
    if decision == "extend" and (not isinstance(years, int) or years <= st["years"]):
        raise Invalid("an extension gives the new total years", zh="延长须给出新的保管年限")
    _decide(uow, actor, case_id, action="appraisal", decision=decision, basis=basis.strip()[:300],
            years=years if decision == "extend" else None)
    return status(uow.session, case, uow.settings)
