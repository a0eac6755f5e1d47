"""Interrupted AV recordings (A17.2): a recording that stopped (device fault, weather, battery,
storage) and resumes is recorded by correcting its interruption record, append-only, with the
time it resumed and whether the reason was explained by voice when it did."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.cases import records
from core.cases.commands import AddRecord
from core.cases.records import RecordAdded
from core.kernel import fields
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, NotFound
from core.people.models import Officer
from core.platform.uow import UnitOfWork
from core.rules.catalogue import record_type

INTERRUPTION = "av_interruption"


@dataclass(frozen=True)
class Resume:
    """The recording restarted (A17.2)."""

    interruption_id: str
    voice_explained: bool
    resumed_at: datetime | None = None

    @classmethod
    def parse(cls, data: Any, interruption_id: str) -> Resume:
        """Check {"voice_explained": bool, "resumed_at": time}."""
        data = fields.mapping(data, "body", required=True)
        return cls(fields.ident(interruption_id, "interruption_id"),
                   fields.flag(data.get("voice_explained"), "voice_explained"),
                   fields.moment(data.get("resumed_at"), "resumed_at", required=False))


def _open(found: list) -> list:
    corrected = {r.corrects_id for r in found if r.corrects_id}
    return [r for r in found if r.type == INTERRUPTION and r.id not in corrected
            and r.fields.get("can_continue") and not r.fields.get("resumed_at")]


def open_interruption(uow: UnitOfWork, actor: Officer, case_id: str, *,
                      channel: str = "api") -> str | None:
    """The newest interruption of the case that can continue and has not resumed yet."""
    found = _open(records.list_records(uow, actor, case_id))
    return found[-1].id if found else None


def resume_recording(uow: UnitOfWork, actor: Officer, case_id: str, cmd: Resume
                     ) -> RecordAdded:
    """Record that the recording resumed: the interruption corrected with resumed_at and
    voice_explained, its other answers kept (A17.2)."""
    found = records.list_records(uow, actor, case_id)
    old = next((r for r in found if r.id == cmd.interruption_id), None)
    if old is None or old.type != INTERRUPTION:
        raise NotFound(f"interruption {cmd.interruption_id} not found", zh="未找到该中断记录")
    if old not in _open(found):
        raise Conflict("this interruption cannot continue, has already resumed or was "
                       "corrected", zh="该中断记录无法继续、已恢复或已被更正")
    rtype = record_type(INTERRUPTION)
    kept = {k: v for k, v in old.fields.items()
            if (f := rtype.field(k)) is not None and not f.auto}
    resumed_at = (cmd.resumed_at or utcnow()).isoformat()
    return records.add_record(uow, actor, case_id, AddRecord(
        type=INTERRUPTION, fields={**kept, "resumed_at": resumed_at,
                                   "voice_explained": cmd.voice_explained},
        officers=tuple(old.officers), occurred_at=old.occurred_at, corrects=old.id))
