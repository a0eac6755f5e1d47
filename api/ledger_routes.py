"""The ledger's signed checkpoints and proofs (A37.1)."""

from __future__ import annotations

from flask import Blueprint, request

from core.cases import ledger_reads

from .auth import handle

bp = Blueprint("ledger", __name__, url_prefix="/api/v1/ledger")


@bp.get("/checkpoint")
def checkpoint():
    """The latest signed checkpoint (made now if none covers the current log)."""
    return handle(lambda uow, actor: (ledger_reads.checkpoint(uow, actor), 200))


@bp.get("/proof/<entry>")
def proof(entry: str):
    """Inclusion proof of one entry against the latest checkpoint (or ?tree_size=N)."""
    return handle(lambda uow, actor: (ledger_reads.inclusion_proof(
        uow, actor, entry, request.args.get("tree_size")), 200))


@bp.get("/consistency")
def consistency():
    """Consistency proof between two tree sizes (?from=M&to=N)."""
    return handle(lambda uow, actor: (ledger_reads.consistency_proof(
        uow, actor, request.args.get("from"), request.args.get("to")), 200))
