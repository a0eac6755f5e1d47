"""What each page of the case file says, as plain sheets (title, label/value pairs, tables,
images) that the PDF renderer lays out: cover (案卷封面), 卷内文件目录, one sheet per record
and per evidence item, and the 备考表 (A32.1)."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.dossier.contents import Entry
from core.dossier.snapshot import CaseFile, EvidenceItem, Leaf, RecordItem, parse_time
from core.kernel.texts import choice, label
from core.rules.calendar import LEGAL_TZ
from core.rules.catalogue import BY_NAME

DECISION_ZH = {"approve": "同意", "return": "退回"}
REFUSED_ZH = {"sign": "拒绝签名", "investigation": "拒绝接受调查", "evidence": "拒绝提供证据"}
CATALOGUE_COLUMNS = ("序号", "文书名称", "文号", "日期", "页号", "备注")


@dataclass
class Pairs:
    """Label / value rows."""

    rows: list[tuple[str, str]]
    heading: str = ""


@dataclass
class Table:
    """A table with a header row."""

    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    heading: str = ""
    css: str = ""


@dataclass
class Images:
    """Signature images with captions (PNG/JPEG data, drawn small)."""

    items: list[tuple[str, str, bytes]]  # caption, media type, data
    heading: str = ""

    def data_uri(self, i: int) -> str:
        """One image as a data: URI for the HTML template."""
        _caption, media, data = self.items[i]
        return f"data:{media};base64,{base64.b64encode(data).decode()}"


@dataclass
class Sheet:
    """One document of the case file: a title, a few blocks, its place in the volume."""

    title: str
    blocks: list = field(default_factory=list)
    subtitle: str = ""
    style: str = "sheet"  # sheet | cover
    first_page: int = 0  # 0: not numbered (cover, catalogue, 备考表)
    footer: str = ""


def local(value: datetime | str | None, *, minutes: bool = True) -> str:
    """A time as the case file shows it: legal time, to the minute."""
    when = parse_time(value) if isinstance(value, str) else value
    if when is None:
        return ""
    return when.astimezone(LEGAL_TZ).strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d")


def cover(cf: CaseFile, *, closing: datetime | None) -> Sheet:
    """案卷封面: case number, cause, party, filing and closing dates, officers, retention."""
    row = cf.case.row
    officers = _case_officers(cf)
    years = row.get("retention_years") or 25
    return Sheet("行政执法案卷", style="cover", subtitle=cf.department_name, blocks=[Pairs([
        ("案号", row["number"]),
        ("案由", row["title"]),
        ("执法类别", f"{label('kind', row['kind'])}（{label('route', row['initiation'])}）"),
        ("当事人", cf.party.row["name"] if cf.party else "—"),
        ("立案日期", local(row["opened_at"], minutes=False)),
        ("结案日期", local(closing, minutes=False) if closing else "—"),
        ("承办人", "、".join(f"{o.name}（执法证号 {o.certificate_no or '无'}）" for o in officers)),
        ("保管期限", f"{years} 年（A34.1）"),
        ("立卷单位", f"{cf.department_name}（{cf.department_code}）"),
    ])])


def catalogue(cf: CaseFile, lines: list[Entry]) -> Sheet:
    """卷内文件目录: serial, document name, number, date, pages and remarks, in time order."""
    rows = [(str(e.serial), e.title, e.number, e.date, e.page_range, e.remarks) for e in lines]
    return Sheet("卷内文件目录", subtitle=f"案号 {cf.number}",
                 blocks=[Table(CATALOGUE_COLUMNS, rows, css="catalogue")])


def note(cf: CaseFile, lines: list[Entry], *, compiled_by: str, checked_by: str,
         compiled_at: datetime) -> Sheet:
    """备考表: how many pages and items, who compiled and who checked, when."""
    pages = sum(e.pages for e in lines)
    records = sum(1 for e in lines if e.kind == "record")
    evidence = sum(1 for e in lines if e.kind == "evidence")
    blocks: list = [Pairs([
        ("本卷情况说明", f"本卷共有文件材料 {len(lines)} 件（文书 {records} 件，"
                   f"证据 {evidence} 件），共 {pages} 页；证据原件 {evidence} 件随卷以电子文件"
                   "保存，每件附元数据表。"),
        ("立卷人", compiled_by),
        ("检查人", checked_by or "（待检查人签名）"),
        ("立卷时间", local(compiled_at)),
        ("完整性证明", f"本卷 {len(cf.leaves)} 条账本记录均附包含证明；最新签名检查点覆盖账本"
                  f"前 {cf.newest.tree_size} 条，公钥标识 {cf.key_id}。"),
    ])]
    if cf.stage_changes:
        blocks.append(Table(("原阶段", "新阶段", "操作人", "时间"), [
            (label("stage", x.row["from_stage"]) if x.row.get("from_stage") else "—",
             label("stage", x.row["to_stage"]), cf.officer_name(x.row["officer_id"]),
             local(x.row["at"])) for x in cf.stage_changes], heading="程序流转（A3.1）"))
    # Refusals tied to no record (to be investigated, to give evidence) have no page of
    # their own: the 备考表 carries them (A13.3, A22.2).
    blocks += [refusal_pairs(x) for x in cf.case_refusals]
    return Sheet("卷内备考表", blocks, subtitle=f"案号 {cf.number}")


def entry_sheet(cf: CaseFile, entry: Entry,
                image: Callable[[str], tuple[str, bytes] | None] = lambda _sha: None) -> Sheet:
    """The sheet of one catalogue entry: its record's or its evidence item's."""
    if entry.kind == "record":
        return record_sheet(cf, cf.items[entry.id], entry, image)
    return evidence_sheet(cf, cf.items[entry.id], entry)


def record_sheet(cf: CaseFile, r: RecordItem, entry: Entry,
                 image: Callable[[str], tuple[str, bytes] | None]) -> Sheet:
    """One record: its fields under the catalogue's labels, approvals, signatures, refusals."""
    rtype = BY_NAME.get(r.type)
    row = r.leaf.row
    head = [("案号", cf.number), ("记录编号", r.id),
            ("阶段", label("stage", row["stage"])),
            ("发生时间", local(row["occurred_at"])), ("制作人", cf.officer_name(row["created_by"])),
            ("执法人员", "、".join(_officer_with_cert(cf, o) for o in row.get("officers") or ()))]
    if row.get("corrects_id"):
        head.append(("更正的记录", row["corrects_id"]))
    fields = row.get("fields") or {}
    shown = []
    declared = [f.name for f in rtype.fields] if rtype else []
    for name in declared + sorted(k for k in fields if k not in declared):
        if name in fields and fields[name] not in (None, "", []):
            f = rtype.field(name) if rtype else None
            shown.append((f.label_zh if f else name,
                          _value(fields[name], f.type if f else "", name)))
    blocks: list = [Pairs(head), Pairs(shown, heading="记录内容")]
    if r.approvals:
        blocks.append(Table(("审批环节", "意见", "审批人", "时间"), [
            (_step(rtype, a.row["step"]), f"{DECISION_ZH.get(a.row['decision'], a.row['decision'])}"
             f"{'：' + a.row['opinion'] if a.row.get('opinion') else ''}",
             cf.officer_name(a.row["officer_id"]), local(a.row["at"])) for a in r.approvals],
            heading="审批"))
    if r.signatures:
        blocks.append(Table(("身份", "签署人", "方式", "时间", "签名图像"), [
            (label("signer_role", s.row["role"]), s.row["signer_name"] + (
                # A10.1, A13.2: an officer's signature captured by a colleague says so.
                f"（由{cf.officer_name(s.row.get('created_by'))}代为录入）"
                if s.row.get("signer_officer_id")
                and s.row.get("created_by") != s.row["signer_officer_id"] else ""),
             label("sign_method", s.row["method"]), local(s.row["signed_at"]),
             (s.row.get("image_sha256") or "—")[:16]) for s in r.signatures], heading="签名"))
        pictures = []
        for s in r.signatures:
            found = image(s.row["image_sha256"]) if s.row.get("image_sha256") else None
            if found:
                pictures.append((f"{label('signer_role', s.row['role'])} "
                                 f"{s.row['signer_name']}", *found))
        if pictures:
            blocks.append(Images(pictures, heading="签名图像"))
    for x in r.refusals:
        blocks.append(refusal_pairs(x))
    if r.evidence_ids:
        blocks.append(Pairs([("关联证据", "、".join(i[:12] for i in r.evidence_ids))]))
    # No serial or page number inside the sheet: it is laid out once and cached, and the
    # build stamps both on (core.dossier.stamp), so an earlier record added later changes
    # only the stamps.
    return Sheet(rtype.title_zh if rtype else r.type, blocks,
                 first_page=entry.first_page, footer=f"{cf.number}  卷内序号 {entry.serial}")


def refusal_pairs(x: Leaf) -> Pairs:
    """A refusal to sign, to be investigated or to give evidence, with its witnesses (A22.2)."""
    row = x.row
    rows = [("拒绝人", f"{label('signer_role', row['role'])} {row['person_name']}"),
            ("拒绝事项", REFUSED_ZH.get(row["refused"], row["refused"])),
            ("理由", row.get("reason") or ""), ("地点", row.get("place") or ""),
            ("时间", local(row["at"]))]
    for w in row.get("witnesses") or ():
        rows.append(("见证人", f"{w.get('name', '')}（{w.get('relation', '')}）签名图像 "
                            f"{str(w.get('signature_sha256') or '—')[:16]}"))
    if row.get("video_evidence_id"):
        rows.append(("录像证据", row["video_evidence_id"]))
    return Pairs(rows, heading="拒绝记录（A22.2）")


def evidence_sheet(cf: CaseFile, e: EvidenceItem, entry: Entry) -> Sheet:
    """证据元数据表: hash, capture time and place, device, checks and the verdict."""
    row = e.leaf.row
    meta = row.get("meta") or {}
    gps = meta.get("gps") or {}
    place = f"{gps.get('lat')}, {gps.get('lon')}（WGS-84）" if gps.get("lat") is not None else "—"
    intake = meta.get("intake") or {}
    rows = [("证据编号", e.id), ("证明对象", row.get("proves") or ""),
            ("制作方式", row.get("method") or ""),
            ("制作人", cf.officer_name(row.get("producer_id"))),
            ("原始文件名", row.get("filename") or ""), ("文件类型", row.get("media_type") or ""),
            ("大小", f"{e.size} 字节"), ("SHA-256", e.sha256),
            ("随卷原件", entry.original or ""),
            ("拍摄/采集时间", local(row.get("captured_at")) or "—"),
            ("拍摄地点", place),
            ("设备", " ".join(x for x in (meta.get("make"), meta.get("model")) if x) or "—"),
            ("编辑软件", meta.get("software") or "—"),
            ("接收时间", local(row.get("created_at"))),
            ("关联记录", row.get("record_id") or "—")]
    verdict = row.get("assurance") or ""
    reason = intake.get("assurance_reason_zh") or intake.get("assurance_reason") or ""
    rows.append(("核验结论", f"{label('assurance', verdict)}{'：' + reason if reason else ''}"))
    checks = [(label("check", c.get("name", "")), label("check_status", c.get("status", "")),
               c.get("detail_zh") or c.get("detail") or "") for c in row.get("checks") or ()]
    blocks: list = [Pairs(rows)]
    blocks.append(Table(("检查项", "结果", "说明"), checks or [("—", "—", "未做检查")],
                        heading="核验检查"))
    return Sheet("证据元数据表", blocks,
                 first_page=entry.first_page, footer=f"{cf.number}  卷内序号 {entry.serial}")


def closing_time(cf: CaseFile) -> datetime | None:
    """When the act's record ended: the move to archiving (or to closed, if earlier)."""
    ends = [parse_time(s.row["at"]) for s in cf.stage_changes
            if s.row["to_stage"] in ("archiving", "closed")]
    return min(ends) if ends else None


def _case_officers(cf: CaseFile) -> list:
    seen: dict[str, None] = {}
    for r in cf.records:
        for o in r.leaf.row.get("officers") or ():
            seen.setdefault(o)
    seen.setdefault(cf.case.row["opened_by"])
    return [cf.officers[i] for i in seen if i in cf.officers]


def _officer_with_cert(cf: CaseFile, officer_id: str) -> str:
    o = cf.officers.get(officer_id)
    return f"{o.name}（{o.certificate_no or '无证号'}）" if o else officer_id


def _step(rtype, step: str) -> str:
    if rtype:
        for s in rtype.approval_chain:
            if s.step == step:
                return s.label_zh
    return step


def _value(value, kind: str, field: str = "") -> str:
    """A field value as text: yes/no, choices in words, lists joined, times in legal time."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_value(v, "") for v in value)
    if isinstance(value, dict):
        return "，".join(f"{k}：{_value(v, '')}" for k, v in value.items())
    if kind == "enum" and isinstance(value, str):
        return choice(value, field=field)
    if kind == "datetime" and isinstance(value, str):
        try:
            return local(value)
        except ValueError:
            return value
    return str(value)
