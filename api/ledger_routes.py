"""The ledger's signed checkpoints and inclusion proofs."""

from __future__ import annotations

from flask import Blueprint, request

from core import ledger
from core.cases.visibility import visible_case
from core.kernel.errors import Invalid, NotFound
from core.ledger.models import LedgerEntry

from .auth import handle

bp = Blueprint("ledger", __name__, url_prefix="/api/v1/ledger")


@bp.get("/checkpoint")
def checkpoint():
    """The latest signed checkpoint (made now if none covers the current log)."""
    def run(uow, actor):
        cp = ledger.latest_checkpoint(uow.session)
        if cp is None or cp.tree_size < ledger.current_size(uow.session):
            cp = ledger.make_checkpoint(uow.session, uow.signer, reason="on_demand")
        return ledger.checkpoint_json(cp, uow.signer), 200

    return handle(run)


@bp.get("/proof/<int:entry>")
def proof(entry: int):
    """Inclusion proof of one entry against the latest checkpoint (or ?tree_size=N)."""
    def run(uow, actor):
        cp = ledger.latest_checkpoint(uow.session)
        if cp is None or cp.tree_size <= entry:
            cp = ledger.make_checkpoint(uow.session, uow.signer, reason="on_demand")
        size = request.args.get("tree_size", type=int) or cp.tree_size
        if size > ledger.current_size(uow.session) or size < 1:
            raise Invalid(f"tree_size must be between 1 and {ledger.current_size(uow.session)}")
        row = uow.session.get(LedgerEntry, entry)
        if row is not None and row.case_id:
            visible_case(uow.session, actor, row.case_id)  # 404 for another department's entry
        try:
            body = ledger.inclusion(uow.session, entry, size)
        except ledger.LedgerError as exc:
            raise NotFound(str(exc)) from None
        if size == cp.tree_size:
            body["checkpoint"] = ledger.checkpoint_json(cp, uow.signer)
        return body, 200

    return handle(run)


@bp.get("/consistency")
def consistency():
    """Consistency proof between two tree sizes (?from=M&to=N), so an auditor holding an
    older checkpoint can check the log only grew."""
    old = request.args.get("from", type=int)
    new = request.args.get("to", type=int)

    def run(uow, actor):
        size = ledger.current_size(uow.session)
        if old is None or new is None or not 0 < old <= new <= size:
            raise Invalid(f"from and to must satisfy 0 < from <= to <= {size}")
        return ledger.consistency(uow.session, old, new), 200

    return handle(run)
