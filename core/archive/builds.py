"""Dossier builds (A32.1): a build is asked for (a job row), run by a worker (rq or the
in-process one) or the CLI with progress, and ends as a ledgered Dossier row whose bag is in
the blob store. A volume built after the first one was archived is a supplement that holds
only what was recorded since: the archived volume is never rebuilt (A32.1, A34.1)."""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select

from core import ledger
from core.archive.events import act_end
from core.archive.models import Dossier, DossierArchival, DossierJob
from core.cases.models import Case
from core.cases.visibility import visible_case
from core.dossier import BuildResult, CaseFile, build_bag, load_case_file, seal_log
from core.dossier.prerender import cache_of
from core.kernel.clock import utcnow
from core.kernel.errors import Conflict, Forbidden, NotFound
from core.kernel.ids import new_id
from core.people.access import DOSSIER_BUILDERS, has_role, log_access
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork

BUILDERS = tuple(sorted(DOSSIER_BUILDERS))
# Stages whose case file may be compiled: the act has ended (A32.1).
BUILDABLE = ("archiving", "closed")
PROGRESS_EVERY = 1.0  # seconds between progress writes


def buildable(session, case: Case) -> bool:
    """The act has ended (its ending record was logged) or the case moved to archiving."""
    return case.stage in BUILDABLE or act_end(session, case.id) is not None


def require_buildable(session, case: Case) -> None:
    """Refuse to compile the case file of an act that has not ended (A32.1)."""
    if not buildable(session, case):
        raise Conflict(f"the case is in {case.stage}: the case file is compiled once the act "
                       "has ended (archiving)", zh="执法行为终结（归档阶段）后方可立卷（A32.1）",
                       details={"missing": ["A32.1"]})


class Runner(Protocol):
    """What a build needs of the process: units of work, the blob store, the ledger key."""

    blobs: object
    signer: object

    def uow(self): ...


def request_build(uow: UnitOfWork, actor: Officer, case_id: str) -> DossierJob:
    """Ask for the case file of a case whose act ended; the worker builds it (A32.1)."""
    case = visible_case(uow.session, actor, case_id)
    if case.department_id != actor.department_id or not has_role(actor, *BUILDERS):
        raise Forbidden("only the department's case workers or custodians may compile a case "
                        "file", zh="只有本单位办案人员或档案管理人员可以立卷")
    require_buildable(uow.session, case)
    running = uow.session.execute(select(DossierJob).where(
        DossierJob.case_id == case.id, DossierJob.status.in_(("queued", "running")))
    ).scalars().first()
    if running is not None:
        return running
    job = DossierJob(id=new_id(), case_id=case.id, requested_by=actor.id, status="queued",
                     created_at=utcnow(), updated_at=utcnow())
    uow.session.add(job)
    log_access(uow.session, actor, "export", "dossier", case.id)
    return job


def job_json(job: DossierJob) -> dict:
    """A build job as the API shows it."""
    return {"id": job.id, "case_id": job.case_id, "status": job.status, "phase": job.phase,
            "done": job.done, "total": job.total, "error": job.error or None,
            "dossier_id": job.dossier_id, "created_at": job.created_at.isoformat(),
            "updated_at": job.updated_at.isoformat()}


def get_job(uow: UnitOfWork, actor: Officer, job_id: str) -> DossierJob:
    """A build job of a case the officer may see."""
    job = uow.session.get(DossierJob, job_id)
    if job is None:
        raise NotFound("dossier job not found")
    visible_case(uow.session, actor, job.case_id)
    return job


def run_build(runner: Runner, job_id: str, *,
              progress: Callable[[str, int, int], None] | None = None) -> DossierJob:
    """Run one build job to its end; progress goes to the job row (and to ``progress``)."""
    with runner.uow() as uow:
        job = uow.session.get(DossierJob, job_id)
        if job is None:
            raise NotFound("dossier job not found")
        if job.status == "done":
            return job
        job.status, job.updated_at = "running", utcnow()
        case_id, officer_id = job.case_id, job.requested_by
    last = [0.0]

    def report(phase: str, done: int, total: int) -> None:
        if progress:
            progress(phase, done, total)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY or done == total:
            last[0] = now
            with runner.uow() as uow:
                row = uow.session.get(DossierJob, job_id)
                row.phase, row.done, row.total, row.updated_at = phase, done, total, utcnow()

    try:
        dossier_id = build_volume(runner, case_id, officer_id, progress=report)
    except Exception as exc:
        with runner.uow() as uow:
            row = uow.session.get(DossierJob, job_id)
            row.status, row.error, row.updated_at = "failed", str(exc)[:2000], utcnow()
        raise
    with runner.uow() as uow:
        row = uow.session.get(DossierJob, job_id)
        row.status, row.dossier_id, row.updated_at = "done", dossier_id, utcnow()
        return row


def build_volume(runner: Runner, case_id: str, officer_id: str, *,
                 progress: Callable[[str, int, int], None] | None = None) -> str:
    """Seal the log, load the case, build its volume (or supplement) into the blob store, and
    record it; returns the Dossier id."""
    with runner.uow() as uow:
        seal_log(uow.session, uow.signer)
    with runner.uow() as uow:
        cf = load_case_file(uow.session, case_id, uow.signer)
        officer = uow.session.get(Officer, officer_id)
        compiled_by = officer.name if officer else officer_id
        archived = _archived_volumes(uow.session, case_id)
        retain = uow.session.get(Case, case_id).retention_years
    kind, volume = "volume", 1
    if archived:
        kind, volume = "supplement", max(d.volume for d in archived) + 1
        cf = supplement_of(cf, max(d.last_seq for d in archived))
    spool = Path(getattr(runner.blobs, "tmp_dir", tempfile.gettempdir()))
    fd, name = tempfile.mkstemp(dir=spool, prefix="dossier-", suffix=".zip")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            out = _HashingWriter(fh)
            # Sheets pre-rendered as the records were made are only stamped here.
            result: BuildResult = build_bag(cf, runner.blobs, out, runner.signer,
                                            compiled_by=compiled_by, progress=progress,
                                            sheets=cache_of(runner))
        sha, size = out.sha.hexdigest(), out.size
        runner.blobs.adopt(tmp, sha, size, retain_years=retain)  # A34.1: locked where it can
    finally:
        tmp.unlink(missing_ok=True)
    with runner.uow() as uow:
        row = Dossier(id=new_id(), case_id=case_id, volume=volume, kind=kind, bag_sha256=sha,
                      size=size, manifest_sha256=result.manifest_sha256,
                      documents=result.documents, pages=result.pages,
                      pdf_variant=result.pdf_variant, archival=result.archival,
                      last_seq=cf.leaves[-1].seq, built_by=officer_id, built_at=utcnow())
        uow.session.add(row)
        ledger.append(uow.session, "dossier", row, case_id=case_id)
        uow.emit(Event("dossier.built", case_id, row.built_at,
                       {"subject_id": row.id, "volume": volume}))
        return row.id


def supplement_of(cf: CaseFile, after_seq: int) -> CaseFile:
    """The part of a case file recorded after an archived volume: records with anything new
    (with all that hangs on them), new evidence, and the case's own rows (A32.1)."""
    def new(leaf) -> bool:
        return leaf.seq > after_seq

    records = tuple(r for r in cf.records
                    if any(new(x) for x in (r.leaf, *r.approvals, *r.signatures, *r.refusals)))
    evidence = tuple(e for e in cf.evidence if new(e.leaf))
    if not records and not evidence:
        raise Conflict("nothing was recorded after the archived volume: no supplement to make",
                       zh="归档后没有新增记录，无需补充卷")
    keep = {cf.case.seq} | ({cf.party.seq} if cf.party else set())
    keep |= {s.seq for s in cf.stage_changes}
    for r in records:
        keep |= {x.seq for x in (r.leaf, *r.approvals, *r.signatures, *r.refusals)}
    keep |= {e.leaf.seq for e in evidence}
    keep |= {x.seq for x in cf.case_refusals}
    keep |= {x.seq for x in cf.leaves if new(x) and x.table not in ("records", "evidence",
                                                                     "approvals", "signatures",
                                                                     "refusals")}
    pairs = [(leaf, p) for leaf, p in zip(cf.leaves, cf.proofs, strict=True) if leaf.seq in keep]
    return replace(cf, records=records, evidence=evidence,
                   leaves=tuple(x for x, _p in pairs), proofs=tuple(p for _x, p in pairs))


def _archived_volumes(session, case_id: str) -> list[Dossier]:
    return list(session.execute(select(Dossier).join(
        DossierArchival, DossierArchival.dossier_id == Dossier.id)
        .where(Dossier.case_id == case_id)).scalars())


class _HashingWriter:
    """A write-only, forward-only file that hashes what passes through it: the bag's hash is
    known when it is written, without reading a gigabyte back. It cannot seek, so the zip is
    written as a stream (sizes in data descriptors), as for an HTTP response."""

    def __init__(self, fh):
        self.fh, self.sha, self.size = fh, hashlib.sha256(), 0

    def write(self, data) -> int:
        """Hash and write."""
        self.sha.update(data)
        self.size += len(data)
        return self.fh.write(data)

    def tell(self) -> int:
        """Bytes written (zipfile records member offsets with it)."""
        return self.size

    def flush(self) -> None:
        """Flush the file."""
        self.fh.flush()

    def seekable(self) -> bool:
        """Never: what was hashed is never rewritten."""
        return False

    def seek(self, *_args) -> int:
        """Refused: zipfile then streams with data descriptors."""
        raise OSError("the dossier is written forward only")


def volumes(session, case_id: str) -> list[Dossier]:
    """A case's built volumes, oldest first."""
    return list(session.execute(select(Dossier).where(Dossier.case_id == case_id)
                                .order_by(Dossier.built_at, Dossier.id)).scalars())


def count_volumes(session, case_id: str) -> int:
    """How many volumes a case has."""
    return session.execute(select(func.count()).select_from(Dossier)
                           .where(Dossier.case_id == case_id)).scalar_one()


def operator_job(uow: UnitOfWork, number: str, officer_id: str | None = None) -> DossierJob:
    """A build asked for from the command line (a trusted operator) by case number; compiled
    in the name of the given officer, else the case's opening officer; logged (A33.1)."""
    case = uow.session.execute(select(Case).where(Case.number == number.strip().upper())
                               ).scalar_one_or_none()
    if case is None:
        raise NotFound(f"case {number} not found", zh=f"未找到案件 {number}")
    officer = uow.session.get(Officer, officer_id or case.opened_by)
    if officer is None:
        raise NotFound(f"officer {officer_id} not found", zh=f"未找到执法人员 {officer_id}")
    require_buildable(uow.session, case)
    job = DossierJob(id=new_id(), case_id=case.id, requested_by=officer.id, status="queued",
                     created_at=utcnow(), updated_at=utcnow())
    uow.session.add(job)
    log_access(uow.session, officer, "export", "dossier", case.id, channel="cli")
    return job


def operator_bag(uow: UnitOfWork, job: DossierJob) -> Dossier:
    """The volume a finished operator build made (the CLI reports and exports its bag)."""
    row = uow.session.get(Dossier, job.dossier_id) if job.dossier_id else None
    if row is None:
        raise NotFound(f"build job {job.id} made no volume")
    return row
