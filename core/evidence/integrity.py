"""Integrity re-checks of stored blobs (A37.1): every recorded hash, re-hashed from the store."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Evidence, Refusal, Signature
from core.platform.blobs import BlobStore


def recorded_hashes(session: Session) -> list[str]:
    """Every blob the record points at: evidence, signature images, witnesses' signatures."""
    hashes = set(session.execute(select(Evidence.sha256)).scalars())
    hashes |= {h for h in session.execute(select(Signature.image_sha256)).scalars() if h}
    for witnesses in session.execute(select(Refusal.witnesses)).scalars():
        hashes |= {w["signature_sha256"] for w in witnesses or []
                   if isinstance(w, dict) and w.get("signature_sha256")}
    return sorted(hashes)


@dataclass(frozen=True)
class Mismatch:
    """A blob that no longer hashes to its name, or is gone."""

    sha256: str
    actual: str  # the hash now, or "missing"


def check(blobs: BlobStore, hashes: Iterable[str],
          progress: Callable[[str], None] | None = None) -> list[Mismatch]:
    """Re-hash each blob; the ones that differ or are missing."""
    bad = []
    for sha in hashes:
        try:
            actual = blobs.rehash(sha)  # streamed from the folder or the S3 store
        except (FileNotFoundError, ValueError):
            actual = "missing"
        if actual != sha:
            bad.append(Mismatch(sha, actual))
        if progress is not None:
            progress(sha)
    return bad
