"""Finding cases for the desk: by number, party, officer and stage, among the cases the
officer may see (their department's; an auditor's, all); one access-log line per search."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from core.cases.models import Case, Party
from core.kernel import fields
from core.kernel.vocab import STAGES
from core.people.access import CROSS_DEPARTMENT, has_role, log_access
from core.people.models import Officer
from core.platform.uow import UnitOfWork

MAX_RESULTS = 100


@dataclass(frozen=True)
class CaseQuery:
    """What the desk's search form asks: each part optional, all parts must match."""

    number: str = ""
    party: str = ""
    officer: str = ""
    stage: str = ""

    @classmethod
    def parse(cls, data) -> CaseQuery:
        """From a form or query string; a stage outside the vocabulary is refused (422)."""
        def text(name: str) -> str:
            value = data.get(name) or ""
            return value.strip()[:100] if isinstance(value, str) else ""
        stage = text("stage")
        if stage:
            stage = fields.choice(stage, "stage", STAGES)
        return cls(text("number"), text("party"), text("officer"), stage)


@dataclass(frozen=True)
class CaseHit:
    """One case found: enough to list it and open it."""

    id: str
    number: str
    title: str
    kind: str
    stage: str
    party: str
    officer: str
    opened_at: datetime


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search_cases(uow: UnitOfWork, actor: Officer, query: CaseQuery, *, channel: str = "web",
                 limit: int = MAX_RESULTS) -> list[CaseHit]:
    """Cases the officer may see matching every part of the query, newest first."""
    stmt = (select(Case, Party.name, Officer.name)
            .outerjoin(Party, Party.id == Case.party_id)
            .join(Officer, Officer.id == Case.opened_by)
            .order_by(Case.opened_at.desc()).limit(min(limit, MAX_RESULTS)))
    if not has_role(actor, *CROSS_DEPARTMENT):
        stmt = stmt.where(Case.department_id == actor.department_id)
    if query.number:
        stmt = stmt.where(Case.number.ilike(_like(query.number), escape="\\"))
    if query.party:
        stmt = stmt.where(Party.name.ilike(_like(query.party), escape="\\"))
    if query.officer:
        stmt = stmt.where(Officer.name.ilike(_like(query.officer), escape="\\"))
    if query.stage:
        stmt = stmt.where(Case.stage == query.stage)
    rows = uow.session.execute(stmt).all()
    log_access(uow.session, actor, "search", "case", f"{len(rows)} cases", channel=channel)
    return [CaseHit(c.id, c.number, c.title, c.kind, c.stage, party or "", officer,
                    c.opened_at) for c, party, officer in rows]
