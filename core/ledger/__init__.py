"""The tamper-evident ledger (A37.1): an RFC 9162 Merkle log of every covered row, with
Ed25519-signed checkpoints, proofs for auditors and a full recomputation."""

from core.ledger.checkpoints import (
    CheckpointSigner,
    checkpoint_json,
    latest_checkpoint,
    make_checkpoint,
    verify_note,
)
from core.ledger.log import (
    COVERED,
    DbHashReader,
    LedgerError,
    append,
    canonical_json,
    cover,
    current_size,
    leaf_document,
    lock_head,
    row_payload,
)
from core.ledger.proofs import consistency, inclusion
from core.ledger.verify import Damage, Projection, VerifyReport, add_projection, verify

__all__ = [
    "COVERED", "CheckpointSigner", "Damage", "DbHashReader", "LedgerError", "Projection",
    "VerifyReport", "add_projection", "append", "canonical_json", "checkpoint_json",
    "consistency", "cover", "current_size", "inclusion", "latest_checkpoint", "leaf_document",
    "lock_head", "make_checkpoint", "row_payload", "verify", "verify_note",
]
