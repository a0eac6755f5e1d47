"""Signed checkpoints: Ed25519 signatures over the tree size and root (C2SP signed-note body),
made on stage changes, on demand and on a schedule, and checked offline with the public key."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.kernel.clock import utcnow
from core.ledger import merkle
from core.ledger.log import DbHashReader, LedgerError, lock_head
from core.ledger.models import LedgerCheckpoint


class CheckpointSigner:
    """Signs checkpoint notes with an Ed25519 key (C2SP signed-note body format)."""

    def __init__(self, private_key: Ed25519PrivateKey, origin: str):
        self.private_key = private_key
        self.public_key = private_key.public_key()
        self.origin = origin
        raw = self.public_key.public_bytes(serialization.Encoding.Raw,
                                           serialization.PublicFormat.Raw)
        self.key_id = hashlib.sha256(raw).hexdigest()[:16]
        self.public_key_b64 = base64.b64encode(raw).decode()

    @classmethod
    def from_file(cls, path: Path, origin: str, create: bool) -> CheckpointSigner:
        """Load the PEM key, generating it (mode 0600) when allowed and absent."""
        if not path.exists():
            if not create:
                raise LedgerError(f"ledger signing key not found at {path}")
            path.parent.mkdir(parents=True, exist_ok=True)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            path.touch(mode=0o600)
            path.write_bytes(pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise LedgerError(f"{path} is not an Ed25519 private key")
        return cls(key, origin)

    def note(self, size: int, root: bytes) -> str:
        """The checkpoint body: origin, size, base64 root, each on its own line."""
        return f"{self.origin}\n{size}\n{base64.b64encode(root).decode()}\n"

    def sign(self, note: str) -> bytes:
        """Ed25519 signature of the note."""
        return self.private_key.sign(note.encode())

    def verify(self, note: str, signature: bytes) -> bool:
        """True when the signature matches the note under this key."""
        return verify_note(self.public_key, note, signature)


def verify_note(public_key: Ed25519PublicKey, note: str, signature: bytes) -> bool:
    """Check a checkpoint signature with a public key (what an offline auditor does)."""
    try:
        public_key.verify(signature, note.encode())
        return True
    except Exception:  # cryptography raises InvalidSignature; any failure means "not valid"
        return False


def make_checkpoint(session: Session, signer: CheckpointSigner, reason: str) -> LedgerCheckpoint:
    """Sign the current tree head (on stage changes, on demand and on a schedule)."""
    size = lock_head(session).size
    root = merkle.tree_hash(size, DbHashReader(session)) if size else merkle.EMPTY_ROOT
    note = signer.note(size, root)
    cp = LedgerCheckpoint(tree_size=size, root_hash=root, note=note, signature=signer.sign(note),
                          key_id=signer.key_id, reason=reason, created_at=utcnow())
    session.add(cp)
    session.flush()
    return cp


def latest_checkpoint(session: Session) -> LedgerCheckpoint | None:
    """The newest signed checkpoint."""
    return session.execute(
        select(LedgerCheckpoint).order_by(LedgerCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()


def checkpoint_json(cp: LedgerCheckpoint, signer: CheckpointSigner) -> dict:
    """A checkpoint as the API and the case file show it."""
    return {
        "tree_size": cp.tree_size,
        "root_hash": base64.b64encode(cp.root_hash).decode(),
        "note": cp.note,
        "signature": base64.b64encode(cp.signature).decode(),
        "key_id": cp.key_id,
        "public_key": signer.public_key_b64 if cp.key_id == signer.key_id else None,
        "algorithm": "Ed25519",
        "reason": cp.reason,
        "created_at": cp.created_at.isoformat(),
    }
