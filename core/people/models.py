"""People and their credentials: departments, officers (A8.1), API tokens, Telegram bind
codes, and the access log of every read (A33.1, A37.1)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.kernel.clock import utcnow
from core.ledger.states import mirror as ledger_mirror
from core.platform.db import ID, Base, UTCDateTime


def _dt(**kw) -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), **kw)


class Department(Base):
    """An enforcement unit; cases are numbered per department and year."""

    __tablename__ = "departments"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _dt(default=utcnow)


class Officer(Base):
    """A person who uses the system: officer, supervisor, legal reviewer, head, ... (A8.1)."""

    __tablename__ = "officers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    department_id: Mapped[str] = mapped_column(ForeignKey("departments.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    certificate_no: Mapped[str | None] = mapped_column(String(64))  # 执法证号 (A14.1)
    roles: Mapped[list] = mapped_column(JSON)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    lang: Mapped[str] = mapped_column(String(8), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _dt(default=utcnow)


class ApiToken(Base):
    """A bearer token, stored as its SHA-256 only."""

    __tablename__ = "api_tokens"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = _dt(default=utcnow)
    revoked_at: Mapped[datetime | None] = _dt(nullable=True)
    # No token lives for ever (issue 12, finding 4); None only on tokens from before expiry.
    expires_at: Mapped[datetime | None] = _dt(nullable=True)
    # Working state, not ledgered: when the token last authenticated (to the nearest minutes).
    last_used_at: Mapped[datetime | None] = _dt(nullable=True)


class BindCode(Base):
    """A one-time code that binds an officer's Telegram account."""

    __tablename__ = "bind_codes"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = _dt()
    used_at: Mapped[datetime | None] = _dt(nullable=True)
    # The code's public half, by which a guess finds its code so failures count against it;
    # the secret half is kept as an HMAC only (issue 12, findings 3 and 8).
    lookup: Mapped[str | None] = mapped_column(String(16), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)


class AccessLog(Base):
    """Every read of a case, record or evidence item (A33.1, A37.1)."""

    __tablename__ = "access_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    officer_id: Mapped[str | None] = mapped_column(ForeignKey("officers.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(64), index=True)
    channel: Mapped[str] = mapped_column(String(16), default="api")
    remote: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = _dt(default=utcnow)


# Who may do what is on the ledger (A37.1): every change to a department, an officer (name,
# certificate, roles, active, binding) or a token is a ledgered state event, and ledger verify
# rebuilds these tables from them. Bind codes are left out: a one-time secret whose only effect,
# the binding, is ledgered on the officer. The access log is left out: one row per read.
_OFFICER_EVENTS = {"name": "renamed", "roles": "roles_changed",
                   "certificate_no": "certificate_changed", "department_id": "moved",
                   "lang": "language_changed"}


def _officer_event(op: str, changed: frozenset[str], officer) -> str:
    if op != "changed":
        return f"officer.{op}"
    names = [_OFFICER_EVENTS[c] for c in sorted(changed) if c in _OFFICER_EVENTS]
    if "active" in changed:
        names.append("reactivated" if officer.active else "deactivated")
    if "telegram_user_id" in changed:
        names.append("bound" if officer.telegram_user_id is not None else "unbound")
    names += [f"{c}_changed" for c in sorted(changed) if c not in _OFFICER_EVENTS
              and c not in ("active", "telegram_user_id")]
    return "officer." + "+".join(names)


def _token_event(op: str, changed: frozenset[str], token) -> str:
    if op == "created":
        return "token.issued"
    if op == "changed" and "revoked_at" in changed:
        return "token.revoked" if token.revoked_at is not None else "token.unrevoked"
    if op == "changed" and "expires_at" in changed:
        return "token.expiry_changed"
    return f"token.{op}"


ledger_mirror(Department, "department")
ledger_mirror(Officer, "officer", namer=_officer_event)
def _token_state(state: dict) -> dict:
    # Tokens ledgered before expiry existed carry no expires_at: None, as their live rows.
    return {"expires_at": None, **state}


ledger_mirror(ApiToken, "token", namer=_token_event, working=("last_used_at",),
              normalise=_token_state)


class WebSignInLink(Base):
    """A one-time staff sign-in link (bot ``/web``, ``flask officers web-link``); the token is
    stored as its SHA-256 only and is good for one sign-in within minutes."""

    __tablename__ = "web_sign_in_links"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    channel: Mapped[str] = mapped_column(String(16))  # telegram | cli
    created_at: Mapped[datetime] = _dt(default=utcnow)
    expires_at: Mapped[datetime] = _dt()
    used_at: Mapped[datetime | None] = _dt(nullable=True)


class WebSession(Base):
    """A signed-in browser (the desk): the cookie's secret as its SHA-256, the form token, an
    absolute and an idle expiry; ended by signing out, by expiry or by deactivation."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officers.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    link_id: Mapped[str | None] = mapped_column(ForeignKey("web_sign_in_links.id"))
    created_at: Mapped[datetime] = _dt(default=utcnow)
    expires_at: Mapped[datetime] = _dt()
    last_seen_at: Mapped[datetime] = _dt(default=utcnow)
    ended_at: Mapped[datetime | None] = _dt(nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32))
    remote: Mapped[str] = mapped_column(String(64), default="")
