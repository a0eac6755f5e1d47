"""Signatures on records and refusals (A13.2, A13.3, A22.2): each signer role signs with an
image of a signature, fingerprint or seal, or the refusal is recorded with witnesses or video."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core import ledger
from core.cases import service_of_documents
from core.cases.commands import Refuse, Sign
from core.cases.facts import load_facts
from core.cases.images import MAX_IMAGE_BYTES, decode_image, sniff_image
from core.cases.models import Case, Evidence, Party, Record, Refusal, Signature
from core.cases.visibility import visible_case, writable_case
from core.kernel import fields, texts
from core.kernel.clock import utcnow
from core.kernel.errors import AlreadyDone, Conflict, GateRefused, Invalid, NotFound
from core.kernel.ids import new_id
from core.people.access import log_access
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.catalogue import BY_NAME, NO_REFUSAL_ROLES

CLOCK_SKEW = timedelta(minutes=5)
# Receipts a recipient signs; refusing one means lodged service instead (N20).
DIRECT_RECEIPTS = ("service_direct", "service_entrusted", "service_forwarded")
__all__ = ["MAX_IMAGE_BYTES", "add_refusal", "add_signature", "awaiting_signatures",
           "decode_image", "record_status", "sniff_image", "status"]


def _when(when: datetime | None, name: str, not_before: datetime | None = None) -> datetime:
    if when is None:
        return utcnow()
    if when > utcnow() + CLOCK_SKEW:
        raise fields.bad(name, "in_future")
    if not_before is not None and when < not_before - CLOCK_SKEW:
        raise Invalid(f"{name} is before the record it belongs to",
                      zh=f"{name} 早于所属文书的时间",
                      details={"fields": {name: "too early"}})
    return when


def _open_case(uow: UnitOfWork, actor: Officer, case_id: str) -> Case:
    case = writable_case(uow.session, actor, case_id)
    if case.stage == "closed":
        raise GateRefused("the case is closed; nothing more can be added", missing=["A3.1"])
    return case


def _record(uow: UnitOfWork, case: Case, record_id: str) -> Record:
    record = uow.session.get(Record, record_id)
    if record is None or record.case_id != case.id:
        raise NotFound(f"record {record_id} not found")
    if uow.session.execute(select(Record.id).where(Record.corrects_id == record.id)).first():
        raise Conflict("this record was corrected; sign the newest version")
    return record


def _store(uow: UnitOfWork, data: bytes) -> str:
    sniff_image(data)
    return uow.blobs.put_bytes(data).sha256


def add_signature(uow: UnitOfWork, actor: Officer, case_id: str, record_id: str, cmd: Sign
                  ) -> Signature:
    """One signer role's signature, fingerprint or seal on a record (A13.2)."""
    session = uow.session
    case = _open_case(uow, actor, case_id)
    record = _record(uow, case, record_id)
    rtype = BY_NAME[record.type]
    role, method, image = cmd.role, cmd.method, cmd.image
    if role not in rtype.signers:
        raise Invalid(f"{rtype.name} is signed by {', '.join(rtype.signers) or 'nobody'}",
                      zh=f"{rtype.title_zh}的签名人为："
                         f"{texts.labels('signer_role', rtype.signers) or '无'}",
                      details={"fields": {"role": "not a signer of this record"}})
    officer_id = cmd.signer_officer_id
    name = cmd.signer_name or ""
    if not name and role not in ("officer", "server"):
        raise fields.bad("signer_name", "required")
    existing = session.execute(select(Signature).where(Signature.record_id == record.id,
                                                       Signature.role == role)).scalars().all()
    if role in ("officer", "server"):
        # Officers sign for themselves, as named on the record (A14.1); an officer on the record
        # may capture a colleague's signature only when marked so, and it shows (A13.2, A10.1).
        officer_id = officer_id or actor.id
        if officer_id not in record.officers:
            raise Invalid("signer_officer_id must be one of the record's officers",
                          zh="签名的执法人员须是该文书上的执法人员",
                          details={"fields": {"signer_officer_id": "not on the record"}})
        if officer_id != actor.id and not (cmd.on_behalf and actor.id in record.officers):
            raise GateRefused(
                "an officer signs for themselves; to capture another officer's signature you "
                "must be on the record and mark it on_behalf", missing=["A13.2"],
                zh="执法人员本人签名；代其他执法人员录入签名的，录入人须是该文书上的执法人员并"
                   "注明代为录入（on_behalf）")
        name = name or session.get(Officer, officer_id).name
        if any(s.signer_officer_id == officer_id for s in existing):
            raise AlreadyDone("this officer has already signed this record",
                              zh="该执法人员已在此文书上签名")
    else:
        officer_id = None
        if any(s.signer_name == name for s in existing):
            raise AlreadyDone(f"{name} has already signed this record as {role}",
                              zh=f"{name}已作为{texts.label('signer_role', role)}签名")
    sig = Signature(id=new_id(), record_id=record.id, case_id=case.id, role=role,
                    signer_name=name, signer_officer_id=officer_id, method=method,
                    image_sha256=_store(uow, image),
                    signed_at=_when(cmd.signed_at, "signed_at", record.occurred_at),
                    created_by=actor.id, created_at=utcnow())
    session.add(sig)
    ledger.append(session, "signature", sig, case_id=case.id)
    uow.emit(Event("record.signed", case.id, sig.signed_at,
                   {"record_id": record.id, "role": role, "signature_id": sig.id}))
    _maybe_completed(uow, actor, case, record)
    return sig


def add_refusal(uow: UnitOfWork, actor: Officer, case_id: str, cmd: Refuse) -> Refusal:
    """A refusal to sign (A22.2) or to be investigated or give evidence (A13.3)."""
    session = uow.session
    case = _open_case(uow, actor, case_id)
    record = _record(uow, case, cmd.record_id) if cmd.record_id else None
    refused, role = cmd.refused, cmd.role
    if refused == "sign":
        if record is None:
            raise fields.bad("record_id", "required")
        rtype = BY_NAME[record.type]
        if role not in rtype.signers or role in NO_REFUSAL_ROLES:
            who = [r for r in rtype.signers if r not in NO_REFUSAL_ROLES]
            raise Invalid(f"on {rtype.name} only {', '.join(who) or 'nobody'} can refuse to "
                          "sign; officers, servers, witnesses and experts sign",
                          zh=f"{rtype.title_zh}上只有{texts.labels('signer_role', who) or '无人'}"
                             "可以拒绝签名；执法人员、送达人、见证人和专家须签名",
                          details={"fields": {"role": "cannot refuse"}})
        if session.execute(select(Signature.id).where(Signature.record_id == record.id,
                                                      Signature.role == role)).first():
            raise Conflict(f"the {role} has already signed this record",
                           zh=f"{texts.label('signer_role', role)}已在此文书上签名")
    witnesses = [{"name": w.name, "id_number": w.id_number, "relation": w.relation,
                  "signature_sha256": _store(uow, w.signature_image)} for w in cmd.witnesses]
    video = _video(uow, case, cmd.video_evidence_id)
    if refused == "sign" and record is not None and role == "recipient" \
            and record.type in DIRECT_RECEIPTS:
        # 民诉 Art. 89, N20: a recipient who will not sign the receipt is served by lodging.
        raise GateRefused(
            "a recipient who refuses to sign the service receipt is served by lodging it: "
            "record lodged service (service_lodged) with the reason, place, date, a witness "
            "and AV of the process", missing=["N20", "A26.1"],
            zh="受送达人拒绝签收的，应当留置送达：制作留置送达回证，注明拒收事由、地点、日期，"
               "由见证人签名并以音像记录送达过程（民事诉讼法第八十九条）")
    # N25 (行政处罚法 Art. 52): on an on-the-spot decision the refusal is noted on the decision.
    if refused == "sign" and not witnesses and video is None \
            and not (record is not None and record.type == "summary_decision"):
        raise Invalid("a refusal to sign needs witnesses who sign (name, ID number, relation, "
                      "signature image) or a video of the refusal",
                      zh="拒绝签名须有见证人签名（姓名、身份证号、与当事人关系、签名图片）"
                         "或拒签过程的录像（A22.2）",
                      details={"missing": ["A22.2"],
                               "fields": {"witnesses": "or video_evidence_id"}})
    refusal = Refusal(
        id=new_id(), case_id=case.id, record_id=record.id if record else None, role=role,
        person_name=cmd.person_name, refused=refused, reason=cmd.reason, place=cmd.place,
        at=_when(cmd.at, "at", record.occurred_at if record else None),
        witnesses=witnesses, video_evidence_id=video.id if video else None,
        created_by=actor.id, created_at=utcnow())
    session.add(refusal)
    ledger.append(session, "refusal", refusal, case_id=case.id)
    uow.emit(Event(f"refusal.{refused}", case.id, refusal.at,
                   {"refusal_id": refusal.id, "record_id": refusal.record_id, "role": role}))
    if record is not None:
        _maybe_completed(uow, actor, case, record)
    return refusal


def _video(uow: UnitOfWork, case: Case, evidence_id: Any) -> Evidence | None:
    if evidence_id is None:
        return None
    ev = uow.session.get(Evidence, evidence_id) if isinstance(evidence_id, str) else None
    if ev is None or ev.case_id != case.id:
        raise Invalid("video_evidence_id must name evidence of this case",
                      details={"fields": {"video_evidence_id": "unknown"}})
    if not ev.media_type.startswith("video/"):
        raise Invalid("video_evidence_id must name a video",
                      details={"fields": {"video_evidence_id": "not a video"}})
    return ev


def _maybe_completed(uow: UnitOfWork, actor: Officer, case: Case, record: Record) -> None:
    """When the last signer signs or refuses: record.<type>.signed_by_all (on a service record
    core.evidence.receipt_tasks queues the final 送达回证 on it: drawn after this transaction
    commits, so rendering never holds or loses the signature; issue 12, finding 2)."""
    facts = load_facts(uow.session, case)
    if facts.signature_gaps(record, BY_NAME[record.type]):
        return
    uow.emit(Event(f"record.{record.type}.signed_by_all", case.id, utcnow(),
                   {"record_id": record.id}))
    if record.type in DIRECT_RECEIPTS:
        # 民诉 Art. 88: served when the recipient signs the receipt, dated by that signature.
        served = facts.served_at(uow.session.get(Record, record.fields["document_id"]))
        if served is not None:
            doc = uow.session.get(Record, record.fields["document_id"])
            service_of_documents.emit_served(uow, case, doc, record, served)


def status(uow: UnitOfWork, case: Case, record: Record) -> dict:
    """What a record has and still lacks (A13.2, A15.1): for the officer's next step."""
    facts = load_facts(uow.session, case)
    rtype = BY_NAME[record.type]
    sigs = facts.signatures.get(record.id, [])
    return {
        "record_id": record.id, "type": record.type, "complete": facts.complete(record),
        "missing": [{"rule": g.rule, "text": g.text, "text_zh": g.text_zh}
                    for g in facts.gaps(record)],
        "signers": [{"role": r, "label_zh": texts.label("signer_role", r)} for r in rtype.signers],
        "signatures": [{**signature_json(s), **_recorded_by(uow, s)} for s in sigs],
        "refusals": [refusal_json(x) for x in facts.refusals.get(record.id, [])],
        "evidence": [{"id": e.id, "media_type": e.media_type, "proves": e.proves,
                      "method": e.method, "sha256": e.sha256}
                     for e in facts.evidence.get(record.id, [])],
    }


def signature_json(s: Signature) -> dict:
    """A signature as the API shows it."""
    return {"id": s.id, "record_id": s.record_id, "role": s.role, "signer_name": s.signer_name,
            "signer_officer_id": s.signer_officer_id, "method": s.method,
            "image_sha256": s.image_sha256, "signed_at": s.signed_at.isoformat(),
            "recorded_by": s.created_by,
            "on_behalf": bool(s.signer_officer_id and s.created_by != s.signer_officer_id)}


def _recorded_by(uow: UnitOfWork, s: Signature) -> dict:
    """A10.1/A13.2: who captured an officer's signature when it was not that officer."""
    if not s.signer_officer_id or s.created_by == s.signer_officer_id:
        return {}
    by = uow.session.get(Officer, s.created_by)
    name = by.name if by else s.created_by
    return {"recorded_by_name": name,
            "note": f"recorded by {name} for {s.signer_name}",
            "note_zh": f"由{name}代{s.signer_name}录入"}


def refusal_json(r: Refusal) -> dict:
    """A refusal as the API shows it."""
    return {"id": r.id, "record_id": r.record_id, "role": r.role, "person_name": r.person_name,
            "refused": r.refused, "reason": r.reason, "place": r.place,
            "at": r.at.isoformat(), "witnesses": r.witnesses,
            "video_evidence_id": r.video_evidence_id}


def record_status(uow: UnitOfWork, actor: Officer, case_id: str, record_id: str, *,
                  channel: str = "api") -> dict:
    """What a record of a case the officer may see has and still lacks; the read is logged."""
    case = visible_case(uow.session, actor, case_id)
    record = uow.session.get(Record, record_id) if isinstance(record_id, str) else None
    if record is None or record.case_id != case.id:
        raise NotFound(f"record {record_id} not found", zh="未找到该文书")
    log_access(uow.session, actor, "read", "record", record.id, channel=channel)
    return status(uow, case, record)


@dataclass(frozen=True)
class AwaitingSignature:
    """A record that still lacks a signature or a refusal, and who is still to sign (A13.2)."""

    record: Record
    title_zh: str
    title_en: str
    officers: tuple[tuple[str, str], ...]  # (officer id, name) of officers still to sign
    roles: tuple[str, ...]  # other signer roles with neither signature nor refusal
    servers: tuple[tuple[str, str], ...]  # officers on the record who may sign as the server
    defaults: dict  # signer role → the name the record already gives for it
    place: str


# Where a signer's name is written on the record (defaults filled in from the record).
NAME_FIELDS = {"interviewee": "interviewee_name", "recipient": "recipient",
               "witness": "witness_name", "applicant": "applicant", "holder": "holder"}


def awaiting_signatures(uow: UnitOfWork, actor: Officer, case_id: str, *, limit: int = 8,
                        channel: str = "api") -> list[AwaitingSignature]:
    """The case's newest records still waiting for a signature or a refusal (A13.2)."""
    case = visible_case(uow.session, actor, case_id)
    log_access(uow.session, actor, "list", "signature", case.id, channel=channel)
    facts = load_facts(uow.session, case)
    party = uow.session.get(Party, case.party_id) if case.party_id else None
    out: list[AwaitingSignature] = []
    for record in sorted(facts.records, key=lambda r: r.created_at, reverse=True):
        rtype = BY_NAME.get(record.type)
        if rtype is None or not rtype.signers:
            continue
        sigs = facts.signatures.get(record.id, [])
        signed_roles = {s.role for s in sigs}
        signed_officers = {s.signer_officer_id for s in sigs if s.role == "officer"}
        refused = {r.role for r in facts.refusals.get(record.id, []) if r.refused == "sign"}
        names = facts.officer_names
        officers = tuple((o, names.get(o, "?")) for o in record.officers
                         if "officer" in rtype.signers and o not in signed_officers)
        roles = tuple(r for r in rtype.signers
                      if r != "officer" and r not in signed_roles and r not in refused)
        if not officers and not roles:
            continue
        defaults = {role: record.fields.get(field) for role, field in NAME_FIELDS.items()}
        defaults["party"] = party.name if party else None
        # The server (送达人) is an officer on the record signing for the service (A23.1).
        servers = tuple((o, names.get(o, "?")) for o in record.officers) \
            if "server" in roles else ()
        out.append(AwaitingSignature(record, rtype.title_zh, rtype.title_en, officers, roles,
                                     servers, defaults,
                                     record.fields.get("place") or case.site_address or ""))
        if len(out) >= limit:
            break
    return out
