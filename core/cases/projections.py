"""The case's stage as ledger verify re-derives it: where its last intact logged stage change
put it (A3.1, A37.1)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Case
from core.ledger import Damage, add_projection


class StageProjection:
    """Each case's stage must be where its last intact logged stage change put it."""

    kinds = frozenset({"case", "stage_change"})  # the leaves it reads (verify skips others)

    def __init__(self) -> None:
        """Start with no case seen."""
        self.stages: dict[str, tuple[int, str]] = {}  # case → (entry, stage)

    def observe(self, kind: str, seq: int, row) -> None:
        """A case starts in initiation; each stage change moves it."""
        if kind == "stage_change":
            self.stages[row.case_id] = (seq, row.to_stage)
        elif kind == "case":
            self.stages.setdefault(row.id, (seq, "initiation"))

    def check(self, session: Session, tainted: set[str | None]) -> list[Damage]:
        """Report every case whose live stage is not the derived one."""
        damages = []
        for case_id, stage in session.execute(select(Case.id, Case.stage)):
            if case_id in tainted or case_id not in self.stages:
                continue  # already reported at the damaged entry (or the case row is missing)
            seq, expected = self.stages[case_id]
            if stage != expected:
                damages.append(Damage(seq, f"entry {seq}: case {case_id} shows stage {stage!r} "
                                      f"but its logged stage changes end at {expected!r}"))
        return damages


add_projection(StageProjection)
