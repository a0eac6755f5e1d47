"""The 送达回证 (A23.1): a PDF made for each service, with the signatures and refusals
collected so far, stored as a blob and logged as evidence of the service record."""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from datetime import datetime, tzinfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import ledger
from core.cases.facts import load_facts
from core.cases.images import MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, check_dimensions
from core.cases.models import Case, Evidence, Party, Record, Refusal, Signature
from core.cases.visibility import writable_case
from core.kernel import texts
from core.kernel.clock import utcnow
from core.kernel.errors import Invalid, NotFound
from core.kernel.ids import new_id
from core.people.models import Officer
from core.platform.uow import UnitOfWork
from core.rules.catalogue import BY_NAME

log = logging.getLogger("quancheng.receipts")
FONT = "STSong-Light"  # a CID font every PDF reader has: nothing to embed or license
pdfmetrics.registerFont(UnicodeCIDFont(FONT))

# Fields shown on the receipt under their catalogue labels, when the method has them.
SHOWN = ("recipient", "signed_by", "signer_relation", "place", "reason", "witness_name",
         "entrusted_to", "forwarded_via", "carrier", "tracking_number", "address", "channel",
         "delivered_at", "medium", "served_at", "served_rule")


@dataclass
class ReceiptInput:
    """What a receipt shows, read in one transaction, drawn after it (issue 12, finding 2)."""

    case: Case
    party: Party | None
    doc: Record
    record: Record
    officers: list[Officer]
    sigs: list[Signature]
    refusals: list[Refusal]

    def same_as(self, ev: Evidence, final: bool) -> bool:
        """True when ``ev`` is this record's receipt of exactly these signatures and refusals:
        a job that runs again makes nothing new."""
        meta = ev.meta or {}
        return (ev.record_id == self.record.id and meta.get("kind") == "service_receipt"
                and meta.get("final") is final
                and meta.get("signatures") == [s.id for s in self.sigs]
                and meta.get("refusals") == [r.id for r in self.refusals])


def gather(session: Session, record: Record) -> ReceiptInput:
    """The rows a service record's receipt shows."""
    case = session.get(Case, record.case_id)
    sigs = list(session.execute(select(Signature).where(Signature.record_id == record.id)
                                .order_by(Signature.signed_at)).scalars())
    refusals = list(session.execute(select(Refusal).where(Refusal.record_id == record.id)
                                    .order_by(Refusal.at)).scalars())
    officers = list(session.execute(select(Officer).where(Officer.id.in_(record.officers))
                                    ).scalars())
    party = session.get(Party, case.party_id) if case.party_id else None
    return ReceiptInput(case, party, session.get(Record, record.fields["document_id"]), record,
                        officers, sigs, refusals)


def draw(uow: UnitOfWork, data: ReceiptInput, final: bool) -> bytes:
    """The PDF of a receipt; each signature image is decoded in the sandbox (``drawable``).
    Call it with no transaction open when it may take time: the job does."""
    images = {s.image_sha256: drawable(uow, s.image_sha256) for s in data.sigs
              if s.image_sha256}
    return render(data.case, data.party, data.doc, data.record, data.officers, data.sigs,
                  data.refusals, images, final, tz=uow.settings.legal_tz)


def store(uow: UnitOfWork, producer_id: str, data: ReceiptInput, pdf: bytes, final: bool
          ) -> Evidence:
    """Keep a drawn receipt as a blob and log it as evidence linked to the service record."""
    case, record = data.case, data.record
    blob = uow.blobs.put_bytes(pdf, retain_years=case.retention_years)  # A34.1
    now = utcnow()
    ev = Evidence(id=new_id(), case_id=case.id, record_id=record.id, sha256=blob.sha256,
                  size=blob.size, media_type="application/pdf",
                  filename=f"送达回证-{case.number}-{record.id[:8]}{'' if final else '-待签'}.pdf",
                  proves=f"送达回证：{BY_NAME[data.doc.type].title_zh}的送达 (A23.1)",
                  method="generated", producer_id=producer_id, captured_at=now,
                  meta={"kind": "service_receipt", "final": final,
                        "signatures": [s.id for s in data.sigs],
                        "refusals": [r.id for r in data.refusals]},
                  checks=[], assurance="generated", created_at=now)
    uow.session.add(ev)
    ledger.append(uow.session, "evidence", ev, case_id=case.id)
    return ev


def recorded_note(sig: Signature, names: dict[str, str]) -> str:
    """A13.2, A10.1: an officer's signature captured by another officer says so
    ("由 X 代 Y 录入"), so nobody's signature passes for their own act."""
    if not sig.signer_officer_id or sig.created_by == sig.signer_officer_id:
        return ""
    by = names.get(sig.created_by, sig.created_by)
    return f"（由{by}代{sig.signer_name}录入 / recorded by {by} for {sig.signer_name}）"


def drawable(uow: UnitOfWork, sha256: str) -> bytes | None:
    """A small PNG of a stored signature image, decoded and shrunk in the sandboxed parser
    pool (issue 12, finding 2: never in the web process); None when it cannot be made."""
    from capture.signature_image import SignatureImageError, normalise_sandboxed

    try:
        with uow.blobs.local_copy(sha256) as path:
            return normalise_sandboxed(path, max_side=MAX_IMAGE_SIDE,
                                       max_pixels=MAX_IMAGE_PIXELS).png
    except (FileNotFoundError, ValueError, SignatureImageError) as exc:
        log.warning("signature image %s not drawn on the receipt: %s", sha256[:12], exc)
        return None


def render(case: Case, party: Party | None, doc: Record, record: Record,
           officers: list[Officer], sigs: list[Signature], refusals: list[Refusal],
           images: dict[str, bytes | None], final: bool, *, tz: tzinfo) -> bytes:
    """The receipt as PDF bytes (deterministic for the same input); times in legal time."""

    def _local(when: datetime) -> str:
        return when.astimezone(tz).strftime("%Y-%m-%d %H:%M")

    out = io.BytesIO()
    pdf = Canvas(out, pagesize=A4, invariant=1)
    pdf.setTitle(f"送达回证 {case.number}")
    page = _Page(pdf)
    rtype = BY_NAME[record.type]
    page.line("送 达 回 证", size=18, center=True)
    page.line("" if final else "（待签名）", size=10, center=True)
    page.line(f"案号：{case.number}    案件：{case.title}")
    if party is not None:
        page.line(f"当事人：{party.name}")
    page.line(f"送达文书：{BY_NAME[doc.type].title_zh}（记录 {doc.id}）")
    method = rtype.service_method
    page.line(f"送达方式：{texts.label('service_method', method) if method else rtype.title_zh}")
    for name in SHOWN:
        value = record.fields.get(name)
        f = rtype.field(name)
        if value not in (None, "") and f is not None:
            if f.type == "datetime":
                value = _local(datetime.fromisoformat(value))
            page.line(f"{f.label_zh}：{value}")
    page.line("送达人：" + "、".join(f"{o.name}（执法证号 {o.certificate_no or '无'}）"
                                  for o in officers))
    page.line("")
    page.line("签名、捺印或盖章：", size=12)
    for s in sigs:
        page.line(f"{texts.label('signer_role', s.role)}：{s.signer_name}"
                  f"（{texts.label('sign_method', s.method)}，{_local(s.signed_at)}）"
                  + recorded_note(s, {o.id: o.name for o in officers}))
        if s.image_sha256:
            page.image(images.get(s.image_sha256))
    for r in refusals:
        page.line(f"{texts.label('signer_role', r.role)} {r.person_name} 拒绝签收：{r.reason}"
                  f"（{r.place}，{_local(r.at)}）")
        for w in r.witnesses or []:
            page.line(f"  见证人：{w.get('name')}（{w.get('relation', '')}，身份证号 "
                      f"{w.get('id_number')}）签名图像 {str(w.get('signature_sha256'))[:16]}…")
        if r.video_evidence_id:
            page.line(f"  录像证据：{r.video_evidence_id}")
    page.line("")
    page.line(f"本回证由全程系统根据送达记录 {record.id} 生成。", size=8)
    pdf.showPage()
    pdf.save()
    return out.getvalue()


class _Page:
    """Lines of text top to bottom, wrapped by width, with a new page when full."""

    def __init__(self, pdf: Canvas):
        self.pdf = pdf
        self.width, self.height = A4
        self.margin = 56
        self.y = self.height - self.margin

    def _room(self, needed: float) -> None:
        if self.y - needed < self.margin:
            self.pdf.showPage()
            self.y = self.height - self.margin

    def line(self, text: str, size: int = 10, center: bool = False) -> None:
        """Write text, wrapped at the margins (Chinese has no spaces to break at)."""
        limit = self.width - 2 * self.margin
        for part in _wrap(text, size, limit) or [""]:
            self._room(size * 1.6)
            self.pdf.setFont(FONT, size)
            if center:
                self.pdf.drawCentredString(self.width / 2, self.y, part)
            else:
                self.pdf.drawString(self.margin, self.y, part)
            self.y -= size * 1.6

    def image(self, data: bytes | None) -> None:
        """A signature image (the sandbox's small PNG), 40 points high; a note if it cannot
        be drawn."""
        if not data:
            self.line("  [签名图像无法显示]", size=8)
            return
        try:
            # Images stored before the dimension cap are checked again before decoding.
            check_dimensions(data)
            reader = ImageReader(io.BytesIO(data))
            w, h = reader.getSize()
        except Exception:  # Pillow raises many types for odd images; the receipt goes on
            self.line("  [签名图像无法显示]", size=8)
            return
        height = 40.0
        width = min(w * height / max(h, 1), 200.0)
        self._room(height + 20)
        self.pdf.drawImage(reader, self.margin + 12, self.y - height + 8, width, height)
        self.y -= height + 12


def _wrap(text: str, size: int, limit: float) -> list[str]:
    lines, current = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(current + ch, FONT, size) > limit:
            lines.append(current)
            current = ""
        current += ch
    if current:
        lines.append(current)
    return lines


def prepare(uow: UnitOfWork, actor: Officer, case_id: str, record_id: str
            ) -> tuple[ReceiptInput, bool]:
    """What the 送达回证 of a service record asked for now shows, and whether it is final
    (A23.1); read in a unit of work that only reads, drawn after it (issue 12, finding 2)."""
    case = writable_case(uow.session, actor, case_id)
    record = uow.session.get(Record, record_id) if isinstance(record_id, str) else None
    if record is None or record.case_id != case.id:
        raise NotFound(f"record {record_id} not found", zh="未找到该文书")
    rtype = BY_NAME[record.type]
    if not rtype.service_method or rtype.name == "service_postal_return":
        raise Invalid("only service records have a 送达回证", zh="只有送达记录才有送达回证")
    return gather(uow.session, record), load_facts(uow.session, case).complete(record)


def keep(uow: UnitOfWork, actor: Officer, data: ReceiptInput, pdf: bytes, final: bool
         ) -> Evidence:
    """Store a receipt drawn outside any transaction, the case checked again as writable."""
    writable_case(uow.session, actor, data.case.id)
    return store(uow, actor.id, data, pdf, final)


def receipt_json(ev: Evidence) -> dict:
    """A generated receipt as the API shows it."""
    return {"id": ev.id, "record_id": ev.record_id, "sha256": ev.sha256, "size": ev.size,
            "media_type": ev.media_type, "filename": ev.filename, "final": ev.meta["final"]}
