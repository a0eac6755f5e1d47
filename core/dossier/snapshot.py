"""The case file's plain data: everything a dossier needs, read once from the database by
:func:`core.dossier.loader.load_case_file` and never touching it again (A32.1).

Every ledgered row is carried as its leaf (the exact canonical bytes that were hashed) and as
the row payload inside that leaf, so the bag's record JSON and the proofs can never disagree
with each other: both are the same bytes the ledger hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property


def parse_time(value: str | None) -> datetime | None:
    """A leaf timestamp (UTC ISO 8601) as an aware datetime."""
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Leaf:
    """One ledger entry of the case: its facts, its exact leaf document and the row in it."""

    seq: int
    kind: str
    table: str
    id: str
    case_id: str | None
    at: str
    leaf_hash: bytes
    document: bytes  # canonical_json(leaf_document(entry, row)), byte for byte
    row: dict  # the "row" of that document, as plain JSON data


@dataclass(frozen=True)
class Officer:
    """An officer as the case file names them."""

    id: str
    name: str
    certificate_no: str | None


@dataclass(frozen=True)
class RecordItem:
    """A written record with what hangs on it: approvals, signatures, refusals, evidence."""

    leaf: Leaf
    approvals: tuple[Leaf, ...] = ()
    signatures: tuple[Leaf, ...] = ()
    refusals: tuple[Leaf, ...] = ()
    evidence_ids: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        """The record id."""
        return self.leaf.id

    @property
    def type(self) -> str:
        """The catalogue type name."""
        return self.leaf.row["type"]

    @property
    def occurred_at(self) -> datetime:
        """When the step happened (the order of the case file)."""
        return parse_time(self.leaf.row["occurred_at"])


@dataclass(frozen=True)
class EvidenceItem:
    """An evidence original's row; its bytes stay in the blob store until the bag copies them."""

    leaf: Leaf

    @property
    def id(self) -> str:
        """The evidence id."""
        return self.leaf.id

    @property
    def sha256(self) -> str:
        """The original's SHA-256, as logged."""
        return self.leaf.row["sha256"]

    @property
    def size(self) -> int:
        """The original's size in bytes."""
        return int(self.leaf.row["size"])

    @property
    def when(self) -> datetime:
        """Capture time when known, else when it was taken in (the order of the case file)."""
        return parse_time(self.leaf.row.get("captured_at") or self.leaf.row["created_at"])


@dataclass(frozen=True)
class Checkpoint:
    """A signed checkpoint by the current key, with its consistency proof to the newest one."""

    tree_size: int
    root_hash: bytes
    note: str
    signature: bytes
    key_id: str
    reason: str
    created_at: str
    consistency: tuple[bytes, ...]  # from this checkpoint to the newest one


@dataclass(frozen=True)
class EntryProof:
    """The inclusion proof of one leaf in the first signed checkpoint that covers it."""

    seq: int
    tree_size: int
    path: tuple[bytes, ...]


@dataclass(frozen=True)
class CaseFile:
    """Everything the dossier builder needs, as plain data (no session, no ORM object)."""

    department_code: str
    department_name: str
    case: Leaf
    party: Leaf | None
    stage_changes: tuple[Leaf, ...]
    records: tuple[RecordItem, ...]  # in time order
    evidence: tuple[EvidenceItem, ...]  # in time order
    case_refusals: tuple[Leaf, ...]  # refusals not tied to one record (investigation, evidence)
    leaves: tuple[Leaf, ...]  # every ledger entry of the case, in log order
    officers: dict[str, Officer]
    checkpoints: tuple[Checkpoint, ...]  # oldest first; the last one is the newest
    proofs: tuple[EntryProof, ...]  # one per leaf, same order
    origin: str
    key_id: str
    public_key_raw: bytes  # Ed25519, 32 bytes
    loaded_at: datetime

    @property
    def number(self) -> str:
        """The case number."""
        return self.case.row["number"]

    @cached_property
    def items(self) -> dict[str, RecordItem | EvidenceItem]:
        """Every record and evidence item by id (ids are unique across both)."""
        return {i.id: i for i in (*self.records, *self.evidence)}

    @property
    def newest(self) -> Checkpoint:
        """The checkpoint every consistency proof leads to."""
        return self.checkpoints[-1]

    def officer_name(self, officer_id: str | None) -> str:
        """An officer's name, or the id when the officer is unknown."""
        if not officer_id:
            return ""
        o = self.officers.get(officer_id)
        return o.name if o else officer_id
