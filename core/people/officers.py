"""Departments, officers, API tokens, Telegram bind codes and the demo seed."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel import fields
from core.kernel.clock import utcnow
from core.kernel.errors import AlreadyBound, BindCodeInvalid, Forbidden, Invalid, NotFound
from core.kernel.ids import new_id, new_token, token_hash
from core.kernel.vocab import ROLES
from core.people.models import ApiToken, BindCode, Department, Officer

BIND_CODE_TTL = timedelta(minutes=15)
TOKEN_TTL = timedelta(days=180)  # no token lives for ever (issue 12, finding 4)


def ensure_department(session: Session, code: str, name: str) -> Department:
    """The department with that code, created if absent."""
    dept = session.execute(select(Department).where(Department.code == code)).scalar_one_or_none()
    if dept is None:
        dept = Department(id=new_id(), code=code, name=name, created_at=utcnow())
        session.add(dept)
        session.flush()
    return dept


def department_by_code(session: Session, code: str) -> Department | None:
    """The department with that code, if any."""
    return session.execute(select(Department).where(Department.code == code)
                           ).scalar_one_or_none()


def add_officer(session: Session, department: Department, name: str, roles: list[str],
                certificate_no: str | None = None, lang: str = "zh") -> Officer:
    """Create an officer with the given roles (A8.1)."""
    bad = [r for r in roles if r not in ROLES]
    if not roles or bad:
        raise Invalid(f"roles must be chosen from {', '.join(ROLES)}; got {roles}")
    if not name.strip():
        raise Invalid("an officer needs a name")
    officer = Officer(id=new_id(), department_id=department.id, name=name.strip(),
                      certificate_no=certificate_no, roles=sorted(set(roles)), lang=lang,
                      active=True, created_at=utcnow())
    session.add(officer)
    session.flush()
    return officer


def issue_token(session: Session, officer: Officer, label: str = "",
                ttl: timedelta | None = None) -> str:
    """Create a new API token that expires after ``ttl`` (the setting TOKEN_TTL_DAYS, 180 days
    by default); only its hash is stored, so it is shown once."""
    if not officer.active:
        raise Forbidden("the officer is not active", zh="该执法人员账号已停用")
    if ttl is None:
        settings = session.info.get("settings")
        ttl = timedelta(days=settings.token_ttl_days) if settings is not None else TOKEN_TTL
    now = utcnow()
    token = new_token()
    session.add(ApiToken(id=new_id(), officer_id=officer.id, token_hash=token_hash(token),
                         label=label, created_at=now, expires_at=now + ttl))
    session.flush()
    return token


def get_officer(session: Session, officer_id: str) -> Officer:
    """The officer with that id."""
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(f"officer {officer_id} not found")
    return officer


# Bind codes (issue 12, finding 3): a public half that finds the code and a secret half kept
# only as a salted hash; 80 bits in all, valid 15 minutes, spent after MAX_BIND_FAILURES wrong
# secrets. A Telegram account gets MAX_BIND_FAILURES wrong codes an hour (core.platform.ratelimit).
BIND_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or typed
BIND_LOOKUP_LEN, BIND_SECRET_LEN = 4, 12
MAX_BIND_FAILURES = 5


def _bind_secret_hash(row_id: str, secret: str) -> str:
    # The row's random id salts the hash: equal secrets never share a hash (finding 8).
    return token_hash(f"{row_id}:{secret}")


def normalise_bind_code(code: str) -> str:
    """A code as typed (any case, with or without dashes and spaces), upper-cased and bare."""
    return "".join(ch for ch in str(code).upper() if ch.isalnum())


def issue_bind_code(session: Session, officer: Officer) -> str:
    """A one-time code the officer sends to the bot to bind their Telegram account, shown as
    XXXX-XXXX-XXXX-XXXX; an officer already bound must be unbound first."""
    if not officer.active:
        raise Forbidden("the officer is not active", zh="该执法人员账号已停用")
    while True:
        lookup = "".join(secrets.choice(BIND_ALPHABET) for _ in range(BIND_LOOKUP_LEN))
        if session.execute(select(BindCode.id).where(BindCode.lookup == lookup)).first() is None:
            break
    secret = "".join(secrets.choice(BIND_ALPHABET) for _ in range(BIND_SECRET_LEN))
    row_id = new_id()
    session.add(BindCode(id=row_id, officer_id=officer.id, lookup=lookup,
                         code_hash=_bind_secret_hash(row_id, secret), failures=0,
                         expires_at=utcnow() + BIND_CODE_TTL))
    session.flush()
    code = lookup + secret
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4))


def _bind_refused() -> BindCodeInvalid:
    return BindCodeInvalid("this binding code is unknown, used or expired",
                           zh="绑定码无效、已使用或已过期。请向管理员索取新的绑定码。")


def redeem_bind_code(session: Session, code: str, telegram_user_id: int) -> Officer:
    """Bind a Telegram account with a one-time code, or refuse (see try_bind_code)."""
    officer = try_bind_code(session, code, telegram_user_id)
    if officer is None:
        raise _bind_refused()
    return officer


def try_bind_code(session: Session, code: str, telegram_user_id: int) -> Officer | None:
    """Bind a Telegram account with a one-time code: an unknown, used, expired or locked code is
    refused; an officer bound to another account is refused until unbound. A wrong secret
    returns None and counts against its code: the caller commits, then refuses."""
    bare = normalise_bind_code(code)
    lookup, secret = bare[:BIND_LOOKUP_LEN], bare[BIND_LOOKUP_LEN:]
    row = session.execute(
        select(BindCode).where(BindCode.lookup == lookup).with_for_update()
    ).scalar_one_or_none() if len(bare) == BIND_LOOKUP_LEN + BIND_SECRET_LEN else None
    if row is None or row.used_at is not None or row.expires_at < utcnow():
        raise _bind_refused()
    if not hmac.compare_digest(row.code_hash, _bind_secret_hash(row.id, secret)):
        row.failures = (row.failures or 0) + 1
        if row.failures >= MAX_BIND_FAILURES:
            row.used_at = utcnow()  # locked: the officer asks for a new code
        return None
    taken = session.execute(
        select(Officer).where(Officer.telegram_user_id == telegram_user_id)
    ).scalar_one_or_none()
    officer = get_officer(session, row.officer_id)
    if not officer.active:
        raise _bind_refused()
    if taken is not None and taken.id != officer.id:
        raise AlreadyBound("this Telegram account is already bound to another officer",
                           zh="此 Telegram 账号已绑定其他执法人员。")
    if officer.telegram_user_id is not None and officer.telegram_user_id != telegram_user_id:
        raise AlreadyBound("this officer is bound to another Telegram account: unbind it first",
                           zh="该执法人员已绑定其他 Telegram 账号，须先解除绑定。")
    row.used_at = utcnow()
    officer.telegram_user_id = telegram_user_id
    return officer


def unbind(session: Session, officer: Officer) -> int | None:
    """End an officer's Telegram binding; returns the chat that was bound (to be told)."""
    old = officer.telegram_user_id
    officer.telegram_user_id = None
    session.flush()
    return old


def officer_by_telegram(session: Session, telegram_user_id: int) -> Officer | None:
    """The active officer bound to a Telegram account, or None."""
    return session.execute(
        select(Officer).where(Officer.telegram_user_id == telegram_user_id,
                              Officer.active.is_(True))
    ).scalar_one_or_none()


def active_officer(session: Session, officer_id: str) -> Officer:
    """The officer, refused unless still active (a deactivated officer can do nothing)."""
    officer = session.get(Officer, officer_id) if isinstance(officer_id, str) else None
    if officer is None or not officer.active:
        raise Forbidden("the officer is not active", zh="该执法人员账号已停用")
    return officer


def set_language(session: Session, officer_id: str, lang: str) -> Officer:
    """The language the officer reads the bot and notices in (zh or en)."""
    officer = active_officer(session, officer_id)
    officer.lang = fields.choice(lang, "lang", ("zh", "en"))
    return officer


def colleagues(session: Session, actor: Officer, *, certified_only: bool = False
               ) -> list[Officer]:
    """The other active officers of the caller's department, by name; with certified_only,
    those holding a law-enforcement certificate (A14.1: who may be named on a field record)."""
    rows = session.execute(select(Officer).where(
        Officer.department_id == actor.department_id, Officer.active.is_(True),
        Officer.id != actor.id).order_by(Officer.name)).scalars().all()
    return [o for o in rows if o.certificate_no or not certified_only]


DEMO_PEOPLE = (
    ("张伟", ["officer"], "湘执430600001"),
    ("李娜", ["officer"], "湘执430600002"),
    ("王强", ["supervisor"], "湘执430600003"),
    ("刘洋", ["legal_reviewer"], "湘执430600004"),
    ("陈静", ["head"], "湘执430600005"),
    # Keeps the case files (A33.1): accepts a built dossier into the archive (A32.1), so the
    # archiving walkthrough can be tried; a custodian holds no enforcement certificate.
    ("赵敏", ["custodian"], None),
)


def demo_seed(session: Session) -> dict:
    """Create the demo department and its six people (idempotent); return them with tokens."""
    dept = ensure_department(session, "YYZJ", "岳阳市住房和城乡建设局（演示）")
    users = []
    for name, roles, cert in DEMO_PEOPLE:
        officer = session.execute(
            select(Officer).where(Officer.department_id == dept.id, Officer.name == name)
        ).scalar_one_or_none()
        if officer is None:
            officer = add_officer(session, dept, name, roles, cert)
        # A fresh token each run: earlier ones stay valid, the new one is printed once.
        token = issue_token(session, officer, label="demo seed")
        users.append({"id": officer.id, "name": officer.name, "role": officer.roles[0],
                      "roles": officer.roles, "certificate_no": officer.certificate_no,
                      "token": token})
    return {"department": {"id": dept.id, "code": dept.code, "name": dept.name}, "users": users}
