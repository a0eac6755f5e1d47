"""Inclusion and consistency proofs (RFC 9162) for auditors and the case file."""

from __future__ import annotations

import base64

from sqlalchemy.orm import Session

from core.ledger import merkle
from core.ledger.log import DbHashReader, LedgerError, session_suite
from core.ledger.models import LedgerEntry


def inclusion(session: Session, seq: int, tree_size: int) -> dict:
    """The inclusion proof of one entry in a tree of the given size."""
    entry = session.get(LedgerEntry, seq)
    if entry is None or seq >= tree_size:
        raise LedgerError(f"entry {seq} is not in a tree of size {tree_size}")
    reader = DbHashReader(session)
    hasher = session_suite(session).hasher
    proof = merkle.inclusion_proof(tree_size, seq, reader, hasher)
    return {
        "entry": seq,
        "kind": entry.kind,
        "subject_id": entry.subject_id,
        "leaf_hash": base64.b64encode(entry.leaf_hash).decode(),
        "tree_size": tree_size,
        "root_hash": base64.b64encode(merkle.tree_hash(tree_size, reader, hasher)).decode(),
        "hash": hasher.name,
        "proof": [base64.b64encode(h).decode() for h in proof],
    }


def consistency(session: Session, old_size: int, new_size: int) -> dict:
    """The consistency proof between two sizes of the log, with both roots."""
    reader = DbHashReader(session)
    hasher = session_suite(session).hasher
    proof = merkle.consistency_proof(old_size, new_size, reader, hasher) \
        if old_size < new_size else []
    return {
        "from": old_size, "to": new_size, "hash": hasher.name,
        "from_root": base64.b64encode(merkle.tree_hash(old_size, reader, hasher)).decode(),
        "to_root": base64.b64encode(merkle.tree_hash(new_size, reader, hasher)).decode(),
        "proof": [base64.b64encode(h).decode() for h in proof],
    }
