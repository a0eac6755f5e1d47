"""Who may see and do what (A8.1), and the log of every read (A33.1, A37.1)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import utcnow
from .errors import Forbidden, NotFound
from .ids import token_hash
from .models import AccessLog, ApiToken, Case, Officer

# Roles that see every department's cases (read-only oversight).
CROSS_DEPARTMENT = {"auditor"}
CASE_WORKERS = {"officer", "supervisor", "head", "legal_reviewer"}


def officer_for_token(session: Session, token: str) -> Officer | None:
    """The active officer a bearer token belongs to, or None."""
    row = session.execute(
        select(Officer).join(ApiToken, ApiToken.officer_id == Officer.id)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None),
               Officer.active.is_(True))
    ).scalar_one_or_none()
    return row


def has_role(actor: Officer, *roles: str) -> bool:
    """True when the officer holds any of the roles."""
    return bool(set(actor.roles) & set(roles))


def require_role(actor: Officer, *roles: str, action: str) -> None:
    """Refuse with 403 unless the officer holds one of the roles."""
    if not has_role(actor, *roles):
        raise Forbidden(f"{action} needs the role {' or '.join(roles)}")


def can_see_case(actor: Officer, case: Case) -> bool:
    """Officers see their own department's cases; auditors see all."""
    return case.department_id == actor.department_id or has_role(actor, *CROSS_DEPARTMENT)


def visible_case(session: Session, actor: Officer, case_id: str, *, for_update: bool = False
                 ) -> Case:
    """The case if the officer may see it; otherwise 404, never saying it exists."""
    stmt = select(Case).where(Case.id == case_id)
    if for_update:
        stmt = stmt.with_for_update()
    case = session.execute(stmt).scalar_one_or_none()
    if case is None or not can_see_case(actor, case):
        raise NotFound(f"case {case_id} not found")
    return case


def writable_case(session: Session, actor: Officer, case_id: str) -> Case:
    """The case if the officer may add to it: own department and a case-working role."""
    case = visible_case(session, actor, case_id, for_update=True)
    if case.department_id != actor.department_id or not has_role(actor, *CASE_WORKERS):
        raise Forbidden("only the department's case workers may add to this case")
    return case


def log_access(session: Session, actor: Officer | None, action: str, subject_type: str,
               subject_id: str, *, channel: str = "api", remote: str = "") -> None:
    """Write one line of the access log in the caller's transaction."""
    session.add(AccessLog(officer_id=actor.id if actor else None, action=action,
                          subject_type=subject_type, subject_id=subject_id, channel=channel,
                          remote=remote[:64], at=utcnow()))
