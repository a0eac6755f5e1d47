"""The record-type catalogue: one declaration per record type drives validation, bot forms,
the checklist and the case file (ARCHITECTURE.md). Adding a record type is one entry here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from .errors import Invalid

FIELD_TYPES = ("string", "text", "bool", "int", "date", "datetime", "enum", "list")


@dataclass(frozen=True)
class Field:
    """One field of a record type."""

    name: str
    type: str
    label_zh: str
    required: bool = True
    rules: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    max_length: int = 4000

    def to_json(self) -> dict:
        """The field as the API shows it."""
        out = {"name": self.name, "type": self.type, "label_zh": self.label_zh,
               "required": self.required, "rules": list(self.rules)}
        if self.choices:
            out["choices"] = list(self.choices)
        return out


@dataclass(frozen=True)
class ApprovalStep:
    """A step of an approval chain and the role that takes it."""

    step: str
    role: str
    label_zh: str


@dataclass(frozen=True)
class RecordType:
    """A kind of written record (文书) the regulation asks for."""

    name: str
    title_zh: str
    title_en: str
    stage: str
    fields: tuple[Field, ...]
    rules: tuple[str, ...]
    signers: tuple[str, ...] = ()
    av_required: bool = False
    routes: tuple[str, ...] | None = None  # None: any initiation route
    kinds: tuple[str, ...] | None = None  # None: any kind (A2.1)
    approval_chain: tuple[ApprovalStep, ...] = ()
    emergency_only: bool = False
    field_record: bool = False  # carries ≥2 certified officers (A14.1)

    def field(self, name: str) -> Field | None:
        """The field of that name, if declared."""
        return next((f for f in self.fields if f.name == name), None)

    def to_json(self) -> dict:
        """The type as GET /api/v1/record-types shows it."""
        return {
            "name": self.name, "title_zh": self.title_zh, "title_en": self.title_en,
            "stage": self.stage, "fields": [f.to_json() for f in self.fields],
            "rules": list(self.rules), "signers": list(self.signers),
            "av_required": self.av_required,
            "routes": list(self.routes) if self.routes else None,
            "kinds": list(self.kinds) if self.kinds else None,
            "approval_chain": [{"step": s.step, "role": s.role, "label_zh": s.label_zh}
                               for s in self.approval_chain],
            "emergency_only": self.emergency_only,
        }


# A10.1: the filing form's chain. The officer's step is the submission itself.
FILING_CHAIN = (
    ApprovalStep("officer", "officer", "承办人意见"),
    ApprovalStep("unit", "supervisor", "承办机构意见"),
    ApprovalStep("head", "head", "负责人审批"),
)

F = Field
CATALOGUE: tuple[RecordType, ...] = (
    RecordType(
        "application_acceptance", "申请登记受理记录", "Application registration and acceptance",
        "initiation",
        (
            F("applicant", "string", "申请人", rules=("A9.1",)),
            F("matter", "text", "申请事项", rules=("A9.1",)),
            F("materials_received", "list", "收到的材料", rules=("A9.1",)),
            F("materials_complete", "bool", "材料是否齐全", rules=("A9.1",)),
            F("corrected_on_spot", "text", "当场更正情况", required=False, rules=("A9.1",)),
            F("decision", "enum", "受理决定", rules=("A9.1",),
              choices=("accepted", "not_accepted", "pending_materials")),
            F("receipt_no", "string", "书面凭证编号", rules=("A9.1",)),
            F("surveillance_evidence", "string", "受理窗口监控录像", required=False,
              rules=("A9.2",)),
        ),
        ("A9.1",), signers=("officer", "applicant"), routes=("application",),
    ),
    RecordType(
        "missing_materials_notice", "一次性告知书（补正材料）",
        "One-time notice of missing materials",
        "initiation",
        (
            F("missing_items", "list", "需补正的材料", rules=("A9.1",)),
            F("legal_basis", "text", "依据", rules=("A9.1",)),
            F("served_to", "string", "告知对象", rules=("A9.1",)),
            F("receipt_no", "string", "书面凭证编号", rules=("A9.1",)),
        ),
        ("A9.1", "N16"), signers=("officer", "applicant"), routes=("application",),
    ),
    RecordType(
        "filing_form", "立案审批表", "Case filing approval form",
        "initiation",
        (
            F("reason", "text", "立案理由", rules=("A10.1",)),
            F("party_info", "text", "当事人基本情况", rules=("A10.1",)),
            F("officer_opinion", "text", "承办人意见", rules=("A10.1",)),
            F("case_source", "string", "案件来源", required=False, rules=("A10.1",)),
        ),
        ("A10.1",), signers=("officer",), routes=("ex_officio", "complaint", "inspection"),
        approval_chain=FILING_CHAIN,
    ),
    RecordType(
        "emergency_initiation", "紧急情况先行启动记录", "Emergency initiation record",
        "initiation",
        (
            F("emergency_reason", "text", "紧急情况及理由", rules=("A10.2",)),
            F("measures_taken", "text", "已采取的措施", rules=("A10.2",)),
            F("started_at", "datetime", "启动时间", rules=("A10.2",)),
        ),
        ("A10.2", "N12"), signers=("officer",), emergency_only=True, field_record=True,
    ),
    RecordType(
        "complaint_intake", "投诉举报登记表", "Complaint or report intake",
        "initiation",
        (
            F("complainant_name", "string", "投诉举报人", rules=("A11.1",)),
            F("complainant_contact", "string", "联系方式", rules=("A11.1",)),
            F("complainant_id_number", "string", "身份证号", required=False, rules=("A11.1",)),
            F("anonymous", "bool", "是否匿名", required=False, rules=("A11.1",)),
            F("channel", "enum", "来源渠道", rules=("A11.1",),
              choices=("visit", "phone", "letter", "online", "telegram", "hotline_12345")),
            F("received_at", "datetime", "收到时间", rules=("A11.1", "N21", "N24")),
            F("content", "text", "投诉举报内容", rules=("A11.1",)),
        ),
        ("A11.1",), signers=("officer",), routes=("complaint",),
    ),
    RecordType(
        "complaint_decision", "投诉举报处理决定", "Decision to start a case on a complaint, or not",
        "initiation",
        (
            F("decision", "enum", "是否立案", rules=("A11.1",), choices=("start", "not_start")),
            F("reason", "text", "理由", rules=("A11.1",)),
            F("decided_at", "datetime", "决定时间", rules=("A11.1", "N24")),
        ),
        ("A11.1", "N24"), signers=("officer",), routes=("complaint",),
    ),
    RecordType(
        "inspection_draw", "双随机抽查记录", "Random inspection draw",
        "initiation",
        (
            F("sampling_method", "text", "抽查方式", rules=("A12.1",)),
            F("objects_register_sha256", "string", "检查对象名录哈希", rules=("A12.1",)),
            F("officers_register_sha256", "string", "执法人员名录哈希", rules=("A12.1",)),
            F("seed", "string", "随机种子", rules=("A12.1",)),
            F("algorithm", "string", "抽取算法", rules=("A12.1",)),
            F("drawn_objects", "list", "抽中的检查对象", rules=("A12.1",)),
            F("drawn_officers", "list", "抽中的执法人员", rules=("A12.1",)),
        ),
        ("A12.1",), signers=("officer",), routes=("inspection",), av_required=True,
    ),
)

BY_NAME = {t.name: t for t in CATALOGUE}


def record_type(name: str) -> RecordType:
    """The catalogue entry of that name, or a 422 naming the known types."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise Invalid(f"unknown record type {name!r}", details={"known": sorted(BY_NAME)}) from None


def validate_fields(rtype: RecordType, fields: Any) -> dict:
    """Check input fields against the catalogue; return them normalised or raise Invalid."""
    if not isinstance(fields, dict):
        raise Invalid("fields must be a JSON object")
    problems: dict[str, str] = {}
    unknown = sorted(set(fields) - {f.name for f in rtype.fields})
    for name in unknown:
        problems[name] = "not a field of this record type"
    out: dict[str, Any] = {}
    for f in rtype.fields:
        value = fields.get(f.name)
        if value is None or value == "" or value == []:
            if f.required:
                problems[f.name] = f"required ({', '.join(f.rules)})"
            continue
        try:
            out[f.name] = _coerce(f, value)
        except ValueError as exc:
            problems[f.name] = str(exc)
    if problems:
        missing = sorted({r for f in rtype.fields if f.name in problems for r in f.rules})
        raise Invalid(f"invalid fields for {rtype.name}: " + "; ".join(
            f"{k}: {v}" for k, v in problems.items()), details={"fields": problems,
                                                               "missing": missing})
    return out


def _coerce(f: Field, value: Any) -> Any:
    if f.type in ("string", "text"):
        if not isinstance(value, str):
            raise ValueError("must be a string")
        limit = 200 if f.type == "string" else f.max_length
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        return value.strip()
    if f.type == "bool":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if f.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be a whole number")
        return value
    if f.type == "enum":
        if value not in f.choices:
            raise ValueError(f"must be one of {', '.join(f.choices)}")
        return value
    if f.type == "list":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("must be a list of strings")
        if len(value) > 200:
            raise ValueError("more than 200 items")
        return [v.strip() for v in value]
    if f.type == "date":
        try:
            return date.fromisoformat(value).isoformat()
        except (TypeError, ValueError):
            raise ValueError("must be a date YYYY-MM-DD") from None
    if f.type == "datetime":
        return parse_aware(value).isoformat()
    raise ValueError(f"unknown field type {f.type}")


def parse_aware(value: Any) -> datetime:
    """Parse an ISO 8601 datetime that carries its offset; a naive one is refused."""
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 datetime string")
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("must be an ISO 8601 datetime such as 2026-11-26T09:30:00+08:00") from None
    if dt.tzinfo is None:
        raise ValueError("must carry a time zone offset, e.g. +08:00")
    return dt
