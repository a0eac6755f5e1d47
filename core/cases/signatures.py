"""Signatures on records and refusals (A13.2, A13.3, A22.2): each signer role signs with an
image of a signature, fingerprint or seal, or the refusal is recorded with witnesses or video."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from core import ledger
from core.cases import receipts
from core.cases.facts import load_facts
from core.cases.models import Case, Evidence, Record, Refusal, Signature
from core.cases.visibility import writable_case
from core.kernel.clock import parse_aware, utcnow
from core.kernel.errors import Conflict, GateRefused, Invalid, NotFound, TooLarge, UnsupportedType
from core.kernel.ids import new_id
from core.people.models import Officer
from core.platform.uow import Event, UnitOfWork
from core.rules.catalogue import BY_NAME, NO_REFUSAL_ROLES, SIGNER_ROLES_ZH

MAX_IMAGE_BYTES = 2 * 1024 * 1024  # a signature or seal scan; anything bigger is a mistake
MAX_WITNESSES = 10
SIGN_METHODS = ("signature", "fingerprint", "seal")
REFUSED = ("sign", "investigation", "evidence")
CLOCK_SKEW = timedelta(minutes=5)
# Magic bytes of the image formats a signature pad, phone camera or scanner produces.
IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_image(data: bytes) -> str:
    """The image type by magic bytes; PNG, JPEG, GIF and WebP are accepted."""
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(f"the image is larger than {MAX_IMAGE_BYTES} bytes")
    for magic, media_type in IMAGE_MAGIC:
        if data.startswith(magic):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise UnsupportedType("the image must be PNG, JPEG, GIF or WebP")


def decode_image(value: Any, name: str = "image_base64") -> bytes:
    """Bytes of a base64 image field, bounded before decoding."""
    if not isinstance(value, str) or not value:
        raise Invalid(f"{name} is required: the signature, fingerprint or seal image",
                      details={"fields": {name: "required"}, "missing": ["A13.2"]})
    if value.startswith("data:"):
        value = value.partition(",")[2]
    if len(value) > (MAX_IMAGE_BYTES * 4) // 3 + 8:
        raise TooLarge(f"the image is larger than {MAX_IMAGE_BYTES} bytes")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"{name} is not valid base64",
                      details={"fields": {name: "invalid"}}) from None


def _text(data: dict, name: str, limit: int, required: bool = True) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise Invalid(f"{name} is required", details={"fields": {name: "required"}})
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise Invalid(f"{name} must be a string of at most {limit} characters",
                      details={"fields": {name: "invalid"}})
    return value.strip()


def _when(value: Any, name: str, not_before: datetime | None = None) -> datetime:
    if value is None:
        return utcnow()
    try:
        when = parse_aware(value)
    except ValueError as exc:
        raise Invalid(f"{name} {exc}", details={"fields": {name: str(exc)}}) from None
    if when > utcnow() + CLOCK_SKEW:
        raise Invalid(f"{name} is in the future", details={"fields": {name: "future"}})
    if not_before is not None and when < not_before - CLOCK_SKEW:
        raise Invalid(f"{name} is before the record it belongs to",
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


def add_signature(uow: UnitOfWork, actor: Officer, case_id: str, record_id: str,
                  data: Any, image: bytes | None) -> Signature:
    """One signer role's signature, fingerprint or seal on a record (A13.2)."""
    session = uow.session
    case = _open_case(uow, actor, case_id)
    record = _record(uow, case, record_id)
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    rtype = BY_NAME[record.type]
    role = data.get("role")
    if role not in rtype.signers:
        raise Invalid(f"{rtype.name} is signed by {', '.join(rtype.signers) or 'nobody'}",
                      details={"fields": {"role": "not a signer of this record"}})
    method = data.get("method")
    if method not in SIGN_METHODS:
        raise Invalid("method must be signature, fingerprint or seal",
                      details={"fields": {"method": "invalid"}})
    if image is None:
        image = decode_image(data.get("image_base64"))
    officer_id = data.get("signer_officer_id")
    name = _text(data, "signer_name", 100, required=role not in ("officer", "server"))
    existing = session.execute(select(Signature).where(Signature.record_id == record.id,
                                                       Signature.role == role)).scalars().all()
    if role in ("officer", "server"):
        # Officers sign for themselves, as named on the record (A14.1).
        if officer_id not in record.officers:
            raise Invalid("signer_officer_id must be one of the record's officers",
                          details={"fields": {"signer_officer_id": "not on the record"}})
        name = name or session.get(Officer, officer_id).name
        if any(s.signer_officer_id == officer_id for s in existing):
            raise Conflict("this officer has already signed this record")
    else:
        officer_id = None
        if any(s.signer_name == name for s in existing):
            raise Conflict(f"{name} has already signed this record as {role}")
    sig = Signature(id=new_id(), record_id=record.id, case_id=case.id, role=role,
                    signer_name=name, signer_officer_id=officer_id, method=method,
                    image_sha256=_store(uow, image),
                    signed_at=_when(data.get("signed_at"), "signed_at", record.occurred_at),
                    created_by=actor.id, created_at=utcnow())
    session.add(sig)
    ledger.append(session, "signature", sig, case_id=case.id)
    uow.emit(Event("record.signed", case.id, sig.signed_at,
                   {"record_id": record.id, "role": role, "signature_id": sig.id}))
    _maybe_completed(uow, actor, case, record)
    return sig


def add_refusal(uow: UnitOfWork, actor: Officer, case_id: str, record_id: str | None,
                data: Any) -> Refusal:
    """A refusal to sign (A22.2) or to be investigated or give evidence (A13.3)."""
    session = uow.session
    case = _open_case(uow, actor, case_id)
    if not isinstance(data, dict):
        raise Invalid("the body must be a JSON object")
    record = _record(uow, case, record_id) if record_id else None
    refused = data.get("refused", "sign" if record else None)
    if refused not in REFUSED:
        raise Invalid("refused must be sign, investigation or evidence",
                      details={"fields": {"refused": "invalid"}})
    role = _text(data, "role", 32)
    if refused == "sign":
        if record is None:
            raise Invalid("a refusal to sign belongs to a record")
        rtype = BY_NAME[record.type]
        if role not in rtype.signers or role in NO_REFUSAL_ROLES:
            who = [r for r in rtype.signers if r not in NO_REFUSAL_ROLES]
            raise Invalid(f"on {rtype.name} only {', '.join(who) or 'nobody'} can refuse to "
                          "sign; officers, servers, witnesses and experts sign",
                          details={"fields": {"role": "cannot refuse"}})
        if session.execute(select(Signature.id).where(Signature.record_id == record.id,
                                                      Signature.role == role)).first():
            raise Conflict(f"the {role} has already signed this record")
    witnesses = _witnesses(uow, data.get("witnesses"))
    video = _video(uow, case, data.get("video_evidence_id"))
    if refused == "sign" and not witnesses and video is None:
        raise Invalid("a refusal to sign needs witnesses who sign (name, ID number, relation, "
                      "signature image) or a video of the refusal",
                      details={"missing": ["A22.2"],
                               "fields": {"witnesses": "or video_evidence_id"}})
    refusal = Refusal(
        id=new_id(), case_id=case.id, record_id=record.id if record else None, role=role,
        person_name=_text(data, "person_name", 100), refused=refused,
        reason=_text(data, "reason", 4000), place=_text(data, "place", 300),
        at=_when(data.get("at"), "at", record.occurred_at if record else None),
        witnesses=witnesses, video_evidence_id=video.id if video else None,
        created_by=actor.id, created_at=utcnow())
    session.add(refusal)
    ledger.append(session, "refusal", refusal, case_id=case.id)
    uow.emit(Event(f"refusal.{refused}", case.id, refusal.at,
                   {"refusal_id": refusal.id, "record_id": refusal.record_id, "role": role}))
    if record is not None:
        _maybe_completed(uow, actor, case, record)
    return refusal


def _witnesses(uow: UnitOfWork, value: Any) -> list[dict]:
    """A22.2: each witness with name, ID number, relation and a stored signature image."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_WITNESSES:
        raise Invalid(f"witnesses must be a list of at most {MAX_WITNESSES}")
    out = []
    for i, w in enumerate(value):
        if not isinstance(w, dict):
            raise Invalid(f"witnesses[{i}] must be an object")
        try:
            entry = {"name": _text(w, "name", 100), "id_number": _text(w, "id_number", 64),
                     "relation": _text(w, "relation", 100)}
            image = decode_image(w.get("signature_image_base64"), "signature_image_base64")
        except Invalid as exc:
            raise Invalid(f"witnesses[{i}]: {exc.message}", details={"missing": ["A22.2"]}
                          ) from None
        entry["signature_sha256"] = _store(uow, image)
        out.append(entry)
    return out


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
    """When the last signer signs or refuses: record.<type>.completed, and the final 送达回证."""
    facts = load_facts(uow.session, case)
    if facts.signature_gaps(record, BY_NAME[record.type]):
        return
    rtype = BY_NAME[record.type]
    uow.emit(Event(f"record.{record.type}.signed_by_all", case.id, utcnow(),
                   {"record_id": record.id}))
    if rtype.service_method and rtype.name != "service_postal_return":
        receipts.issue(uow, actor, case, record, final=True)


def status(uow: UnitOfWork, case: Case, record: Record) -> dict:
    """What a record has and still lacks (A13.2, A15.1): for the officer's next step."""
    facts = load_facts(uow.session, case)
    rtype = BY_NAME[record.type]
    sigs = facts.signatures.get(record.id, [])
    return {
        "record_id": record.id, "type": record.type, "complete": facts.complete(record),
        "missing": [{"rule": g.rule, "text": g.text} for g in facts.gaps(record)],
        "signers": [{"role": r, "label_zh": SIGNER_ROLES_ZH.get(r, r)} for r in rtype.signers],
        "signatures": [signature_json(s) for s in sigs],
        "refusals": [refusal_json(x) for x in facts.refusals.get(record.id, [])],
        "evidence": [{"id": e.id, "media_type": e.media_type, "proves": e.proves,
                      "method": e.method, "sha256": e.sha256}
                     for e in facts.evidence.get(record.id, [])],
    }


def signature_json(s: Signature) -> dict:
    """A signature as the API shows it."""
    return {"id": s.id, "record_id": s.record_id, "role": s.role, "signer_name": s.signer_name,
            "signer_officer_id": s.signer_officer_id, "method": s.method,
            "image_sha256": s.image_sha256, "signed_at": s.signed_at.isoformat()}


def refusal_json(r: Refusal) -> dict:
    """A refusal as the API shows it."""
    return {"id": r.id, "record_id": r.record_id, "role": r.role, "person_name": r.person_name,
            "refused": r.refused, "reason": r.reason, "place": r.place,
            "at": r.at.isoformat(), "witnesses": r.witnesses,
            "video_evidence_id": r.video_evidence_id}
