"""The ledger as callers read it: the newest signed checkpoint, an entry's inclusion proof and
the consistency between two sizes (A37.1). An entry of a case is visible only to those who may
see the case."""

from __future__ import annotations

import base64

from sqlalchemy import func, select

from core import ledger
from core.cases.visibility import visible_case
from core.kernel import fields
from core.kernel.errors import NotFound
from core.ledger import merkle
from core.ledger.log import session_suite
from core.ledger.models import LedgerEntry, LedgerTimestamp
from core.people.access import has_role, log_access
from core.people.models import Officer
from core.platform import ratelimit
from core.platform.uow import UnitOfWork

# Entries of no case (who may do what, deadlines, the calendar) are the oversight roles' to
# prove, not every department's (issue 12, finding 10).
NO_CASE_READERS = ("auditor", "custodian")


def _covering(uow: UnitOfWork, actor: Officer, size: int):
    """The newest checkpoint, signed now when none covers `size` entries yet; a reader signs
    at most CHECKPOINT_RATE on demand, then gets the newest one (a GET that writes must not be
    a lever: finding 10)."""
    cp = ledger.latest_checkpoint(uow.session)
    if cp is None or (cp.tree_size < size and ratelimit.count(
            uow.settings.redis_url, "checkpoint_on_demand", actor.id)):
        cp = ledger.make_checkpoint(uow.session, uow.signer, reason="on_demand")
    return cp


def checkpoint(uow: UnitOfWork, actor: Officer) -> dict:
    """The latest signed checkpoint (made now if none covers the current log)."""
    return ledger.checkpoint_json(_covering(uow, actor, ledger.current_size(uow.session)),
                                  uow.signer)


def inclusion_proof(uow: UnitOfWork, actor: Officer, entry: int,
                    tree_size: object = None) -> dict:
    """The inclusion proof of one entry against the latest checkpoint (or a given size)."""
    size_now = ledger.current_size(uow.session)
    entry = fields.whole(entry, "entry", low=0, high=max(size_now - 1, 0))
    cp = _covering(uow, actor, entry + 1)
    size = fields.whole(tree_size, "tree_size", low=1, high=max(size_now, 1),
                        default=cp.tree_size)
    row = uow.session.get(LedgerEntry, entry)
    if row is not None and row.case_id:
        visible_case(uow.session, actor, row.case_id)  # 404 for another department's entry
    elif row is not None and not has_role(actor, *NO_CASE_READERS):
        raise NotFound(f"entry {entry} not found", zh="未找到该条目")
    try:
        body = ledger.inclusion(uow.session, entry, size)
    except ledger.LedgerError as exc:
        raise NotFound(str(exc), zh="该条目不在此大小的日志中") from None
    if size == cp.tree_size:
        body["checkpoint"] = ledger.checkpoint_json(cp, uow.signer)
    return body


def consistency_proof(uow: UnitOfWork, actor: Officer, old: object, new: object) -> dict:
    """The consistency proof between two tree sizes, so an auditor holding an older checkpoint
    can check the log only grew."""
    size = ledger.current_size(uow.session)
    new_size = fields.whole(new, "to", low=1, high=max(size, 1))
    old_size = fields.whole(old, "from", low=1, high=new_size)
    return ledger.consistency(uow.session, old_size, new_size)


def case_proof_status(uow: UnitOfWork, actor: Officer, case_id: str, *, channel: str = "api"
                      ) -> dict:
    """Whether a case's record is under a signed checkpoint (A37.1): its ledger entries, the
    newest checkpoint, and the inclusion proof of the case's latest entry checked against that
    checkpoint's signed root. status: proved, pending (not yet under a checkpoint), failed
    (the proof does not match: the log was altered), or empty."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "read", "ledger_proof", case.id, channel=channel)
    session = uow.session
    count, last = session.execute(select(func.count(LedgerEntry.seq), func.max(LedgerEntry.seq))
                                  .where(LedgerEntry.case_id == case.id)).one()
    out: dict = {"case_id": case.id, "entries": int(count or 0), "last_entry": last,
                 "status": "empty", "checkpoint": None}
    if not count:
        return out
    cp = ledger.latest_checkpoint(session)
    if cp is None or cp.tree_size <= last:
        out["status"] = "pending"
        return out
    stamped = session.execute(select(LedgerTimestamp.gen_time).where(
        LedgerTimestamp.checkpoint_id == cp.id)).scalar_one_or_none()
    out["checkpoint"] = {"id": cp.id, "tree_size": cp.tree_size, "at": cp.created_at,
                         "algorithms": cp.algorithms, "timestamped_at": stamped}
    entry = session.get(LedgerEntry, last)
    proof = ledger.inclusion(session, last, cp.tree_size)
    ok = merkle.verify_inclusion(entry.leaf_hash, last, cp.tree_size,
                                 [base64.b64decode(h) for h in proof["proof"]], cp.root_hash,
                                 session_suite(session).hasher)
    out["status"] = "proved" if ok else "failed"
    return out
