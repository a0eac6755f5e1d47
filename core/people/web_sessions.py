"""Staff sign-in to the web pages without passwords (issue 14): a one-time link sent through
the bot (``/web``) or printed by ``flask officers web-link`` opens a browser session.

The link's token and the session's cookie secret are random and stored as SHA-256 only. A
session ends when its officer signs out, when it expires (an absolute limit and an idle limit),
or when the officer is no longer active: every request asks core.people.officers.active_officer,
the one check of "officer active", so deactivation ends every session at its next request.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel.clock import utcnow
from core.kernel.errors import Forbidden, NotFound
from core.kernel.ids import new_id, token_hash
from core.people.access import log_access
from core.people.models import Officer, WebSession, WebSignInLink
from core.people.officers import active_officer
from core.platform.uow import UnitOfWork

LINK_TTL = timedelta(minutes=15)
SESSION_TTL = timedelta(hours=12)  # one working day at most, then a new link
IDLE_TTL = timedelta(hours=2)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
SIGN_IN_PATH = "/signin"  # the page (api.pages.web_auth) that reads the fragment


class SignInLinkInvalid(NotFound):
    """The sign-in link is unknown, used, expired, or its officer is no longer active."""

    code = "sign_in_link_invalid"


@dataclass(frozen=True)
class SignedIn:
    """A live web session and its officer (a request's identity on the pages)."""

    officer: Officer
    session_id: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class SignInLink:
    """A link just issued: the URL to open (the token in its fragment) and its expiry."""

    url: str
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    """A session just opened: the cookie secret (shown once) and its identity."""

    secret: str
    signed_in: SignedIn


def issue_link(uow: UnitOfWork, officer_id: str, *, channel: str) -> SignInLink:
    """A one-time sign-in link for an active officer: ``<PUBLIC_URL>/signin#<token>``; the
    token rides in the fragment, which browsers never send, so no log or referrer holds it."""
    session = uow.session
    officer = active_officer(session, officer_id)
    token = "qw_" + secrets.token_urlsafe(32)
    expires = utcnow() + LINK_TTL
    session.add(WebSignInLink(id=new_id(), officer_id=officer.id, token_hash=token_hash(token),
                              channel=channel[:16], created_at=utcnow(), expires_at=expires))
    log_access(session, officer, "issue", "web_link", officer.id, channel=channel[:16])
    session.flush()
    return SignInLink(f"{uow.settings.effective_public_url}{SIGN_IN_PATH}#{token}", token,
                      expires)


def redeem_link(session: Session, token: str, *, remote: str = "") -> NewSession:
    """Trade a one-time link for a new session; a used, expired or unknown link, or one
    whose officer is no longer active, is refused with the same answer."""
    refused = SignInLinkInvalid("this sign-in link is unknown, used or expired",
                                zh="登录链接无效、已使用或已过期。请在机器人中发送 /web "
                                   "获取新链接。")
    token = (token or "").strip()
    if not token or len(token) > 200:
        raise refused
    link = session.execute(select(WebSignInLink).where(
        WebSignInLink.token_hash == token_hash(token)).with_for_update()).scalar_one_or_none()
    now = utcnow()
    if link is None or link.used_at is not None or link.expires_at <= now:
        raise refused
    try:
        officer = active_officer(session, link.officer_id)
    except Forbidden:
        raise refused from None
    link.used_at = now
    secret = secrets.token_urlsafe(32)
    row = WebSession(id=new_id(), officer_id=officer.id, secret_hash=token_hash(secret),
                     csrf_token=secrets.token_urlsafe(32), link_id=link.id, created_at=now,
                     expires_at=now + SESSION_TTL, last_seen_at=now, remote=remote[:64])
    session.add(row)
    log_access(session, officer, "sign_in", "web_session", row.id, channel="web", remote=remote)
    session.flush()
    return NewSession(secret, SignedIn(officer, row.id, row.csrf_token, row.expires_at))


def _end(row: WebSession, reason: str, at: datetime) -> None:
    if row.ended_at is None:
        row.ended_at, row.end_reason = at, reason


def current(session: Session, secret: str | None) -> SignedIn | None:
    """The identity behind a session cookie, or None when it is absent, ended, expired or
    idle too long, or its officer is no longer active (the session is then ended)."""
    if not secret or len(secret) > 200:
        return None
    row = session.execute(select(WebSession).where(
        WebSession.secret_hash == token_hash(secret))).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return None
    now = utcnow()
    if row.expires_at <= now:
        _end(row, "expired", now)
        return None
    if row.last_seen_at + IDLE_TTL <= now:
        _end(row, "idle", now)
        return None
    try:
        officer = active_officer(session, row.officer_id)
    except Forbidden:
        _end(row, "deactivated", now)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
    return SignedIn(officer, row.id, row.csrf_token, row.expires_at)


def sign_out(session: Session, secret: str | None) -> bool:
    """End the session behind a cookie; True when there was one to end."""
    if not secret:
        return False
    row = session.execute(select(WebSession).where(
        WebSession.secret_hash == token_hash(secret))).scalar_one_or_none()
    if row is None or row.ended_at is not None:
        return False
    _end(row, "signed_out", utcnow())
    log_access(session, session.get(Officer, row.officer_id), "sign_out", "web_session",
               row.id, channel="web")
    return True


def end_sessions(session: Session, officer_id: str, reason: str = "deactivated") -> int:
    """End every open session of an officer at once (deactivation, a lost phone); how many."""
    now, count = utcnow(), 0
    for row in session.execute(select(WebSession).where(
            WebSession.officer_id == officer_id, WebSession.ended_at.is_(None))).scalars():
        _end(row, reason[:32], now)
        count += 1
    return count
