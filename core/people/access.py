"""Who may see and do what (A8.1), and the log of every read (A33.1, A37.1)."""

from __future__ import annotations

from datetime import timedelta

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
# Keeps the case files and registers their use (A33.1); accepts a built one (A32.1).
CUSTODIAN = "custodian"
# Who may compile a case file (A32.1): the department's case workers or its custodian.
DOSSIER_BUILDERS = frozenset(CASE_WORKERS | {CUSTODIAN})


# How often a token's last use is written (a working column, not ledgered).
LAST_USED_EVERY = timedelta(minutes=5)


def token_holder(session: Session, token: str) -> tuple[Officer, ApiToken] | None:
    """The active officer a bearer token belongs to and the token's row, or None: a revoked or
    expired token, or one of a deactivated officer, authenticates nobody (issue 12, finding 4).
    Reads only; :func:`touch_token` records the use."""
    found = session.execute(
        select(Officer, ApiToken).join(ApiToken, ApiToken.officer_id == Officer.id)
        .where(ApiToken.token_hash == token_hash(token), ApiToken.revoked_at.is_(None),
               Officer.active.is_(True))
    ).one_or_none()
    if found is None:
        return None
    officer, row = found
    if row.expires_at is not None and row.expires_at <= utcnow():
        return None
    return officer, row


def holder_still_valid(session: Session, officer_id: str, token_id: str
                       ) -> tuple[Officer, ApiToken] | None:
    """The officer and token row found earlier in a request, read again by primary key: None
    once the token was revoked or expired or the officer deactivated meanwhile (a long upload
    must not record after its credential was cut off, issue 12 finding 4)."""
    found = session.execute(
        select(Officer, ApiToken).join(ApiToken, ApiToken.officer_id == Officer.id)
        .where(ApiToken.id == token_id, Officer.id == officer_id,
               ApiToken.revoked_at.is_(None), Officer.active.is_(True))
    ).one_or_none()
    if found is None or (found[1].expires_at is not None and found[1].expires_at <= utcnow()):
        return None
    return found[0], found[1]


def needs_touch(row: ApiToken) -> bool:
    """True when the token's last use is older than LAST_USED_EVERY (or never written)."""
    return row.last_used_at is None or utcnow() - row.last_used_at >= LAST_USED_EVERY


def touch_token(row: ApiToken) -> None:
    """Record the token's use (a working column, written at most every LAST_USED_EVERY)."""
    if needs_touch(row):
        row.last_used_at = utcnow()


def officer_for_token(session: Session, token: str) -> Officer | None:
    """The active officer a bearer token belongs to, or None (see :func:`token_holder`); the
    token's use is recorded in this transaction."""
    found = token_holder(session, token)
    if found is None:
        return None
    touch_token(found[1])
    return found[0]


def officer_for_session(session: Session, officer_id: str | None) -> Officer | None:
    """The officer a signed-in web session (or any front that holds an officer id) may act as:
    None once the officer is deactivated. The one check fronts make on every request."""
    if not isinstance(officer_id, str) or not officer_id:
        return None
    officer = session.get(Officer, officer_id)
    return officer if officer is not None and officer.active else None


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
