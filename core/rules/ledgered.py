"""The deadline figures in force, on the ledger: DEADLINE_OVERRIDES lives in the environment,
not the database, so it is recorded as a ledgered state whenever a deadline is opened under
figures that differ from the last recorded ones (RULES.md part 2, A37.1)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.ledger.models import LedgerState
from core.ledger.states import write_state
from core.rules.deadline_rules import RuleTable

TABLE = "rule_figures"
KEY = "DEADLINE_OVERRIDES"


def figures(table: RuleTable) -> dict:
    """The overridden figures and the figure each rule applies, by rule ID and version."""
    return {
        "overrides": dict(sorted(table.overrides.items())),
        "periods": {f"{r.id}@{(r.effective_from or '').__str__()}": r.period
                    for r in table.rules if r.period is not None},
    }


def last_ledgered(session: Session) -> dict | None:
    """The figures last written to the ledger (None: never)."""
    rows = session.execute(select(LedgerState.rows, LedgerState.at)
                           .where(LedgerState.table_name == TABLE)).all()
    if not rows:
        return None
    latest = max(rows, key=lambda r: r.at)
    return latest.rows[-1]["state"]


def ledger_figures(session: Session, table: RuleTable) -> bool:
    """Write the figures in force to the ledger when they differ from the last written;
    True when a state was written."""
    now = figures(table)
    if last_ledgered(session) == now:
        return False
    write_state(session, TABLE, "rules.figures_in_force", [{"key": KEY, "state": now}])
    return True
