"""Which cases an officer may see and add to: their own department's; auditors see all (A8.1).
A case the caller may not see is "not found", never "forbidden" (no existence leak)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case
from core.kernel.errors import Forbidden, NotFound
from core.people.access import CASE_WORKERS, CROSS_DEPARTMENT, has_role
from core.people.models import Officer


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
        raise NotFound(f"case {case_id} not found", zh="未找到该案件，或您无权查看")
    return case


def writable_case(session: Session, actor: Officer, case_id: str, *, lock: bool = True) -> Case:
    """The case if the officer may add to it: own department and a case-working role; locked
    for this transaction unless ``lock`` is False (a check that writes nothing)."""
    case = visible_case(session, actor, case_id, for_update=lock)
    if case.department_id != actor.department_id or not has_role(actor, *CASE_WORKERS):
        raise Forbidden("only the department's case workers may add to this case",
                        zh="只有本部门的办案人员可以办理此案件")
    return case
