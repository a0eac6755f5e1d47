"""The JSON Schemas of the API's bodies (OpenAPI 3.1 components). Record types come from the
catalogue, one schema per type for what is sent and one for what is shown, so a new record type
is documented by its declaration; the other shapes follow the core's ``*_json`` functions."""

from __future__ import annotations

from typing import Any

from core.cases.commands import REFUSED, SIGN_METHODS
from core.cases.next_actions import ACTION_KINDS
from core.kernel.vocab import DATUMS, KINDS, PARTY_KINDS, ROLES, ROUTES, STAGES
from core.rules.catalogue import CATALOGUE, Field, RecordType

ID = {"type": "string", "pattern": "^[0-9a-f]{32}$",
      "examples": ["3f2b9c0d4e5a6b7c8d9e0f1a2b3c4d5e"]}
WHEN = {"type": "string", "format": "date-time", "examples": ["2026-11-26T09:30:00+08:00"]}
DAY = {"type": "string", "format": "date", "examples": ["2026-11-26"]}
TEXT = {"type": "string"}
NTEXT = {"type": ["string", "null"]}
BOOL = {"type": "boolean"}
INT = {"type": "integer"}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def ref(name: str) -> dict:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def obj(props: dict, required: list[str] | tuple[str, ...] | None = None, *,
        closed: bool = False, **extra: Any) -> dict:
    """An object schema; ``required`` defaults to every property."""
    out = {"type": "object", "properties": props,
           "required": list(props) if required is None else list(required), **extra}
    if closed:
        out["additionalProperties"] = False
    return out


def array(items: dict, **extra: Any) -> dict:
    """An array schema."""
    return {"type": "array", "items": items, **extra}


def nullable(schema: dict) -> dict:
    """The schema, or null."""
    return {"anyOf": [schema, {"type": "null"}]}


# --- record types, from the catalogue --------------------------------------------------------

# Text the one field validator accepts: no control characters or bidirectional overrides
# (core.kernel.fields), and not blank. Multi-line text may carry newlines and tabs.
_CTRL = ("\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f"
         "\\u202a-\\u202e\\u2066-\\u2069")
LINE = f"^[^{_CTRL}\\t\\n\\r]*[^{_CTRL}\\s][^{_CTRL}\\t\\n\\r]*$"
MULTILINE = f"^[^{_CTRL}]*[^{_CTRL}\\s][^{_CTRL}]*$"

_SAMPLE = {"string": "岳阳某建设有限公司", "text": "经现场检查，当事人未取得施工许可擅自施工。"}


def field_schema(f: Field, *, stored: bool = False) -> dict:
    """One catalogue field as JSON Schema: type, limits, choices, rule IDs, an example."""
    if f.type == "string":
        schema: dict = {"type": "string", "maxLength": 200, "minLength": 1,
                        "pattern": LINE, "examples": [_SAMPLE["string"]]}
    elif f.type == "text":
        schema = {"type": "string", "maxLength": f.max_length, "minLength": 1,
                  "pattern": MULTILINE, "examples": [_SAMPLE["text"]]}
    elif f.type == "bool":
        schema = {"type": "boolean"}
    elif f.type == "int":
        schema = {"type": "integer", "maximum": 10**12,
                  "minimum": f.minimum if f.minimum is not None else -10**12}
    elif f.type == "enum":
        schema = {"enum": list(f.choices)}
    elif f.type == "date":
        schema = dict(DAY)
    elif f.type == "datetime":
        schema = dict(WHEN)
    else:  # list
        schema = {"type": "array", "maxItems": 10000, "minItems": 1,
                  "items": {"type": "string", "maxLength": 500, "pattern": LINE}}
    if stored and f.type in ("string", "text"):
        schema.pop("pattern", None)
    schema["title"] = f.label_zh
    schema["description"] = f"{f.label_zh} ({', '.join(f.rules) or '—'})" + (
        "; filled in by the system" if f.auto else "")
    if f.auto:
        schema["readOnly"] = True
    return schema


def fields_schema(rt: RecordType, *, stored: bool = False) -> dict:
    """The ``fields`` object of a record type: what may be sent, what is required, and the
    conditional requirements (required_if) as if/then."""
    props = {f.name: field_schema(f, stored=stored) for f in rt.fields
             if stored or not f.auto}
    shown = props.get("certificates_shown")
    if rt.field_record and shown is not None and not stored:
        # core.cases.record_hooks: a field record is made only after certificates are shown.
        shown.update({"const": True, "description": shown["description"]
                      + "; must be true: officers show their certificates first"})
    required = [f.name for f in rt.fields if f.required and not f.auto and not stored]
    out = {"type": "object", "title": f"{rt.title_zh} {rt.title_en}", "properties": props,
           "required": required, "additionalProperties": stored,
           "description": f"{rt.title_en} ({', '.join(rt.rules)})"}
    if not stored:
        conds = [{"if": {"properties": {f.required_if[0]: {"const": f.required_if[1]}},
                         "required": [f.required_if[0]]},
                  "then": {"required": [f.name]}}
                 for f in rt.fields if f.required_if and not f.auto]
        if conds:
            out["allOf"] = conds
    return out


def new_record_schema(rt: RecordType) -> dict:
    """The body of POST /cases/{id}/records for one record type; a field record names at
    least two officers holding a certificate (A14.1)."""
    return obj({
        "type": {"const": rt.name},
        "fields": ref(f"Fields_{rt.name}"),
        "occurred_at": {**WHEN, "description": "when the step happened; now when absent"},
        "officers": array(ID, minItems=2 if rt.field_record else 1, maxItems=50,
                          uniqueItems=True, description=(
                              "the officers on the record (GET /api/v1/officers); the caller "
                              "alone when absent" + (
                                  "; a field record names at least two holding a certificate "
                                  "(A14.1)" if rt.field_record else ""))),
        "corrects": {**ID, "description": "the record this one corrects (records are never "
                                          "rewritten)"},
    }, ["type", "fields", "officers"] if rt.field_record else ["type", "fields"], closed=True,
        title=f"{rt.title_zh} {rt.title_en}")


def record_components() -> dict:
    """Per record type: Fields_<type> (sent), StoredFields_<type> (shown), NewRecord_<type>."""
    out: dict = {}
    for rt in CATALOGUE:
        out[f"Fields_{rt.name}"] = fields_schema(rt)
        out[f"StoredFields_{rt.name}"] = fields_schema(rt, stored=True)
        if not rt.system_only:
            out[f"NewRecord_{rt.name}"] = new_record_schema(rt)
    writable = [rt.name for rt in CATALOGUE if not rt.system_only]
    out["NewRecord"] = {"oneOf": [ref(f"NewRecord_{n}") for n in writable],
                        "discriminator": {"propertyName": "type", "mapping": {
                            n: f"#/components/schemas/NewRecord_{n}" for n in writable}}}
    out["RecordTypeName"] = {"enum": [rt.name for rt in CATALOGUE]}
    return out


# --- the other bodies ----------------------------------------------------------------------

APPROVAL_STEP = obj({"id": ID, "step": TEXT, "decision": {"enum": ["approve", "return"]},
                     "opinion": TEXT, "officer_id": ID, "at": WHEN})
RECORD_STATUS = obj({
    "fields": {"enum": ["complete"], "description": "the catalogue refuses a record whose "
                                                    "required fields are missing"},
    "signatures": {"enum": ["not_required", "missing", "complete"]},
    "av": {"enum": ["not_required", "missing", "complete"]},
    "approval": {"enum": ["not_required", "pending", "approved", "returned"]},
    "complete": BOOL,
    "gaps": array(obj({"rule": TEXT, "text": TEXT, "text_zh": TEXT}))},
    ["fields", "signatures", "av", "approval", "complete"])
# A 送达回证 queued by the request: made after the commit by the media worker (issue 12).
RECEIPT_QUEUED = obj({"kind": {"enum": ["draft", "final"]}, "status": {"enum": ["pending"]},
                      "message": TEXT, "message_zh": TEXT})
RECORD = {**obj({
    "id": ID, "case_id": ID, "type": ref("RecordTypeName"), "stage": {"enum": list(STAGES)},
    "fields": {"type": "object"}, "officers": array(ID), "occurred_at": WHEN,
    "created_at": WHEN, "created_by": ID, "corrects": nullable(ID), "superseded": BOOL,
    "approvals": array(APPROVAL_STEP), "status": RECORD_STATUS,
    "complaint_ticket": obj({"tracking_no": TEXT, "code": TEXT}),
    "receipt": RECEIPT_QUEUED},
    ["id", "case_id", "type", "stage", "fields", "officers", "occurred_at", "created_at",
     "created_by", "corrects", "superseded", "approvals"]),
    "allOf": [{"if": {"properties": {"type": {"const": rt.name}}},
               "then": {"properties": {"fields": ref(f"StoredFields_{rt.name}")}}}
              for rt in CATALOGUE]}
PARTY = obj({"name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": LINE,
                      "examples": ["岳阳某建设有限公司"]},
             "kind": {"enum": list(PARTY_KINDS), "default": "person"},
             "id_number": {"type": "string", "maxLength": 64,
                           "examples": ["91430600MA4L000000"]},
             "phone": {"type": "string", "maxLength": 32},
             "address": {"type": "string", "maxLength": 300},
             "legal_representative": {"type": "string", "maxLength": 100}},
            ["name"], closed=True)
SITE = {**obj({"lat": {"type": "number", "minimum": -90, "maximum": 90, "examples": [29.3573]},
               "lon": {"type": "number", "minimum": -180, "maximum": 180,
                       "examples": [113.129]},
               "datum": {"enum": list(DATUMS), "default": "wgs84",
                         "description": "map datum of lat/lon: GPS (wgs84), Amap/Tencent "
                                        "(gcj02) or Baidu (bd09)"},
               "address": {"type": "string", "maxLength": 300}}, [], closed=True),
        "dependentRequired": {"lat": ["lon"], "lon": ["lat"]}}
NEXT_ACTION = obj({
    "kind": {"enum": list(ACTION_KINDS)}, "method": {"enum": ["POST"]}, "path": TEXT,
    "requirements": array(TEXT), "allowed": {**BOOL, "description": "the caller may send it"},
    "role": nullable(ref("Role")), "record_type": nullable(ref("RecordTypeName")),
    "record_id": nullable(ID), "body": {"type": "object"}, "text": TEXT, "text_zh": TEXT,
    "schema": {"type": "string", "description": "the body's schema in this document"}},
    ["kind", "method", "path", "requirements", "allowed", "body", "text", "text_zh"])
SATISFIED_BY = array(obj({"record_type": ref("RecordTypeName"), "title_zh": TEXT,
                          "title_en": TEXT, "approved_by": nullable(ref("Role"))}))
CASE = obj({
    "id": ID, "number": {"type": "string", "examples": ["YYZJ-2026-00012"]},
    "kind": {"enum": list(KINDS)}, "initiation": {"enum": list(ROUTES)}, "title": TEXT,
    "stage": {"enum": list(STAGES)}, "emergency": BOOL, "department_id": ID,
    "party": nullable(obj({"id": ID, "kind": {"enum": list(PARTY_KINDS)}, "name": TEXT,
                           "id_number": NTEXT, "phone": NTEXT, "address": NTEXT})),
    "site": obj({"lat": {"type": ["number", "null"]}, "lon": {"type": ["number", "null"]},
                 "datum": {"enum": list(DATUMS)}, "address": NTEXT}),
    "opened_by": ID, "opened_at": WHEN, "retention_years": INT,
    "next_stages": array({"enum": list(STAGES)})})
CASE_DETAIL = {**CASE, "properties": {
    **CASE["properties"],
    "missing": array(obj({"id": TEXT, "text": TEXT, "text_zh": TEXT,
                          "satisfied_by": SATISFIED_BY})),
    "next_actions": array(ref("NextAction"))},
    "required": [*CASE["required"], "missing", "next_actions"]}
CHECK_ITEM = obj({"id": TEXT, "text": TEXT, "text_zh": TEXT,
                  "status": {"enum": ["done", "missing", "not_applicable"]},
                  "detail": array(TEXT), "satisfied_by": SATISFIED_BY},
                 ["id", "text", "text_zh", "status"])
CHECKLIST = obj({"case_id": ID, "stage": {"enum": list(STAGES)},
                 "stages": obj({s: array(CHECK_ITEM) for s in STAGES if s != "closed"})})
APPROVAL_TAKEN = obj({
    "id": ID, "record_id": ID, "step": TEXT, "decision": {"enum": ["approve", "return"]},
    "opinion": TEXT, "at": WHEN, "chain_complete": BOOL, "returned": BOOL,
    "next_step": nullable(obj({"step": TEXT, "role": ref("Role"), "label_zh": TEXT,
                               "officers": array(obj({"id": ID, "name": TEXT}))}))})
SIGNATURE = obj({"id": ID, "record_id": ID, "role": TEXT, "signer_name": TEXT,
                 "signer_officer_id": nullable(ID), "method": {"enum": list(SIGN_METHODS)},
                 "image_sha256": {"type": ["string", "null"]}, "signed_at": WHEN,
                 "receipt": RECEIPT_QUEUED},
                ["id", "record_id", "role", "signer_name", "method", "signed_at"])
REFUSAL = obj({"id": ID, "record_id": nullable(ID), "role": TEXT, "person_name": TEXT,
               "refused": {"enum": list(REFUSED)}, "reason": TEXT, "place": TEXT, "at": WHEN,
               "witnesses": {"type": "array"}, "video_evidence_id": nullable(ID),
               "receipt": RECEIPT_QUEUED},
              ["id", "record_id", "role", "person_name", "refused", "reason", "place", "at",
               "witnesses", "video_evidence_id"])
PNG_BASE64 = {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png",
              "description": "a PNG or JPEG image of the signature, fingerprint or seal"}
NEW_SIGNATURE = obj({
    "role": {"type": "string", "maxLength": 32, "minLength": 1, "pattern": LINE,
             "description": "a signer role of the record type (GET /api/v1/record-types)",
             "examples": ["party"]},
    "method": {"enum": list(SIGN_METHODS)},
    "signer_name": {"type": "string", "maxLength": 100},
    "signer_officer_id": ID, "image_base64": PNG_BASE64, "signed_at": WHEN,
    "on_behalf": {"type": "boolean", "default": False,
                  "description": "an officer's signature captured by the caller for a colleague "
                                 "on the record (shown as recorded by X for Y, A10.1)"}},
    ["role", "method", "image_base64"], closed=True)
WITNESS = obj({"name": {"type": "string", "maxLength": 100, "minLength": 1},
               "id_number": {"type": "string", "maxLength": 64, "minLength": 1},
               "relation": {"type": "string", "maxLength": 100, "minLength": 1},
               "signature_image_base64": PNG_BASE64}, closed=True)
NEW_REFUSAL = obj({
    "refused": {"enum": list(REFUSED)}, "role": {"type": "string", "maxLength": 32},
    "person_name": {"type": "string", "maxLength": 100},
    "reason": {"type": "string", "maxLength": 4000}, "place": {"type": "string",
                                                               "maxLength": 300},
    "at": WHEN, "record_id": ID, "witnesses": array(WITNESS, maxItems=10),
    "video_evidence_id": ID},
    ["role", "person_name", "reason", "place"], closed=True,
    description="witnesses (A22.2) or a video of the refusal")
RECORD_CHECK = obj({
    "record_id": ID, "type": ref("RecordTypeName"), "complete": BOOL,
    "missing": array(obj({"rule": TEXT, "text": TEXT, "text_zh": TEXT})),
    "signers": array(obj({"role": TEXT, "label_zh": TEXT})),
    "signatures": array(SIGNATURE), "refusals": array(REFUSAL),
    "evidence": array(obj({"id": ID, "media_type": TEXT, "proves": TEXT, "method": TEXT,
                           "sha256": SHA256}))})
RECEIPT = obj({"id": ID, "record_id": ID, "sha256": SHA256, "size": INT,
               "media_type": {"const": "application/pdf"}, "filename": TEXT, "final": BOOL})
SERVICES = obj({"case_id": ID, "documents": array(obj({
    "document_id": ID, "type": ref("RecordTypeName"), "title_zh": TEXT,
    "served_at": nullable(WHEN), "services": array(obj({
        "record_id": ID, "type": ref("RecordTypeName"), "method": NTEXT, "failed": BOOL,
        "served_at": NTEXT, "served_rule": NTEXT, "complete": BOOL,
        "missing": array(TEXT)}))}))})
DEADLINE = obj({
    "id": ID, "case_id": nullable(ID), "case_number": TEXT,
    "rule_id": {"type": "string", "examples": ["A10.2"]}, "rule_ids": array(TEXT),
    "part": NTEXT, "title": NTEXT, "title_zh": NTEXT, "legal_source": TEXT, "trigger_event": TEXT,
    "trigger_at": WHEN, "due_at": WHEN, "last_day": nullable(DAY), "period": INT,
    "unit": TEXT, "subject_id": NTEXT, "obligor": NTEXT,
    "status": {"enum": ["open", "closed", "cancelled"]}, "overdue": BOOL, "late": BOOL,
    "closed_at": nullable(WHEN), "closed_by": NTEXT, "warnings": array(TEXT),
    "reminders": array(obj({"role": TEXT, "step": TEXT, "send_at": WHEN, "status": TEXT}))},
    ["id", "case_id", "rule_id", "rule_ids", "legal_source", "trigger_event", "trigger_at",
     "due_at", "period", "unit", "status", "overdue", "late"])
ERROR = obj({"error": obj({
    "code": {"type": "string", "examples": ["invalid", "gate_refused", "forbidden",
                                            "not_found"]},
    "message": {"type": "string", "description": "in the language of Accept-Language "
                                                 "(Chinese unless English is asked for)"},
    "message_zh": {"type": "string"}, "message_en": {"type": "string"},
    "missing": array(TEXT, description="RULES.md IDs of what is missing (409, some 422)"),
    "fields": {"type": "object", "additionalProperties": {"type": "string"},
               "description": "each bad field (dotted path) and what is wrong, in English"},
    "fields_zh": {"type": "object", "additionalProperties": {"type": "string"}},
    "problems": {"type": "object", "additionalProperties": {"type": "string"}},
    "requirements": array(obj({"id": TEXT, "text": TEXT, "text_zh": TEXT}))},
    ["code", "message", "message_zh", "message_en"])},
    examples=[{"error": {"code": "invalid", "message": "填写有误：title：必填",
                         "message_zh": "填写有误：title：必填",
                         "message_en": "invalid fields: title: required",
                         "fields": {"title": "required"}, "fields_zh": {"title": "必填"}}}])

COMPONENTS = {
    "Error": ERROR,
    "Role": {"enum": list(ROLES)},
    "OpenCase": obj({
        "kind": {"enum": list(KINDS), "description": "A2.1"},
        "initiation": {"enum": list(ROUTES), "description": "how the case starts (A9–A12)"},
        "title": {"type": "string", "maxLength": 300, "minLength": 1, "pattern": LINE,
                  "examples": ["违法建设"]},
        "emergency": {"type": "boolean", "default": False, "description": "A10.2"},
        "party": PARTY, "site": SITE}, ["kind", "initiation", "title"], closed=True,
        examples=[{"kind": "penalty", "initiation": "ex_officio", "title": "违法建设",
                   "party": {"name": "某公司", "kind": "organisation"}}]),
    "Case": CASE,
    "CaseDetail": CASE_DETAIL,
    "CaseList": obj({"cases": array(ref("Case"))}),
    "NextAction": NEXT_ACTION,
    "Checklist": CHECKLIST,
    "Transition": obj({"to": {"enum": list(STAGES)}}, closed=True,
                      examples=[{"to": "investigation"}]),
    "Record": RECORD,
    "RecordList": obj({"records": array(ref("Record"))}),
    "Approval": obj({"decision": {"enum": ["approve", "return"]},
                     "opinion": {"type": "string", "maxLength": 4000,
                                 "description": "required when returning"}},
                    ["decision"], closed=True,
                    examples=[{"decision": "approve", "opinion": "同意"}]),
    "ApprovalTaken": APPROVAL_TAKEN,
    "NewSignature": NEW_SIGNATURE,
    "Signature": SIGNATURE,
    "NewRefusal": NEW_REFUSAL,
    "Refusal": REFUSAL,
    "RecordCheck": RECORD_CHECK,
    "Receipt": RECEIPT,
    "Services": SERVICES,
    "Deadline": DEADLINE,
    "DeadlineList": obj({"case_id": ID, "deadlines": array(ref("Deadline"))}),
    "Resume": obj({"voice_explained": BOOL, "resumed_at": WHEN}, ["voice_explained"],
                  closed=True),
    "CalendarOverride": obj({"date": DAY, "working": BOOL,
                             "note": {"type": "string", "maxLength": 300, "minLength": 1}},
                            closed=True),
    "CalendarOverrideRow": obj({"id": {"type": ["string", "integer"]}, "date": DAY,
                                "working": BOOL, "note": TEXT, "created_by": NTEXT,
                                "created_at": WHEN}, ["date", "working", "note"]),
    "CalendarOverrides": obj({"overrides": array(ref("CalendarOverrideRow")),
                              "declared_years": array(obj({"year": INT, "source": TEXT}))}),
    "CalendarYear": obj({"year": {"type": "integer", "minimum": 2000, "maximum": 2100},
                         "source": {"type": "string", "maxLength": 300, "minLength": 1},
                         "force": {"type": "boolean", "default": False}},
                        ["year", "source"], closed=True),
    "DeclaredYear": obj({"year": INT, "source": TEXT}),
    "WorkingDay": obj({"from": DAY, "add": INT, "date": DAY, "source": TEXT,
                       "warnings": array(TEXT)}),
    "ComplaintCode": obj({"tracking_no": TEXT, "code": TEXT}),
    "ComplaintStatus": obj({"tracking_no": TEXT, "status": TEXT, "status_zh": TEXT},
                           ["tracking_no", "status", "status_zh"]),
    "Delivery": obj({"id": INT, "idempotency_key": TEXT, "channel": TEXT, "recipient": TEXT,
                     "officer_id": NTEXT, "case_id": NTEXT, "reminder_id": NTEXT,
                     "subject": NTEXT, "status": TEXT, "attempts": INT, "last_error": NTEXT,
                     "next_attempt_at": nullable(WHEN), "sent_at": nullable(WHEN),
                     "created_at": nullable(WHEN)}, ["id", "channel", "status", "attempts"]),
    "DeliveryList": obj({"status": TEXT, "deliveries": array(ref("Delivery"))}),
    "Health": obj({"status": {"enum": ["ok", "degraded", "down"]}}, ["status"]),
    "Catalogue": obj({"record_types": array(obj({
        "name": ref("RecordTypeName"), "title_zh": TEXT, "title_en": TEXT,
        "stage": {"enum": list(STAGES)}, "fields": array({"type": "object"}),
        "rules": array(TEXT), "signers": array(TEXT), "av_required": BOOL,
        "approval_chain": array(obj({"step": TEXT, "role": ref("Role"), "label_zh": TEXT}))},
        ["name", "title_zh", "title_en", "stage", "fields", "rules", "signers",
         "av_required", "approval_chain"]))}),
    "RuleList": obj({"rules": array(obj({
        "id": TEXT, "text_zh": TEXT, "text_en": TEXT,
        "text": obj({"zh": TEXT, "en": TEXT}), "figure": {}, "unit": NTEXT,
        "legal_source": NTEXT, "effective_from": NTEXT, "effective_until": NTEXT,
        "warning": BOOL, "setting": {}, "versions": {"type": "array"}},
        ["id", "text_zh", "text_en"]))}),
    "Checkpoint": {"type": "object", "required": ["tree_size"],
                   "properties": {"tree_size": {"type": "integer", "minimum": 0}}},
    "Proof": {"type": "object"},
    "DrawResult": obj({"record_id": ID}, ["record_id"]),
    "DrawVerification": obj({"record_id": ID}, ["record_id"]),
    **record_components(),
}
