"""Who the caller is and who works beside them: the phone app's "me" and the list to pick
co-officers from (A8.1; A14.1: a field record needs two officers holding a certificate)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.kernel import fields as f
from core.kernel.vocab import ROLES
from core.people.access import log_access
from core.people.models import Department, Officer
from core.platform.uow import UnitOfWork

# A certificate is either on file or not: the register of 执法证 keeps no expiry yet.
CERTIFICATE_STATUSES = ("valid", "missing")


@dataclass(frozen=True)
class Person:
    """An officer as another officer sees them: enough to name them on a record."""

    id: str
    name: str
    roles: tuple[str, ...]
    certificate_no: str | None
    active: bool

    @property
    def certificate_status(self) -> str:
        """``valid`` when a law-enforcement certificate is on file (A14.1), else ``missing``."""
        return "valid" if self.certificate_no else "missing"

    @property
    def may_sign_field_records(self) -> bool:
        """True when this officer counts towards the two certified officers of A14.1."""
        return self.active and self.certificate_no is not None

    def to_json(self) -> dict:
        """The person as the API shows them."""
        return {"id": self.id, "name": self.name, "roles": list(self.roles),
                "certificate_no": self.certificate_no,
                "certificate_status": self.certificate_status,
                "may_sign_field_records": self.may_sign_field_records, "active": self.active}


@dataclass(frozen=True)
class Me:
    """The caller: who they are, their department, what they may do and how they are reached."""

    person: Person
    department_id: str
    department_code: str
    department_name: str
    lang: str
    telegram_bound: bool

    def to_json(self) -> dict:
        """The caller as GET /api/v1/me shows them."""
        return {**self.person.to_json(), "lang": self.lang, "telegram_bound": self.telegram_bound,
                "department": {"id": self.department_id, "code": self.department_code,
                               "name": self.department_name}}


@dataclass(frozen=True)
class OfficerQuery:
    """Which colleagues to list: all, those holding a role, or those with a certificate."""

    role: str | None = None
    certified_only: bool = False

    @classmethod
    def parse(cls, args) -> OfficerQuery:
        """From query parameters: ``role`` (one of ROLES), ``certified`` (true or false)."""
        role = args.get("role")
        certified = args.get("certified")
        if certified not in (None, "", "true", "false"):
            raise f.bad("certified", "not_bool")
        return cls(f.choice(role, "role", ROLES) if role not in (None, "") else None,
                   certified == "true")


def _person(o: Officer) -> Person:
    return Person(o.id, o.name, tuple(o.roles or ()), o.certificate_no or None, bool(o.active))


def me(uow: UnitOfWork, actor: Officer, *, channel: str = "api") -> Me:
    """The caller's own profile; the read is logged (A33.1)."""
    dept = uow.session.get(Department, actor.department_id)
    log_access(uow.session, actor, "read", "officer", actor.id, channel=channel)
    return Me(_person(actor), dept.id, dept.code, dept.name, actor.lang or "zh",
              actor.telegram_user_id is not None)


def colleagues(uow: UnitOfWork, actor: Officer, *, role: str | None = None,
               certified_only: bool = False, channel: str = "api") -> list[Person]:
    """The active officers of the caller's department (the caller included, first), by name,
    in one query; ``role`` and ``certified_only`` narrow the list; the read is logged."""
    stmt = select(Officer).where(Officer.department_id == actor.department_id,
                                 Officer.active.is_(True)).order_by(Officer.name, Officer.id)
    if certified_only:
        stmt = stmt.where(Officer.certificate_no.is_not(None), Officer.certificate_no != "")
    rows = uow.session.execute(stmt).scalars().all()
    if role is not None:
        # Roles are a JSON list: filtered here so one query serves SQLite and PostgreSQL.
        rows = [o for o in rows if role in (o.roles or [])]
    log_access(uow.session, actor, "list", "officer", actor.department_id, channel=channel)
    people = [_person(o) for o in rows]
    people.sort(key=lambda p: p.id != actor.id)  # stable: the caller first, then by name
    return people
