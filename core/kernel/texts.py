"""One home for the words of the regulation: every code the system stores (kinds, routes,
stages, roles, catalogue choices, check names, methods) with its Simplified Chinese and English
text. The bot, the pages, the receipts, the notices and the API error messages all read here, so
one term is worded one way everywhere (捺指印, 电量不足, 留置送达 …)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

LANGS = ("zh", "en")

# (zh, en) per code.
Pair = tuple[str, str]

KINDS: Mapping[str, Pair] = {  # A2.1
    "licensing": ("行政许可", "Licensing"), "penalty": ("行政处罚", "Penalty"),
    "coercion": ("行政强制", "Coercive measure"), "levy": ("行政征收", "Levy"),
    "fee": ("行政收费", "Fee"), "inspection": ("行政检查", "Inspection"),
}
ROUTES: Mapping[str, Pair] = {  # A9–A12
    "application": ("依申请", "On application"), "ex_officio": ("依职权", "Ex officio"),
    "complaint": ("投诉举报", "Complaint or report"), "inspection": ("检查", "Inspection"),
}
STAGES: Mapping[str, Pair] = {  # A3.1
    "initiation": ("程序启动", "Initiation"), "investigation": ("调查取证", "Investigation"),
    "decision": ("审查决定", "Decision"), "service": ("送达执行", "Service and execution"),
    "archiving": ("归档管理", "Archiving"), "closed": ("已结案", "Closed"),
}
ROLES: Mapping[str, Pair] = {  # A8.1
    "officer": ("执法人员", "officer"), "supervisor": ("承办机构负责人", "supervisor"),
    "legal_reviewer": ("法制审核人员", "legal_reviewer"), "head": ("负责人", "head"),
    "custodian": ("档案管理员", "custodian"), "admin": ("管理员", "admin"),
    "auditor": ("监督人员", "auditor"),
    # The national working-day calendar moves every department's deadlines: its own role.
    "calendar_admin": ("工作日历管理员", "calendar administrator"),
}
SIGNER_ROLES: Mapping[str, Pair] = {  # A13.2
    "officer": ("执法人员", "officer"), "party": ("当事人", "party"),
    "interviewee": ("被询问人", "interviewee"), "holder": ("证据持有人", "holder"),
    "applicant": ("申请人", "applicant"), "witness": ("见证人", "witness"),
    "server": ("送达人", "server"), "recipient": ("受送达人", "recipient"),
    "expert": ("专家", "expert"), "appraiser": ("鉴定人/鉴定机构", "appraiser"),
}
SIGN_METHODS: Mapping[str, Pair] = {
    "signature": ("签名", "signature"), "fingerprint": ("捺指印", "fingerprint"),
    "seal": ("盖章", "seal"),
}
SERVICE_METHODS: Mapping[str, Pair] = {  # A23.1–A28.1
    "direct": ("直接送达", "direct service"), "postal": ("邮寄送达", "postal service"),
    "lodged": ("留置送达", "lodged service"), "entrusted": ("委托送达", "entrusted service"),
    "forwarded": ("转交送达", "forwarded service"),
    "electronic": ("电子送达", "electronic service"),
    "announcement": ("公告送达", "service by announcement"),
}
DATUMS: Mapping[str, Pair] = {
    "wgs84": ("WGS-84（GPS）", "WGS-84 (GPS)"), "gcj02": ("GCJ-02（高德、腾讯地图）", "GCJ-02"),
    "bd09": ("BD-09（百度地图）", "BD-09"),
}
PARTY_KINDS: Mapping[str, Pair] = {"person": ("个人", "person"),
                                   "organisation": ("单位", "organisation")}
CHECKS: Mapping[str, Pair] = {  # evidence checks (A31.1, A17.1)
    "type": ("类型", "type"), "gps_distance": ("位置", "gps_distance"),
    "capture_time": ("拍摄时间", "capture_time"), "upload_delay": ("上传时限", "upload_delay"),
    "editing_software": ("编辑软件", "editing_software"), "duplicate": ("重复", "duplicate"),
}
ASSURANCE: Mapping[str, Pair] = {
    "verified": ("已核验", "verified"), "partial": ("部分核验", "partial"),
    "unverified": ("未核验", "unverified"), "failed": ("未通过", "failed"),
    "generated": ("系统生成", "generated"),
    "captured_in_app": ("拍摄页采集", "captured in the app"),
}
CHECK_STATUS: Mapping[str, Pair] = {"pass": ("通过", "pass"), "warn": ("注意", "warning"),
                                    "fail": ("未通过", "fail")}

# Catalogue choices, by value. A value whose meaning depends on its field is in FIELD_CHOICES.
CHOICES: Mapping[str, Pair] = {
    # acceptance, complaints, notices
    "accepted": ("受理", "accepted"), "not_accepted": ("不予受理", "not accepted"),
    "pending_materials": ("待补正材料", "materials to be completed"),
    "start": ("立案", "open a case"), "not_start": ("不予立案", "no case"),
    "visit": ("来访", "visit"), "phone": ("电话", "phone"), "letter": ("来信", "letter"),
    "online": ("网络", "online"), "telegram": ("Telegram", "Telegram"),
    "hotline_12345": ("12345热线", "12345 hotline"), "sms": ("短信", "SMS"),
    "email": ("电子邮件", "e-mail"), "in_person": ("当面", "in person"), "post": ("邮寄", "post"),
    "platform": ("电子送达平台", "service platform"), "fax": ("传真", "fax"),
    # people
    "party": ("当事人", "party"), "witness": ("证人", "witness"), "other": ("其他", "other"),
    "person": ("个人", "person"), "organisation": ("单位", "organisation"),
    # recusal (A14.1)
    "granted": ("准予回避", "recusal granted"), "refused": ("不予回避", "recusal refused"),
    # inspection and review
    "inspection": ("检查", "inspection"), "survey": ("勘验", "survey"),
    "meets_requirements": ("符合要求", "meets the requirements"),
    "does_not_meet": ("不符合要求", "does not meet the requirements"),
    "needs_verification": ("需要核实", "needs verification"),
    # preservation (A16.1) and its handling (N6)
    "registration_preservation": ("先行登记保存", "registration and preservation"),
    "copy": ("复制", "copy"), "av": ("音像记录", "audio-visual record"),
    "appraisal": ("鉴定", "appraisal"), "inquiry": ("询问", "inquiry"),
    "return": ("退还", "return"), "seize": ("查封", "seal up"),
    "confiscate": ("没收", "confiscate"),
    "transfer": ("移送", "transfer"),
    # AV interruption (A17.2)
    "device_fault": ("设备故障", "device fault"), "weather": ("天气原因", "weather"),
    "battery": ("电量不足", "battery"), "storage": ("存储空间不足", "storage full"),
    # legal review (A21.1), hearing request (N4)
    "agree": ("同意", "agree"), "revise": ("修改后同意", "revise"),
    "disagree": ("不同意", "disagree"),
    "written": ("书面", "written"), "oral": ("口头", "oral"),
    # service (A23.1–A28.1)
    "self": ("本人", "the recipient in person"),
    "legal_representative": ("法定代表人", "legal representative"),
    "agent": ("诉讼代理人或委托代理人", "agent"),
    "adult_family_member": ("同住成年家属", "adult family member living with them"),
    "designated_recipient": ("指定代收人", "designated recipient"),
    "staff_member": ("单位负责收件的人", "the organisation's receiving staff"),
    "registered_mail": ("挂号信", "registered mail"), "ems": ("特快专递（EMS）", "EMS"),
    "bulletin_board": ("公告栏", "bulletin board"),
    "residence_posting": ("住所地张贴", "posting at the residence"),
    "newspaper": ("报纸", "newspaper"), "website": ("网站", "website"),
    **{k: v for k, v in SERVICE_METHODS.items()},
    # execution (A29.1, A30.1)
    "complied": ("已履行", "complied"), "partly_complied": ("部分履行", "partly complied"),
    "not_complied": ("未履行", "not complied"), "corrected": ("已改正", "corrected"),
    "not_corrected": ("未改正", "not corrected"),
    "enforcement_granted": ("准予强制执行", "enforcement granted"),
    "enforcement_refused": ("不准予强制执行", "enforcement refused"),
    # sign methods
    **{k: v for k, v in SIGN_METHODS.items()},
    # coercive measures and agency enforcement (行政强制法 Art. 18–28, 43, 50–51)
    "seal_up": ("查封", "seal up"), "impound": ("扣押", "impound"),
    "testing": ("检测", "testing"), "quarantine": ("检疫", "quarantine"),
    "destroy": ("销毁", "destroy"), "no_violation": ("无违法行为", "no violation"),
    "unrelated": ("与违法行为无关", "unrelated to the violation"),
    "no_longer_needed": ("不再需要查封、扣押", "no longer needed"),
    "period_expired": ("期限已经届满", "period expired"),
    "not_approved": ("负责人不予批准", "not approved by the head"),
    "direct_enforcement": ("直接强制执行", "direct enforcement"),
    "substitute_performance": ("代履行", "substitute performance"),
    # summary procedure (N25), leads (N23), service outcomes (A28.1), publication (N31)
    "warning": ("警告", "warning"), "fine": ("罚款", "fine"),
    "report": ("举报", "report"), "referral": ("移送", "referral"),
    "inspection_finding": ("检查发现", "inspection finding"),
    "extend_check": ("延长核查期限", "extend the check"),
    "not_found": ("无人", "nobody found"), "address_wrong": ("地址有误", "wrong address"),
    "returned_by_post": ("邮件退回", "returned by post"),
    "not_delivered": ("未能送达", "not delivered"), "changed": ("变更", "changed"),
    "revoked": ("撤销", "revoked"), "held_unlawful": ("确认违法", "held unlawful"),
    "held_void": ("确认无效", "held void"),
    # licensing: time not counted (行政许可法 Art. 45) and the hearing's basis (Art. 46–47)
    "hearing": ("听证", "hearing"), "bidding": ("招标", "bidding"),
    "auction": ("拍卖", "auction"), "expert_review": ("专家评审", "expert review"),
    "major_interests_art47": ("涉及申请人与他人之间重大利益关系（第四十七条）",
                              "major interests between the applicant and others (Art. 47)"),
    "public_interest_art46": ("涉及公共利益的重大许可事项（第四十六条）",
                              "a major matter of public interest (Art. 46)"),
}
# (field, value) → words, where the value alone would be worded wrongly.
# Issue 10 (legal-a): results, ends of an act, remedies, hearing ends.
CHOICES = {**CHOICES,
    "no_violation": ("未发现违法行为", "no violation found"),
    "violation_found": ("发现违法行为", "violation found"),
    "no_penalty": ("不予行政处罚", "no penalty"), "case_dropped": ("撤销案件", "case dropped"),
    "administrative_review": ("行政复议", "administrative review"),
    "lawsuit": ("行政诉讼", "lawsuit"), "upheld": ("维持", "upheld"),
    "changed": ("变更", "changed"), "revoked": ("撤销", "revoked"),
    "withdrawn": ("撤回", "withdrawn"),
    "absent_without_reason": ("无正当理由拒不出席", "absent without reason"),
    "left_without_permission": ("未经许可中途退出", "left without permission"),
}

FIELD_CHOICES: Mapping[tuple[str, str], Pair] = {
    ("form", "survey"): ("勘验、检查", "survey"),
    ("method", "direct"): ("直接送达", "direct service"),
    ("interviewee_role", "other"): ("其他人员", "other person"),
    ("reason", "other"): ("其他原因", "other reason"),
    ("outcome", "refused"): ("受送达人拒绝签收", "the recipient refused to accept"),
    ("testing_kind", "inspection"): ("检验", "inspection"),
}

# Field problems (kernel.fields): code → (zh, en) with {placeholders}.
PROBLEMS: Mapping[str, Pair] = {
    "required": ("必填", "required"),
    "not_text": ("须为文字", "must be a string"),
    "too_long": ("超过 {limit} 个字", "longer than {limit} characters"),
    "image_dimensions": ("图片为 {width}×{height} 像素，超过允许的尺寸（单边不超过 {side} 像素，"
                         "总计不超过 {pixels} 像素）",
                         "the image is {width}×{height} pixels; at most {side} on a side and "
                         "{pixels} in all are accepted"),
    "image_unreadable": ("无法从图片文件头读取尺寸",
                         "the image's size cannot be read from its header"),
    "control_chars": ("含有不可见的控制字符", "contains control characters"),
    "not_choice": ("须从选项中选择：{choices}", "must be one of {choices}"),
    "not_bool": ("须为“是”或“否”", "must be true or false"),
    "not_number": ("须为数字", "must be a number"),
    "not_integer": ("须为整数", "must be a whole number"),
    "out_of_range": ("须在 {low} 至 {high} 之间", "must be between {low} and {high}"),
    "not_time": ("时间格式须为 2026-11-26T09:30:00+08:00",
                 "must be an ISO 8601 time with its offset, e.g. 2026-11-26T09:30:00+08:00"),
    "no_offset": ("时间须带时区，例如 +08:00", "must carry a time zone offset, e.g. +08:00"),
    "in_future": ("不能晚于现在", "is in the future"),
    "not_date": ("日期格式须为 2026-11-26", "must be a date YYYY-MM-DD"),
    "not_object": ("须为对象", "must be a JSON object"),
    "not_list": ("须为若干项文字", "must be a list of strings"),
    "too_many": ("超过 {limit} 项", "more than {limit} items"),
    "not_id": ("编号格式不正确", "is not a valid id"),
    "unknown_field": ("不是此处可填写的字段", "is not a field this request accepts"),
    "unknown_parameter": ("不是此接口可接受的参数", "not a parameter this request accepts"),
    "auto": ("由系统填写，不可提交", "set by the system, not by the request"),
    "together": ("须与 {other} 一同填写", "goes together with {other}"),
    "required_if": ("当 {other} 为 {value} 时必填", "required when {other} is {value}"),
}

# A short name per RULES.md ID, for refusals that only carry the IDs.
RULES: Mapping[str, Pair] = {
    "A2.1": ("执法类别", "kind of enforcement"), "A3.1": ("程序阶段顺序", "order of stages"),
    "A4.1": ("文字和音像记录", "written and AV records"),
    "A5.1": ("每个环节须有文字记录", "a written record of every step"),
    "A9.1": ("申请登记受理", "application registered and accepted"),
    "A9.2": ("受理窗口监控", "counter surveillance"),
    "A10.1": ("立案审批表及审批", "filing form and its approval"),
    "A10.2": ("紧急情况24小时内补办手续", "emergency start recorded within 24 hours"),
    "A11.1": ("投诉举报登记、决定及告知", "complaint registered, decided and answered"),
    "A12.1": ("双随机抽查记录", "random inspection draw"),
    "A13.1": ("调查取证文书", "investigation records"),
    "A13.2": ("签名、指印或盖章", "signatures, fingerprints or seals"),
    "A13.3": ("拒绝接受调查的记录", "refusal of investigation recorded"),
    "A14.1": ("两名以上持证执法人员", "two or more certified officers"),
    "A15.1": ("现场检查、抽样、听证须音像记录", "AV of inspections, sampling and hearings"),
    "A16.1": ("证据先行登记保存", "evidence preservation"),
    "A17.1": ("音像记录须注明证明对象", "what each AV item proves"),
    "A17.2": ("音像记录中断须说明", "AV interruption explained"),
    "A18.1": ("决定前的审查程序", "review before the decision"),
    "A19.1": ("处理意见", "handling opinion"), "A20.1": ("专家论证", "expert opinion"),
    "A21.1": ("法制审核", "legal review"),
    "A22.1": ("陈述申辩权利告知", "notice of the right to state and defend"),
    "A22.2": ("拒绝签名须见证人或录像", "refusal to sign with witnesses or video"),
    "A22.3": ("放弃陈述申辩的记录", "waiver of statement and defence"),
    "A23.1": ("送达回证", "service and its receipt"), "A24.1": ("直接送达", "direct service"),
    "A25.1": ("邮寄送达凭证", "postal service vouchers"),
    "A26.1": ("留置送达须见证人及录像", "lodged service with witness and AV"),
    "A27.1": ("委托、转交送达", "entrusted or forwarded service"),
    "A28.1": ("公告送达前须有其他方式送达失败的记录",
              "announcement only after other methods failed"),
    "A29.1": ("履行情况及改正核查", "compliance and correction checks"),
    "A30.1": ("催告及申请强制执行", "demand notice and court enforcement"),
    "A31.1": ("音像资料2个工作日内存储及四项信息",
              "AV stored within 2 working days with its facts"),
    "A32.1": ("20日内立卷归档", "case file within 20 days"),
    "A33.1": ("专人保管、使用登记", "custody and register of use"),
    "A34.1": ("保存25年", "kept 25 years"), "A35.1": ("查阅申请", "request to see the records"),
    "A36.1": ("考核评议", "assessment"),
    "A37.1": ("禁止不记录、篡改、删除", "no missing, altered or deleted records"),
}

_TABLES: Mapping[str, Mapping[str, Pair]] = {
    "kind": KINDS, "route": ROUTES, "stage": STAGES, "role": ROLES, "signer_role": SIGNER_ROLES,
    "sign_method": SIGN_METHODS, "service_method": SERVICE_METHODS, "datum": DATUMS,
    "party_kind": PARTY_KINDS, "check": CHECKS, "assurance": ASSURANCE,
    "check_status": CHECK_STATUS, "choice": CHOICES, "problem": PROBLEMS, "rule": RULES,
}


def _pick(pair: Pair, lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def label(table: str, code: str, lang: str = "zh") -> str:
    """The words for a stored code (``label("kind", "penalty")`` → 行政处罚); the code itself
    when the table does not know it, so nothing is ever hidden."""
    pair = _TABLES[table].get(code)
    return _pick(pair, lang) if pair else code


def labels(table: str, codes: Iterable[str], lang: str = "zh") -> str:
    """Several codes' words joined as the language joins lists."""
    return ("、" if lang != "en" else ", ").join(label(table, c, lang) for c in codes)


def choice(value: str, lang: str = "zh", field: str | None = None) -> str:
    """The words for a catalogue choice, worded for its field where that matters."""
    pair = FIELD_CHOICES.get((field, value)) if field else None
    return _pick(pair, lang) if pair else label("choice", value, lang)


def problem(code: str, lang: str = "zh", **params: object) -> str:
    """A field problem as a sentence fragment in the language."""
    return _pick(PROBLEMS[code], lang).format(**params)


def known_choice(value: str) -> bool:
    """True when a choice value has its words here."""
    return value in CHOICES
