"""The one place the dossier reads the database: :func:`load_case_file` turns a case into a
:class:`~core.dossier.snapshot.CaseFile`; everything after it works on plain data (A32.1).

:func:`seal_log` is the one write: it signs a checkpoint of the whole log when the newest one
does not cover it yet, so that every entry of the case has an inclusion proof.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import ledger
from core.cases.models import Case
from core.dossier.snapshot import (
    CaseFile,
    Checkpoint,
    EntryProof,
    EvidenceItem,
    Leaf,
    RecordItem,
)
from core.dossier.snapshot import Officer as OfficerInfo
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, NotFound
from core.ledger import merkle
from core.ledger.log import COVERED, DbHashReader
from core.ledger.models import LedgerCheckpoint, LedgerEntry
from core.people.models import Department, Officer


class DossierError(Conflict):
    """The case file cannot be made from what is stored (damaged rows, no checkpoint)."""


def seal_log(session: Session, signer: ledger.CheckpointSigner) -> LedgerCheckpoint:
    """Sign a checkpoint of the whole log unless the newest one by this key covers it."""
    size = ledger.lock_head(session).size
    newest = session.execute(
        select(LedgerCheckpoint).where(LedgerCheckpoint.key_id == signer.key_id)
        .order_by(LedgerCheckpoint.tree_size.desc(), LedgerCheckpoint.id.desc()).limit(1)
    ).scalar_one_or_none()
    if newest is not None and newest.tree_size == size:
        return newest
    return ledger.make_checkpoint(session, signer, reason="dossier")


def load_case_file(session: Session, case_id: str, signer: ledger.CheckpointSigner, *,
                   proofs: bool = True) -> CaseFile:
    """Read one case, its ledger entries, rows, officers, checkpoints and proofs (read only);
    without ``proofs`` (pre-rendering its sheets) no checkpoint or proof is read."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("case not found")
    entries = _entries(session, case)
    leaves = _leaves(session, entries)
    by_table: dict[str, list[Leaf]] = defaultdict(list)
    for leaf in leaves:
        by_table[leaf.table].append(leaf)
    case_leaf = next((x for x in leaves if x.table == "cases"), None)
    if case_leaf is None:
        raise DossierError(f"case {case.number} has no ledger entry")
    party = next((x for x in leaves if x.table == "parties"), None)
    records, case_refusals = _records(by_table)
    evidence = tuple(sorted((EvidenceItem(x) for x in by_table["evidence"]),
                            key=lambda e: (e.when, e.leaf.seq)))
    department = session.get(Department, case.department_id)
    checkpoints, entry_proofs = _proofs(session, signer, leaves) if proofs else ((), ())
    return CaseFile(
        department_code=department.code, department_name=department.name,
        case=case_leaf, party=party,
        stage_changes=tuple(by_table["stage_changes"]),
        records=records, evidence=evidence, case_refusals=case_refusals,
        leaves=tuple(leaves), officers=_officers(session, leaves),
        checkpoints=checkpoints, proofs=entry_proofs, origin=signer.origin, key_id=signer.key_id,
        public_key_raw=_raw_public_key(signer), loaded_at=utcnow(),
    )


def _entries(session: Session, case: Case) -> list[LedgerEntry]:
    """The case's entries, plus its party's (a party row is logged before the case exists)."""
    cond = LedgerEntry.case_id == case.id
    if case.party_id:
        cond = or_(cond, (LedgerEntry.subject_table == "parties")
                   & (LedgerEntry.subject_id == case.party_id))
    return list(session.execute(select(LedgerEntry).where(cond).order_by(LedgerEntry.seq))
                .scalars())


def _leaves(session: Session, entries: list[LedgerEntry]) -> list[Leaf]:
    """Each entry's row, re-hashed: a row that no longer matches its leaf stops the build."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for e in entries:
        wanted[e.kind].add(e.subject_id)
    rows = {}
    for kind, ids in wanted.items():
        model = COVERED[kind].model
        for row in session.execute(select(model).where(model.id.in_(ids))).scalars():
            rows[(kind, str(row.id))] = row
    out = []
    for e in entries:
        row = rows.get((e.kind, e.subject_id))
        if row is None:
            raise DossierError(f"ledger entry {e.seq}: {e.kind} {e.subject_id} is missing; "
                               "run `flask ledger verify`")
        doc = ledger.canonical_json(ledger.leaf_document(e, row))
        if merkle.leaf_hash(doc) != e.leaf_hash:
            raise DossierError(f"ledger entry {e.seq}: {e.kind} {e.subject_id} differs from "
                               "what was logged; run `flask ledger verify`")
        out.append(Leaf(seq=e.seq, kind=e.kind, table=e.subject_table, id=e.subject_id,
                        case_id=e.case_id, at=json.loads(doc)["at"], leaf_hash=e.leaf_hash,
                        document=doc, row=json.loads(doc)["row"]))
    return out


def _records(by_table: dict[str, list[Leaf]]
             ) -> tuple[tuple[RecordItem, ...], tuple[Leaf, ...]]:
    """Records in time order with their approvals, signatures, refusals and evidence ids."""
    hanging: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for table in ("approvals", "signatures", "refusals"):
        for leaf in by_table[table]:
            if leaf.row.get("record_id"):
                hanging[leaf.row["record_id"]][table].append(leaf)
    for leaf in by_table["evidence"]:
        if leaf.row.get("record_id"):
            hanging[leaf.row["record_id"]]["evidence"].append(leaf.id)
    records = []
    for leaf in by_table["records"]:
        h = hanging[leaf.id]
        records.append(RecordItem(leaf, tuple(h["approvals"]), tuple(h["signatures"]),
                                  tuple(h["refusals"]), tuple(h["evidence"])))
    records.sort(key=lambda r: (r.occurred_at, r.leaf.seq))
    loose = tuple(x for x in by_table["refusals"] if not x.row.get("record_id"))
    return tuple(records), loose


def _officers(session: Session, leaves: list[Leaf]) -> dict[str, OfficerInfo]:
    """Every officer a row of the case names (authors, approvers, signers, record officers)."""
    ids: set[str] = set()
    for leaf in leaves:
        row = leaf.row
        for key in ("created_by", "officer_id", "opened_by", "producer_id", "signer_officer_id"):
            if row.get(key):
                ids.add(row[key])
        if leaf.table == "records":
            ids.update(str(i) for i in row.get("officers") or ())
    found = session.execute(select(Officer).where(Officer.id.in_(ids))).scalars() if ids else ()
    return {o.id: OfficerInfo(o.id, o.name, o.certificate_no) for o in found}


def _proofs(session: Session, signer: ledger.CheckpointSigner, leaves: list[Leaf]
            ) -> tuple[tuple[Checkpoint, ...], tuple[EntryProof, ...]]:
    """For each leaf the first checkpoint by this key that covers it, its inclusion proof there,
    and each such checkpoint's consistency proof to the newest one."""
    cps = list(session.execute(
        select(LedgerCheckpoint).where(LedgerCheckpoint.key_id == signer.key_id)
        .order_by(LedgerCheckpoint.tree_size, LedgerCheckpoint.id)).scalars())
    # One checkpoint per size is enough (several may sign the same head).
    by_size = {}
    for cp in cps:
        by_size.setdefault(cp.tree_size, cp)
    sizes = sorted(by_size)
    last_seq = leaves[-1].seq if leaves else -1
    if not sizes or sizes[-1] <= last_seq:
        raise DossierError("no signed checkpoint covers the case's last ledger entry yet; "
                           "seal the log first (core.dossier.loader.seal_log)")
    reader = _BatchReader(DbHashReader(session))
    newest = sizes[-1]
    used = {newest} | {sizes[bisect.bisect_right(sizes, leaf.seq)] for leaf in leaves}

    def prove() -> tuple[list[EntryProof], dict[int, list[bytes]]]:
        proofs = []
        for leaf in leaves:
            size = sizes[bisect.bisect_right(sizes, leaf.seq)]
            proofs.append(EntryProof(leaf.seq, size,
                                     tuple(merkle.inclusion_proof(size, leaf.seq, reader))))
        return proofs, {size: merkle.consistency_proof(size, newest, reader)
                        if size < newest else [] for size in used}

    # The first pass only learns which stored hashes the proofs need (one query per entry
    # otherwise, each a round trip); they are read in a few batches and the second pass proves.
    prove()
    reader.fetch()
    proofs, consistency = prove()
    out = []
    for size in sorted(used):
        cp = by_size[size]
        out.append(Checkpoint(cp.tree_size, cp.root_hash, cp.note, cp.signature, cp.key_id,
                              cp.reason, cp.created_at.isoformat(), tuple(consistency[size])))
    return tuple(out), tuple(proofs)


class _BatchReader:
    """A hash reader that first records the stored indexes asked for (answering placeholders),
    then reads them all in batches and answers from memory."""

    BATCH = 900  # bound parameters per query (SQLite's old limit is 999)
    PLACEHOLDER = bytes(32)

    def __init__(self, db: DbHashReader):
        self.db = db
        self.wanted: set[int] = set()
        self.hashes: dict[int, bytes] | None = None

    def read_hashes(self, indexes) -> list[bytes]:
        """Placeholders while recording; the stored hashes once fetched."""
        if self.hashes is None:
            self.wanted.update(indexes)
            return [self.PLACEHOLDER] * len(indexes)
        return [self.hashes[i] for i in indexes]

    def fetch(self) -> None:
        """Read every recorded index from the database."""
        wanted = sorted(self.wanted)
        self.hashes = {}
        for i in range(0, len(wanted), self.BATCH):
            chunk = wanted[i:i + self.BATCH]
            self.hashes.update(zip(chunk, self.db.read_hashes(chunk), strict=True))


def _raw_public_key(signer: ledger.CheckpointSigner) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return signer.public_key.public_bytes(serialization.Encoding.Raw,
                                          serialization.PublicFormat.Raw)
