"""The tamper-evident ledger (A37.1): an RFC 9162 Merkle log of every covered row and of every
change to the mutable tables that decide who may do what and when (officers, tokens,
deadlines, the calendar), with signed checkpoints (Ed25519, or SM2 with SM3 for the 国密
suite), RFC 3161 timestamps, proofs for auditors and a full recomputation."""

from core.ledger.algorithms import DEFAULT as DEFAULT_ALGORITHMS
from core.ledger.algorithms import SUITES, AlgorithmError, Suite, suite_named
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
    session_suite,
)
from core.ledger.proofs import consistency, inclusion
from core.ledger.states import MIRRORED, acting, adopt_unledgered, mirror
from core.ledger.verify import (
    Damage,
    Projection,
    VerifyReport,
    add_projection,
    one_snapshot,
    verify,
)

__all__ = [
    "COVERED", "DEFAULT_ALGORITHMS", "MIRRORED", "SUITES", "AlgorithmError", "CheckpointSigner",
    "Damage", "DbHashReader", "LedgerError", "Projection", "Suite", "VerifyReport", "acting",
    "add_projection", "adopt_unledgered", "append", "canonical_json", "checkpoint_json",
    "consistency", "cover", "current_size", "inclusion", "latest_checkpoint", "leaf_document",
    "lock_head", "make_checkpoint", "mirror", "row_payload", "session_suite", "suite_named",
    "one_snapshot", "verify", "verify_note",
]
