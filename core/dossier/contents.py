"""The 卷内文件目录 (A32.1): every record and evidence item of the case in time order, with the
document name, number, date, pages and remarks, and the bag files that make up each one."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from core.dossier.snapshot import CaseFile, EvidenceItem, RecordItem
from core.kernel.texts import label
from core.rules.calendar import LEGAL_TZ
from core.rules.catalogue import BY_NAME


@dataclass
class Entry:
    """One line of the catalogue; ``pages`` and ``first_page`` are set once it is rendered."""

    serial: int
    kind: str  # record | evidence
    id: str
    title: str
    number: str
    when: datetime
    remarks: str
    data: str
    original: str | None = None
    pdf: str = ""  # the volume part that holds its pages, set once rendered
    pdf_pages: tuple[int, int] = (0, 0)  # first and last page inside that file
    pages: int = 0
    first_page: int = 0

    @property
    def date(self) -> str:
        """The legal date of the document."""
        return self.when.astimezone(LEGAL_TZ).date().isoformat()

    @property
    def page_range(self) -> str:
        """Where it sits in the volume: ``5`` or ``5-7``."""
        last = self.first_page + self.pages - 1
        return str(self.first_page) if last == self.first_page else f"{self.first_page}-{last}"

    def to_json(self) -> dict:
        """The line as catalogue.json lists it."""
        return {"serial": self.serial, "kind": self.kind, "id": self.id, "title": self.title,
                "number": self.number, "date": self.date, "time": self.when.isoformat(),
                "pages": self.pages, "first_page": self.first_page, "remarks": self.remarks,
                "pdf_pages": list(self.pdf_pages),
                "files": {k: v for k, v in (("pdf", self.pdf), ("data", self.data),
                                            ("original", self.original)) if v}}


def entries(cf: CaseFile) -> list[Entry]:
    """Records and evidence merged in time order (ties in log order), numbered from 1."""
    timeline: list[tuple[datetime, int, RecordItem | EvidenceItem]] = (
        [(r.occurred_at, r.leaf.seq, r) for r in cf.records]
        + [(e.when, e.leaf.seq, e) for e in cf.evidence])
    timeline.sort(key=lambda t: (t[0], t[1]))
    out = []
    for serial, (when, _seq, item) in enumerate(timeline, start=1):
        out.append(_record_entry(serial, when, item) if isinstance(item, RecordItem)
                   else _evidence_entry(serial, when, item))
    return out


def _record_entry(serial: int, when: datetime, r: RecordItem) -> Entry:
    rtype = BY_NAME.get(r.type)
    remarks = []
    if r.leaf.row.get("corrects_id"):
        remarks.append(f"更正记录 {r.leaf.row['corrects_id'][:12]}")
    if r.refusals:
        remarks.append("拒绝签名 " + "、".join(x.row["person_name"] for x in r.refusals))
    if r.evidence_ids:
        remarks.append(f"附证据 {len(r.evidence_ids)} 件")
    return Entry(serial, "record", r.id, rtype.title_zh if rtype else r.type, r.id[:12], when,
                 "；".join(remarks), f"records/{r.id}.json")


def _evidence_entry(serial: int, when: datetime, e: EvidenceItem) -> Entry:
    row = e.leaf.row
    ext = _extension(row.get("filename") or "")
    remarks = [row.get("media_type") or ""]
    verdict = row.get("assurance")
    if verdict:
        remarks.append(f"核验结论：{label('assurance', verdict)}")
    if row.get("duplicate_of"):
        remarks.append(f"与 {row['duplicate_of'][:12]} 重复")
    title = f"证据：{row.get('proves') or row.get('filename')}"
    return Entry(serial, "evidence", e.id, title, e.sha256[:12], when,
                 "；".join(x for x in remarks if x), f"evidence/{e.id}.json",
                 original=f"evidence/{e.id}{ext}")


def _extension(filename: str) -> str:
    """The original's extension, kept only when it is plain (the bag names stay ASCII)."""
    m = re.search(r"\.([A-Za-z0-9]{1,8})$", filename)
    return f".{m.group(1).lower()}" if m else ".bin"
