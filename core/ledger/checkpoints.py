"""Signed checkpoints: a signature over the tree size and root (C2SP signed-note body), made on
stage changes, on demand and on a schedule, and checked offline with the public key.

The note is the C2SP checkpoint body — origin, size, base64 root — followed by extension lines
that the signature also covers: the algorithm suite, the time the checkpoint was made and why::

    quancheng
    42
    m7+...=
    algorithms sha256-ed25519
    time 2026-11-28T09:30:00.123456+00:00
    reason stage_change

Checkpoints written before these lines existed carry the three-line note; verify accepts them,
and says their time and reason are not signed.
"""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel.clock import utcnow
from core.ledger import merkle, timestamps
from core.ledger.algorithms import (
    DEFAULT,
    AlgorithmError,
    Ed25519Key,
    SigningKey,
    Suite,
    key_id,
    load_key,
    suite_named,
)
from core.ledger.log import DbHashReader, LedgerError, lock_head, log_suite
from core.ledger.models import LedgerCheckpoint


class CheckpointSigner:
    """Signs checkpoint notes with the installation's key and suite."""

    def __init__(self, key: SigningKey | object, origin: str, suite: Suite | None = None):
        """Wrap a signing key (an Ed25519 private key from `cryptography` is accepted too)."""
        if not hasattr(key, "public_raw"):
            key = Ed25519Key(key)  # type: ignore[arg-type]
        self.key: SigningKey = key  # type: ignore[assignment]
        self.suite = suite or suite_named(DEFAULT)
        self.origin = origin
        self.key_id = key_id(self.key.public_raw)
        self.public_key_b64 = base64.b64encode(self.key.public_raw).decode()

    @property
    def public_key(self):
        """The Ed25519 public key object (default suite), for callers of the first API."""
        return getattr(self.key, "public_key", None)

    @property
    def hasher(self) -> merkle.Hasher:
        """The Merkle hasher of the suite."""
        return self.suite.hasher

    @classmethod
    def from_file(cls, path: Path, origin: str, create: bool,
                  algorithms: str = DEFAULT) -> CheckpointSigner:
        """Load the suite's PEM key, generating it (mode 0600) when allowed and absent."""
        suite = suite_named(algorithms)
        try:
            return cls(load_key(suite, path, create), origin, suite)
        except AlgorithmError as exc:
            raise LedgerError(str(exc)) from None

    def note(self, size: int, root: bytes, at: datetime | None = None,
             reason: str | None = None) -> str:
        """The checkpoint body; with `at` the extension lines (suite, time, reason) follow."""
        body = f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"
        if at is None:
            return body
        return body + (f"algorithms {self.suite.name}\ntime {at.isoformat()}\n"
                       f"reason {reason}\n")

    def sign(self, note: str) -> bytes:
        """The suite's signature of the note."""
        return self.key.sign(note.encode())

    def verify(self, note: str, signature: bytes) -> bool:
        """True when the signature matches the note under this key."""
        return self.key.verify(signature, note.encode())


def verify_note(public_key: Ed25519PublicKey, note: str, signature: bytes) -> bool:
    """Check an Ed25519 checkpoint signature with a public key (what an offline auditor does)."""
    try:
        public_key.verify(signature, note.encode())
        return True
    except Exception:  # cryptography raises InvalidSignature; any failure means "not valid"
        return False


def make_checkpoint(session: Session, signer: CheckpointSigner, reason: str) -> LedgerCheckpoint:
    """Sign the current tree head (on stage changes, on demand and on a schedule)."""
    head = lock_head(session)
    suite = log_suite(head)
    if head.size and suite.name != signer.suite.name:
        raise LedgerError(f"this ledger uses {suite.name}; LEDGER_ALGORITHMS is "
                          f"{signer.suite.name}: refusing to sign")
    size = head.size
    hasher = signer.hasher
    root = merkle.tree_hash(size, DbHashReader(session), hasher) if size else hasher.empty_root
    at = utcnow()
    note = signer.note(size, root, at, reason)
    cp = LedgerCheckpoint(tree_size=size, root_hash=root, note=note, signature=signer.sign(note),
                          key_id=signer.key_id, reason=reason, algorithms=signer.suite.name,
                          created_at=at)
    session.add(cp)
    session.flush()
    timestamps.queue(session, cp)  # fetched after commit, off the hot path (TSA_URL)
    return cp


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    """The newest signed checkpoint."""
    return session.execute(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


def checkpoint_json(cp: LedgerCheckpoint, signer: CheckpointSigner) -> dict:
    """A checkpoint as the API and the case file show it."""
    suite = suite_named(cp.algorithms)
    return {
        "tree_size": cp.tree_size,
        "root_hash": base64.b64encode(cp.root_hash).decode(),
        "note": cp.note,
        "signature": base64.b64encode(cp.signature).decode(),
        "key_id": cp.key_id,
        "public_key": signer.public_key_b64 if cp.key_id == signer.key_id else None,
        "public_key_pem": signer.key.public_pem() if cp.key_id == signer.key_id else None,
        "algorithm": "Ed25519" if suite.signature == "ed25519" else "SM2-with-SM3",
        "algorithms": suite.name,
        "hash": suite.hash,
        "reason": cp.reason,
        "created_at": cp.created_at.isoformat(),
    }
