"""What the gates look at: a case's effective records with their approvals, signatures,
refusals and linked evidence, and whether each record is complete (A5.1, A13.2, A15.1)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.cases.models import Approval, Case, Evidence, Record, Refusal, Signature
from core.cases.periods import load_calendar
from core.kernel import texts
from core.kernel.clock import parse_aware, utcnow
from core.ledger.models import LedgerEntry
from core.people.models import Officer
from core.rules.calendar import WorkingDayCalendar
from core.rules.catalogue import BY_NAME, RecordType

MEDIA_ZH = {"video/": "录像", "audio/": "录音", "image/": "照片"}


@dataclass(frozen=True)
class Gap:
    """One thing a record still lacks: the RULES.md ID and what to do, in both languages."""

    rule: str
    text: str
    text_zh: str = ""


@dataclass
class CaseFacts:
    """A case at one moment: its effective records and everything attached to them."""

    case: Case
    records: list[Record]
    approvals: dict[str, list[Approval]] = field(default_factory=dict)
    signatures: dict[str, list[Signature]] = field(default_factory=dict)
    refusals: dict[str, list[Refusal]] = field(default_factory=dict)
    evidence: dict[str, list[Evidence]] = field(default_factory=dict)
    now: datetime = field(default_factory=utcnow)
    calendar: WorkingDayCalendar = field(default_factory=WorkingDayCalendar)
    officer_names: dict[str, str] = field(default_factory=dict)
    party_kind: str | None = None  # person | organisation, where a rule needs it (N4)
    # A custodian accepted the case file (a ledgered dossier_archival entry, A32.1).
    archived: bool = False
    # The act legally ended (a ledgered act_end entry): A32.1's 20 days run (A32.1).
    act_ended: bool = False
    # The newest built volume no custodian has accepted yet (its dossier id), if any.
    dossier_to_accept: str | None = None
    # Something was recorded after the last acceptance: a supplementary volume is due.
    recorded_since_archived: bool = False

    def of_type(self, name: str) -> list[Record]:
        """Effective (not corrected) records of a type, oldest first."""
        return [r for r in self.records if r.type == name]

    def latest(self, name: str) -> Record | None:
        """The effective record of a type that happened last."""
        found = self.of_type(name)
        return max(found, key=lambda r: (r.occurred_at, r.created_at)) if found else None

    def get(self, record_id: object) -> Record | None:
        """The effective record with that id."""
        return next((r for r in self.records if r.id == record_id), None)

    def approved(self, record: Record, step: str) -> bool:
        """True when the record's chain has an approval at that step after any return."""
        status = None
        for a in self.approvals.get(record.id, []):
            if a.step == step:
                status = a.decision
        return status == "approve"

    def as_of(self, when: datetime) -> CaseFacts:
        """The case as it stood at `when`: later records and approvals left out."""
        return replace(
            self, now=when,
            records=[r for r in self.records if r.occurred_at <= when],
            approvals={k: [a for a in v if a.at <= when] for k, v in self.approvals.items()})

    # --- completeness of one record ---------------------------------------------------------

    def gaps(self, record: Record) -> list[Gap]:
        """What the record lacks: signatures or refusals (A13.2) and AV (A5.1, A15.1)."""
        rtype = BY_NAME.get(record.type)
        if rtype is None:
            return []
        return self.signature_gaps(record, rtype) + self.av_gaps(record, rtype)

    def complete(self, record: Record) -> bool:
        """True when every signer signed or refused and required AV is linked."""
        return not self.gaps(record)

    def signature_gaps(self, record: Record, rtype: RecordType) -> list[Gap]:
        """Signer roles with neither a signature nor a refusal (A13.2, A22.2)."""
        sigs = self.signatures.get(record.id, [])
        refused = {r.role for r in self.refusals.get(record.id, []) if r.refused == "sign"}
        gaps = []
        for role in rtype.signers:
            if role == "officer":
                signed = {s.signer_officer_id for s in sigs if s.role == "officer"}
                for oid in record.officers:
                    if oid not in signed:
                        name = self.officer_names.get(oid, oid)
                        gaps.append(Gap(rtype.sign_rule, f"officer {name} has not signed",
                                        f"执法人员 {name} 未签名"))
            elif not any(s.role == role for s in sigs) and role not in refused:
                gaps.append(Gap(rtype.sign_rule, f"{role}: signature, fingerprint or seal, "
                                                  "or a recorded refusal",
                                f"{texts.label('signer_role', role)}签名、指印、盖章或拒签记录"))
        return gaps

    def av_gaps(self, record: Record, rtype: RecordType) -> list[Gap]:
        """A missing AV item: linked media saying what it proves (A17.1), or a reason."""
        if not rtype.av_required or self.has_av(record, rtype):
            return []
        # A12.1: an inspection's AV has no "unsuitable" waiver (only A15.1 has one).
        inspection = record.type == "onsite_inspection_record" and (
            self.case.kind == "inspection" or self.case.initiation == "inspection")
        if rtype.av_waivable and not inspection and record.fields.get("av_unsuitable_reason"):
            return []
        what = "linked " + "/".join(m.rstrip("/") for m in rtype.av_media)
        media_zh = "、".join(MEDIA_ZH[m] for m in rtype.av_media if m in MEDIA_ZH)
        return [Gap(rtype.av_rule, f"{what} evidence ({rtype.av_shows_zh or 'AV'})"
                    + (" or the reason AV was unsuitable" if rtype.av_waivable else ""),
                    f"关联的{media_zh}（{rtype.av_shows_zh or '音像记录'}）"
                    + ("或不适宜音像记录的理由" if rtype.av_waivable else ""))]

    def has_av(self, record: Record, rtype: RecordType) -> bool:
        """True when media of an accepted type, stating its object of proof, is linked."""
        return any(e.media_type.startswith(rtype.av_media) and e.proves.strip()
                   for e in self.evidence.get(record.id, []))

    # --- service of documents -----------------------------------------------------------------

    def recipient_signed_at(self, service: Record) -> datetime | None:
        """When the recipient signed a service receipt (the direct-service date, 民诉 Art. 88)."""
        times = [s.signed_at for s in self.signatures.get(service.id, [])
                 if s.role == "recipient"]
        return min(times) if times else None

    def served_at(self, document: Record) -> datetime | None:
        """When the document was (or counts as) served by a complete service, if by now."""
        best = None
        for r in self.records:
            rtype = BY_NAME.get(r.type)
            if rtype is None or not rtype.service_method or r.type == "service_postal_return":
                continue
            if r.fields.get("document_id") != document.id or not self.complete(r):
                continue
            source = r
            if rtype.service_method == "postal":
                source = next((x for x in self.of_type("service_postal_return")
                               if x.fields.get("service_id") == r.id and self.complete(x)), None)
            when = _aware(source.fields.get("served_at")) if source else None
            if rtype.service_method in SIGNED_ON_RECEIPT:
                when = self.recipient_signed_at(r)
            if when is not None and when <= self.now and (best is None or when < best):
                best = when
        return best


# 民诉 Art. 88 (A24.1, A27.1): served on the date the recipient signs the receipt.
SIGNED_ON_RECEIPT = ("direct", "entrusted", "forwarded")


def _aware(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_aware(value)
    except ValueError:
        return None


def served_time(record: Record) -> datetime | None:
    """The served_at field of a service record, parsed."""
    return _aware(record.fields.get("served_at"))


def load_facts(session: Session, case: Case, now: datetime | None = None) -> CaseFacts:
    """Load a case's effective records (superseded corrections left out) and attachments."""
    records = session.execute(
        select(Record).where(Record.case_id == case.id).order_by(Record.created_at)
    ).scalars().all()
    corrected = {r.corrects_id for r in records if r.corrects_id}
    effective = [r for r in records if r.id not in corrected]
    facts = CaseFacts(case, effective, now=now or utcnow(), calendar=load_calendar(session))
    for a in session.execute(
        select(Approval).where(Approval.case_id == case.id).order_by(Approval.at)
    ).scalars():
        facts.approvals.setdefault(a.record_id, []).append(a)
    for s in session.execute(select(Signature).where(Signature.case_id == case.id)
                             .order_by(Signature.created_at)).scalars():
        facts.signatures.setdefault(s.record_id, []).append(s)
    for x in session.execute(select(Refusal).where(Refusal.case_id == case.id,
                                                   Refusal.record_id.is_not(None))).scalars():
        facts.refusals.setdefault(x.record_id, []).append(x)
    for e in session.execute(select(Evidence).where(Evidence.case_id == case.id,
                                                    Evidence.record_id.is_not(None))).scalars():
        facts.evidence.setdefault(e.record_id, []).append(e)
    _afterlife(session, facts)
    ids = {o for r in effective for o in r.officers}
    if ids:
        facts.officer_names = dict(session.execute(
            select(Officer.id, Officer.name).where(Officer.id.in_(ids))).all())
    return facts


# Ledger kinds whose rows make up a case file's content (a new one after an acceptance calls
# for a supplementary volume, A32.1).
CASE_FILE_KINDS = ("record", "approval", "signature", "refusal", "evidence")


def _afterlife(session: Session, facts: CaseFacts) -> None:
    """The act's end, the built volumes and their acceptance, read from the case's ledger
    entries (the case file's tables belong to core.archive, above this layer)."""
    last: dict[str, tuple[int, str]] = {}
    for seq, kind, subject in session.execute(
            select(LedgerEntry.seq, LedgerEntry.kind, LedgerEntry.subject_id).where(
                LedgerEntry.case_id == facts.case.id,
                LedgerEntry.kind.in_(("act_end", "dossier", "dossier_archival")))
            .order_by(LedgerEntry.seq)):
        last[kind] = (seq, subject)
    facts.act_ended = "act_end" in last
    facts.archived = "dossier_archival" in last
    built = last.get("dossier")
    accepted = last.get("dossier_archival", (-1, ""))[0]
    if built is not None and built[0] > accepted:
        facts.dossier_to_accept = built[1]
    if facts.archived:
        facts.recorded_since_archived = session.execute(select(LedgerEntry.seq).where(
            LedgerEntry.case_id == facts.case.id, LedgerEntry.kind.in_(CASE_FILE_KINDS),
            LedgerEntry.seq > accepted).limit(1)).first() is not None
