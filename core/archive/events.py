"""The act's legal end (A32.1): ``act.ended`` is recorded once per case as a ledgered row; the
deadline table opens the 20-day archiving clock from the same event (core.deadlines)."""

from __future__ import annotations

from sqlalchemy import select

from core import ledger
from core.archive.models import ActEnd
from core.kernel.ids import new_id
from core.platform.uow import Event, UnitOfWork

ACT_ENDED = "act.ended"
ARCHIVED = "dossier.archived"


def handle_event(uow: UnitOfWork, event: Event) -> None:
    """Record the act's end (the first one counts: a later end does not move the clock)."""
    if event.name != ACT_ENDED or not event.case_id:
        return
    seen = uow.session.execute(select(ActEnd.id).where(ActEnd.case_id == event.case_id)
                               .limit(1)).scalar_one_or_none()
    if seen is not None:
        return
    row = ActEnd(id=new_id(), case_id=event.case_id, ended_at=event.at,
                 record_id=str(event.data.get("record_id") or "")[:32] or None,
                 reason=str(event.data.get("reason") or "")[:64])
    uow.session.add(row)
    ledger.append(uow.session, "act_end", row, case_id=event.case_id)


def act_end(session, case_id: str) -> ActEnd | None:
    """When the case's act legally ended, if it has."""
    return session.execute(select(ActEnd).where(ActEnd.case_id == case_id)).scalar_one_or_none()
