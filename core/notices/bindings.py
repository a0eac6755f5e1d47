"""Telegram bindings and cut-off credentials (issue 12, findings 3 and 4): binding with a
one-time code under a per-account lockout, unbinding, deactivating an officer; the chat that
loses its binding is told, through the outbox, so a takeover cannot go unnoticed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from core.kernel.clock import utcnow
from core.kernel.errors import BindCodeInvalid, NotFound, RateLimited
from core.ledger import acting
from core.notices.outbox import insert_outbox_if_absent
from core.people import credentials
from core.people.access import log_access, require_role
from core.people.models import Officer
from core.people.officers import try_bind_code
from core.people.officers import unbind as end_binding
from core.platform import ratelimit
from core.platform.uow import UnitOfWork, UnitsOfWork

T = TypeVar("T")

TEXTS = {
    "unbound": {"zh": "您的 Telegram 账号已与执法人员 {name} 解除绑定。"
                      "如非本人操作，请立即联系管理员。",
                "en": "Your Telegram account is no longer bound to officer {name}. If you did "
                      "not ask for this, tell your administrator at once."},
    "deactivated": {"zh": "执法人员 {name} 的账号已停用，此 Telegram 账号的绑定已解除。",
                    "en": "Officer {name}'s account was deactivated; this Telegram account is "
                          "no longer bound."},
}


def tell_old_chat(session, officer: Officer, chat: int | None, why: str) -> None:
    """Queue a message to the chat that lost its binding (nothing when there was none)."""
    if not chat:
        return
    now = utcnow()
    lang = officer.lang if officer.lang in ("zh", "en") else "zh"
    insert_outbox_if_absent(session, [{
        "idempotency_key": f"binding:{officer.id}:{chat}:{why}:{now.isoformat()}"[:200],
        "case_id": None, "channel": "telegram", "recipient": str(chat),
        "officer_id": officer.id, "subject": "", "status": "pending", "attempts": 0,
        "body": TEXTS[why][lang].format(name=officer.name), "payload": {"event": f"binding.{why}"},
        "next_attempt_at": now, "created_at": now}])


def bind_telegram(units: UnitsOfWork, code: str, telegram_user_id: int,
                  view: Callable[[Officer], T]) -> T:
    """Bind a Telegram account with a one-time code. A wrong code counts against the account
    (MAX 5 an hour, then 429 until the hour has passed) and, when its public half names a
    code, against that code (spent after 5); both counts are kept although the answer is an
    error. Returns ``view(officer)``."""
    who = str(telegram_user_id)
    redis_url = ""
    try:
        with units.uow() as uow:
            redis_url = uow.settings.redis_url
            ratelimit.refuse_over(redis_url, "bind_failure", who, hit=False)
            acting(uow.session, f"telegram:{who}")  # the ledgered binding names the account
            officer = try_bind_code(uow.session, code, telegram_user_id)
            if officer is None:  # a wrong secret: its code's failure count is committed
                log_access(uow.session, None, "bind_failed", "telegram", f"tg:{who}",
                           channel="telegram")
                result = None
            else:
                log_access(uow.session, officer, "bind", "officer", officer.id,
                           channel="telegram")
                result = view(officer)
    except BindCodeInvalid:
        ratelimit.count(redis_url, "bind_failure", who)
        _log_failure(units, who)
        raise
    except RateLimited:
        _log_failure(units, who)
        raise
    if officer is None:
        ratelimit.count(redis_url, "bind_failure", who)
        raise BindCodeInvalid("this binding code is unknown, used or expired",
                              zh="绑定码无效、已使用或已过期。请向管理员索取新的绑定码。")
    return result


def _log_failure(units: UnitsOfWork, who: str) -> None:
    # Failed lookups go to the access log (finding 6), in their own transaction.
    with units.uow() as uow:
        log_access(uow.session, None, "bind_failed", "telegram", f"tg:{who}", channel="telegram")


def unbind_officer(uow: UnitOfWork, by: Officer | None, officer_id: str) -> Officer:
    """End an officer's Telegram binding (the officer themself, or an administrator of their
    department); the chat that was bound is told."""
    session = uow.session
    if by is not None and by.id != officer_id:
        require_role(by, "admin", action="unbinding another officer")
    officer = session.get(Officer, officer_id) if isinstance(officer_id, str) else None
    if officer is None or (by is not None and officer.department_id != by.department_id):
        raise NotFound(f"officer {officer_id} not found", zh="未找到该执法人员")
    acting(session, by.id if by is not None else "cli:officers unbind")
    tell_old_chat(session, officer, end_binding(session, officer), "unbound")
    return officer


def deactivate_officer(uow: UnitOfWork, by: Officer | None, officer_id: str) -> Officer:
    """Deactivate an officer (tokens revoked, binding ended, bind codes spent); the chat that
    was bound is told. Live Socket.IO sessions are dropped at their next re-check."""
    officer, chat = credentials.deactivate(uow.session, by, officer_id)
    tell_old_chat(uow.session, officer, chat, "deactivated")
    return officer

