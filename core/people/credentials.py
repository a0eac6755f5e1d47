"""Cutting credentials off (issue 12, finding 4): the department's officers with their
certificate and token status, deactivation (every token revoked, the Telegram binding ended),
reactivation, role changes and token revocation.

Every change here goes through ORM objects of mirrored tables, so each one is a ledgered
state event ("officer.deactivated", "officer.roles_changed", "token.revoked", ...) naming who
made it (A37.1). An administrator acts only on their own department; another department's
officer is "not found". ``by=None`` is the server's operator at the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, Invalid, NotFound
from core.kernel.vocab import ROLES
from core.ledger import acting
from core.people import web_sessions
from core.people.access import log_access, require_role
from core.people.models import ApiToken, BindCode, Officer


@dataclass(frozen=True)
class TokenView:
    """A token as an administrator sees it: never the secret."""

    id: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def status(self, now: datetime) -> str:
        """valid, expired or revoked."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "valid"


@dataclass(frozen=True)
class OfficerView:
    """One officer of the department, with certificate and credential status."""

    id: str
    name: str
    roles: tuple[str, ...]
    certificate_no: str | None
    active: bool
    telegram_bound: bool
    tokens: tuple[TokenView, ...]

    @property
    def certified(self) -> bool:
        """Holds a law-enforcement certificate (A14.1)."""
        return bool(self.certificate_no)


def _who(session: Session, by: Officer | None, action: str) -> None:
    if by is not None:
        require_role(by, "admin", action=action)
    acting(session, by.id if by is not None else f"cli:officers {action}")


def _target(session: Session, by: Officer | None, officer_id: str) -> Officer:
    officer = session.get(Officer, officer_id) if isinstance(officer_id, str) else None
    # Another department's officer does not exist for an administrator (no oracle).
    if officer is None or (by is not None and officer.department_id != by.department_id):
        raise NotFound(f"officer {officer_id} not found", zh="未找到该执法人员")
    return officer


def _view(session: Session, officer: Officer) -> OfficerView:
    tokens = session.execute(select(ApiToken).where(ApiToken.officer_id == officer.id)
                             .order_by(ApiToken.created_at)).scalars().all()
    return OfficerView(
        id=officer.id, name=officer.name, roles=tuple(officer.roles),
        certificate_no=officer.certificate_no, active=bool(officer.active),
        telegram_bound=officer.telegram_user_id is not None,
        tokens=tuple(TokenView(t.id, t.label, t.created_at, t.expires_at, t.last_used_at,
                               t.revoked_at) for t in tokens))


def list_officers(session: Session, by: Officer | None, department_id: str | None = None,
                  *, remote: str = "", channel: str = "api") -> list[OfficerView]:
    """The officers of the administrator's department (or of ``department_id`` at the command
    line; every department when None), with certificate and token status."""
    if by is not None:
        require_role(by, "admin", action="listing officers")
        department_id = by.department_id
    query = select(Officer).order_by(Officer.name)
    if department_id is not None:
        query = query.where(Officer.department_id == department_id)
    rows = session.execute(query).scalars().all()
    log_access(session, by, "list", "officers", department_id or "*", channel=channel,
               remote=remote)
    return [_view(session, o) for o in rows]


def officer_view(session: Session, by: Officer | None, officer_id: str) -> OfficerView:
    """One officer with their credentials."""
    if by is not None:
        require_role(by, "admin", action="reading an officer")
    return _view(session, _target(session, by, officer_id))


def deactivate(session: Session, by: Officer | None, officer_id: str) -> tuple[Officer, int | None]:
    """Deactivate an officer: every token revoked, bind codes spent, the Telegram binding
    ended; returns the officer and the chat that was bound (to be told)."""
    _who(session, by, "deactivate")
    officer = _target(session, by, officer_id)
    if by is not None and officer.id == by.id:
        raise Conflict("an administrator cannot deactivate themselves",
                       zh="管理员不能停用自己的账号")
    now = utcnow()
    officer.active = False
    for token in session.execute(select(ApiToken).where(
            ApiToken.officer_id == officer.id, ApiToken.revoked_at.is_(None))).scalars():
        token.revoked_at = now
    for code in session.execute(select(BindCode).where(
            BindCode.officer_id == officer.id, BindCode.used_at.is_(None))).scalars():
        code.used_at = now
    old_chat = officer.telegram_user_id
    officer.telegram_user_id = None
    web_sessions.end_sessions(session, officer.id)  # the desk's sessions end with it (issue 14)
    session.flush()
    return officer, old_chat


def reactivate(session: Session, by: Officer | None, officer_id: str) -> Officer:
    """Let a deactivated officer work again; they need a new token and a new binding."""
    _who(session, by, "reactivate")
    officer = _target(session, by, officer_id)
    officer.active = True
    session.flush()
    return officer


def set_roles(session: Session, by: Officer | None, officer_id: str, roles: list[str]) -> Officer:
    """Replace an officer's roles (A8.1)."""
    _who(session, by, "roles")
    officer = _target(session, by, officer_id)
    roles = sorted(set(roles or []))
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise Invalid(f"roles must be chosen from {', '.join(ROLES)}; got {roles}",
                      zh=f"角色须从 {', '.join(ROLES)} 中选择",
                      details={"fields": {"roles": "invalid"}})
    if by is not None and officer.id == by.id and "admin" not in roles:
        raise Conflict("an administrator cannot take their own admin role away",
                       zh="管理员不能取消自己的管理员角色")
    officer.roles = roles
    session.flush()
    return officer


def revoke_token(session: Session, by: Officer | None, token_id: str) -> ApiToken:
    """Revoke one API token (idempotent)."""
    _who(session, by, "revoke-token")
    token = session.get(ApiToken, token_id) if isinstance(token_id, str) else None
    if token is None:
        raise NotFound(f"token {token_id} not found", zh="未找到该令牌")
    _target(session, by, token.officer_id)  # another department's token is not found
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.flush()
    return token


def officer_json(v: OfficerView, now: datetime) -> dict:
    """An officer as the API and the CLI show it."""
    return {"id": v.id, "name": v.name, "roles": list(v.roles),
            "certificate_no": v.certificate_no, "certified": v.certified,
            "active": v.active, "telegram_bound": v.telegram_bound,
            "tokens": [{"id": t.id, "label": t.label, "status": t.status(now),
                        "created_at": t.created_at.isoformat(),
                        "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                        "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None}
                       for t in v.tokens]}
