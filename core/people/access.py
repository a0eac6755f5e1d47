"""Who may see and do what (A8.1), and the log of every read (A33.1, A37.1)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel import texts
from core.kernel.clock import utcnow
from core.kernel.errors import Forbidden
from core.kernel.ids import token_hash
from core.people.models import AccessLog, ApiToken, Officer

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
        raise Forbidden(f"{action} needs the role {' or '.join(roles)}",
                        zh=f"此操作须由{texts.labels('role', roles).replace('、', '或')}办理",
                        details={"roles": list(roles)})


def log_access(session: Session, actor: Officer | None, action: str, subject_type: str,
               subject_id: str, *, channel: str = "api", remote: str = "") -> None:
    """Write one line of the access log in the caller's transaction."""
    session.add(AccessLog(officer_id=actor.id if actor else None, action=action,
                          subject_type=subject_type, subject_id=subject_id, channel=channel,
                          remote=remote[:64], at=utcnow()))
