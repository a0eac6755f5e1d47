"""The record-type catalogue: one declaration per record type drives validation, bot forms,
the checklist and the case file (ARCHITECTURE.md). Adding a record type is one entry here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from core.kernel import fields as kf
from core.kernel import texts
from core.kernel.errors import Invalid

FIELD_TYPES = ("string", "text", "bool", "int", "date", "datetime", "enum", "list")
AV_MEDIA = ("video/", "audio/", "image/")


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
    minimum: int | None = None
    # Required only when another field has a value, e.g. the recusal outcome once a recusal
    # was requested (A14.1).
    required_if: tuple[str, Any] | None = None
    # Filled in by the system (served date, officers' certificates); never taken from input.
    auto: bool = False

    def to_json(self) -> dict:
        """The field as the API shows it."""
        out = {"name": self.name, "type": self.type, "label_zh": self.label_zh,
               "required": self.required, "rules": list(self.rules)}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.required_if:
            out["required_if"] = {"field": self.required_if[0], "equals": self.required_if[1]}
        if self.auto:
            out["auto"] = True
        if self.minimum is not None:
            out["minimum"] = self.minimum
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
    av_rule: str = "A5.1"  # the RULES.md ID a missing AV item is reported under
    av_waivable: bool = True  # False: no "AV unsuitable" reason is accepted (A26.1)
    av_media: tuple[str, ...] = AV_MEDIA  # media types (prefixes) that count as its AV
    av_shows_zh: str = ""  # what the AV must show, for prompts
    sign_rule: str = "A13.2"  # the RULES.md ID a missing signature is reported under
    author_roles: tuple[str, ...] = ()  # empty: any case worker may make it
    system_only: bool = False  # made by a service (draws), never by POST .../records
    any_stage: bool = False  # may be made in any stage, tagged with the case's stage then
    served: bool = False  # a document served on a party by a service record (A23.1)
    investigation: bool = False  # counts as an investigation record (A13.1)
    service_method: str | None = None  # the method of a service record (A23.1–A28.1)

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
            "av": {"rule": self.av_rule, "waivable": self.av_waivable,
                   "media": list(self.av_media), "shows_zh": self.av_shows_zh}
            if self.av_required else None,
            "sign_rule": self.sign_rule,
            "routes": list(self.routes) if self.routes else None,
            "kinds": list(self.kinds) if self.kinds else None,
            "approval_chain": [{"step": s.step, "role": s.role, "label_zh": s.label_zh}
                               for s in self.approval_chain],
            "emergency_only": self.emergency_only,
            "field_record": self.field_record,
            "author_roles": list(self.author_roles) or None,
            "system_only": self.system_only,
            "any_stage": self.any_stage,
            "served": self.served,
            "investigation": self.investigation,
            "service_method": self.service_method,
        }


# Signer roles (A13.2). "officer" means every officer named on the record signs; every other
# role needs one signature, or a refusal recorded under A22.2.
SIGNER_ROLES_ZH = {role: words[0] for role, words in texts.SIGNER_ROLES.items()}
# Who cannot refuse: officers and servers must sign their own records; a witness or an expert
# who will not sign is simply not a witness or an expert (find another).
NO_REFUSAL_ROLES = frozenset({"officer", "server", "witness", "expert", "appraiser"})

# A10.1: the filing form's chain. The officer's step is the submission itself.
FILING_CHAIN = (
    ApprovalStep("officer", "officer", "承办人意见"),
    ApprovalStep("unit", "supervisor", "承办机构意见"),
    ApprovalStep("head", "head", "负责人审批"),
)
# A18.1: the handling opinion is the internal approval form (内部审批表) of the decision.
DECISION_CHAIN = (
    ApprovalStep("officer", "officer", "承办人意见"),
    ApprovalStep("unit", "supervisor", "承办机构审核意见"),
    ApprovalStep("head", "head", "行政机关负责人审批意见"),
)
# 行政处罚法 Art. 56 / 行政强制法 Art. 55: the head approves preservation and signs court
# applications.
HEAD_CHAIN = (
    ApprovalStep("officer", "officer", "承办人意见"),
    ApprovalStep("head", "head", "负责人审批"),
)

F = Field
# A14.1: what every investigation 笔录 states about the officers and recusal.
A14_FIELDS = (
    F("certificates_shown", "bool", "已出示执法证件", rules=("A14.1",)),
    F("recusal_requested", "bool", "当事人是否申请回避", rules=("A14.1",)),
    F("recusal_outcome", "enum", "回避申请处理结果", required=False, rules=("A14.1",),
      choices=("granted", "refused"), required_if=("recusal_requested", True)),
    F("recusal_reason", "text", "回避申请理由及处理说明", required=False, rules=("A14.1",),
      required_if=("recusal_requested", True)),
    F("recused_officers", "list", "被决定回避的执法人员", required=False, rules=("A14.1",),
      required_if=("recusal_outcome", "granted")),
)
# A14.1: names and certificate numbers as they stood when the record was made.
OFFICER_CERTS = F("officer_certificates", "list", "执法人员姓名及执法证号", required=False,
                  rules=("A14.1",), auto=True)


def _av_reason(*rules: str) -> Field:
    return F("av_unsuitable_reason", "text", "不适宜音像记录的理由", required=False,
             rules=rules)


def _doc(*rules: str) -> Field:
    return F("document_id", "string", "送达的文书（记录编号）", rules=rules)


# ---- Issue 10 (legal-a) field groups ----------------------------------------------------
# N4 / 行政处罚法 Art. 63: the proposed penalty decides whether the hearing right applies.
PENALTY_TYPES = ("warning", "circulated_criticism", "fine", "confiscate_gains",
                 "confiscate_property", "suspend_licence", "lower_qualification",
                 "revoke_licence", "restrict_business", "order_suspension", "order_closure",
                 "restrict_practice", "other_heavy")
HEARING_FIELDS = (
    F("penalty_types", "list", "拟作出的处罚种类", required=False, rules=("N4",)),
    F("fine_amount_yuan", "int", "拟罚款金额（元）", required=False, rules=("N4",), minimum=1),
    F("confiscation_value_yuan", "int", "拟没收违法所得或非法财物价值（元）", required=False,
      rules=("N4",), minimum=1),
    F("hearing_right_basis", "text", "听证权利适用依据", required=False, rules=("N4",),
      auto=True),
)
# N28 / 行政处罚法 Art. 57(2), 58: cases that force legal review and collective discussion.
N28_FIELDS = (
    F("major_public_interest", "bool", "是否涉及重大公共利益", required=False, rules=("N28",)),
    F("complex_or_new", "bool", "是否案情复杂或属新类型", required=False, rules=("N28",)),
    F("major_case", "bool", "是否重大或情节复杂需集体讨论", required=False, rules=("N28",)),
)
# N11 / 行政处罚法 Art. 36: when the violation happened (ended), for the limitation.
LIMITATION_FIELDS = (
    F("violation_date", "date", "违法行为发生日期", rules=("N11",)),
    F("violation_continuing", "bool", "是否连续或继续状态", required=False, rules=("N11",)),
    F("violation_ended_on", "date", "违法行为终了日期", required=False, rules=("N11",)),
    F("serious_harm", "bool", "涉及公民生命健康安全、金融安全且有危害后果", required=False,
      rules=("N11",)),
    F("discovered_on", "date", "违法行为被发现日期", required=False, rules=("N11",)),
    F("limitation_ends_on", "date", "追责时效届满日", required=False, rules=("N11",),
      auto=True),
    F("limitation_warning", "text", "时效提示", required=False, rules=("N11",), auto=True),
)
# A32.1 / N32: how a decision ends the act (a licence granted or refused) and whether it
# stated the remedies (else the party has 1 year to sue, 行政诉讼法解释 Art. 64).
DECISION_END_FIELDS = (
    F("licence_granted", "bool", "是否准予许可", required=False, rules=("N17", "A32.1")),
    F("remedies_stated", "bool", "是否告知复议诉讼的途径和期限", required=False,
      rules=("N32",)),
)

# What every service record computes (A23.1, N18–N20).
SERVED_FIELDS = (
    F("document_type", "string", "文书种类", required=False, rules=("A23.1",), auto=True),
    F("served_at", "datetime", "送达（视为送达）时间", required=False,
      rules=("A23.1", "N18", "N19", "N20"), auto=True),
    F("served_rule", "string", "送达时间依据", required=False, rules=("A23.1",), auto=True),
)
SERVICE_METHODS = ("direct", "postal", "lodged", "entrusted", "forwarded", "electronic",
                   "announcement")

# ---- Issue 10 (legal-a): how an act ends (A32.1), the inspection's result (A12.1), the
# party's remedies (N15, N32). One compact block so parallel catalogue edits merge.
LEGAL_END_TYPES: tuple[RecordType, ...] = (
    RecordType(
        # A12.1: an inspection ends with its result; one that finds nothing ends the act here
        # (act.ended, A32.1) without a filing form or decision (issue 10 item 9).
        "inspection_result", "检查结果记录", "Inspection result", "investigation",
        (
            F("onsite_record_id", "string", "对应的现场检查笔录", rules=("A12.1",)),
            F("result", "enum", "检查结果", rules=("A12.1",),
              choices=("no_violation", "violation_found")),
            F("findings", "text", "检查结论", rules=("A12.1",)),
            F("concluded_at", "datetime", "检查结束时间", rules=("A12.1", "A32.1")),
        ),
        ("A12.1", "A32.1"), signers=("officer",),
    ),
    RecordType(
        # 行政处罚法 (2021) Art. 57(1)(2)(4): no penalty, or the case is dropped; the head decides.
        "case_termination", "不予处罚或撤销案件审批表",
        "Decision not to penalise or to drop a case", "decision",
        (
            F("outcome", "enum", "处理结果", rules=("A18.1", "A32.1"),
              choices=("no_penalty", "case_dropped")),
            F("reason", "text", "理由", rules=("A18.1",)),
            F("legal_basis", "text", "法律依据", rules=("A18.1",)),
            F("officer_opinion", "text", "承办人意见", rules=("A18.1",)),
        ),
        ("A18.1", "A32.1"), signers=("officer",), approval_chain=HEAD_CHAIN, any_stage=True,
    ),
    RecordType(
        # N11: when the violation happened (ended), recorded with the filing (the 立案审批表
        # keeps exactly its A10.1 fields); the record warns when the limitation had run out.
        "violation_period", "违法行为发生时间认定", "When the violation happened (limitation)",
        "initiation", LIMITATION_FIELDS, ("N11",), signers=("officer",), any_stage=True,
    ),
    RecordType(
        # 行政处罚法 Art. 64(8): a party absent without reason or leaving ends the hearing.
        "hearing_termination", "听证终止记录", "Hearing ended by the party's absence",
        "decision",
        (
            F("hearing_notice_id", "string", "对应的听证通知书", rules=("N5", "A13.1")),
            F("reason", "enum", "终止原因", rules=("A13.1",),
              choices=("absent_without_reason", "left_without_permission", "withdrawn")),
            F("details", "text", "情况说明", rules=("A13.1",)),
        ),
        ("A13.1",), signers=("officer",),
    ),
    RecordType(
        # N28 / 行政处罚法 Art. 57(2): complex or major cases are discussed by the heads.
        "collective_discussion", "集体讨论记录", "Collective discussion by the heads",
        "decision",
        (
            F("participants", "list", "参加讨论的负责人", rules=("N28",)),
            F("content", "text", "讨论情况", rules=("N28",), max_length=20000),
            F("conclusion", "text", "讨论决定", rules=("N28",)),
        ),
        ("N28",), signers=("officer",),
    ),
    RecordType(
        # N32: the party applied for administrative review or sued (行政复议法 (2023) Art. 20,
        # 行政诉讼法 Art. 45-46); while it is pending nobody asks the court to enforce (N15).
        "remedy_application", "当事人申请复议或提起诉讼记录",
        "Party's review application or lawsuit", "service",
        (
            F("decision_id", "string", "对应的决定", rules=("N15", "N32")),
            F("remedy", "enum", "救济途径", rules=("N32",),
              choices=("administrative_review", "lawsuit")),
            F("filed_on", "date", "申请（起诉）日期", rules=("N32",)),
            F("body", "string", "复议机关或人民法院", rules=("N32",)),
            F("body_case_no", "string", "复议或诉讼案号", required=False, rules=("N32",)),
        ),
        ("N15", "N32"), signers=("officer",), any_stage=True,
    ),
    RecordType(
        "remedy_result", "复议决定或裁判结果", "Result of the review or lawsuit", "service",
        (
            F("remedy_application_id", "string", "对应的复议申请或起诉", rules=("N15", "N32")),
            F("outcome", "enum", "结果", rules=("N32",),
              choices=("upheld", "changed", "revoked", "withdrawn")),
            F("served_on", "date", "复议决定书或裁判文书送达当事人日期", rules=("N32",)),
            F("final", "bool", "是否已发生法律效力", rules=("N32",)),
        ),
        ("N15", "N32"), signers=("officer",), any_stage=True,
    ),
)


CATALOGUE: tuple[RecordType, ...] = (
    # ---- Initiation (A9–A12) ------------------------------------------------------------
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
            F("deemed_accepted_on", "date", "逾期告知视为受理之日", required=False,
              rules=("N16", "N30"), auto=True),
            F("late_notice_warning", "text", "逾期告知提示", required=False,
              rules=("N16", "N30"), auto=True),
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
            OFFICER_CERTS,
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
        # A11.1: that the complainant was told. core.complaints.tickets adds one when it queues a
        # notice (sent_at empty) and a correcting one with sent_at once it is delivered.
        "complainant_notice", "投诉举报人告知记录", "Notice to the complainant",
        "initiation",
        (
            F("channel", "enum", "告知方式", rules=("A11.1", "N21"),
              choices=("sms", "email", "telegram", "phone", "in_person", "post")),
            F("recipient", "string", "告知对象", rules=("A11.1", "N21")),
            F("content", "text", "告知内容", rules=("A11.1", "N21")),
            F("sent_at", "datetime", "送达时间", required=False, rules=("A11.1", "N21")),
        ),
        ("A11.1", "N21"), routes=("complaint",), any_stage=True,
    ),
    RecordType(
        "inspection_draw_commitment", "随机抽取承诺值", "Commitment published before a draw",
        "initiation",
        (
            F("commitment_id", "string", "承诺编号", rules=("A12.1",)),
            F("commitment", "string", "服务器随机数的SHA-256承诺值", rules=("A12.1",)),
            F("algorithm", "string", "抽取算法", rules=("A12.1",)),
        ),
        ("A12.1",), routes=("inspection",), system_only=True,
    ),
    RecordType(
        "inspection_draw", "双随机抽查记录", "Random inspection draw",
        "initiation",
        (
            F("sampling_method", "text", "抽查方式", rules=("A12.1",)),
            F("commitment_record_id", "string", "承诺值记录", rules=("A12.1",)),
            F("commitment", "string", "承诺值", rules=("A12.1",)),
            F("nonce", "string", "服务器随机数（抽取时公开）", rules=("A12.1",)),
            F("outside_value", "string", "抽取时录入的外部随机值", rules=("A12.1",)),
            F("objects_register", "list", "检查对象名录", rules=("A12.1",)),
            F("officers_register", "list", "执法人员名录", rules=("A12.1",)),
            F("objects_register_sha256", "string", "检查对象名录哈希", rules=("A12.1",)),
            F("officers_register_sha256", "string", "执法人员名录哈希", rules=("A12.1",)),
            F("objects_count", "int", "抽取对象数", rules=("A12.1",), minimum=1),
            F("officers_count", "int", "抽取执法人员数", rules=("A12.1", "A14.1"), minimum=2),
            F("seed", "string", "随机种子", rules=("A12.1",)),
            F("algorithm", "string", "抽取算法", rules=("A12.1",)),
            F("drawn_objects", "list", "抽中的检查对象", rules=("A12.1",)),
            F("drawn_officers", "list", "抽中的执法人员", rules=("A12.1",)),
            F("recused_officers", "list", "回避的执法人员", required=False,
              rules=("A12.1", "A14.1")),
            F("recusal_reasons", "list", "回避理由", required=False, rules=("A12.1", "A14.1")),
            F("replacement_officers", "list", "重新抽取的执法人员", required=False,
              rules=("A12.1", "A14.1")),
        ),
        ("A12.1",), routes=("inspection",), system_only=True,
    ),
    # ---- Investigation (A13–A17) --------------------------------------------------------
    RecordType(
        "inquiry_record", "询问笔录", "Inquiry record",
        "investigation",
        (
            F("interviewee_name", "string", "被询问人", rules=("A13.1",)),
            F("interviewee_id_number", "string", "被询问人身份证号", required=False,
              rules=("A13.1",)),
            F("interviewee_role", "enum", "被询问人身份", rules=("A13.1",),
              choices=("party", "witness", "other")),
            F("place", "string", "询问地点", rules=("A13.1",)),
            F("started_at", "datetime", "询问开始时间", rules=("A13.1",)),
            F("ended_at", "datetime", "询问结束时间", rules=("A13.1",)),
            F("content", "text", "询问内容（问答）", rules=("A13.1",), max_length=20000),
            *A14_FIELDS, OFFICER_CERTS,
        ),
        ("A13.1", "A14.1"), signers=("officer", "interviewee"), field_record=True,
        investigation=True,
    ),
    RecordType(
        "evidence_retrieval_notice", "调取证据通知书", "Evidence retrieval notice",
        "investigation",
        (
            F("holder", "string", "被调取单位或个人", rules=("A13.1",)),
            F("evidence_items", "list", "调取的证据", rules=("A13.1",)),
            F("legal_basis", "text", "依据", rules=("A13.1",)),
            F("provide_by", "date", "提供期限", rules=("A13.1",)),
        ),
        ("A13.1",), signers=("officer", "holder"), investigation=True,
    ),
    RecordType(
        "evidence_preservation_list", "证据登记保存清单",
        "Evidence registration and preservation list",
        "investigation",
        (
            F("holder", "string", "证据持有人", rules=("A13.1", "A16.1")),
            F("items", "list", "物品名称、规格、数量", rules=("A13.1", "A16.1")),
            F("place_kept", "string", "保存地点", rules=("A13.1", "A16.1")),
            F("preservation_id", "string", "对应的证据保全记录", required=False,
              rules=("A16.1",)),
            OFFICER_CERTS,
        ),
        ("A13.1", "A16.1"), signers=("officer", "holder"), field_record=True,
        investigation=True,
    ),
    RecordType(
        "onsite_inspection_record", "现场检查(勘验)笔录", "On-site inspection (survey) record",
        "investigation",
        (
            F("inspection_kind", "enum", "检查或勘验", rules=("A13.1",),
              choices=("inspection", "survey")),
            F("place", "string", "检查地点", rules=("A13.1",)),
            F("persons_present", "text", "在场人员", rules=("A13.1",)),
            F("situation", "text", "检查(勘验)情况", rules=("A13.1",), max_length=20000),
            F("measures", "text", "采取的措施", required=False, rules=("A13.1",)),
            *A14_FIELDS, OFFICER_CERTS, _av_reason("A15.1", "A12.1"),
        ),
        ("A13.1", "A14.1", "A15.1", "A12.1"), signers=("officer", "party"),
        field_record=True, av_required=True, av_rule="A15.1", investigation=True,
        av_shows_zh="现场境况、在场人员、涉案物品、检查过程",
    ),
    RecordType(
        "sampling_notice", "抽样取证通知书", "Sampling notice",
        "investigation",
        (
            F("holder", "string", "被抽样单位或个人", rules=("A13.1",)),
            F("sampling_basis", "text", "抽样依据", rules=("A13.1",)),
            F("place", "string", "抽样地点", rules=("A13.1",)),
            F("items_summary", "text", "抽样物品概况", rules=("A13.1",)),
            *A14_FIELDS, OFFICER_CERTS, _av_reason("A15.1"),
        ),
        ("A13.1", "A14.1", "A15.1"), signers=("officer", "holder"), field_record=True,
        av_required=True, av_rule="A15.1", investigation=True,
        av_shows_zh="抽样过程、样品及封样",
    ),
    RecordType(
        "sampling_item_list", "抽样物品清单", "Sampled item list",
        "investigation",
        (
            F("sampling_notice_id", "string", "对应的抽样取证通知书", rules=("A13.1",)),
            F("items", "list", "样品名称、规格、数量", rules=("A13.1",)),
            F("sealed", "bool", "是否封样", rules=("A13.1",)),
            F("place_kept", "string", "样品保存地点", required=False, rules=("A13.1",)),
        ),
        ("A13.1",), signers=("officer", "holder"), investigation=True,
    ),
    RecordType(
        "appraisal_opinion", "鉴定意见书", "Appraisal opinion",
        "investigation",
        (
            F("institution", "string", "鉴定机构", rules=("A13.1",)),
            F("qualification_no", "string", "鉴定资质证号", rules=("A13.1",)),
            F("subject", "text", "鉴定事项", rules=("A13.1",)),
            F("opinion", "text", "鉴定意见", rules=("A13.1",), max_length=20000),
            F("appraisers", "list", "鉴定人", rules=("A13.1",)),
            F("issued_on", "date", "出具日期", rules=("A13.1",)),
        ),
        ("A13.1",), signers=("appraiser",), investigation=True,
    ),
    RecordType(
        "material_review", "申请材料审查记录", "Review of application materials",
        "investigation",
        (
            F("materials_reviewed", "list", "审查的材料", rules=("A13.1",)),
            F("findings", "text", "审查情况", rules=("A13.1",)),
            F("conclusion", "enum", "审查结论", rules=("A13.1",),
              choices=("meets_requirements", "does_not_meet", "needs_verification")),
        ),
        ("A13.1",), signers=("officer",), investigation=True,
    ),
    RecordType(
        "evidence_preservation", "证据保全记录", "Evidence preservation",
        "investigation",
        (
            F("reason", "text", "证据保全的启动理由", rules=("A16.1",)),
            F("object", "text", "证据保全的具体标的", rules=("A16.1",)),
            F("form", "enum", "证据保全的形式", rules=("A16.1",),
              choices=("registration_preservation", "copy", "av", "appraisal", "survey",
                       "inquiry")),
            F("officer_opinion", "text", "承办人意见", required=False, rules=("A16.1",)),
        ),
        ("A16.1", "N6"), signers=("officer",), approval_chain=HEAD_CHAIN, investigation=True,
    ),
    RecordType(
        "preservation_decision", "先行登记保存物品处理决定", "Decision on preserved evidence",
        "investigation",
        (
            F("preservation_id", "string", "对应的证据保全记录", rules=("A16.1", "N6")),
            F("handling", "enum", "处理方式", rules=("A16.1", "N6"),
              choices=("return", "seize", "confiscate", "transfer", "appraisal")),
            F("reason", "text", "理由", rules=("A16.1", "N6")),
        ),
        ("A16.1", "N6"), signers=("officer",),
    ),
    RecordType(
        "av_interruption", "音像记录中断说明", "AV recording interruption",
        "investigation",
        (
            F("evidence_id", "string", "中断的音像记录", required=False, rules=("A17.2",)),
            F("reason", "enum", "中断原因", rules=("A17.2",),
              choices=("device_fault", "weather", "battery", "storage", "other")),
            F("reason_detail", "text", "中断原因说明", required=False, rules=("A17.2",)),
            F("interrupted_at", "datetime", "中断时间", rules=("A17.2",)),
            F("can_continue", "bool", "能否继续记录", rules=("A17.2",)),
            # Known only when the recording restarts: recorded then by correcting this record
            # (core.cases.recordings); until then the checklist shows the interruption open.
            F("resumed_at", "datetime", "恢复记录时间", required=False, rules=("A17.2",)),
            F("voice_explained", "bool", "恢复时已语音说明中断原因", required=False,
              rules=("A17.2",)),
            F("reported_to_head_at", "datetime", "向负责人报告时间", required=False,
              rules=("A17.2",), required_if=("can_continue", False)),
        ),
        ("A17.2",), signers=("officer",), any_stage=True,
    ),
    RecordType(
        "interruption_explanation", "音像记录中断书面说明",
        "Written explanation of an interruption",
        "investigation",
        (
            F("interruption_id", "string", "对应的中断说明", rules=("A17.2",)),
            F("explanation", "text", "情况说明", rules=("A17.2",)),
        ),
        ("A17.2",), signers=("officer",), any_stage=True,
    ),
    # ---- Decision (A18–A22) ---------------------------------------------------------------
    RecordType(
        "handling_opinion", "案件处理意见书（审批表）", "Handling opinion",
        "decision",
        (
            F("party", "text", "当事人情况", rules=("A19.1",)),
            F("evidence_adopted", "text", "证据采信", rules=("A19.1",)),
            F("facts_found", "text", "事实认定", rules=("A19.1",)),
            F("legal_basis", "text", "法律依据", rules=("A19.1",)),
            F("reasons", "text", "适用理由", rules=("A19.1",)),
            F("proposed_decision", "text", "拟决定的内容", rules=("A19.1",)),
            F("discretion_reasons", "text", "裁量的理由", rules=("A19.1",)),
            F("officer_opinion", "text", "承办人意见", rules=("A19.1", "A18.1")),
            F("expert_review_required", "bool", "是否需要专家论证", rules=("A20.1",)),
            F("legal_review_required", "bool", "是否需要法制审核", rules=("A21.1",)),
            *N28_FIELDS,
        ),
        ("A18.1", "A19.1"), approval_chain=DECISION_CHAIN,
    ),
    RecordType(
        "expert_opinion", "专家论证意见", "Expert opinion",
        "decision",
        (
            F("experts", "list", "论证专家", rules=("A20.1",)),
            F("content", "text", "专家意见的内容", rules=("A20.1",), max_length=20000),
            F("opinion_date", "date", "论证日期", rules=("A20.1",)),
        ),
        ("A20.1",), signers=("expert",),
    ),
    RecordType(
        "legal_review", "法制审核意见", "Legal review",
        "decision",
        (
            F("reviewers", "list", "法制审核人员", rules=("A21.1",)),
            F("opinion", "text", "审核意见", rules=("A21.1",), max_length=20000),
            F("conclusion", "enum", "审核结论", rules=("A21.1",),
              choices=("agree", "revise", "disagree")),
        ),
        ("A21.1",), author_roles=("legal_reviewer",),
    ),
    RecordType(
        "rights_notice", "陈述申辩权利告知书", "Notice of the right to state and defend",
        "decision",
        (
            F("proposed_decision", "text", "拟作出的行政决定", rules=("A22.1",)),
            F("facts", "text", "事实证据", rules=("A22.1",)),
            F("reasons", "text", "理由", rules=("A22.1",)),
            F("legal_basis", "text", "规范依据", rules=("A22.1",)),
            F("how_to_respond", "text", "陈述、申辩的途径", rules=("A22.1",)),
            F("response_period_working_days", "int", "陈述、申辩的期限（工作日）",
              rules=("A22.1", "N10"), minimum=1),
            F("hearing_right", "bool", "是否告知听证权利", rules=("A22.1", "N4")),
            *HEARING_FIELDS,
        ),
        ("A22.1",), served=True,
    ),
    RecordType(
        "statement_defence", "陈述申辩笔录", "Statement and defence record",
        "decision",
        (
            F("statement", "text", "陈述内容", rules=("A22.1", "A13.1"), max_length=20000),
            F("defence_points", "text", "申辩意见", required=False, rules=("A22.1",)),
            F("review_opinion", "text", "对陈述申辩的复核意见", required=False,
              rules=("A22.1",)),
            *A14_FIELDS, OFFICER_CERTS,
        ),
        ("A13.1", "A22.1", "A14.1"), signers=("officer", "party"), field_record=True,
    ),
    RecordType(
        "statement_waiver", "放弃陈述申辩记录", "Waiver of statement and defence",
        "decision",
        (
            F("waiver_statement", "text", "当事人放弃陈述申辩的表示", rules=("A22.3",)),
            F("evidence_kept", "text", "收存的相关证据", rules=("A22.3",)),
        ),
        ("A22.3",), signers=("party",),
    ),
    RecordType(
        "hearing_request", "听证申请", "Hearing request",
        "decision",
        (
            F("requested_by", "string", "申请人", rules=("A13.1", "N4")),
            F("requested_at", "datetime", "申请时间", rules=("N4",)),
            F("form", "enum", "申请方式", rules=("N4",), choices=("written", "oral")),
        ),
        ("A13.1", "N4"), signers=("party",),
    ),
    RecordType(
        "hearing_waiver", "放弃听证记录", "Waiver of the hearing",
        "decision",
        (F("statement", "text", "当事人放弃听证的表示", rules=("N4",)),),
        ("N4",), signers=("party",),
    ),
    RecordType(
        "hearing_notice", "听证通知书", "Hearing notice",
        "decision",
        (
            F("hearing_at", "datetime", "听证时间", rules=("A13.1", "N5")),
            F("place", "string", "听证地点", rules=("A13.1",)),
            F("host", "string", "听证主持人", rules=("A13.1",)),
            F("public", "bool", "是否公开举行", rules=("A13.1",)),
        ),
        ("A13.1", "N5"), served=True,
    ),
    RecordType(
        "hearing_record", "听证笔录", "Hearing record",
        "decision",
        (
            F("host", "string", "听证主持人", rules=("A13.1",)),
            F("recorder", "string", "记录人", rules=("A13.1",)),
            F("participants", "list", "听证参加人", rules=("A13.1",)),
            F("investigators_statement", "text", "调查人员提出的事实、证据和处理建议",
              rules=("A13.1",), max_length=20000),
            F("party_statement", "text", "当事人的陈述、申辩和质证", rules=("A13.1",),
              max_length=20000),
            F("final_statement", "text", "当事人最后陈述", rules=("A13.1",)),
            *A14_FIELDS, OFFICER_CERTS, _av_reason("A15.1"),
        ),
        ("A13.1", "A14.1", "A15.1"), signers=("officer", "party"), field_record=True,
        av_required=True, av_rule="A15.1", av_shows_zh="听证全过程",
    ),
    RecordType(
        "hearing_report", "听证报告", "Hearing report",
        "decision",
        (
            F("host", "string", "听证主持人", rules=("A4.1", "A13.1")),
            F("summary", "text", "听证情况", rules=("A13.1",)),
            F("opinion", "text", "处理意见和建议", rules=("A13.1",)),
        ),
        ("A4.1", "A13.1"), signers=("officer",),
    ),
    RecordType(
        "decision", "行政执法决定书", "Enforcement decision",
        "decision",
        (
            F("content", "text", "决定内容", rules=("A18.1",), max_length=20000),
            F("facts", "text", "认定的事实和证据", rules=("A18.1",)),
            F("legal_basis", "text", "法律依据", rules=("A18.1",)),
            F("remedy", "text", "申请行政复议或者提起行政诉讼的途径和期限", rules=("A18.1",)),
            F("obligation", "bool", "是否为当事人设定须履行的义务", rules=("A29.1",)),
            F("performance_deadline", "date", "履行期限", required=False, rules=("A29.1",),
              required_if=("obligation", True)),
            F("fine_amount_yuan", "int", "罚款金额（元）", required=False, rules=("N9",),
              minimum=1),
            F("correction_ordered", "bool", "是否责令改正", rules=("A29.1",)),
            F("correction_period_days", "int", "改正期限（日）", required=False,
              rules=("A29.1",), minimum=1, required_if=("correction_ordered", True)),
            F("review_period_days", "int", "申请行政复议期限（日，默认60）", required=False,
              rules=("N15",), minimum=1),
            F("litigation_period_months", "int", "提起行政诉讼期限（月，默认6）",
              required=False, rules=("N15",), minimum=1),
            F("social_impact", "bool", "具有一定社会影响、应当公开", required=False,
              rules=("N31",)),
            *DECISION_END_FIELDS,
        ),
        ("A18.1",), served=True,
    ),
    # ---- Service of documents (A23–A28) -----------------------------------------------------
    RecordType(
        "service_address_confirmation", "送达地址确认书", "Service address confirmation",
        "service",
        (
            F("address", "string", "送达地址", rules=("A23.1",)),
            F("phone", "string", "联系电话", required=False, rules=("A23.1",)),
            F("consents_electronic", "bool", "同意电子送达", rules=("A23.1",)),
            F("electronic_channel", "enum", "电子送达方式", required=False, rules=("A23.1",),
              choices=("email", "sms", "platform", "fax"),
              required_if=("consents_electronic", True)),
            F("electronic_address", "string", "电子送达地址", required=False, rules=("A23.1",),
              required_if=("consents_electronic", True)),
        ),
        ("A23.1",), signers=("party",), any_stage=True,
    ),
    RecordType(
        "service_direct", "送达回证（直接送达）", "Direct service",
        "service",
        (
            _doc("A23.1", "A24.1"),
            F("recipient", "string", "受送达人", rules=("A24.1",)),
            F("signed_by", "string", "签收人", rules=("A24.1",)),
            F("signer_relation", "enum", "签收人身份", rules=("A24.1",),
              choices=("self", "legal_representative", "agent", "adult_family_member",
                       "designated_recipient", "staff_member")),
            F("place", "string", "送达地点", rules=("A24.1",)),
            *SERVED_FIELDS,
        ),
        ("A23.1", "A24.1"), signers=("server", "recipient"), sign_rule="A24.1",
        any_stage=True, service_method="direct",
    ),
    RecordType(
        "service_postal", "邮寄送达记录", "Postal service",
        "service",
        (
            _doc("A23.1", "A25.1"),
            F("recipient", "string", "受送达人", rules=("A25.1",)),
            F("address", "string", "邮寄地址", rules=("A25.1",)),
            F("carrier", "enum", "邮寄方式", rules=("A25.1",),
              choices=("registered_mail", "ems")),
            F("tracking_number", "string", "挂号信或特快专递单号", rules=("A25.1",)),
            *SERVED_FIELDS,
        ),
        ("A23.1", "A25.1"), signers=("server",), any_stage=True, service_method="postal",
        av_required=True, av_rule="A25.1", av_waivable=False, av_media=("image/",),
        av_shows_zh="邮寄登记及付邮凭证",
    ),
    RecordType(
        "service_postal_return", "邮寄送达回执", "Postal return receipt",
        "service",
        (
            F("service_id", "string", "对应的邮寄送达记录", rules=("A25.1", "N19")),
            F("receipt_date", "date", "回执上注明的收件日期", rules=("A25.1", "N19")),
            F("received_by", "string", "回执签收人", rules=("A25.1",)),
            *SERVED_FIELDS,
        ),
        ("A25.1", "N19"), any_stage=True, service_method="postal",
        av_required=True, av_rule="A25.1", av_waivable=False, av_media=("image/",),
        av_shows_zh="邮寄回执",
    ),
    RecordType(
        "service_lodged", "送达回证（留置送达）", "Lodged service",
        "service",
        (
            _doc("A23.1", "A26.1"),
            F("recipient", "string", "受送达人", rules=("A26.1",)),
            F("reason", "text", "留置事由", rules=("A26.1",)),
            F("place", "string", "留置地点", rules=("A26.1",)),
            F("witness_name", "string", "见证人", rules=("A26.1", "N20")),
            F("witness_id_number", "string", "见证人身份证号", required=False,
              rules=("A26.1",)),
            *SERVED_FIELDS,
        ),
        ("A23.1", "A26.1", "N20"), signers=("server", "witness"), sign_rule="A26.1",
        any_stage=True, service_method="lodged", av_required=True, av_rule="A26.1",
        av_waivable=False, av_media=("video/", "image/"), av_shows_zh="留置送达的过程",
    ),
    RecordType(
        "service_entrusted", "送达回证（委托送达）", "Entrusted service",
        "service",
        (
            _doc("A23.1", "A27.1"),
            F("recipient", "string", "受送达人", rules=("A27.1",)),
            F("reason", "text", "委托的原因", rules=("A27.1",)),
            F("entrusted_to", "string", "受委托机关", rules=("A27.1",)),
            *SERVED_FIELDS,
        ),
        ("A23.1", "A27.1"), signers=("server", "recipient"), sign_rule="A27.1",
        any_stage=True, service_method="entrusted",
    ),
    RecordType(
        "service_forwarded", "送达回证（转交送达）", "Forwarded service",
        "service",
        (
            _doc("A23.1", "A27.1"),
            F("recipient", "string", "受送达人", rules=("A27.1",)),
            F("reason", "text", "转交的原因", rules=("A27.1",)),
            F("forwarded_via", "string", "转交机关（部队、监所等）", rules=("A27.1",)),
            *SERVED_FIELDS,
        ),
        ("A23.1", "A27.1"), signers=("server", "recipient"), sign_rule="A27.1",
        any_stage=True, service_method="forwarded",
    ),
    RecordType(
        "service_electronic", "电子送达记录", "Electronic service",
        "service",
        (
            _doc("A23.1",),
            F("recipient", "string", "受送达人", rules=("A23.1",)),
            F("consent_id", "string", "当事人同意电子送达的送达地址确认书", rules=("A23.1",)),
            F("channel", "enum", "电子送达方式", rules=("A23.1",),
              choices=("email", "sms", "platform", "fax")),
            F("address", "string", "电子送达地址", rules=("A23.1",)),
            F("delivered_at", "datetime", "到达受送达人特定系统的时间", rules=("A23.1",)),
            *SERVED_FIELDS,
        ),
        ("A23.1",), signers=("server",), any_stage=True, service_method="electronic",
    ),
    RecordType(
        "service_attempt_failed", "送达未果记录", "Failed service attempt",
        "service",
        (
            _doc("A28.1",),
            F("method", "enum", "尝试的送达方式", rules=("A28.1",),
              choices=("direct", "postal", "lodged", "entrusted", "forwarded", "electronic")),
            F("reason", "text", "无法送达的原因", rules=("A28.1",)),
            # A28.1, N20: a refusal is not a failure; the document is then lodged (留置).
            F("outcome", "enum", "未果情形", required=False, rules=("A28.1", "N20"),
              choices=("not_found", "address_wrong", "returned_by_post", "not_delivered",
                       "refused")),
        ),
        ("A28.1",), signers=("server",), any_stage=True,
    ),
    RecordType(
        "service_announcement", "公告送达记录", "Service by public announcement",
        "service",
        (
            _doc("A23.1", "A28.1"),
            F("recipient", "string", "受送达人", rules=("A28.1",)),
            F("medium", "enum", "公告方式和载体", rules=("A28.1",),
              choices=("bulletin_board", "residence_posting", "newspaper", "website")),
            F("announcement_text", "text", "公告内容", rules=("A28.1",), max_length=20000),
            F("failed_attempts", "list", "此前无法送达的记录", required=False,
              rules=("A28.1",), auto=True),
            _av_reason("A28.1"),
            *SERVED_FIELDS,
        ),
        ("A23.1", "A28.1", "N18"), signers=("server",), any_stage=True,
        service_method="announcement", av_required=True, av_rule="A28.1",
        av_shows_zh="公告张贴或刊登情况",
    ),
    # ---- Execution (A29–A30) ---------------------------------------------------------------
    RecordType(
        "compliance_record", "履行情况记录", "Compliance record",
        "service",
        (
            F("decision_id", "string", "对应的决定", rules=("A29.1",)),
            F("status", "enum", "履行情况", rules=("A29.1",),
              choices=("complied", "partly_complied", "not_complied")),
            F("details", "text", "履行情况说明", rules=("A29.1",)),
            F("fine_paid", "bool", "罚款是否已缴纳", required=False, rules=("A29.1", "N9")),
        ),
        ("A29.1",), signers=("officer",),
    ),
    RecordType(
        "correction_check", "责令改正核查记录", "Check of an ordered correction",
        "service",
        (
            F("decision_id", "string", "对应的决定", rules=("A29.1",)),
            F("result", "enum", "核查结果", rules=("A29.1",),
              choices=("corrected", "not_corrected")),
            F("findings", "text", "核查情况", rules=("A29.1",)),
            *A14_FIELDS, OFFICER_CERTS,
        ),
        ("A29.1", "A14.1"), signers=("officer", "party"), field_record=True,
    ),
    RecordType(
        "demand_notice", "催告书", "Demand notice",
        "service",
        (
            F("decision_id", "string", "对应的决定", rules=("A30.1",)),
            F("obligation", "text", "履行义务的内容", rules=("A30.1",)),
            F("performance_deadline", "date", "履行期限", rules=("A30.1",)),
            F("performance_method", "text", "履行方式", rules=("A30.1",)),
            F("amount_yuan", "int", "涉及金钱给付的金额（元）", required=False,
              rules=("A30.1",), minimum=1),
            F("statement_rights", "text", "当事人依法享有的陈述权和申辩权", rules=("A30.1",)),
            F("early_warning", "text", "提示", required=False, rules=("N15", "N32"), auto=True),
        ),
        ("A30.1", "N14"), served=True,
    ),
    RecordType(
        "demand_response", "催告后当事人陈述申辩记录", "Party's response to the demand",
        "service",
        (
            F("demand_id", "string", "对应的催告书", rules=("A30.1",)),
            F("responded", "bool", "当事人是否陈述申辩", rules=("A30.1",)),
            F("content", "text", "陈述申辩内容", required=False, rules=("A30.1",),
              required_if=("responded", True)),
            F("review_opinion", "text", "复核意见", required=False, rules=("A30.1",),
              required_if=("responded", True)),
        ),
        ("A30.1",), signers=("officer",),
    ),
    RecordType(
        "court_application", "强制执行申请书", "Application to the court for enforcement",
        "service",
        (
            F("decision_id", "string", "申请执行的决定", rules=("A30.1", "N15")),
            F("court", "string", "受理法院", rules=("A30.1",)),
            F("materials", "list", "提交的材料", rules=("A30.1",)),
            F("officer_opinion", "text", "承办人意见", rules=("A30.1",)),
        ),
        ("A30.1", "N14", "N15"), signers=("officer",), approval_chain=HEAD_CHAIN,
    ),
    RecordType(
        "court_acceptance", "法院受理情况", "Court acceptance",
        "service",
        (
            F("application_id", "string", "对应的强制执行申请", rules=("A30.1",)),
            F("accepted", "bool", "是否受理", rules=("A30.1",)),
            F("court_case_no", "string", "法院案号", required=False, rules=("A30.1",),
              required_if=("accepted", True)),
            F("decided_on", "date", "受理（不予受理）日期", rules=("A30.1",)),
        ),
        ("A30.1",), signers=("officer",),
    ),
    RecordType(
        "court_result", "强制执行结果", "Result of court enforcement",
        "service",
        (
            F("application_id", "string", "对应的强制执行申请", rules=("A30.1",)),
            F("ruling", "enum", "法院裁定", rules=("A30.1",),
              choices=("enforcement_granted", "enforcement_refused")),
            F("result", "text", "强制执行结果", rules=("A30.1",)),
            F("concluded_on", "date", "执行完毕日期", rules=("A30.1",)),
        ),
        ("A30.1",), signers=("officer",),
    ),
    *LEGAL_END_TYPES,
)


# ---- legal-b: coercive measures, agency enforcement, summary procedure, leads, publication,
# whereabouts (issue 10 items 2, 3, 8, 12, 14). Their checks live in core.cases.coercion and
# core.cases.procedures; one block here so the catalogue stays one declaration per type.
COERCION = ("coercion",)
MEASURES = ("seal_up", "impound")  # 查封、扣押 (行政强制法 Art. 9)


def _measure_ref(*rules: str) -> Field:
    return F("measure_id", "string", "对应的强制措施现场笔录", rules=rules or ("N13",))


CATALOGUE += (
    RecordType(
        # 行政强制法 Art. 18(1): reported to the head and approved before the measure; in an
        # emergency (Art. 19) within 24 hours after it, naming the measure (N12).
        "coercive_measure_approval", "实施行政强制措施审批表", "Approval of a coercive measure",
        "investigation",
        (
            F("measure", "enum", "强制措施种类", rules=("N12", "N13"), choices=MEASURES),
            F("reasons", "text", "实施的理由和依据", rules=("N12",)),
            F("objects", "list", "查封、扣押的场所、设施或者财物", rules=("N13",)),
            F("measure_id", "string", "当场实施的强制措施（紧急情况事后补办批准）",
              required=False, rules=("N12",)),
            F("officer_opinion", "text", "承办人意见", rules=("N12",)),
        ),
        ("N12",), signers=("officer",), kinds=COERCION, approval_chain=HEAD_CHAIN,
        any_stage=True,
    ),
    RecordType(
        # 行政强制法 Art. 18: ≥2 officers, certificates shown, party told reasons, basis, rights
        # and remedies, statement heard, party or (absent) a witness signs; Art. 19 emergency.
        "coercive_measure_record", "实施行政强制措施现场笔录",
        "On-the-spot record of a coercive measure",
        "investigation",
        (
            F("measure", "enum", "强制措施种类", rules=("N13",), choices=MEASURES),
            F("emergency", "bool", "情况紧急、当场实施", rules=("N12",)),
            F("approval_id", "string", "经负责人批准的审批表", required=False, rules=("N12",),
              required_if=("emergency", False)),
            F("applied_at", "datetime", "实施时间", rules=("N12", "N13")),
            F("place", "string", "实施地点", rules=("N13",)),
            F("objects", "list", "查封、扣押的场所、设施或者财物", rules=("N13",)),
            F("certificates_shown", "bool", "已出示执法身份证件", rules=("A14.1",)),
            F("party_present", "bool", "当事人到场", rules=("N13",)),
            F("witness_name", "string", "见证人（当事人不到场）", required=False,
              rules=("N13",), required_if=("party_present", False)),
            F("reasons_told", "bool", "已当场告知采取强制措施的理由、依据", rules=("N13",)),
            F("rights_told", "bool", "已告知当事人依法享有的权利、救济途径", rules=("N13",)),
            F("statement", "text", "当事人的陈述和申辩", rules=("N13",)),
            # Art. 24: the decision and list are handed over within this record's time span.
            F("site_ended_at", "datetime", "现场笔录结束时间", required=False, rules=("N13",)),
            OFFICER_CERTS,
        ),
        ("N12", "N13", "A14.1"), signers=("officer", "party"), field_record=True,
        kinds=COERCION, any_stage=True, investigation=True,
    ),
    RecordType(
        "seizure_decision", "查封、扣押决定书", "Seal-up or impoundment decision",
        "investigation",
        (
            _measure_ref(),
            F("reasons_and_basis", "text", "查封、扣押的理由、依据", rules=("N13",)),
            F("objects", "list", "查封、扣押场所、设施或者财物的名称、数量", rules=("N13",)),
            F("period_days", "int", "查封、扣押的期限（日）", rules=("N13",), minimum=1),
            F("remedy", "text", "申请行政复议或者提起行政诉讼的途径和期限", rules=("N13",)),
            F("not_on_spot_reason", "text", "未能当场交付的理由", required=False,
              rules=("N13",)),
        ),
        ("N13",), signers=("officer",), kinds=COERCION, any_stage=True, served=True,
    ),
    RecordType(
        "seizure_list", "查封、扣押清单", "List of what was sealed up or impounded",
        "investigation",
        (
            _measure_ref(),
            F("objects", "list", "财物名称、规格、数量", rules=("N13",)),
            F("kept_at", "string", "保管地点", rules=("N13",)),
            F("not_on_spot_reason", "text", "未能当场交付的理由", required=False,
              rules=("N13",)),
        ),
        ("N13",), signers=("officer", "party"), kinds=COERCION, any_stage=True,
    ),
    RecordType(
        # Art. 25(1)(2): one extension of at most 30 days, the head's approval, the party told
        # in writing with the reason (served).
        "seizure_extension", "延长查封、扣押期限决定", "Extension of a seal-up or impoundment",
        "investigation",
        (
            _measure_ref(),
            F("reason", "text", "延长的理由（情况复杂）", rules=("N13",)),
            F("extension_days", "int", "延长的期限（日）", rules=("N13",), minimum=1),
            F("officer_opinion", "text", "承办人意见", rules=("N13",)),
        ),
        ("N13",), signers=("officer",), kinds=COERCION, any_stage=True, served=True,
        approval_chain=HEAD_CHAIN,
    ),
    RecordType(
        # Art. 25(3): testing, inspection, quarantine or appraisal time is not counted; the
        # period is stated and the party told in writing.
        "seizure_testing", "检测、检验、检疫或者技术鉴定期间告知", "Testing period of seized goods",
        "investigation",
        (
            _measure_ref(),
            F("testing_kind", "enum", "种类", rules=("N13",),
              choices=("testing", "inspection", "quarantine", "appraisal")),
            F("institution", "string", "检测或鉴定机构", rules=("N13",)),
            F("started_on", "date", "开始日期", rules=("N13",)),
            F("ended_on", "date", "结束日期", rules=("N13",)),
            F("party_told", "bool", "已书面告知当事人", rules=("N13",)),
        ),
        ("N13",), signers=("officer",), kinds=COERCION, any_stage=True,
    ),
    RecordType(
        "seizure_handling_decision", "查封、扣押财物处理决定",
        "Decision on sealed-up goods (Art. 27)",
        "decision",
        (
            _measure_ref(),
            F("handling", "enum", "处理方式", rules=("N13",), choices=("confiscate", "destroy")),
            F("reasons", "text", "理由和依据", rules=("N13",)),
        ),
        ("N13",), signers=("officer",), kinds=COERCION, any_stage=True, served=True,
    ),
    RecordType(
        "seizure_release_decision", "解除查封、扣押决定书", "Release of a seal-up or impoundment",
        "decision",
        (
            _measure_ref(),
            F("release_reason", "enum", "解除的事由（行政强制法第二十八条）", rules=("N13",),
              choices=("no_violation", "unrelated", "no_longer_needed", "period_expired",
                       "not_approved", "other")),
            F("reason_detail", "text", "说明", rules=("N13",)),
            F("objects_returned", "list", "退还的财物", rules=("N13",)),
        ),
        ("N13",), signers=("officer",), kinds=COERCION, any_stage=True, served=True,
    ),
    RecordType(
        # 行政强制法 Art. 37–38: the enforcement decision, served directly first (N26).
        "enforcement_decision", "行政强制执行决定书", "Agency enforcement decision",
        "service",
        (
            F("decision_id", "string", "强制执行的行政决定", rules=("A30.1",)),
            F("demand_id", "string", "此前送达的催告书", rules=("A30.1", "N26")),
            F("method", "enum", "强制执行方式", rules=("N27",),
              choices=("direct_enforcement", "substitute_performance")),
            F("legal_basis", "text", "法律授权的依据", rules=("N27",)),
            F("remedy", "text", "申请行政复议或者提起行政诉讼的途径和期限", rules=("N26",)),
        ),
        ("N26", "N27"), signers=("officer",), any_stage=True, served=True,
    ),
    RecordType(
        # 行政强制法 Art. 51: 代履行决定书 served first; the party is urged again 3 days before.
        "substitute_performance_decision", "代履行决定书", "Substitute performance decision",
        "service",
        (
            F("decision_id", "string", "代履行的行政决定", rules=("N27",)),
            F("performer", "string", "代履行人", rules=("N27",)),
            F("obligation", "text", "代履行的标的", rules=("N27",)),
            F("cost_estimate_yuan", "int", "代履行费用预算（元）", rules=("N27",), minimum=0),
            F("performance_at", "datetime", "代履行时间", rules=("N27",)),
        ),
        ("N27",), signers=("officer",), any_stage=True, served=True,
    ),
    RecordType(
        "enforcement_execution", "强制执行（代履行）现场记录", "Agency enforcement carried out",
        "service",
        (
            F("enforcement_decision_id", "string", "行政强制执行决定书", rules=("N26", "N27")),
            F("substitute_decision_id", "string", "代履行决定书", required=False,
              rules=("N27",)),
            F("demand_id", "string", "代履行前的催告", required=False, rules=("N27",)),
            F("started_at", "datetime", "开始时间", rules=("N27",)),
            F("ended_at", "datetime", "结束时间", rules=("N27",)),
            F("emergency", "bool", "情况紧急", rules=("N27",)),
            F("emergency_reason", "text", "紧急情况说明", required=False, rules=("N27",),
              required_if=("emergency", True)),
            F("result", "text", "执行情况", rules=("N27",)),
            OFFICER_CERTS,
        ),
        ("N27",), signers=("officer", "party"), field_record=True, any_stage=True,
    ),
    RecordType(
        # N25, 行政处罚法 Art. 51–52: decided on the spot, numbered, handed over, the refusal to
        # sign noted on the decision itself; reported to the agency afterwards.
        "summary_decision", "当场行政处罚决定书（简易程序）", "On-the-spot penalty decision",
        "decision",
        (
            F("decision_no", "string", "预定格式、编有号码的决定书编号", rules=("N25",)),
            F("party_kind", "enum", "当事人类别", rules=("N25",),
              choices=("person", "organisation")),
            F("facts", "text", "违法行为", rules=("N25",)),
            F("legal_basis", "text", "行政处罚依据", rules=("N25",)),
            F("penalty", "enum", "处罚种类", rules=("N25",), choices=("warning", "fine")),
            F("fine_amount_yuan", "int", "罚款数额（元）", required=False, rules=("N25",),
              minimum=1, required_if=("penalty", "fine")),
            F("place", "string", "时间、地点", rules=("N25",)),
            F("certificates_shown", "bool", "已出示执法证件", rules=("N25", "A14.1")),
            F("statement_heard", "text", "当事人的陈述、申辩及复核", rules=("N25",)),
            F("remedy", "text", "申请行政复议、提起行政诉讼的途径和期限", rules=("N25",)),
            F("handed_over", "bool", "已当场交付当事人", rules=("N25",)),
            OFFICER_CERTS,
        ),
        ("N25",), signers=("officer", "party"), kinds=("penalty",), field_record=True,
        any_stage=True,
    ),
    RecordType(
        "summary_report", "当场处罚决定备案", "Report of an on-the-spot penalty to the agency",
        "decision",
        (
            F("decision_id", "string", "当场作出的处罚决定书", rules=("N25",)),
            F("reported_to", "string", "备案机关（所属行政机关）", rules=("N25",)),
        ),
        ("N25",), signers=("officer",), kinds=("penalty",), any_stage=True,
    ),
    RecordType(
        # N23: a lead (report, referral, inspection finding) opens the pre-filing check.
        "lead_intake", "案源登记表", "Lead registered",
        "initiation",
        (
            F("source", "enum", "案源", rules=("N23",),
              choices=("report", "referral", "inspection_finding", "other")),
            F("received_at", "datetime", "发现或收到时间", rules=("N23",)),
            F("content", "text", "案源内容", rules=("N23",)),
        ),
        ("N23",), signers=("officer",), any_stage=True,
    ),
    RecordType(
        # N23: the pre-filing check ends in a filing decision: the approved filing form, a
        # complaint decision, or this record (no case / transfer). Extension: 10 days, head.
        "lead_decision", "案源处置决定", "Decision on a lead",
        "initiation",
        (
            F("decision", "enum", "处置决定", rules=("N23",),
              choices=("not_start", "transfer", "extend_check")),
            F("reason", "text", "理由", rules=("N23",)),
            F("officer_opinion", "text", "承办人意见", rules=("N23",)),
        ),
        ("N23",), signers=("officer",), any_stage=True, approval_chain=HEAD_CHAIN,
    ),
    RecordType(
        # A28.1, 民诉 Art. 95: the recipient cannot be found, and what was done to find them.
        "whereabouts_unknown", "受送达人下落不明认定", "Recipient's whereabouts unknown",
        "service",
        (
            F("recipient", "string", "受送达人", rules=("A28.1",)),
            F("search_efforts", "text", "查找的经过（走访、查询户籍、联系亲属等）",
              rules=("A28.1",)),
            F("addresses_checked", "list", "核实过的地址", rules=("A28.1",)),
        ),
        ("A28.1",), signers=("officer",), any_stage=True,
    ),
    RecordType(
        # N31: a decision with social impact published within 7 working days (⚠) ...
        "decision_publication", "行政处罚决定公开记录", "Publication of a penalty decision",
        "service",
        (
            F("decision_id", "string", "公开的处罚决定", rules=("N31",)),
            F("medium", "enum", "公开载体", rules=("N31",), choices=("website", "newspaper",
                                                                   "bulletin_board")),
            F("location", "string", "网址或位置", rules=("N31",)),
        ),
        ("N31",), signers=("officer",), any_stage=True,
    ),
    RecordType(
        # ... and, once the decision is changed, revoked or held unlawful or void, withdrawn
        # within 3 working days (⚠).
        "decision_changed", "处罚决定变更、撤销记录", "Decision changed, revoked or held unlawful",
        "service",
        (
            F("decision_id", "string", "被变更或撤销的决定", rules=("N31",)),
            F("change", "enum", "情形", rules=("N31",),
              choices=("changed", "revoked", "held_unlawful", "held_void")),
            F("by", "string", "作出机关（复议机关、法院或本机关）", rules=("N31",)),
        ),
        ("N31",), signers=("officer",), any_stage=True,
    ),
    RecordType(
        "publication_withdrawal", "撤回公开的处罚决定", "Publication withdrawn",
        "service",
        (
            F("publication_id", "string", "撤回的公开记录", rules=("N31",)),
            F("reason", "text", "撤回理由", rules=("N31",)),
        ),
        ("N31",), signers=("officer",), any_stage=True,
    ),
)


# ---- legal10 (issue 10 item 9): licensing's excluded time (行政许可法 Art. 45) and hearing
# (Art. 46–48), kept under N30 (RULES.md has no row of their own). Checks in
# core.cases.licensing.
LICENSING = ("licensing",)
EXCLUDED_ACTIVITIES = ("hearing", "bidding", "auction", "testing", "inspection", "quarantine",
                       "appraisal", "expert_review")
CATALOGUE += (
    RecordType(
        # Art. 45: the time a hearing, testing, inspection, appraisal or expert review needs is
        # not counted in the decision period; the applicant is told it in writing (served).
        "licensing_excluded_time", "不计入许可期限的期间告知书",
        "Time not counted in the licensing period: start and notice to the applicant",
        "investigation",
        (
            F("activity", "enum", "事项（听证、检验、检测、鉴定、专家评审等）", rules=("N30",),
              choices=EXCLUDED_ACTIVITIES),
            F("started_at", "datetime", "开始时间", rules=("N30", "N17")),
            F("reason", "text", "需要的理由和依据", rules=("N30",)),
            F("institution", "string", "承担机构或专家", required=False, rules=("N30",)),
            F("expected_days", "int", "预计所需时间（工作日）", rules=("N30",), minimum=1),
            F("applicant_told_in_writing", "bool", "已书面告知申请人所需时间",
              rules=("N30",)),
        ),
        ("N30", "N17"), signers=("officer",), kinds=LICENSING, any_stage=True, served=True,
    ),
    RecordType(
        "licensing_excluded_time_end", "不计入许可期限的期间结束记录",
        "Time not counted in the licensing period: end",
        "investigation",
        (
            F("excluded_id", "string", "对应的期间告知书", rules=("N30",)),
            F("ended_at", "datetime", "结束时间", rules=("N30", "N17")),
            F("result", "text", "结果（听证笔录、检验报告、鉴定意见、专家评审意见等）",
              rules=("N30",)),
        ),
        ("N30", "N17"), signers=("officer",), kinds=LICENSING, any_stage=True,
    ),
    RecordType(
        # Art. 47: a licence that directly concerns major interests between the applicant and
        # others: the applicant and the interested parties are told of their hearing right
        # before the decision; Art. 46: or the agency holds a hearing it announces itself.
        "licensing_hearing_right_notice", "行政许可听证告知书", "Licensing hearing right notice",
        "investigation",
        (
            F("recipients", "list", "申请人、利害关系人", rules=("N30",)),
            F("matter", "text", "许可事项及涉及的重大利益关系", rules=("N30",)),
            F("basis", "enum", "听证依据", rules=("N30",),
              choices=("major_interests_art47", "public_interest_art46")),
        ),
        ("N30",), signers=("officer",), kinds=LICENSING, any_stage=True, served=True,
    ),
)

BY_NAME = {t.name: t for t in CATALOGUE}
SERVICE_TYPES = {t.service_method: t for t in CATALOGUE
                 if t.service_method and t.name != "service_postal_return"}


def record_type(name: str) -> RecordType:
    """The catalogue entry of that name, or a 422 naming the known types."""
    try:
        return BY_NAME[name]
    except (KeyError, TypeError):
        raise Invalid(f"unknown record type {name!r}", details={"known": sorted(BY_NAME)}) from None


def validate_fields(rtype: RecordType, fields: Any) -> dict:
    """Check input fields against the catalogue (with core.kernel.fields, so no control
    characters get in); return them normalised or raise Invalid naming each bad field."""
    if not isinstance(fields, Mapping):
        raise kf.bad("fields", "not_object")
    problems: dict[str, tuple[str, dict]] = {}
    for name in sorted(set(fields) - {f.name for f in rtype.fields}):
        problems[str(name)[:64]] = ("unknown_field", {})
    out: dict[str, Any] = {}
    for f in rtype.fields:
        value = fields.get(f.name)
        if f.auto:
            if value is not None:
                problems[f.name] = ("auto", {})
            continue
        if value is None or value == "" or value == []:
            if f.required:
                problems[f.name] = ("required", {})
            continue
        try:
            out[f.name] = _coerce(f, value)
        except Invalid as exc:
            problems[f.name] = next(iter(_problems(exc).values()))
    for f in rtype.fields:
        if f.required_if and f.name not in out and f.name not in problems:
            other, equals = f.required_if
            if out.get(other) == equals:
                problems[f.name] = ("required_if", {"other": other, "value": _show(equals)})
    if problems:
        missing = sorted({r for f in rtype.fields if f.name in problems for r in f.rules})
        raise Invalid.fields(problems, missing=missing, what=rtype.name)
    return out


def _problems(exc: Invalid) -> dict[str, tuple[str, dict]]:
    """The (code, params) of a field error raised by core.kernel.fields."""
    codes = exc.details.get("problems", {})
    params = exc.details.get("params", {})
    return {name: (code, params.get(name, {})) for name, code in codes.items()}


def _show(value: Any) -> str:
    return "true" if value is True else "false" if value is False else str(value)


def _coerce(f: Field, value: Any) -> Any:
    """One value in the field's type, through the one field validator."""
    if f.type in ("string", "text"):
        limit = 200 if f.type == "string" else f.max_length
        return kf.text(value, f.name, limit=limit, multiline=f.type == "text")
    if f.type == "bool":
        return kf.flag(value, f.name)
    if f.type == "int":
        low = f.minimum if f.minimum is not None else -10**12
        return kf.number(value, f.name, low=low, high=10**12, integer=True, required=True)
    if f.type == "enum":
        return kf.choice(value, f.name, f.choices)
    if f.type == "list":
        return kf.strings(value, f.name)
    if f.type == "date":
        return kf.day(value, f.name).isoformat()
    if f.type == "datetime":
        return kf.moment(value, f.name).isoformat()
    raise ValueError(f"unknown field type {f.type}")
