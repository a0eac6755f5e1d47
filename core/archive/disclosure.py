"""Disclosure copies (A35.1): a copy of the case file for the party or the public in which
third parties' personal data — ID numbers, phone numbers, addresses, names of witnesses and
complainants — is masked in the PDFs, and photo areas the officer chose are blurred. The
original volume is untouched; the copy is a zip in the blob store, hashed and ledgered, and
the access-request reply lists it (disclosure_id)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, replace

from PIL import Image, ImageFilter, UnidentifiedImageError

from core import ledger
from core.archive.models import AccessRequest, DisclosureCopy
from core.cases.visibility import visible_case
from core.dossier import PdfRenderer, contents, load_case_file, pages, seal_log
from core.dossier.snapshot import CaseFile, Leaf
from core.kernel.clock import utcnow
from core.kernel.errors import Invalid
from core.kernel.ids import new_id
from core.people.access import log_access, require_role
from core.people.models import Officer

MASK = "［已遮蔽］"
AUDIENCES = ("party", "public")
MAKERS = ("custodian", "head", "supervisor", "officer")
# Keys whose values are personal data wherever they appear in a record.
PII_KEY = re.compile(r"(id_number|phone|address|witness_name|complainant|interviewee_name|"
                     r"contact)", re.I)
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{6}(?:19|20)\d{2}[01]\d[0-3]\d\d{3}[\dXx]"
                       r"(?![0-9A-Za-z])")
PHONE = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
# Signer roles whose names a copy keeps: the officers, the servers, the party itself.
NAMED_ROLES = ("officer", "server", "party", "legal_representative", "agent")
BLUR_RADIUS = 16


@dataclass(frozen=True)
class DisclosureCommand:
    """What to copy for whom, and which photo areas to blur ({evidence_id: [[x0,y0,x1,y1]]})."""

    audience: str
    request_id: str | None
    blur: dict

    @classmethod
    def parse(cls, body: dict) -> DisclosureCommand:
        """Check the body's shape."""
        audience = body.get("audience")
        if audience not in AUDIENCES:
            raise Invalid("audience must be party or public", zh="公开对象须为 party 或 public")
        blur = body.get("blur") or {}
        ok = isinstance(blur, dict) and all(
            isinstance(v, list) and all(isinstance(b, list) and len(b) == 4 and all(
                isinstance(n, int) and n >= 0 for n in b) for b in v) for v in blur.values())
        if not ok:
            raise Invalid("blur maps evidence ids to boxes [x0, y0, x1, y1] in pixels",
                          zh="blur 须为 证据编号 → [[x0, y0, x1, y1], …]")
        return cls(audience, body.get("request_id"), blur)


class _Masker:
    """Masks a row's personal data; the party's own data stays in a copy for the party."""

    def __init__(self, keep: set[str]):
        self.keep = {k for k in keep if k}
        self.count = 0

    def text(self, value: str) -> str:
        def sub(m: re.Match) -> str:
            if m.group(0) in self.keep:
                return m.group(0)
            self.count += 1
            return MASK
        return PHONE.sub(sub, ID_NUMBER.sub(sub, value))

    def value(self, key: str, value):
        if isinstance(value, dict):
            return {k: self.value(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(key, v) for v in value]
        if isinstance(value, str) and value and PII_KEY.search(key) and value not in self.keep:
            self.count += 1
            return MASK
        return self.text(value) if isinstance(value, str) else value


def mask_case_file(cf: CaseFile, audience: str) -> tuple[CaseFile, int]:
    """The case file with third parties' personal data masked; how many values were masked."""
    party = cf.party.row if cf.party else {}
    keep = {party.get("id_number"), party.get("phone"), party.get("address")} \
        if audience == "party" else set()
    m = _Masker(keep)

    def leaf(x: Leaf, row: dict) -> Leaf:
        return replace(x, row=row)

    def generic(x: Leaf) -> Leaf:
        return leaf(x, {k: m.value(k, v) for k, v in x.row.items()})

    def signature(x: Leaf) -> Leaf:
        row = dict(x.row)
        if row.get("role") not in NAMED_ROLES:
            row["signer_name"], row["image_sha256"] = MASK, None
            m.count += 1
        return leaf(x, row)

    def refusal(x: Leaf) -> Leaf:
        row = generic(x).row
        row["witnesses"] = [{**w, "name": MASK} for w in row.get("witnesses") or ()]
        m.count += len(row["witnesses"])
        return leaf(x, row)

    records = tuple(replace(r, leaf=generic(r.leaf),
                            signatures=tuple(signature(s) for s in r.signatures),
                            refusals=tuple(refusal(x) for x in r.refusals))
                    for r in cf.records)
    masked_party = None
    if cf.party:
        row = dict(cf.party.row)
        if audience == "public":
            for k in ("id_number", "phone", "address"):
                if row.get(k):
                    row[k] = MASK
                    m.count += 1
        masked_party = leaf(cf.party, row)
    out = replace(cf, records=records, party=masked_party,
                  evidence=tuple(replace(e, leaf=generic(e.leaf)) for e in cf.evidence),
                  case_refusals=tuple(refusal(x) for x in cf.case_refusals))
    return out, m.count


def blur(data: bytes, boxes: list[list[int]]) -> bytes:
    """The photo as PNG with each box blurred; every pixel outside the boxes is unchanged."""
    with Image.open(io.BytesIO(data)) as img:
        img = img.convert("RGB")
        for x0, y0, x1, y1 in boxes:
            box = (max(0, x0), max(0, y0), min(img.width, x1), min(img.height, y1))
            if box[2] > box[0] and box[3] > box[1]:
                img.paste(img.crop(box).filter(ImageFilter.GaussianBlur(BLUR_RADIUS)), box)
        out = io.BytesIO()
        img.save(out, "PNG")
    return out.getvalue()


def _render(cf: CaseFile, renderer: PdfRenderer) -> tuple[bytes, bytes]:
    lines = contents.entries(cf)
    layouts, page = [], 1
    for e in lines:
        e.first_page = page
        layout = renderer.layout(pages.entry_sheet(cf, e))
        e.pages = layout.pages
        page += e.pages
        layouts.append(layout)
    volume = renderer.write(layouts).data
    front = renderer.render_part([pages.cover(cf, closing=pages.closing_time(cf)),
                                  pages.catalogue(cf, lines)]).data
    return front, volume


def make_copy(runner, actor_id: str, case_id: str, cmd: DisclosureCommand) -> dict:
    """Build, store and ledger a disclosure copy; returns what was made (A35.1)."""
    with runner.uow() as uow:
        actor = uow.session.get(Officer, actor_id)
        case = visible_case(uow.session, actor, case_id)
        require_role(actor, *MAKERS, action="making a disclosure copy")
        if cmd.request_id:
            req = uow.session.get(AccessRequest, cmd.request_id)
            if req is None or req.case_id != case.id:
                raise Invalid("request_id names no access request of this case",
                              zh="查阅申请不属于本案")
        seal_log(uow.session, uow.signer)
    with runner.uow() as uow:
        cf = load_case_file(uow.session, case_id, uow.signer)
    unknown = set(cmd.blur) - {e.id for e in cf.evidence}
    if unknown:
        raise Invalid(f"blur names evidence not in this case: {', '.join(sorted(unknown))}",
                      zh="blur 中的证据不属于本案")
    masked, count = mask_case_file(cf, cmd.audience)
    renderer = PdfRenderer(author=cf.department_name)
    front, volume = _render(masked, renderer)
    files: dict[str, bytes] = {"front.pdf": front, "volume.pdf": volume}
    withheld = []
    for e in cf.evidence:
        media = e.leaf.row.get("media_type") or ""
        if not media.startswith("image/"):
            withheld.append({"evidence_id": e.id, "why": "not a photo (audio/video withheld)"})
            continue
        with runner.blobs.open(e.sha256) as fh:
            data = fh.read()
        try:
            files[f"photos/{e.id}.png"] = blur(data, cmd.blur.get(e.id, []))
        except (UnidentifiedImageError, OSError):
            if e.id in cmd.blur:
                raise Invalid(f"evidence {e.id} is not a photo that can be blurred",
                              zh="该证据不是可遮蔽的照片") from None
            withheld.append({"evidence_id": e.id, "why": "not a readable photo"})
    manifest = {"case_number": cf.number, "audience": cmd.audience, "masked_values": count,
                "blurred": cmd.blur, "withheld": withheld,
                "files": {k: hashlib.sha256(v).hexdigest() for k, v in files.items()},
                "note": "公开副本：第三人个人信息已遮蔽，原件未改动 / disclosure copy: third "
                        "parties' personal data masked; the originals are untouched"}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
    stored = runner.blobs.put_bytes(buf.getvalue(), retain_years=None)
    with runner.uow() as uow:
        actor = uow.session.get(Officer, actor_id)
        row = DisclosureCopy(id=new_id(), case_id=case_id, request_id=cmd.request_id,
                             audience=cmd.audience, sha256=stored.sha256, size=stored.size,
                             masked={"values": count, "withheld": withheld},
                             blurred=cmd.blur, made_by=actor_id, made_at=utcnow())
        uow.session.add(row)
        ledger.append(uow.session, "disclosure_copy", row, case_id=case_id)
        log_access(uow.session, actor, "export", "disclosure_copy", row.id)
        return {"id": row.id, "case_id": case_id, "audience": row.audience, "sha256": row.sha256,
                "size": row.size, "masked_values": count, "blurred": cmd.blur,
                "withheld": withheld, "files": sorted(files)}


def download(uow, actor: Officer, copy_id: str, *, remote: str = "") -> DisclosureCopy:
    """A disclosure copy to hand over; the download is logged (A33.1)."""
    from core.kernel.errors import NotFound

    row = uow.session.get(DisclosureCopy, copy_id)
    if row is None:
        raise NotFound(f"disclosure copy {copy_id} not found")
    visible_case(uow.session, actor, row.case_id)
    log_access(uow.session, actor, "download", "disclosure_copy", row.id, remote=remote)
    return row
